//! What the federation is made of: backends and the default one.
//!
//! Three sources, in this order of precedence: flags, environment variables, the TOML file.
//! With no file (and no faas-federation `providers` variable) the federation has one
//! in-process memory backend, `local`, so `faas-federation` alone runs with no daemon.
//!
//! ```toml
//! # federation.toml
//! default_backend = "local"          # functions without the annotation go here
//! health_interval = "5s"             # optional: how often backends are health-checked
//!
//! [[backends]]
//! name = "local"
//! kind = "memory"                     # in-process, nothing to configure
//!
//! [[backends]]
//! name = "k8s"
//! kind = "http"                       # a remote OpenFaaS provider (ours, faasd, faas-netes...)
//! url = "http://127.0.0.1:8081"
//! user = "admin"                      # basic auth sent on /system/* calls
//! password_file = "k8s-password"      # or password = "..."; relative to this file's directory
//! timeout = "10s"                     # bound on each system call (integer seconds or Go duration)
//! invoke_timeout = "60s"              # bound on each invocation
//! [backends.capabilities]             # optional: what probing cannot observe, or overrides
//! scale_to_zero = true
//!
//! [[backends]]                        # cargo feature `docker`
//! name = "engine"
//! kind = "docker"                     # in-process provider-docker: its env names and defaults
//! docker_host = "unix:///var/run/docker.sock"
//! state_dir = "/var/lib/faas-docker"
//! scope = "federation"
//! image_pull_policy = "IfNotPresent"
//!
//! [[backends]]                        # cargo feature `lambda`
//! name = "aws"
//! kind = "lambda"                     # in-process provider-lambda: its env names and defaults
//! lambda_execution_role = "arn:aws:iam::123456789012:role/openfaas-fn"
//! bootstrap_path = "/usr/local/lib/faas-lambda/bootstrap"
//! aws_region = "eu-west-1"
//! ```
//!
//! In-process `docker` and `lambda` backends take the settings of the `provider-docker` and
//! `provider-lambda` binaries under the same names ([`DOCKER_SETTINGS`], [`LAMBDA_SETTINGS`]);
//! relative paths in them are relative to the file's directory. Without the cargo feature,
//! such a backend is refused with an error naming the missing feature.
//!
//! The server's own settings (`port`, `bind`, `read_timeout`, `write_timeout`, `basic_auth`,
//! `secret_mount_path`) come from [`faas_provider::ServerConfig::from_env`], as for every
//! provider of this workspace; `--port` and `--bind` override them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use faas_provider::config::parse_duration;
use serde::Deserialize;

/// Name of the backend used when no configuration file is given.
pub const DEFAULT_BACKEND_NAME: &str = "local";
/// Default bound on a backend's system call (and on its part of a fan-out).
pub const DEFAULT_BACKEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Default bound on an invocation through a remote backend.
pub const DEFAULT_INVOKE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default interval of the backend health check (metrics, capability re-probe).
pub const DEFAULT_HEALTH_INTERVAL: Duration = Duration::from_secs(5);
/// Backend kinds this build knows (`docker` and `lambda` with the cargo features of the same
/// names).
#[cfg(all(not(feature = "docker"), not(feature = "lambda")))]
pub const KNOWN_KINDS: &[&str] = &["memory", "http"];
/// Backend kinds this build knows (`docker` and `lambda` with the cargo features of the same
/// names).
#[cfg(all(feature = "docker", not(feature = "lambda")))]
pub const KNOWN_KINDS: &[&str] = &["memory", "http", "docker"];
/// Backend kinds this build knows (`docker` and `lambda` with the cargo features of the same
/// names).
#[cfg(all(not(feature = "docker"), feature = "lambda"))]
pub const KNOWN_KINDS: &[&str] = &["memory", "http", "lambda"];
/// Backend kinds this build knows (`docker` and `lambda` with the cargo features of the same
/// names).
#[cfg(all(feature = "docker", feature = "lambda"))]
pub const KNOWN_KINDS: &[&str] = &["memory", "http", "docker", "lambda"];

/// A configuration that cannot be used. Startup fails with it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said (line and column included).
        message: String,
    },
    /// A value is wrong: which one and why.
    #[error("{0}")]
    Invalid(String),
}

