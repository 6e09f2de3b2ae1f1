//! Settings of the Lambda API.

use std::path::PathBuf;
use std::time::Duration;

/// Settings of the Lambda API (see [`super::routes`]).
#[derive(Clone, PartialEq, Eq)]
pub struct LambdaApiConfig {
    /// Access key ids and secrets (SigV4). Empty: signatures are not checked, as `basic_auth`
    /// off leaves the OpenFaaS routes open.
    pub credentials: Vec<(String, String)>,
    /// The region of ARNs and of signatures (default `us-east-1`).
    pub region: String,
    /// The account of ARNs (default `000000000000`).
    pub account: String,
    /// Largest `Invoke` payload, request and response (default 6 MB = 6,291,456 bytes, Lambda's).
    pub max_payload_bytes: usize,
    /// Largest `Event` (asynchronous) payload (default 256 KiB, Lambda's classic limit; it
    /// must fit the queue's `async_max_body_bytes`).
    pub max_event_payload_bytes: usize,
    /// Longest synchronous `Invoke` (default 900 s, Lambda's longest timeout); past it the call
    /// answers a `Sandbox.Timedout` function error.
    pub invoke_timeout: Duration,
    /// The backend of functions created through this API without the
    /// `com.openfaas.federation.gateway` tag (`None`: the federation's default backend).
    pub default_backend: Option<String>,
    /// Where zips (`provided.al2023` / `provided.al2`) are imported to (`None`: zips are
    /// refused).
    pub zip_import: Option<ZipImportConfig>,
    /// The backends of kind `lambda` (zips cannot reach them through the `Provider`
    /// contract); filled in from the federation's configuration.
    pub lambda_backends: Vec<String>,
    /// The federation's default backend (for functions without the routing annotation).
    pub federation_default_backend: Option<String>,
}

/// Settings of the zip importer (`lambda_import_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipImportConfig {
    /// `REGISTRY[/PREFIX]` images are pushed under (`lambda_import_registry`), e.g.
    /// `127.0.0.1:5000/lambda`: a function `echo` becomes `127.0.0.1:5000/lambda/echo:zip-…`.
    pub registry: String,
    /// The static `faas-lambda-entrypoint` (`lambda_import_entrypoint`; `None`: the file of
    /// that name beside the running executable).
    pub entrypoint: Option<PathBuf>,
    /// Speak plain HTTP to the registry (`lambda_import_insecure`, default false).
    pub insecure: bool,
    /// The Docker `config.json` holding the registry's credentials
    /// (`lambda_import_docker_config`; `None`: `$DOCKER_CONFIG/config.json`, else
    /// `~/.docker/config.json`, else anonymous), read through registry-auth as every backend
    /// does.
    pub docker_config: Option<PathBuf>,
}

impl ZipImportConfig {
    /// Importing to `registry` with the other settings at their defaults.
    pub fn new(registry: impl Into<String>) -> Self {
        Self {
            registry: registry.into(),
            entrypoint: None,
            insecure: false,
            docker_config: None,
        }
    }
}

impl std::fmt::Debug for LambdaApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.credentials.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("LambdaApiConfig")
            .field("access_key_ids", &ids)
            .field("region", &self.region)
            .field("account", &self.account)
            .field("max_payload_bytes", &self.max_payload_bytes)
            .field("max_event_payload_bytes", &self.max_event_payload_bytes)
            .field("invoke_timeout", &self.invoke_timeout)
            .field("default_backend", &self.default_backend)
            .field("zip_import", &self.zip_import)
            .field("lambda_backends", &self.lambda_backends)
            .field(
                "federation_default_backend",
                &self.federation_default_backend,
            )
            .finish()
    }
}

/// Lambda's synchronous payload limit.
pub const LAMBDA_MAX_PAYLOAD: usize = 6 * 1024 * 1024;

impl Default for LambdaApiConfig {
    fn default() -> Self {
        Self {
            credentials: Vec::new(),
            region: "us-east-1".to_string(),
            account: "000000000000".to_string(),
            max_payload_bytes: LAMBDA_MAX_PAYLOAD,
            max_event_payload_bytes: 256 * 1024,
            invoke_timeout: Duration::from_secs(900),
            default_backend: None,
            zip_import: None,
            lambda_backends: Vec::new(),
            federation_default_backend: None,
        }
    }
}
