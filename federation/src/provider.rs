//! [`FederatedProvider`]: a [`Provider`] delegating to named backends.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::future::{BoxFuture, join_all};
use prometheus_client::registry::Registry;

use faas_provider::{
    Body, Capabilities, FunctionDeployment, FunctionNamespace, FunctionRef, FunctionStatus,
    LogRequest, LogStream, Provider, ProviderError, ProviderInfo, Result, Secret,
};

use crate::backends::Backend;
use crate::cache::{Applied, BackendIndex, Listing, RoutingTable};
use crate::config::{ConfigError, FederationConfig};
use crate::fanout::{self, Plan};
use crate::locks::KeyedLocks;
use crate::metrics::{self, Metrics};
use crate::routing::{GATEWAY_ANNOTATION, pick_backend};
use crate::server::record_missing;

/// The name reported in `/system/info`.
pub const PROVIDER_NAME: &str = "faas-federation";
/// The orchestration kind reported in `/system/info` (followed by the backends, see
/// [`FederatedProvider::info`](Provider::info)).
pub const ORCHESTRATION: &str = "federation";
/// Default shortest interval between two full rebuilds of the routing table; a lookup miss
/// within it asks every backend for that one function instead.
pub const DEFAULT_MIN_REBUILD_INTERVAL: Duration = Duration::from_secs(1);

/// One OpenFaaS provider over several: each function lives on one named backend, chosen at
/// deploy time by the [`GATEWAY_ANNOTATION`] annotation (absent → the default backend).
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
///   clients and the conformance suite deploy) live. Functions routed elsewhere get what their
///   backend supports.
/// - **Health** (`/healthz`) stays OK while backends are down: it reports the federation's own
///   liveness; backend health is in the `federation_backend_up` metric.
pub struct FederatedProvider {
    backends: Vec<Arc<Backend>>,
    names: Vec<String>,
    default: BackendIndex,
    table: RoutingTable,
    metrics: Metrics,
    locks: KeyedLocks<FunctionRef>,
    min_rebuild_interval: Duration,
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

/// Where a function is, after asking the backends.
#[derive(Debug)]
enum Located {
    Found(BackendIndex),
    Absent,
    /// Not on any reachable backend, and these unreachable ones have never been listed.
    Unknown(Vec<BackendIndex>),
}

/// A merged list and the backends left out of it.
#[derive(Debug)]
pub struct ListReport {
    /// Functions of every backend that answered.
    pub functions: Vec<FunctionStatus>,
    /// Backends that could not answer, with why.
    pub missing: Vec<(String, String)>,
}

/// What a rebuild of the routing table found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildReport {
    /// Functions routed after the rebuild.
    pub routes: usize,
    /// Backends that could not be listed (their previous routes were kept), with why.
    pub unreachable: Vec<(String, String)>,
}