fn invalid(message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(message.into())
}

/// Basic-auth credentials for a remote backend; `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub user: String,
    /// Password (read from `password_file` when configured so).
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Where a backend's functions live.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendSpec {
    /// An in-process [`provider_memory::MemoryProvider`].
    Memory,
    /// A remote provider reached over the OpenFaaS REST API
    /// ([`faas_provider::client::HttpProvider`]).
    Http {
        /// Base URL, e.g. `http://127.0.0.1:8081`.
        url: String,
        /// Basic auth for its `/system/*` routes.
        credentials: Option<Credentials>,
    },
    /// An in-process [`provider_docker::DockerProvider`] (cargo feature `docker`), built with
    /// [`provider_docker::DockerProvider::connect`].
    #[cfg(feature = "docker")]
    Docker(provider_docker::DockerConfig),
    /// An in-process [`provider_lambda::LambdaProvider`] (cargo feature `lambda`), built as the
    /// `provider-lambda` binary builds it ([`provider_lambda::provider::launch::Launch`]).
    #[cfg(feature = "lambda")]
    Lambda(Box<provider_lambda::provider::launch::Launch>),
}

impl BackendSpec {
    /// The `kind` as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Http { .. } => "http",
            #[cfg(feature = "docker")]
            Self::Docker(_) => "docker",
            #[cfg(feature = "lambda")]
            Self::Lambda(_) => "lambda",
        }
    }
}

/// Capabilities stated in the configuration; each one set wins over what probing finds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapabilityOverrides {
    /// Namespace used when a request names none.
    pub default_namespace: Option<String>,
    /// `scale(0)` is accepted (cannot be probed without side effects).
    pub scale_to_zero: Option<bool>,
    /// Highest replica count accepted (cannot be probed).
    pub max_replicas: Option<u64>,
    /// Secrets CRUD is implemented.
    pub secrets: Option<bool>,
    /// Log streaming is implemented.
    pub logs: Option<bool>,
    /// Namespaces can be created, updated and deleted.
    pub namespace_mutation: Option<bool>,
}

impl CapabilityOverrides {
    /// `caps` with every configured value applied.
    pub fn apply(&self, mut caps: faas_provider::Capabilities) -> faas_provider::Capabilities {
        if let Some(ns) = &self.default_namespace {
            caps.default_namespace = ns.clone();
        }
        if let Some(v) = self.scale_to_zero {
            caps.scale_to_zero = v;
        }
        if let Some(v) = self.max_replicas {
            caps.max_replicas = Some(v);
        }
        if let Some(v) = self.secrets {
            caps.secrets = v;
        }
        if let Some(v) = self.logs {
            caps.logs = v;
        }
        if let Some(v) = self.namespace_mutation {
            caps.namespace_mutation = v;
        }
        caps
    }
}

/// One backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendConfig {
    /// Its name: the value of the routing annotation that selects it.
    pub name: String,
    /// What it is.
    pub spec: BackendSpec,
    /// Bound on each system call (and on its part of fan-outs).
    pub timeout: Duration,
    /// Bound on each invocation (remote backends).
    pub invoke_timeout: Duration,
    /// Capabilities stated in the file.
    pub capabilities: CapabilityOverrides,
}

impl BackendConfig {
    /// An in-process memory backend with default timeouts.
    pub fn memory(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            spec: BackendSpec::Memory,
            timeout: DEFAULT_BACKEND_TIMEOUT,
            invoke_timeout: DEFAULT_INVOKE_TIMEOUT,
            capabilities: CapabilityOverrides::default(),
        }
    }

    /// A remote backend at `url` with default timeouts and no credentials.
    pub fn http(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            spec: BackendSpec::Http {
                url: url.into(),
                credentials: None,
            },
            timeout: DEFAULT_BACKEND_TIMEOUT,
            invoke_timeout: DEFAULT_INVOKE_TIMEOUT,
            capabilities: CapabilityOverrides::default(),
        }
    }
}

/// The whole federation: its backends (in order) and the default one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederationConfig {
    /// Backends, in the order they are listed (lists and fan-outs keep it).
    pub backends: Vec<BackendConfig>,
    /// Name of the backend for functions without the routing annotation.
    pub default_backend: String,
    /// How often backends are health-checked.
    pub health_interval: Duration,
}

