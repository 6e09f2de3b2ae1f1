//! [`Launch`]: a [`LambdaProvider`] built from its settings the way the `provider-lambda`
//! binary builds it (and embedders, e.g. the federation's `kind = "lambda"` backends): the
//! bootstrap shim must be configured, the AWS configuration is loaded (the SDK's usual sources,
//! `aws_region`/`aws_endpoint_url` overrides, optional static credentials) and must name a
//! region, images are packaged by [`ImagePackager::from_config`], and invocations go to Lambda
//! or, in local mode, to local emulators (child processes, or the Docker sandbox).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use super::{ImagePackager, LambdaConfig, LambdaProvider, aws_config_loader};
use crate::local::LocalOptions;

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
