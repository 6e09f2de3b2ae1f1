//! The federation's backends: a name, a [`Provider`] and what it supports.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use faas_provider::client::HttpProvider;
use faas_provider::{Capabilities, Provider};
use provider_memory::MemoryProvider;

#[cfg(feature = "lambda")]
use provider_lambda::launch::Launch;

use crate::config::{
    BackendConfig, BackendSpec, CapabilityOverrides, ConfigError, DEFAULT_DEPLOY_TIMEOUT,
    DEFAULT_INVOKE_TIMEOUT, Timeouts,
};

/// How much longer a remote backend's client waits than the federation's own bounds: the
/// federation, counting from the request's arrival, is the one that answers 504 (naming the
/// setting), and a cut write's request stays open a little longer for the remote to finish.
const CLIENT_SLACK: Duration = Duration::from_secs(1);

const DEFAULT_DEPLOY: Bound = Bound {
    limit: DEFAULT_DEPLOY_TIMEOUT,
    setting: "deploy_timeout",
};
const DEFAULT_INVOKE: Bound = Bound {
    limit: DEFAULT_INVOKE_TIMEOUT,
    setting: "upstream_timeout",
};

/// What kind of provider a backend is (reported in `/system/info` and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendKind {
    /// In-process: the provider runs inside the federation (memory; docker and lambda behind
    /// the cargo features of the same names).
    InProcess,
    /// A remote provider over the OpenFaaS REST API.
    Http,
}

/// A bound on one kind of call to a backend and the setting it comes from (named in 504s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    /// How long.
    pub limit: Duration,
    /// The setting that says so: `deploy_timeout` or `upstream_timeout` (federation-wide), or
    /// the backend's own `deploy_timeout` or `invoke_timeout`.
    pub setting: &'static str,
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ({})", self.limit, self.setting)
    }
}

/// One backend of a [`crate::FederatedProvider`].
pub struct Backend {
    name: Arc<String>,
    kind: BackendKind,
    provider: Arc<dyn Provider>,
    timeout: Duration,
    deploy_timeout: Bound,
    invoke_timeout: Bound,
    capabilities: RwLock<Capabilities>,
    /// For remote backends: the client to probe capabilities with, and the configured overrides.
    probe: Option<(HttpProvider, CapabilityOverrides)>,
    probed: AtomicBool,
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backend")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("timeout", &self.timeout)
            .field("deploy_timeout", &self.deploy_timeout)
            .field("invoke_timeout", &self.invoke_timeout)
            .field("capabilities", &self.capabilities())
            .finish_non_exhaustive()
    }
}

impl Backend {
    /// An in-process backend: `provider` runs inside the federation; its capabilities are
    /// its own.
    pub fn in_process(name: impl Into<String>, provider: Arc<dyn Provider>) -> Self {
        let capabilities = provider.capabilities();
        Self {
            name: Arc::new(name.into()),
            kind: BackendKind::InProcess,
            provider,
            timeout: crate::config::DEFAULT_BACKEND_TIMEOUT,
            deploy_timeout: DEFAULT_DEPLOY,
            invoke_timeout: DEFAULT_INVOKE,
            capabilities: RwLock::new(capabilities),
            probe: None,
            probed: AtomicBool::new(true),
        }
    }

    /// A remote backend. Its capabilities are `remote`'s configured ones until
    /// [`Backend::probe_capabilities`] succeeds (then `overrides` are applied on top of what the
    /// probe found). Its errors name it `name` (set on the client here).
    pub fn remote(
        name: impl Into<String>,
        remote: HttpProvider,
        overrides: CapabilityOverrides,
    ) -> Self {
        let name = name.into();
        let remote = remote.with_name(name.clone());
        let capabilities = overrides.apply(remote.capabilities());
        let remote = remote.with_capabilities(capabilities.clone());
        Self {
            name: Arc::new(name),
            kind: BackendKind::Http,
            provider: Arc::new(remote.clone()),
            timeout: crate::config::DEFAULT_BACKEND_TIMEOUT,
            deploy_timeout: DEFAULT_DEPLOY,
            invoke_timeout: DEFAULT_INVOKE,
            capabilities: RwLock::new(capabilities),
            probe: Some((remote, overrides)),
            probed: AtomicBool::new(false),
        }
    }

    /// Bound on each read from this backend and on its part of fan-outs (default 10 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long a caller waits for a write that does work here (deploy, update, delete,
    /// scale; default [`DEFAULT_DEPLOY_TIMEOUT`], setting `deploy_timeout`). The write itself
    /// is not cut: it completes in the background (for a remote backend, within its client's
    /// own deploy timeout, which [`Backend::from_config`] sets a second above this bound).
    pub fn with_deploy_timeout(mut self, bound: Bound) -> Self {
        self.deploy_timeout = bound;
        self
    }