impl Default for FederationConfig {
    /// One in-process memory backend, `local`.
    fn default() -> Self {
        Self {
            backends: vec![BackendConfig::memory(DEFAULT_BACKEND_NAME)],
            default_backend: DEFAULT_BACKEND_NAME.to_string(),
            health_interval: DEFAULT_HEALTH_INTERVAL,
        }
    }
}

/// A duration in the file: integer seconds or a Go duration string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DurationValue {
    Seconds(u64),
    Text(String),
}

impl DurationValue {
    fn parse(&self, what: &str) -> Result<Duration, ConfigError> {
        let duration = match self {
            Self::Seconds(s) => Duration::from_secs(*s),
            Self::Text(text) => parse_duration(text)
                .map_err(|e| invalid(format!("{what}: invalid duration {text:?}: {e}")))?,
        };
        if duration.is_zero() {
            return Err(invalid(format!("{what} must be greater than zero")));
        }
        Ok(duration)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    default_backend: Option<String>,
    health_interval: Option<DurationValue>,
    #[serde(default)]
    backends: Vec<FileBackend>,
}

/// One `[[backends]]` entry. Unknown keys are collected in `settings` and checked per kind
/// (the in-process docker and lambda kinds take their provider's settings there).
#[derive(Debug, Deserialize)]
struct FileBackend {
    name: String,
    kind: String,
    url: Option<String>,
    user: Option<String>,
    password: Option<String>,
    password_file: Option<PathBuf>,
    timeout: Option<DurationValue>,
    invoke_timeout: Option<DurationValue>,
    #[serde(default)]
    capabilities: CapabilityOverrides,
    #[serde(flatten)]
    settings: BTreeMap<String, toml::Value>,
}

impl FileBackend {
    /// True when one of the remote-only keys is set.
    fn has_remote_keys(&self) -> bool {
        self.url.is_some()
            || self.user.is_some()
            || self.password.is_some()
            || self.password_file.is_some()
    }

    /// Refuses every key of `settings` not in `known`.
    fn check_settings(&self, known: &[&str]) -> Result<(), String> {
        match self.settings.keys().find(|k| !known.contains(&k.as_str())) {
            None => Ok(()),
            Some(key) if known.is_empty() => {
                Err(format!("unknown field {key:?} for kind {:?}", self.kind))
            }
            Some(key) => Err(format!(
                "unknown field {key:?} for kind {:?} (known: {})",
                self.kind,
                known.join(", ")
            )),
        }
    }

    /// A setting as the text its provider's environment variable would hold: strings as they
    /// are, numbers and booleans written out, arrays of strings joined with commas.
    #[cfg(any(feature = "docker", feature = "lambda"))]
    fn setting(&self, key: &str) -> Result<Option<String>, String> {
        let Some(value) = self.settings.get(key) else {
            return Ok(None);
        };
        let text = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => {
                let mut parts = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        toml::Value::String(s) => parts.push(s.clone()),
                        _ => return Err(format!("{key}: expected an array of strings")),
                    }
                }
                parts.join(",")
            }
            _ => return Err(format!("{key}: expected a string, number or boolean")),
        };
        Ok(Some(text))
    }

    /// Every setting of `keys` as text (see [`FileBackend::setting`]).
    #[cfg(any(feature = "docker", feature = "lambda"))]
    fn settings_text(
        &self,
        keys: &[&str],
    ) -> Result<std::collections::HashMap<String, String>, String> {
        let mut out = std::collections::HashMap::new();
        for key in keys {
            if let Some(text) = self.setting(key)? {
                out.insert((*key).to_string(), text);
            }
        }
        Ok(out)
    }
}

/// Settings of `kind = "docker"`: provider-docker's environment variables, same names
/// (`DOCKER_HOST` written `docker_host`), same defaults.
pub const DOCKER_SETTINGS: &[&str] = &[
    "docker_host",
    "state_dir",
    "docker_network",
    "port_range",
    "function_bind",
    "scope",
    "image_pull_policy",
    "docker_config",
    "startup_timeout",
    "health_interval",
    "stop_timeout",
    "max_replicas",
    "pull_timeout",
];

