//! [`Launch`]: a [`LambdaProvider`] built from its settings the way the `provider-lambda`
//! binary builds it (and embedders, e.g. the federation's `kind = "lambda"` backends). Both
//! describe it with a settings table ([`Launch::from_settings`], the keys of [`SETTINGS`]); the
//! bootstrap shim must be configured, the AWS configuration is loaded (the SDK's usual sources,
//! `aws_region`/`aws_endpoint_url` overrides, optional static credentials) and must name a
//! region, images are packaged by [`ImagePackager::from_config`], and invocations go to Lambda
//! or, in local mode, to local emulators (child processes, or the Docker sandbox).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::local::LocalOptions;
use crate::provider::{
    ConfigError, ImagePackager, LambdaConfig, LambdaProvider, aws_config_loader,
};

/// The settings [`Launch::from_settings`] accepts: the provider's environment variables and
/// flags ([`LambdaConfig`]'s, `local`, `local_cache_dir`, `local_sandbox_image`), same names,
/// plus static AWS credentials (`aws_access_key_id` with `aws_secret_access_key` or
/// `aws_secret_access_key_file`; without them, the AWS SDK's credential chain).
pub const SETTINGS: &[&str] = &[
    "lambda_execution_role",
    "function_namespace",
    "function_prefix",
    "secrets_prefix",
    "aws_region",
    "aws_endpoint_url",
    "aws_max_attempts",
    "invoke_max_attempts",
    "aws_call_timeout",
    "ready_timeout",
    "default_timeout",
    "default_memory",
    "bootstrap_path",
    "bootstrap_x86_64",
    "bootstrap_arm64",
    "insecure_registries",
    "docker_config",
    "local",
    "local_cache_dir",
    "local_sandbox_image",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_secret_access_key_file",
];

/// Why a settings table does not describe a provider.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A key that is not one of [`SETTINGS`].
    #[error("unknown field {key:?} (known: {})", SETTINGS.join(", "))]
    Unknown {
        /// The key.
        key: String,
    },
    /// A value of [`LambdaConfig`] is missing or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Neither `bootstrap_path` nor a per-architecture shim is set.
    #[error(
        "bootstrap_path (or bootstrap_x86_64 / bootstrap_arm64) is required: the static bootstrap shim"
    )]
    NoBootstrap,
    /// `local` is neither `true` nor `false`.
    #[error("local: invalid value {0:?}: expected true or false")]
    Local(String),
    /// A local-mode setting without `local = true`.
    #[error("{0} needs local = true")]
    NeedsLocal(&'static str),
    /// The static credentials are incomplete or set twice.
    #[error("{0}")]
    Credentials(&'static str),
    /// `aws_secret_access_key_file` cannot be read.
    #[error("aws_secret_access_key_file {}: {source}", path.display())]
    SecretFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Local mode's settings (binary: `--local`, `local_cache_dir`, `local_sandbox_image`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalMode {
    /// Where extracted function code is cached (default `$TMPDIR/faas-lambda-local`).
    pub cache_dir: Option<PathBuf>,
    /// Run functions in a Docker container of this (busybox-only) image instead of as child
    /// processes (Docker from `DOCKER_HOST` or the local socket).
    pub sandbox_image: Option<String>,
}

impl LocalMode {
    /// The code cache directory in use.
    pub fn cache_dir(&self) -> PathBuf {
        self.cache_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("faas-lambda-local"))
    }
}

/// Static AWS credentials (instead of the SDK's credential chain); `Debug` hides the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    /// `aws_access_key_id`.
    pub access_key_id: String,
    /// `aws_secret_access_key`.
    pub secret_access_key: String,
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// Why a provider cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    /// Neither `bootstrap_path` nor a per-architecture shim is set.
    #[error(
        "no bootstrap shim configured: set bootstrap_path (or bootstrap_x86_64 / bootstrap_arm64)"
    )]
    NoBootstrap,
    /// The AWS configuration names no region.
    #[error("no AWS region: set AWS_REGION (or aws_region)")]
    NoRegion,
    /// Local mode's Docker sandbox cannot reach Docker.
    #[error("local_sandbox_image: cannot use Docker for the sandbox: {0}")]
    Sandbox(String),
}

/// Everything a [`LambdaProvider`] is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// The provider's configuration.
    pub config: LambdaConfig,
    /// `Some`: local mode (control plane at the AWS endpoint, invocations in local emulators).
    pub local: Option<LocalMode>,
    /// Static credentials; `None`: the SDK's credential chain (environment, profiles...).
    pub credentials: Option<StaticCredentials>,
}

impl Launch {
    /// AWS mode with the SDK's credential chain.
    pub fn new(config: LambdaConfig) -> Self {
        Self {
            config,
            local: None,
            credentials: None,
        }
    }