    /// This backend's invocation deadline, counted from the request's arrival
    /// ([`faas_provider::InvokeStart`]; default [`DEFAULT_INVOKE_TIMEOUT`], setting
    /// `upstream_timeout`).
    pub fn with_invoke_timeout(mut self, bound: Bound) -> Self {
        self.invoke_timeout = bound;
        self
    }

    /// The backend a configuration entry describes, its unset bounds taken from `timeouts`.
    /// In-process docker (and lambda) backends are connected here: a Docker Engine that cannot
    /// be reached fails the build.
    pub async fn from_config(
        config: &BackendConfig,
        timeouts: &Timeouts,
    ) -> Result<Self, ConfigError> {
        let deploy = match config.deploy_timeout {
            Some(limit) => Bound {
                limit,
                setting: "this backend's deploy_timeout",
            },
            None => Bound {
                limit: timeouts.deploy,
                setting: "deploy_timeout",
            },
        };
        let invoke = match config.invoke_timeout {
            Some(limit) => Bound {
                limit,
                setting: "this backend's invoke_timeout",
            },
            None => Bound {
                limit: timeouts.upstream,
                setting: "upstream_timeout",
            },
        };
        let failed = |e: &dyn fmt::Display| {
            ConfigError::Invalid(format!(
                "backend {} ({}): {e}",
                config.name,
                config.spec.kind()
            ))
        };
        let backend = match &config.spec {
            BackendSpec::Memory => {
                Self::in_process_configured(config, Arc::new(MemoryProvider::new()))
            }
            #[cfg(feature = "docker")]
            BackendSpec::Docker(docker) => {
                let provider = provider_docker::DockerProvider::connect(docker.clone())
                    .await
                    .map_err(|e| failed(&e))?;
                Self::in_process_configured(config, Arc::new(provider))
            }
            #[cfg(feature = "lambda")]
            BackendSpec::Lambda(launch) => {
                let provider = Launch::clone(launch)
                    .build()
                    .await
                    .map_err(|e| failed(&e))?;
                Self::in_process_configured(config, Arc::new(provider))
            }
            BackendSpec::Http { url, credentials } => {
                let mut client = HttpProvider::new(url)
                    .map_err(|e| failed(&e))?
                    .with_timeout(config.timeout)
                    .with_deploy_timeout(deploy.limit + CLIENT_SLACK)
                    .with_invoke_timeout(invoke.limit + CLIENT_SLACK);
                if let Some(credentials) = credentials {
                    client = client
                        .with_basic_auth(credentials.user.clone(), credentials.password.clone());
                }
                Self::remote(config.name.clone(), client, config.capabilities.clone())
            }
        };
        Ok(backend
            .with_timeout(config.timeout)
            .with_deploy_timeout(deploy)
            .with_invoke_timeout(invoke))
    }

    /// An in-process backend named and overridden as `config` says.
    fn in_process_configured(config: &BackendConfig, provider: Arc<dyn Provider>) -> Self {
        let backend = Self::in_process(config.name.clone(), provider);
        let caps = config.capabilities.apply(backend.capabilities());
        *backend
            .capabilities
            .write()
            .unwrap_or_else(PoisonError::into_inner) = caps;
        backend
    }

    /// Its name (the routing annotation's value).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn label(&self) -> &Arc<String> {
        &self.name
    }

    /// In-process or remote.
    pub fn kind(&self) -> BackendKind {
        self.kind
    }

    /// The provider calls are delegated to.
    pub fn provider(&self) -> &Arc<dyn Provider> {
        &self.provider
    }

    /// Bound on each read.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// How long a caller waits for a write that does work here.
    pub fn deploy_timeout(&self) -> Bound {
        self.deploy_timeout
    }

    /// This backend's invocation deadline.
    pub fn invoke_timeout(&self) -> Bound {
        self.invoke_timeout
    }

    /// What it supports, as last learned.
    pub fn capabilities(&self) -> Capabilities {
        self.capabilities
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// True once its capabilities are known (always, in-process; after a successful probe,
    /// remote).
    pub fn capabilities_known(&self) -> bool {
        self.probed.load(Ordering::Acquire)
    }

    /// Asks a remote backend which optional routes it implements (secrets, logs, namespace
    /// mutation) and keeps the answer, configured overrides winning. No-op in-process.
    pub async fn probe_capabilities(&self) -> faas_provider::Result<()> {
        let Some((remote, overrides)) = &self.probe else {
            return Ok(());
        };
        let probed = tokio::time::timeout(self.timeout, remote.probe_capabilities())
            .await
            .map_err(|_| faas_provider::ProviderError::Unavailable {
                backend: self.name.to_string(),
                reason: format!("capability probe got no answer within {:?}", self.timeout),
            })??;
        let caps = overrides.apply(probed);
        tracing::info!(backend = %self.name, capabilities = ?caps, "capabilities probed");
        *self
            .capabilities
            .write()
            .unwrap_or_else(PoisonError::into_inner) = caps;
        self.probed.store(true, Ordering::Release);
        Ok(())
    }
}