/// Settings of `kind = "lambda"`: provider-lambda's environment variables and flags, same
/// names, same defaults (`lambda_execution_role` and a bootstrap shim are required, as for the
/// binary), plus static AWS credentials (`aws_access_key_id` with `aws_secret_access_key` or
/// `aws_secret_access_key_file`; without them, the AWS SDK's credential chain).
pub const LAMBDA_SETTINGS: &[&str] = &[
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

#[cfg(feature = "lambda")]
fn lambda_spec(raw: &FileBackend, base: &Path) -> Result<BackendSpec, String> {
    use provider_lambda::provider::launch::{Launch, LocalMode, StaticCredentials};

    if raw.has_remote_keys() {
        return Err("a lambda backend takes no url, user, password or password_file".into());
    }
    raw.check_settings(LAMBDA_SETTINGS)?;
    let settings = raw.settings_text(LAMBDA_SETTINGS)?;
    let get = |key: &str| {
        settings
            .get(key)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut config = provider_lambda::LambdaConfig::from_lookup(|name| settings.get(name).cloned())
        .map_err(|e| e.to_string())?;
    for path in [
        &mut config.bootstrap_x86_64,
        &mut config.bootstrap_arm64,
        &mut config.docker_config,
    ]
    .into_iter()
    .flatten()
    {
        resolve(base, path);
    }
    if config.bootstrap_x86_64.is_none() && config.bootstrap_arm64.is_none() {
        return Err(
            "bootstrap_path (or bootstrap_x86_64 / bootstrap_arm64) is required: the static bootstrap shim"
                .into(),
        );
    }
    let local = match get("local").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(format!(
                "local: invalid value {other:?}: expected true or false"
            ));
        }
    };
    let local = if local {
        Some(LocalMode {
            cache_dir: get("local_cache_dir").map(|dir| {
                let mut dir = PathBuf::from(dir);
                resolve(base, &mut dir);
                dir
            }),
            sandbox_image: get("local_sandbox_image"),
        })
    } else {
        for key in ["local_cache_dir", "local_sandbox_image"] {
            if settings.contains_key(key) {
                return Err(format!("{key} needs local = true"));
            }
        }
        None
    };
    let secret = match (
        get("aws_secret_access_key"),
        get("aws_secret_access_key_file"),
    ) {
        (Some(_), Some(_)) => {
            return Err("set aws_secret_access_key or aws_secret_access_key_file, not both".into());
        }
        (Some(secret), None) => Some(secret),
        (None, Some(file)) => {
            let mut path = PathBuf::from(file);
            resolve(base, &mut path);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("aws_secret_access_key_file {}: {e}", path.display()))?;
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
            return Err(
                "aws_access_key_id needs aws_secret_access_key or aws_secret_access_key_file"
                    .into(),
            );
        }
        (None, Some(_)) => return Err("aws_secret_access_key needs aws_access_key_id".into()),
    };
    Ok(BackendSpec::Lambda(Box::new(Launch {
        local,
        credentials,
        ..Launch::new(config)
    })))
}

/// A relative path made relative to the configuration file's directory.
#[cfg(any(feature = "docker", feature = "lambda"))]
fn resolve(base: &Path, path: &mut PathBuf) {
    if path.is_relative() {
        *path = base.join(&*path);
    }
}

#[cfg(feature = "docker")]
fn docker_spec(raw: &FileBackend, base: &Path) -> Result<BackendSpec, String> {
    if raw.has_remote_keys() {
        return Err("a docker backend takes no url, user, password or password_file".into());
    }
    raw.check_settings(DOCKER_SETTINGS)?;
    let settings = raw.settings_text(DOCKER_SETTINGS)?;
    let mut config = provider_docker::DockerConfig::from_lookup(|name| {
        let key = if name == "DOCKER_HOST" {
            "docker_host"
        } else {
            name
        };
        settings.get(key).cloned()
    })
    .map_err(|e| e.to_string())?;
    resolve(base, &mut config.state_dir);
    if let Some(path) = &mut config.docker_config {
        resolve(base, path);
    }
    Ok(BackendSpec::Docker(config))
}

