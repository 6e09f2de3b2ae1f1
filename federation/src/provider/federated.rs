//! The [`FederatedProvider`] itself: its backends, routing table, metrics and locks, how it is
//! built, and `call`, the one way every other module calls a backend (bounded, metered).

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::registry::Registry;

use faas_provider::{FunctionRef, ProviderError, Result};

use crate::backends::Backend;
use crate::cache::{BackendIndex, RoutingTable};
use crate::config::{ConfigError, FederationConfig};
use crate::metrics::{self, Metrics};
use faas_provider::sync::KeyedLocks;

/// The name reported in `/system/info`.
pub const PROVIDER_NAME: &str = "faas-federation";
/// The orchestration kind reported in `/system/info` (followed by the backends, see
/// [`FederatedProvider::info`](faas_provider::Provider::info)).
pub const ORCHESTRATION: &str = "federation";
/// Default shortest interval between two full rebuilds of the routing table; a lookup miss
/// within it asks every backend for that one function instead.
pub const DEFAULT_MIN_REBUILD_INTERVAL: Duration = Duration::from_secs(1);

/// One OpenFaaS provider over several: each function lives on one named backend, chosen at
/// deploy time by the [`GATEWAY_ANNOTATION`](crate::GATEWAY_ANNOTATION) annotation (absent → the default backend).
///
/// - **Routing.** Function → backend lives in a routing table rebuilt from the backends' own
///   lists at [`FederatedProvider::start`] and on a lookup miss, so a restarted federation
///   finds every function again. Changing the annotation on update moves the function: deploy
///   on the new backend, then delete from the old one (if the deploy fails, nothing moves).
/// - **Per-function routes** (status, scale, invoke, logs, delete, update) go to the owner; an
///   unreachable owner is `Unavailable` (503) naming it.
/// - **Merged reads.** `list` merges every backend (each bounded by its timeout); backends that
///   could not answer are left out, named in the log and, through [`crate::server::router`], in
///   the `X-Federation-Missing-Backends` header. Secrets are listed from the backends that
///   support them (union by name), namespaces from all (union).
/// - **Fan-out writes.** Secret mutations go to every backend supporting secrets, namespace
///   mutations to every backend supporting them. Fan-outs are idempotent: 409/404 only when
///   every backend says so; a partial earlier fan-out is completed (see the crate README).
/// - **Capabilities** are the default backend's: that is where un-annotated functions (what
///   clients and the conformance suite deploy) live. Per function
///   ([`Provider::capabilities_of`](faas_provider::Provider::capabilities_of)), scale to zero
///   and `max_replicas` are the owning backend's, and scale requests and deploys are checked
///   against them.
/// - **Bounds.** Reads are bounded by the backend's `timeout` (503 naming it), writes that do
///   work by its `deploy_timeout` (504; the write completes in the background), invocations by
///   its invocation deadline (`upstream_timeout`, counted from the request's arrival; 504).
/// - **Health** (`/healthz`) stays OK while backends are down: it reports the federation's own
///   liveness; backend health is in the `federation_backend_up` metric.
pub struct FederatedProvider {
    pub(super) backends: Vec<Arc<Backend>>,
    pub(super) names: Vec<String>,
    pub(super) default: BackendIndex,
    pub(super) table: RoutingTable,
    pub(super) metrics: Metrics,
    pub(super) locks: KeyedLocks<FunctionRef>,
    pub(super) min_rebuild_interval: Duration,
}

impl std::fmt::Debug for FederatedProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FederatedProvider")
            .field("backends", &self.backends)
            .field("default", &self.names[self.default])
            .field("routes", &self.table.len())
            .finish_non_exhaustive()
    }
}

/// Errors that are an answer about the resource (so the backend is reachable and simply does
/// not have it), as opposed to failures to get an answer.
pub(super) fn is_refusal(error: &ProviderError) -> bool {
    matches!(
        error,
        ProviderError::NotFound { .. }
            | ProviderError::InvalidRequest(_)
            | ProviderError::Unsupported { .. }
    )
}