/// Errors that are an answer about the resource (so the backend is reachable and simply does
/// not have it), as opposed to failures to get an answer.
fn is_refusal(error: &ProviderError) -> bool {
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
            backends.push(Backend::from_config(backend).await?);
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

    /// Prepares for serving: probes remote backends' capabilities, then builds the routing
    /// table from every backend's lists. Unreachable backends are logged and retried later
    /// (by [`FederatedProvider::check_backends`] and on lookup misses); this never fails.
    pub async fn start(&self) -> RebuildReport {
        join_all(self.backends.iter().map(|backend| async move {
            if let Err(error) = backend.probe_capabilities().await {
                tracing::warn!(backend = backend.name(), %error, "cannot probe capabilities yet");
            }
        }))
        .await;
        let report = self.rebuild().await;
        tracing::info!(
            routes = report.routes,
            unreachable = ?report.unreachable,
            backends = ?self.names,
            default = %self.names[self.default],
            "routing table built"
        );
        report
    }

    /// Rebuilds the routing table from the backends' own lists (every namespace of every
    /// backend). A backend that cannot be listed keeps its previous routes.
    pub async fn rebuild(&self) -> RebuildReport {
        let _guard = self.table.rebuild_lock().lock().await;
        self.report(self.rebuild_locked().await)
    }

    fn report(&self, applied: Applied) -> RebuildReport {
        RebuildReport {
            routes: applied.routes,
            unreachable: applied
                .failed
                .iter()
                .map(|(i, e)| (self.names[*i].clone(), e.to_string()))
                .collect(),
        }
    }

    async fn rebuild_locked(&self) -> Applied {
        let listings: Vec<Listing> = join_all(
            self.backends
                .iter()
                .map(|backend| self.list_everything(backend)),
        )
        .await;
        self.metrics.rebuilt();
        let applied = self.table.apply(listings);
        for (function, backend) in &applied.duplicates {
            tracing::warn!(%function, owner = %self.names[*backend], "function found on several backends; routing to the one its annotation names");
        }
        for (backend, error) in &applied.failed {
            tracing::warn!(backend = %self.names[*backend], %error, "backend not listed; keeping its previous routes");
        }
        applied
    }

    /// Every function of every namespace of `backend`, with its routing annotation.
    async fn list_everything(&self, backend: &Backend) -> Listing {
        let provider = backend.provider();
        let default_namespace = backend.capabilities().default_namespace;
        let mut namespaces = match self
            .call(backend, "list_namespaces", provider.list_namespaces())
            .await
        {
            Ok(namespaces) => namespaces,
            Err(e) if e.is_unsupported() || e.is_not_found() => Vec::new(),
            Err(e) => return Err(e),
        };
        if !namespaces.contains(&default_namespace) {
            namespaces.push(default_namespace);
        }
        let lists = join_all(
            namespaces
                .iter()
                .map(|ns| self.call(backend, "list", provider.list(ns))),
        )
        .await;
        let mut functions = Vec::new();
        for (namespace, list) in namespaces.iter().zip(lists) {
            match list {
                Ok(list) => functions.extend(list.into_iter().map(|status| {
                    let annotation = status.annotation(GATEWAY_ANNOTATION).map(str::to_string);
                    let namespace = if status.namespace.is_empty() {
                        namespace.clone()
                    } else {
                        status.namespace.clone()
                    };
                    (FunctionRef::new(status.name, namespace), annotation)
                })),
                // Deleted meanwhile, or a namespace this backend refuses to list.
                Err(e) if is_refusal(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(functions)
    }

    /// Health-checks every backend (updating `federation_backend_up`), probes capabilities of
    /// remote backends that have not answered a probe yet, and rebuilds the routing table when
    /// a backend that was never listed has become reachable.
    pub async fn check_backends(&self) {
        let results = join_all(self.backends.iter().map(|backend| async move {
            let health = self
                .call(backend, "health", backend.provider().health())
                .await;
            if health.is_ok() && !backend.capabilities_known() {
                if let Err(error) = backend.probe_capabilities().await {
                    tracing::warn!(backend = backend.name(), %error, "capability probe failed");
                }
            }
            health
        }))
        .await;
        let newly_reachable = results
            .iter()
            .enumerate()
            .any(|(i, r)| r.is_ok() && !self.table.listed(i));
        for (backend, result) in self.backends.iter().zip(&results) {
            if let Err(error) = result {
                tracing::warn!(backend = backend.name(), %error, "backend health check failed");
            }
        }
        if newly_reachable {
            self.rebuild().await;
        }
    }

    /// Runs [`FederatedProvider::check_backends`] every `interval` until the federation is
    /// dropped.
    pub fn spawn_monitor(self: &Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let Some(federation) = weak.upgrade() else {
                    return;
                };
                federation.check_backends().await;
            }
        })
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

    /// Every route (function → backend name), sorted (no I/O).
    pub fn routes(&self) -> Vec<(FunctionRef, String)> {
        self.table
            .routes()
            .into_iter()
            .map(|(f, i)| (f, self.names[i].clone()))
            .collect()
    }

    // ---- calls --------------------------------------------------------------------------

    /// Runs one call to `backend`, bounded by its timeout (an expired bound is `Unavailable`
    /// naming it), and records it in the metrics.
    async fn call<T>(
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

    fn observe<T>(
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

    fn pick(&self, spec: &FunctionDeployment) -> Result<BackendIndex> {
        let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        let picked = pick_backend(spec, &names, &self.names[self.default])?;
        Ok(self
            .names
            .iter()
            .position(|n| n == picked)
            .unwrap_or(self.default))
    }

    fn unavailable(&self, backends: &[BackendIndex], function: &FunctionRef) -> ProviderError {
        ProviderError::Unavailable {
            backend: backends
                .iter()
                .map(|i| self.names[*i].as_str())
                .collect::<Vec<_>>()
                .join(", "),
            reason: format!(
                "cannot tell whether it holds function {function}: it has not answered since the federation started"
            ),
        }
    }

    /// The owner of `function`: the routing table, else the backends (see [`Self::locate`]).
    async fn resolve(&self, function: &FunctionRef) -> Result<BackendIndex> {
        match self.locate(function).await {
            Located::Found(i) => Ok(i),
            Located::Absent => Err(ProviderError::function_not_found(function)),
            Located::Unknown(backends) => Err(self.unavailable(&backends, function)),
        }
    }

    async fn locate(&self, function: &FunctionRef) -> Located {
        if let Some(i) = self.table.get(function) {
            return Located::Found(i);
        }
        self.refresh(function).await
    }

    /// A lookup miss: rebuild the whole table when no rebuild ran recently (concurrent misses
    /// share one), else ask every backend for this function.
    async fn refresh(&self, function: &FunctionRef) -> Located {
        if self.table.rebuild_due(self.min_rebuild_interval) {
            let _guard = self.table.rebuild_lock().lock().await;
            if self.table.rebuild_due(self.min_rebuild_interval) {
                let applied = self.rebuild_locked().await;
                if let Some(i) = self.table.get(function) {
                    return Located::Found(i);
                }
                let failed: Vec<BackendIndex> = applied.failed.iter().map(|(i, _)| *i).collect();
                return self.absent_or_unknown(&failed);
            }
        }
        self.probe(function).await
    }

    /// Asks every backend for `function` (one `get` each, in parallel).
    async fn probe(&self, function: &FunctionRef) -> Located {
        let results = join_all(
            self.backends
                .iter()
                .map(|b| self.call(b, "get", b.provider().get(function))),
        )
        .await;
        let mut found = Vec::new();
        let mut failed = Vec::new();
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(status) => {
                    found.push((i, status.annotation(GATEWAY_ANNOTATION).map(str::to_string)))
                }
                Err(e) if is_refusal(&e) => {}
                Err(_) => failed.push(i),
            }
        }
        if found.is_empty() {
            return self.absent_or_unknown(&failed);
        }
        let chosen = crate::cache::choose(&found, None, &self.names, self.default);
        self.table.insert(function.clone(), chosen);
        Located::Found(chosen)
    }

    /// Not found on the backends that answered: absent, unless some that did not answer have
    /// never been listed (then nobody knows).
    fn absent_or_unknown(&self, failed: &[BackendIndex]) -> Located {
        let unknown: Vec<BackendIndex> = failed
            .iter()
            .copied()
            .filter(|i| !self.table.listed(*i))
            .collect();
        if unknown.is_empty() {
            Located::Absent
        } else {
            Located::Unknown(unknown)
        }
    }

    /// Runs `call` on the owner of `function`. When the owner says not found (the route was
    /// stale: deleted or moved behind the federation's back), the route is dropped and the
    /// function looked up once more.
    async fn with_owner<'a, T>(
        &'a self,
        function: &'a FunctionRef,
        operation: &'static str,
        call: impl Fn(&'a dyn Provider) -> BoxFuture<'a, Result<T>>,
    ) -> Result<T> {
        let first = self.resolve(function).await?;
        let backend = &self.backends[first];
        match self
            .call(backend, operation, call(backend.provider().as_ref()))
            .await
        {
            Err(error) if error.is_not_found() => {
                self.table.evict(function, first);
                match self.locate(function).await {
                    Located::Found(second) if second != first => {
                        let backend = &self.backends[second];
                        self.call(backend, operation, call(backend.provider().as_ref()))
                            .await
                    }
                    _ => Err(error),
                }
            }
            other => other,
        }
    }

    /// Merges every backend's list of `namespace`; backends that cannot answer are left out
    /// and reported in `missing`. Fails only when no backend answered.
    pub async fn list_report(&self, namespace: &str) -> Result<ListReport> {
        let results = join_all(
            self.backends
                .iter()
                .map(|b| self.call(b, "list", b.provider().list(namespace))),
        )
        .await;
        let mut merged: Vec<(BackendIndex, FunctionStatus)> = Vec::new();
        let mut positions: HashMap<String, usize> = HashMap::new();
        let mut missing = Vec::new();
        let mut refusal = None;
        let mut answered = false;
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(list) => {
                    answered = true;
                    for status in list {
                        let function = FunctionRef::new(status.name.clone(), namespace);
                        match positions.get(&status.name) {
                            // On two backends (a move in flight): keep the routed one.
                            Some(&at) => {
                                if self.table.get(&function) == Some(i) {
                                    merged[at] = (i, status);
                                }
                            }
                            None => {
                                self.table.insert_if_absent(function, i);
                                positions.insert(status.name.clone(), merged.len());
                                merged.push((i, status));
                            }
                        }
                    }
                }
                Err(e) if is_refusal(&e) => {
                    refusal.get_or_insert(e);
                }
                Err(e) => missing.push((i, e)),
            }
        }
        if !answered {
            if missing.is_empty()
                && let Some(refusal) = refusal
            {
                return Err(refusal);
            }
            let names: Vec<BackendIndex> = missing.iter().map(|(i, _)| *i).collect();
            return Err(ProviderError::Unavailable {
                backend: names
                    .iter()
                    .map(|i| self.names[*i].as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                reason: format!(
                    "no backend could list namespace {namespace}: {}",
                    missing
                        .iter()
                        .map(|(_, e)| e.to_string())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            });
        }
        Ok(ListReport {
            functions: merged.into_iter().map(|(_, s)| s).collect(),
            missing: missing
                .into_iter()
                .map(|(i, e)| (self.names[i].clone(), e.to_string()))
                .collect(),
        })
    }

    /// Records backends left out of a merged answer (log + response header).
    fn left_out(&self, what: &str, missing: &[(String, String)]) {
        for (backend, reason) in missing {
            tracing::warn!(backend = %backend, %reason, "{what}: backend left out of the answer");
            record_missing(backend);
        }
    }

    /// The backends supporting `operation`; `Unsupported` when none does.
    fn supporting(
        &self,
        operation: &'static str,
        feature: impl Fn(&Capabilities) -> bool,
    ) -> Result<Vec<BackendIndex>> {
        let targets: Vec<BackendIndex> = self
            .backends
            .iter()
            .enumerate()
            .filter(|(_, b)| feature(&b.capabilities()))
            .map(|(i, _)| i)
            .collect();
        if targets.is_empty() {
            return Err(ProviderError::unsupported(operation, PROVIDER_NAME));
        }
        Ok(targets)
    }

    /// Sends one mutation to `targets` in parallel.
    async fn fan_out<'a>(
        &'a self,
        targets: &[BackendIndex],
        operation: &'static str,
        call: impl Fn(&'a dyn Provider) -> BoxFuture<'a, Result<()>>,
    ) -> Vec<Result<()>> {
        join_all(targets.iter().map(|i| {
            let backend = &self.backends[*i];
            self.call(backend, operation, call(backend.provider().as_ref()))
        }))
        .await
    }

    /// A fan-out mutation with its repair step (see [`crate::fanout`]).
    async fn mutate<'a, R>(
        &'a self,
        targets: Vec<BackendIndex>,
        operation: &'static str,
        benign: fn(&ProviderError) -> bool,
        call: impl Fn(&'a dyn Provider) -> BoxFuture<'a, Result<()>>,
        repair: Option<(&'static str, R)>,
    ) -> Result<()>
    where
        R: Fn(&'a dyn Provider) -> BoxFuture<'a, Result<()>>,
    {
        let mut results = self.fan_out(&targets, operation, call).await;
        match fanout::plan(&results, benign) {
            Plan::Done => Ok(()),
            Plan::Fail(at) | Plan::AllBenign(at) => {
                Err(results.swap_remove(at).err().unwrap_or_else(|| {
                    ProviderError::backend(PROVIDER_NAME, "fan-out result vanished")
                }))
            }
            Plan::Repair(positions) => {
                let Some((repair_operation, repair)) = repair else {
                    return Ok(());
                };
                let again: Vec<BackendIndex> = positions.iter().map(|p| targets[*p]).collect();
                for (i, result) in again
                    .iter()
                    .zip(self.fan_out(&again, repair_operation, repair).await)
                {
                    if let Err(error) = result {
                        tracing::warn!(backend = %self.names[*i], %error, "{operation}: repair failed");
                        return Err(error);
                    }
                }
                Ok(())
            }
        }
    }
}

/// A call to one backend's provider.
type ProviderCall<'a> = fn(&'a dyn Provider) -> BoxFuture<'a, Result<()>>;

/// The `repair` argument of a fan-out whose benign answers are fixed by `call`.
fn repair_with<'a, F>(operation: &'static str, call: F) -> Option<(&'static str, F)>
where
    F: Fn(&'a dyn Provider) -> BoxFuture<'a, Result<()>>,
{
    Some((operation, call))
}

/// The `repair` argument of a fan-out without a repair step.
fn no_repair<'a>() -> Option<(&'static str, ProviderCall<'a>)> {
    None
}

#[async_trait]
impl Provider for FederatedProvider {
    /// The default backend's capabilities (where un-annotated functions go).
    fn capabilities(&self) -> Capabilities {
        self.backends[self.default].capabilities()
    }

    /// `faas-federation`, orchestration `federation (<backend>: <its orchestration>, ...)`
    /// (`unavailable` for a backend that cannot answer). Never fails.
    async fn info(&self) -> Result<ProviderInfo> {
        let infos = join_all(
            self.backends
                .iter()
                .map(|b| self.call(b, "info", b.provider().info())),
        )
        .await;
        let parts: Vec<String> = self
            .names
            .iter()
            .zip(infos)
            .map(|(name, info)| match info {
                Ok(info) if !info.orchestration.is_empty() => {
                    format!("{name}: {}", info.orchestration)
                }
                Ok(_) => format!("{name}: unknown"),
                Err(_) => format!("{name}: unavailable"),
            })
            .collect();
        Ok(ProviderInfo::new(
            PROVIDER_NAME,
            format!("{ORCHESTRATION} ({})", parts.join(", ")),
            env!("CARGO_PKG_VERSION"),
        ))
    }

    /// Always OK: the federation serves while backends are down (see `federation_backend_up`).
    async fn health(&self) -> Result<()> {
        Ok(())
    }

    async fn list(&self, namespace: &str) -> Result<Vec<FunctionStatus>> {
        let report = self.list_report(namespace).await?;
        self.left_out("list", &report.missing);
        Ok(report.functions)
    }

    async fn get(&self, function: &FunctionRef) -> Result<FunctionStatus> {
        self.with_owner(function, "get", |p| p.get(function)).await
    }

    async fn deploy(&self, spec: FunctionDeployment) -> Result<()> {
        let target = self.pick(&spec)?;
        let function = FunctionRef::new(spec.service.clone(), spec.namespace.clone());
        let _guard = self.locks.lock(function.clone()).await;
        match self.locate(&function).await {
            Located::Found(owner) => {
                let backend = &self.backends[owner];
                match self
                    .call(backend, "get", backend.provider().get(&function))
                    .await
                {
                    Ok(_) => {
                        tracing::debug!(%function, owner = %self.names[owner], "deploy refused: exists");
                        return Err(ProviderError::function_exists(&function));
                    }
                    Err(e) if e.is_not_found() => self.table.evict(&function, owner),
                    Err(e) => return Err(e),
                }
            }
            Located::Absent => {}
            Located::Unknown(backends) => {
                let names: Vec<&str> = backends.iter().map(|i| self.names[*i].as_str()).collect();
                tracing::warn!(%function, unreachable = ?names, "deploying without knowing whether these backends hold a function of that name");
            }
        }
        let backend = &self.backends[target];
        self.call(backend, "deploy", backend.provider().deploy(spec))
            .await?;
        self.table.insert(function.clone(), target);
        tracing::info!(%function, backend = backend.name(), "deployed");
        Ok(())
    }

    async fn update(&self, spec: FunctionDeployment) -> Result<()> {
        let target = self.pick(&spec)?;
        let function = FunctionRef::new(spec.service.clone(), spec.namespace.clone());
        let _guard = self.locks.lock(function.clone()).await;
        let owner = self.resolve(&function).await?;
        if owner == target {
            let backend = &self.backends[owner];
            let result = self
                .call(backend, "update", backend.provider().update(spec))
                .await;
            if matches!(&result, Err(e) if e.is_not_found()) {
                self.table.evict(&function, owner);
            }
            return result;
        }

        // A move: deploy on the new backend first; the old copy stays if that fails.
        let new = &self.backends[target];
        let old = &self.backends[owner];
        match self
            .call(new, "deploy", new.provider().deploy(spec.clone()))
            .await
        {
            Ok(()) => {}
            // A copy left there by an interrupted move: replace its spec.
            Err(e) if fanout::already_exists(&e) => {
                self.call(new, "update", new.provider().update(spec))
                    .await?;
            }
            Err(e) => {
                tracing::warn!(%function, from = old.name(), to = new.name(), error = %e, "move failed: the function stays where it was");
                return Err(e);
            }
        }
        self.table.insert(function.clone(), target);
        match self
            .call(old, "delete", old.provider().delete(&function))
            .await
        {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => tracing::warn!(%function, backend = old.name(), error = %e,
                "moved, but the old copy could not be deleted; routes prefer the annotated backend"),
        }
        tracing::info!(%function, from = old.name(), to = new.name(), "moved");
        Ok(())
    }

    async fn delete(&self, function: &FunctionRef) -> Result<()> {
        let _guard = self.locks.lock(function.clone()).await;
        self.with_owner(function, "delete", |p| p.delete(function))
            .await?;
        self.table.remove(function);
        Ok(())
    }

    async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        self.with_owner(function, "scale", |p| p.scale(function, replicas))
            .await
    }

    async fn ready(&self, function: &FunctionRef) -> Result<bool> {
        self.with_owner(function, "ready", |p| p.ready(function))
            .await
    }

    async fn invoke(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        let owner = self.resolve(function).await?;
        let backend = &self.backends[owner];
        let started = Instant::now();
        // Bounded by the server's invoke timeout and, remotely, the backend's invoke timeout.
        let result = backend.provider().invoke(function, request).await;
        self.observe(backend, "invoke", &result, started);
        if matches!(&result, Err(e) if e.is_not_found()) {
            self.table.evict(function, owner);
        }
        result
    }

    async fn list_secrets(&self, namespace: &str) -> Result<Vec<Secret>> {
        let targets = self.supporting("secrets", |c| c.secrets)?;
        let results = join_all(targets.iter().map(|i| {
            let b = &self.backends[*i];
            self.call(b, "list_secrets", b.provider().list_secrets(namespace))
        }))
        .await;
        let mut union = BTreeMap::new();
        let mut missing = Vec::new();
        let mut refusal = None;
        let mut answered = false;
        for (i, result) in targets.iter().zip(results) {
            match result {
                Ok(secrets) => {
                    answered = true;
                    for secret in secrets {
                        union
                            .entry(secret.name.clone())
                            .or_insert_with(|| secret.without_value());
                    }
                }
                Err(e) if is_refusal(&e) => {
                    refusal.get_or_insert(e);
                }
                Err(e) => missing.push((self.names[*i].clone(), e)),
            }
        }
        if !answered {
            return Err(match (refusal, missing.is_empty()) {
                (Some(refusal), true) => refusal,
                _ => missing
                    .into_iter()
                    .next()
                    .map(|(_, e)| e)
                    .unwrap_or_else(|| ProviderError::unsupported("secrets", PROVIDER_NAME)),
            });
        }
        let missing: Vec<(String, String)> = missing
            .into_iter()
            .map(|(n, e)| (n, e.to_string()))
            .collect();
        self.left_out("list_secrets", &missing);
        Ok(union.into_values().collect())
    }

    async fn create_secret(&self, secret: Secret) -> Result<()> {
        let targets = self.supporting("secrets", |c| c.secrets)?;
        let secret = &secret;
        self.mutate(
            targets,
            "create_secret",
            fanout::already_exists,
            |p| p.create_secret(secret.clone()),
            repair_with("update_secret", |p| p.update_secret(secret.clone())),
        )
        .await
    }

    async fn update_secret(&self, secret: Secret) -> Result<()> {
        let targets = self.supporting("secrets", |c| c.secrets)?;
        let secret = &secret;
        self.mutate(
            targets,
            "update_secret",
            fanout::not_found,
            |p| p.update_secret(secret.clone()),
            repair_with("create_secret", |p| p.create_secret(secret.clone())),
        )
        .await
    }

    async fn delete_secret(&self, name: &str, namespace: &str) -> Result<()> {
        let targets = self.supporting("secrets", |c| c.secrets)?;
        self.mutate(
            targets,
            "delete_secret",
            fanout::not_found,
            |p| p.delete_secret(name, namespace),
            no_repair(),
        )
        .await
    }

    async fn logs(&self, request: LogRequest) -> Result<LogStream> {
        let function = request.function.clone();
        let request = &request;
        self.with_owner(&function, "logs", |p| p.logs(request.clone()))
            .await
    }

    async fn list_namespaces(&self) -> Result<Vec<String>> {
        let mut order: Vec<BackendIndex> = vec![self.default];
        order.extend((0..self.backends.len()).filter(|i| *i != self.default));
        let results = join_all(order.iter().map(|i| {
            let b = &self.backends[*i];
            self.call(b, "list_namespaces", b.provider().list_namespaces())
        }))
        .await;
        let mut union: Vec<String> = Vec::new();
        let mut missing = Vec::new();
        let mut first_error = None;
        let mut answered = false;
        for (i, result) in order.iter().zip(results) {
            match result {
                Ok(namespaces) => {
                    answered = true;
                    for ns in namespaces {
                        if !union.contains(&ns) {
                            union.push(ns);
                        }
                    }
                }
                Err(e) => {
                    missing.push((self.names[*i].clone(), e.to_string()));
                    first_error.get_or_insert(e);
                }
            }
        }
        if !answered && let Some(error) = first_error {
            return Err(error);
        }
        self.left_out("list_namespaces", &missing);
        Ok(union)
    }

    async fn get_namespace(&self, name: &str) -> Result<FunctionNamespace> {
        let mut order: Vec<BackendIndex> = vec![self.default];
        order.extend((0..self.backends.len()).filter(|i| *i != self.default));
        let results = join_all(order.iter().map(|i| {
            let b = &self.backends[*i];
            self.call(b, "get_namespace", b.provider().get_namespace(name))
        }))
        .await;
        let mut not_found = None;
        let mut unsupported = None;
        let mut failures = Vec::new();
        for (i, result) in order.iter().zip(results) {
            match result {
                Ok(namespace) => {
                    let missing: Vec<(String, String)> = failures
                        .iter()
                        .map(|(n, e): &(String, ProviderError)| (n.clone(), e.to_string()))
                        .collect();
                    self.left_out("get_namespace", &missing);
                    return Ok(namespace);
                }
                Err(e) if e.is_not_found() => {
                    not_found.get_or_insert(e);
                }
                Err(e) if e.is_unsupported() => {
                    unsupported.get_or_insert(e);
                }
                Err(e) => failures.push((self.names[*i].clone(), e)),
            }
        }
        // Nobody has it: 404 only if every backend that could have it said so.
        if let Some((_, error)) = failures.into_iter().next() {
            return Err(error);
        }
        Err(not_found
            .or(unsupported)
            .unwrap_or_else(|| ProviderError::unsupported("namespaces", PROVIDER_NAME)))
    }

    async fn create_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        let targets = self.supporting("namespaces", |c| c.namespace_mutation)?;
        let namespace = &namespace;
        self.mutate(
            targets,
            "create_namespace",
            fanout::already_exists,
            |p| p.create_namespace(namespace.clone()),
            no_repair(),
        )
        .await
    }

    async fn update_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        let targets = self.supporting("namespaces", |c| c.namespace_mutation)?;
        let namespace = &namespace;
        self.mutate(
            targets,
            "update_namespace",
            fanout::not_found,
            |p| p.update_namespace(namespace.clone()),
            repair_with("create_namespace", |p| {
                p.create_namespace(namespace.clone())
            }),
        )
        .await
    }

    async fn delete_namespace(&self, name: &str) -> Result<()> {
        let targets = self.supporting("namespaces", |c| c.namespace_mutation)?;
        self.mutate(
            targets,
            "delete_namespace",
            fanout::not_found,
            |p| p.delete_namespace(name),
            no_repair(),
        )
        .await
    }
}