impl FederationConfig {
    /// Reads and validates a TOML file; relative `password_file`s are resolved against the
    /// file's directory.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_toml(&text, base).map_err(|e| match e {
            ConfigError::Parse { message, .. } => ConfigError::Parse {
                path: path.to_path_buf(),
                message,
            },
            ConfigError::Invalid(message) => ConfigError::Parse {
                path: path.to_path_buf(),
                message,
            },
            other => other,
        })
    }

    /// Parses and validates TOML text; relative `password_file`s are resolved against `base`.
    pub fn from_toml(text: &str, base: &Path) -> Result<Self, ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: PathBuf::from("<toml>"),
            message: e.to_string(),
        })?;
        let mut backends = Vec::with_capacity(file.backends.len());
        for (index, raw) in file.backends.into_iter().enumerate() {
            backends.push(backend_from_file(index, raw, base)?);
        }
        let default_backend = match file.default_backend {
            Some(name) => name,
            None => backends
                .first()
                .map(|b| b.name.clone())
                .ok_or_else(|| invalid("at least one [[backends]] entry is required"))?,
        };
        let health_interval = match file.health_interval {
            Some(value) => value.parse("health_interval")?,
            None => DEFAULT_HEALTH_INTERVAL,
        };
        let config = Self {
            backends,
            default_backend,
            health_interval,
        };
        config.validate()
    }

    /// faas-federation's environment: `providers` (provider base URLs) and `default_provider`
    /// (one of them). Each backend is named after its URL's host, which is what faas-federation
    /// compared the annotation with, so existing annotations keep working.
    pub fn from_provider_urls(
        providers: &[String],
        default_provider: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let mut backends = Vec::new();
        let mut default_backend = None;
        for url in providers.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
            let name = host_of(url)?;
            if default_provider
                .is_some_and(|d| d.trim().trim_end_matches('/') == url.trim_end_matches('/'))
            {
                default_backend = Some(name.clone());
            }
            backends.push(BackendConfig::http(name, url));
        }
        let default_backend = match (default_provider, default_backend) {
            (_, Some(name)) => name,
            (Some(url), None) => {
                return Err(invalid(format!(
                    "default_provider {url:?} is not one of the providers"
                )));
            }
            (None, None) => backends
                .first()
                .map(|b| b.name.clone())
                .ok_or_else(|| invalid("providers lists no URL"))?,
        };
        Self {
            backends,
            default_backend,
            health_interval: DEFAULT_HEALTH_INTERVAL,
        }
        .validate()
    }

    /// Checks names (non-empty, `[A-Za-z0-9._-]`, unique ignoring case) and the default
    /// backend (must name one; normalised to its spelling), and returns the config.
    pub fn validate(mut self) -> Result<Self, ConfigError> {
        if self.backends.is_empty() {
            return Err(invalid("at least one backend is required"));
        }
        let mut seen = BTreeSet::new();
        for backend in &self.backends {
            validate_name(&backend.name)?;
            if !seen.insert(backend.name.to_ascii_lowercase()) {
                return Err(invalid(format!(
                    "backend name {:?} is used twice (names are compared ignoring case)",
                    backend.name
                )));
            }
            if backend.timeout.is_zero() || backend.invoke_timeout.is_zero() {
                return Err(invalid(format!(
                    "backend {}: timeouts must be greater than zero",
                    backend.name
                )));
            }
        }
        match self
            .backends
            .iter()
            .find(|b| b.name.eq_ignore_ascii_case(&self.default_backend))
        {
            Some(backend) => self.default_backend = backend.name.clone(),
            None => {
                return Err(invalid(format!(
                    "default_backend {:?} is not a backend; backends: {}",
                    self.default_backend,
                    self.backends
                        .iter()
                        .map(|b| b.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        if self.health_interval.is_zero() {
            return Err(invalid("health_interval must be greater than zero"));
        }
        Ok(self)
    }
}

fn validate_name(name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "backend name {name:?} is invalid: use 1 to 253 letters, digits, '-', '_' or '.'"
        )))
    }
}

/// The host of a URL (port stripped), the name faas-federation gave a provider.
fn host_of(url: &str) -> Result<String, ConfigError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| {
            invalid(format!(
                "provider URL {url:?} must start with http:// or https://"
            ))
        })?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    if host.is_empty() {
        return Err(invalid(format!("provider URL {url:?} has no host")));
    }
    Ok(host.to_string())
}