    /// Reads a settings table: the keys of [`SETTINGS`], values as the environment variables
    /// would hold them (empty = unset). Relative paths (`bootstrap_*`, `docker_config`,
    /// `local_cache_dir`, `aws_secret_access_key_file`) are resolved against `base_dir`; a
    /// secret file is read here. A key not in [`SETTINGS`] is an error naming the valid ones.
    pub fn from_settings(
        settings: &BTreeMap<String, String>,
        base_dir: &Path,
    ) -> Result<Self, SettingsError> {
        if let Some(key) = settings.keys().find(|k| !SETTINGS.contains(&k.as_str())) {
            return Err(SettingsError::Unknown { key: key.clone() });
        }
        let get = |key: &str| {
            settings
                .get(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let resolve = |path: &mut PathBuf| *path = base_dir.join(&*path);
        let mut config = LambdaConfig::from_lookup(|name| settings.get(name).cloned())?;
        for path in [
            &mut config.bootstrap_x86_64,
            &mut config.bootstrap_arm64,
            &mut config.docker_config,
        ]
        .into_iter()
        .flatten()
        {
            resolve(path);
        }
        if config.bootstrap_x86_64.is_none() && config.bootstrap_arm64.is_none() {
            return Err(SettingsError::NoBootstrap);
        }
        let local = match get("local").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => return Err(SettingsError::Local(other.to_string())),
        };
        let local = if local {
            Some(LocalMode {
                cache_dir: get("local_cache_dir").map(|dir| base_dir.join(dir)),
                sandbox_image: get("local_sandbox_image"),
            })
        } else {
            for key in ["local_cache_dir", "local_sandbox_image"] {
                if settings.contains_key(key) {
                    return Err(SettingsError::NeedsLocal(key));
                }
            }
            None
        };
        let secret = match (
            get("aws_secret_access_key"),
            get("aws_secret_access_key_file"),
        ) {
            (Some(_), Some(_)) => {
                return Err(SettingsError::Credentials(
                    "set aws_secret_access_key or aws_secret_access_key_file, not both",
                ));
            }
            (Some(secret), None) => Some(secret),
            (None, Some(file)) => {
                let path = base_dir.join(file);
                let text = std::fs::read_to_string(&path)
                    .map_err(|source| SettingsError::SecretFile { path, source })?;
                Some(text.trim().to_string())
            }
            (None, None) => None,
        };
        let credentials = match (get("aws_access_key_id"), secret) {
            (None, None) => None,
            (Some(access_key_id), Some(secret_access_key)) => Some(StaticCredentials {
                access_key_id,
                secret_access_key,
            }),
            (Some(_), None) => {
                return Err(SettingsError::Credentials(
                    "aws_access_key_id needs aws_secret_access_key or aws_secret_access_key_file",
                ));
            }
            (None, Some(_)) => {
                return Err(SettingsError::Credentials(
                    "aws_secret_access_key needs aws_access_key_id",
                ));
            }
        };
        Ok(Self {
            config,
            local,
            credentials,
        })
    }

    /// Builds the provider (loads the AWS configuration; contacts nothing else).
    pub async fn build(self) -> Result<LambdaProvider, LaunchError> {
        let mut config = self.config;
        if config.bootstrap_x86_64.is_none() && config.bootstrap_arm64.is_none() {
            return Err(LaunchError::NoBootstrap);
        }
        let mut loader = aws_config_loader(&config);
        if let Some(credentials) = self.credentials {
            loader = loader.credentials_provider(aws_sdk_lambda::config::Credentials::new(
                credentials.access_key_id,
                credentials.secret_access_key,
                None,
                None,
                "provider-lambda",
            ));
        }
        let sdk = loader.load().await;
        let Some(region) = sdk.region().map(|r| r.to_string()) else {
            return Err(LaunchError::NoRegion);
        };
        config.region = Some(region.clone());
        let packager = Arc::new(ImagePackager::from_config(&config));
        let Some(local) = self.local else {
            return Ok(LambdaProvider::aws(config, &sdk, packager));
        };
        let mut options = LocalOptions::new(local.cache_dir());
        options.region = region;
        if let Some(image) = local.sandbox_image {
            let docker = bollard::Docker::connect_with_local_defaults()
                .map_err(|e| LaunchError::Sandbox(e.to_string()))?
                .negotiate_version()
                .await
                .map_err(|e| LaunchError::Sandbox(e.to_string()))?;
            options.sandbox = lambda_emulator::Sandbox::Docker(
                lambda_emulator::DockerSandbox::new(docker, image),
            );
        }
        Ok(LambdaProvider::local(config, &sdk, packager, options))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const ROLE: &str = "arn:aws:iam::1:role/r";

    fn table(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn launch(pairs: &[(&str, &str)]) -> Result<Launch, SettingsError> {
        Launch::from_settings(&table(pairs), Path::new("/etc/faas"))
    }

    #[test]
    fn defaults_with_the_required_settings() {
        let launch = launch(&[
            ("lambda_execution_role", ROLE),
            ("bootstrap_path", "/opt/bootstrap"),
        ])
        .unwrap();
        let mut expected = LambdaConfig::new(ROLE);
        expected.bootstrap_x86_64 = Some(PathBuf::from("/opt/bootstrap"));
        expected.bootstrap_arm64 = expected.bootstrap_x86_64.clone();
        assert_eq!(launch, Launch::new(expected));
        assert_eq!(launch.config.namespace, "openfaas-fn");
        assert_eq!(launch.config.default_timeout, Duration::from_secs(30));
    }

    #[test]
    fn unknown_keys_are_refused_naming_the_valid_ones() {
        let err = launch(&[
            ("lambda_execution_role", ROLE),
            ("bootstrap_path", "/b"),
            ("region", "eu-west-1"),
        ])
        .unwrap_err();
        assert!(matches!(err, SettingsError::Unknown { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("unknown field \"region\""), "{text}");
        for valid in SETTINGS {
            assert!(text.contains(valid), "{text} lacks {valid}");
        }
    }

    #[test]
    fn relative_paths_are_resolved_against_the_base_dir() {
        let base = std::env::temp_dir();
        let base = base.as_path();
        let name = format!("launch-secret-{}", std::process::id());
        std::fs::write(base.join(&name), "hidden\n").unwrap();
        let launch = Launch::from_settings(
            &table(&[
                ("lambda_execution_role", ROLE),
                ("bootstrap_x86_64", "shim/x86"),
                ("bootstrap_arm64", "/opt/arm"),
                ("docker_config", "docker/config.json"),
                ("local", "true"),
                ("local_cache_dir", "cache"),
                ("aws_access_key_id", "id"),
                ("aws_secret_access_key_file", &name),
            ]),
            base,
        );
        std::fs::remove_file(base.join(&name)).unwrap();
        let launch = launch.unwrap();
        assert_eq!(launch.config.bootstrap_x86_64, Some(base.join("shim/x86")));
        assert_eq!(
            launch.config.bootstrap_arm64,
            Some(PathBuf::from("/opt/arm"))
        );
        assert_eq!(
            launch.config.docker_config,
            Some(base.join("docker/config.json"))
        );
        let local = launch.local.as_ref().unwrap();
        assert_eq!(local.cache_dir, Some(base.join("cache")));
        assert_eq!(local.sandbox_image, None);
        let credentials = launch.credentials.as_ref().unwrap();
        assert_eq!(credentials.access_key_id, "id");
        assert_eq!(credentials.secret_access_key, "hidden");
        assert!(!format!("{launch:?}").contains("hidden"));
        // An empty base (the binary's: the working directory) leaves them as they are.
        let launch = Launch::from_settings(
            &table(&[
                ("lambda_execution_role", ROLE),
                ("bootstrap_path", "bootstrap"),
            ]),
            Path::new(""),
        )
        .unwrap();
        assert_eq!(
            launch.config.bootstrap_x86_64,
            Some(PathBuf::from("bootstrap"))
        );
    }

    #[test]
    fn bad_tables_say_what_is_wrong() {
        let minimal = [
            ("lambda_execution_role", ROLE),
            ("bootstrap_path", "/opt/bootstrap"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = minimal.to_vec();
            pairs.extend_from_slice(extra);
            launch(&pairs).unwrap_err().to_string()
        };
        for (pairs, needle) in [
            (vec![("bootstrap_path", "/b")], "lambda_execution_role"),
            (vec![("lambda_execution_role", ROLE)], "bootstrap_path"),
        ] {
            let text = launch(&pairs).unwrap_err().to_string();
            assert!(text.contains(needle), "{text}");
        }
        for (extra, needle) in [
            (&[("default_memory", "64")][..], "default_memory"),
            (&[("local", "maybe")], "local: invalid value"),
            (&[("local_cache_dir", "/tmp/c")], "needs local = true"),
            (&[("local_sandbox_image", "busybox")], "needs local = true"),
            (&[("aws_access_key_id", "id")], "aws_secret_access_key"),
            (&[("aws_secret_access_key", "s")], "needs aws_access_key_id"),
            (
                &[
                    ("aws_access_key_id", "id"),
                    ("aws_secret_access_key", "s"),
                    ("aws_secret_access_key_file", "/nonexistent"),
                ],
                "not both",
            ),
            (
                &[
                    ("aws_access_key_id", "id"),
                    ("aws_secret_access_key_file", "/nonexistent/secret"),
                ],
                "/nonexistent/secret",
            ),
        ] {
            let text = with(extra);
            assert!(text.contains(needle), "{extra:?}: {text}");
        }
    }
}
