//! The configuration as the federation uses it: backends, their kinds, timeouts and stated
//! capabilities, and the default backend. Where it is read from is [`super::file`] and
//! [`super::load`]; what makes it valid is [`super::validate`].

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use super::settings::Settings;

/// Name of the backend used when no configuration file is given.
pub const DEFAULT_BACKEND_NAME: &str = "local";
/// Default bound on a backend's system call (and on its part of a fan-out).
pub const DEFAULT_BACKEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Default interval of the backend health check (metrics, capability re-probe).
pub const DEFAULT_HEALTH_INTERVAL: Duration = Duration::from_secs(5);

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
    /// `provider-lambda` binary builds it ([`provider_lambda::launch::Launch`]).
    #[cfg(feature = "lambda")]
    Lambda(Box<provider_lambda::launch::Launch>),
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
    /// Bound on each read (status, lists) and on its part of fan-outs.
    pub timeout: Duration,
    /// This backend's invocation deadline (`invoke_timeout`; unset: `upstream_timeout`).
    pub invoke_timeout: Option<Duration>,
    /// This backend's bound on writes (`deploy_timeout`; unset: the federation's).
    pub deploy_timeout: Option<Duration>,
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
            invoke_timeout: None,
            deploy_timeout: None,
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
            invoke_timeout: None,
            deploy_timeout: None,
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
    /// Scaling, asynchronous invocations and NATS ([`super::SETTINGS`]).
    pub settings: Settings,
}

impl Default for FederationConfig {
    /// One in-process memory backend, `local`.
    fn default() -> Self {
        Self {
            backends: vec![BackendConfig::memory(DEFAULT_BACKEND_NAME)],
            default_backend: DEFAULT_BACKEND_NAME.to_string(),
            health_interval: DEFAULT_HEALTH_INTERVAL,
            settings: Settings::default(),
        }
    }
}