fn backend_from_file(
    index: usize,
    raw: FileBackend,
    base: &Path,
) -> Result<BackendConfig, ConfigError> {
    let name = raw.name.trim().to_string();
    let what = |field: &str| format!("backends[{index}] ({name}): {field}");
    let spec = match raw.kind.as_str() {
        "memory" => {
            if raw.has_remote_keys() {
                return Err(invalid(what(
                    "a memory backend takes no url, user, password or password_file",
                )));
            }
            raw.check_settings(&[])
                .map_err(|reason| invalid(what(&reason)))?;
            BackendSpec::Memory
        }
        "http" => {
            raw.check_settings(&[])
                .map_err(|reason| invalid(what(&reason)))?;
            let url = raw
                .url
                .filter(|u| !u.trim().is_empty())
                .ok_or_else(|| invalid(what("url is required for kind \"http\"")))?;
            let credentials = credentials(&raw.user, raw.password, raw.password_file, base)
                .map_err(|reason| invalid(what(&reason)))?;
            BackendSpec::Http {
                url: url.trim().to_string(),
                credentials,
            }
        }
        #[cfg(feature = "docker")]
        "docker" => docker_spec(&raw, base).map_err(|reason| invalid(what(&reason)))?,
        #[cfg(feature = "lambda")]
        "lambda" => lambda_spec(&raw, base).map_err(|reason| invalid(what(&reason)))?,
        other if ["docker", "lambda"].contains(&other) => {
            return Err(invalid(what(&format!(
                "kind {other:?} needs the `{other}` feature of the federation crate, which this build does not have (known kinds: {})",
                KNOWN_KINDS.join(", ")
            ))));
        }
        other => {
            return Err(invalid(what(&format!(
                "unknown kind {other:?} (known kinds: {})",
                KNOWN_KINDS.join(", ")
            ))));
        }
    };
    let timeout = match raw.timeout {
        Some(v) => v.parse(&what("timeout"))?,
        None => DEFAULT_BACKEND_TIMEOUT,
    };
    let invoke_timeout = match raw.invoke_timeout {
        Some(v) => v.parse(&what("invoke_timeout"))?,
        None => DEFAULT_INVOKE_TIMEOUT,
    };
    Ok(BackendConfig {
        name,
        spec,
        timeout,
        invoke_timeout,
        capabilities: raw.capabilities,
    })
}

fn credentials(
    user: &Option<String>,
    password: Option<String>,
    password_file: Option<PathBuf>,
    base: &Path,
) -> Result<Option<Credentials>, String> {
    let password = match (password, password_file) {
        (Some(_), Some(_)) => return Err("set password or password_file, not both".into()),
        (Some(p), None) => Some(p),
        (None, Some(file)) => {
            let path = if file.is_absolute() {
                file
            } else {
                base.join(file)
            };
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("password_file {}: {e}", path.display()))?;
            Some(text.trim().to_string())
        }
        (None, None) => None,
    };
    match (user, password) {
        (None, None) => Ok(None),
        (Some(user), Some(password)) if !user.trim().is_empty() => Ok(Some(Credentials {
            user: user.trim().to_string(),
            password,
        })),
        (Some(_), None) => Err("user needs a password or password_file".into()),
        (None, Some(_)) => Err("password needs a user".into()),
        (Some(_), Some(_)) => Err("user must not be empty".into()),
    }
}

/// Command line and environment of `faas-federation`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "faas-federation",
    version,
    about = "One OpenFaaS provider API over several providers"
)]
pub struct Args {
    /// TOML file describing the backends. Without it (and without `providers`) the federation
    /// has one in-process memory backend named `local`.
    #[arg(long, short, env = "federation_config")]
    pub config: Option<PathBuf>,
    /// Backend for functions without the routing annotation (overrides the file).
    #[arg(long, env = "default_backend")]
    pub default_backend: Option<String>,
    /// faas-federation compatibility: comma-separated provider URLs (instead of a file); each
    /// backend is named after its URL's host.
    #[arg(long, env = "providers", value_delimiter = ',')]
    pub providers: Vec<String>,
    /// faas-federation compatibility: the default provider's URL.
    #[arg(long, env = "default_provider")]
    pub default_provider: Option<String>,
    /// How often backends are health-checked (integer seconds or Go duration).
    #[arg(long, env = "health_interval", value_parser = parse_duration_arg)]
    pub health_interval: Option<Duration>,
    /// TCP port (overrides `port` from the environment; default 8080).
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to bind (overrides `bind`; default 127.0.0.1, use 0.0.0.0 to serve other hosts).
    #[arg(long)]
    pub bind: Option<IpAddr>,
}