impl FederatedProvider {
    /// A federation over `backends` (names must be unique ignoring case) with
    /// `default_backend` for functions without the annotation. Nothing is contacted: call
    /// [`FederatedProvider::start`] before serving.
    pub fn new(backends: Vec<Backend>, default_backend: &str) -> Result<Self, ConfigError> {
        if backends.is_empty() {
            return Err(ConfigError::Invalid(
                "at least one backend is required".into(),
            ));
        }
        let names: Vec<String> = backends.iter().map(|b| b.name().to_string()).collect();
        let mut seen = BTreeSet::new();
        for name in &names {
            if !seen.insert(name.to_ascii_lowercase()) {
                return Err(ConfigError::Invalid(format!(
                    "backend name {name:?} is used twice"
                )));
            }
        }
        let default = names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(default_backend))
            .ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "default backend {default_backend:?} is not a backend; backends: {}",
                    names.join(", ")
                ))
            })?;
        Ok(Self {
            table: RoutingTable::new(names.clone(), default),
            backends: backends.into_iter().map(Arc::new).collect(),
            names,
            default,
            metrics: Metrics::default(),
            locks: KeyedLocks::default(),
            min_rebuild_interval: DEFAULT_MIN_REBUILD_INTERVAL,
        })
    }

    /// The federation a configuration describes, its backends built in order. Remote backends
    /// are not contacted yet; in-process docker and lambda backends connect to their engine or
    /// AWS endpoint here (see [`Backend::from_config`]).
    pub async fn from_config(config: &FederationConfig) -> Result<Self, ConfigError> {
        let mut backends = Vec::with_capacity(config.backends.len());
        for backend in &config.backends {
            backends.push(Backend::from_config(backend, &config.settings.timeouts).await?);
        }
        Self::new(backends, &config.default_backend)
    }

    /// Sets the shortest interval between two full rebuilds (default
    /// [`DEFAULT_MIN_REBUILD_INTERVAL`]).
    pub fn with_min_rebuild_interval(mut self, interval: Duration) -> Self {
        self.min_rebuild_interval = interval;
        self
    }

    /// Registers the per-backend metrics (see [`crate::metrics`]) into `registry`; pass the
    /// same registry to [`crate::server::router`].
    pub fn register_metrics(&self, registry: &mut Registry) {
        self.metrics.register(registry);
        for backend in &self.backends {
            self.metrics.set_up(backend.label(), false);
        }
    }

    /// The backends, in configuration order.
    pub fn backends(&self) -> &[Arc<Backend>] {
        &self.backends
    }

    /// The backend for functions without the annotation.
    pub fn default_backend(&self) -> &Backend {
        &self.backends[self.default]
    }

    /// The backend `function` is routed to, as the routing table knows it now (no I/O).
    pub fn route_of(&self, function: &FunctionRef) -> Option<&str> {
        self.table.get(function).map(|i| self.names[i].as_str())
    }

    /// The longest invocation deadline of any backend: what the server in front should bound
    /// invocations by ([`faas_provider::ServerConfig::invoke_timeout`]) so that the
    /// federation, which knows which backend was slow, is the one that answers 504.
    pub fn invoke_bound(&self) -> Duration {
        self.backends
            .iter()
            .map(|b| b.invoke_timeout().limit)
            .max()
            .unwrap_or(crate::config::DEFAULT_INVOKE_TIMEOUT)
    }

    /// Every route (function → backend name), sorted (no I/O).
    pub fn routes(&self) -> Vec<(FunctionRef, String)> {
        self.table
            .routes()
            .into_iter()
            .map(|(f, i)| (f, self.names[i].clone()))
            .collect()
    }

    /// Runs one call to `backend`, bounded by its timeout (an expired bound is `Unavailable`
    /// naming it), and records it in the metrics.
    pub(super) async fn call<T>(
        &self,
        backend: &Backend,
        operation: &'static str,
        call: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let started = Instant::now();
        let result = match tokio::time::timeout(backend.timeout(), call).await {
            Ok(result) => result,
            Err(_) => Err(ProviderError::Unavailable {
                backend: backend.name().to_string(),
                reason: format!("no answer to {operation} within {:?}", backend.timeout()),
            }),
        };
        self.observe(backend, operation, &result, started);
        result
    }

    /// Runs one write that does work on `backend` (deploy, update, delete, scale) on a task of
    /// its own, and waits for it up to the backend's `deploy_timeout`. Past that the caller
    /// gets `Timeout` (504) naming the backend and the bound, and the write goes on in the
    /// background until the backend answers: it is never dropped halfway, so the function
    /// ends up as the backend makes it (deployed, or refused by the backend), never half made.
    pub(super) async fn write<T: Send + 'static>(
        &self,
        backend: &Backend,
        operation: &'static str,
        function: &FunctionRef,
        write: impl Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        let started = Instant::now();
        let bound = backend.deploy_timeout();
        let task = tokio::spawn(write);
        let result = match tokio::time::timeout(bound.limit, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(ProviderError::backend(backend.name(), join)),
            Err(_) => {
                let name = backend.name().to_string();
                let function = function.clone();
                tracing::warn!(backend = %name, %function, operation, %bound, "write cut; it goes on in the background");
                Err(ProviderError::Timeout(format!(
                    "backend {name} did not finish {operation} of {function} within {bound}; \
                     the backend goes on with it in the background"
                )))
            }
        };
        self.observe(backend, operation, &result, started);
        result
    }

    pub(super) fn observe<T>(
        &self,
        backend: &Backend,
        operation: &'static str,
        result: &Result<T>,
        started: Instant,
    ) {
        let outcome = metrics::outcome(&result.as_ref().map(|_| ()));
        self.metrics
            .observe(backend.label(), operation, outcome, started.elapsed());
    }
}