fn parse_duration_arg(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text)?;
    if duration.is_zero() {
        return Err("must be greater than zero".into());
    }
    Ok(duration)
}

impl Args {
    /// The federation these arguments describe.
    pub fn federation_config(&self) -> Result<FederationConfig, ConfigError> {
        let providers: Vec<String> = self
            .providers
            .iter()
            .filter(|p| !p.trim().is_empty())
            .cloned()
            .collect();
        let mut config = match (&self.config, providers.is_empty()) {
            (Some(_), false) => {
                return Err(invalid(
                    "give either a configuration file or `providers`, not both",
                ));
            }
            (Some(path), true) => FederationConfig::from_file(path)?,
            (None, false) => {
                FederationConfig::from_provider_urls(&providers, self.default_provider.as_deref())?
            }
            (None, true) => {
                if self.default_provider.is_some() {
                    return Err(invalid("default_provider needs `providers`"));
                }
                FederationConfig::default()
            }
        };
        if let Some(name) = &self.default_backend {
            config.default_backend = name.clone();
        }
        if let Some(interval) = self.health_interval {
            config.health_interval = interval;
        }
        config.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<FederationConfig, ConfigError> {
        FederationConfig::from_toml(text, Path::new("/nonexistent"))
    }

    #[test]
    fn no_file_means_one_memory_backend() {
        let args = Args::parse_from(["faas-federation"]);
        let config = args.federation_config().unwrap();
        assert_eq!(config, FederationConfig::default());
        assert_eq!(config.backends.len(), 1);
        assert_eq!(config.backends[0].spec, BackendSpec::Memory);
        assert_eq!(config.default_backend, "local");
    }

    #[test]
    fn a_full_file_parses() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "s3cret\n").unwrap();
        let text = r#"
            default_backend = "K8S"
            health_interval = 2
            [[backends]]
            name = "local"
            kind = "memory"
            [[backends]]
            name = "k8s"
            kind = "http"
            url = "http://127.0.0.1:8081"
            user = "admin"
            password_file = "pw"
            timeout = "1500ms"
            invoke_timeout = 30
            [backends.capabilities]
            scale_to_zero = true
            max_replicas = 5
        "#;
        let config = FederationConfig::from_toml(text, dir.path()).unwrap();
        assert_eq!(
            config.default_backend, "k8s",
            "normalised to the backend's spelling"
        );
        assert_eq!(config.health_interval, Duration::from_secs(2));
        let k8s = &config.backends[1];
        assert_eq!(k8s.timeout, Duration::from_millis(1500));
        assert_eq!(k8s.invoke_timeout, Duration::from_secs(30));
        assert_eq!(k8s.capabilities.scale_to_zero, Some(true));
        assert_eq!(k8s.capabilities.max_replicas, Some(5));
        match &k8s.spec {
            BackendSpec::Http { url, credentials } => {
                assert_eq!(url, "http://127.0.0.1:8081");
                let c = credentials.as_ref().unwrap();
                assert_eq!((c.user.as_str(), c.password.as_str()), ("admin", "s3cret"));
                assert!(!format!("{c:?}").contains("s3cret"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(config.backends[0].timeout, DEFAULT_BACKEND_TIMEOUT);
    }

    #[test]
    fn default_backend_defaults_to_the_first() {
        let config = parse(
            r#"
            [[backends]]
            name = "a"
            kind = "memory"
            [[backends]]
            name = "b"
            kind = "http"
            url = "http://127.0.0.1:1"
            user = "u"
            password = "p"
        "#,
        )
        .unwrap();
        assert_eq!(config.default_backend, "a");
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let cases = [
            ("", "at least one"),
            (
                "[[backends]]\nname = \"a\"\nkind = \"nope\"",
                "unknown kind",
            ),
            (
                "[[backends]]\nname = \"a\"\nkind = \"http\"",
                "url is required",
            ),
            (
                "[[backends]]\nname = \"a\"\nkind = \"memory\"\nurl = \"http://x\"",
                "takes no url",
            ),
            ("[[backends]]\nname = \"a b\"\nkind = \"memory\"", "invalid"),
            (
                "[[backends]]\nname = \"a\"\nkind = \"memory\"\n[[backends]]\nname = \"A\"\nkind = \"memory\"",
                "used twice",
            ),
            (
                "default_backend = \"x\"\n[[backends]]\nname = \"a\"\nkind = \"memory\"",
                "not a backend",
            ),
            (
                "[[backends]]\nname = \"a\"\nkind = \"http\"\nurl = \"http://x\"\nuser = \"u\"",
                "needs a password",
            ),
            (
                "[[backends]]\nname = \"a\"\nkind = \"http\"\nurl = \"http://x\"\npassword = \"p\"",
                "needs a user",
            ),
            (
                "[[backends]]\nname = \"a\"\nkind = \"http\"\nurl = \"http://x\"\nuser = \"u\"\npassword_file = \"missing\"",
                "password_file",
            ),
            (
                "[[backends]]\nname = \"a\"\nkind = \"memory\"\ntimeout = \"0s\"",
                "greater than zero",
            ),
            (
                "[[backends]]\nname = \"a\"\nkind = \"memory\"\ntimeout = \"fast\"",
                "invalid duration",
            ),
            (
                "[[backends]]\nname = \"a\"\nkind = \"memory\"\ncolour = 1",
                "unknown field",
            ),
        ];
        for (text, needle) in cases {
            let error = parse(text).expect_err(text).to_string();
            assert!(error.contains(needle), "{text:?}: {error}");
        }
        // A kind whose cargo feature this build lacks is named with the feature to enable (a
        // workspace test build may enable `docker`/`lambda` through other crates' dev-deps).
        for (kind, enabled) in [
            ("docker", cfg!(feature = "docker")),
            ("lambda", cfg!(feature = "lambda")),
        ] {
            let text = format!("[[backends]]\nname = \"a\"\nkind = \"{kind}\"");
            let outcome = parse(&text).map_err(|error| error.to_string());
            let names_feature =
                matches!(&outcome, Err(e) if e.contains(&format!("`{kind}` feature")));
            assert_eq!(names_feature, !enabled, "{text:?}: {outcome:?}");
        }
    }

    #[test]
    fn faas_federation_environment_is_understood() {
        let providers = vec![
            "http://faas-netes.openfaas:8080".to_string(),
            "http://faaslambda.openfaas:8080/".to_string(),
        ];
        let config = FederationConfig::from_provider_urls(
            &providers,
            Some("http://faaslambda.openfaas:8080"),
        )
        .unwrap();
        let names: Vec<_> = config.backends.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["faas-netes.openfaas", "faaslambda.openfaas"]);
        assert_eq!(config.default_backend, "faaslambda.openfaas");
        assert!(FederationConfig::from_provider_urls(&providers, Some("http://other:1")).is_err());
        let same_host = vec![
            "http://127.0.0.1:1".to_string(),
            "http://127.0.0.1:2".to_string(),
        ];
        assert!(FederationConfig::from_provider_urls(&same_host, None).is_err());
    }

    #[test]
    fn flags_override_the_file_and_conflicts_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.toml");
        std::fs::write(
            &path,
            "[[backends]]\nname = \"a\"\nkind = \"memory\"\n[[backends]]\nname = \"b\"\nkind = \"memory\"\n",
        )
        .unwrap();
        let p = path.to_str().unwrap();
        let args = Args::parse_from(["faas-federation", "--config", p, "--default-backend", "b"]);
        assert_eq!(args.federation_config().unwrap().default_backend, "b");
        let args = Args::parse_from(["faas-federation", "--config", p, "--default-backend", "zz"]);
        assert!(args.federation_config().is_err());
        let args = Args::parse_from([
            "faas-federation",
            "--config",
            p,
            "--providers",
            "http://127.0.0.1:1",
        ]);
        assert!(args.federation_config().is_err());
        let missing = Args::parse_from(["faas-federation", "--config", "/nonexistent/f.toml"]);
        assert!(matches!(
            missing.federation_config(),
            Err(ConfigError::Read { .. })
        ));
    }
}
