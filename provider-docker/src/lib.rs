//! # provider-docker
//!
//! An OpenFaaS provider on a Docker Engine: every function replica is a container running the
//! function's image (whose watchdog serves the function), and **all function state lives in
//! the engine**, as container labels ([`labels`]), so a restarted provider (or a second one
//! over the same engine and scope) finds every function again.
//!
//! - **deploy** pulls the image (credentials from the Docker `config.json`), creates the
//!   function's *spec holder* (a created, never started container carrying the spec) and starts
//!   `com.openfaas.scale.min` replicas (default 1), waiting until each passes the watchdog's
//!   `/_/health`. A replica that exits first, an image that cannot be pulled, a full port range:
//!   each is a clear error and nothing is left behind.
//! - every field is honoured: `envVars`, `envProcess` (`fprocess`), `secrets` (bind-mounted
//!   read-only at `/var/openfaas/secrets/<name>`), `limits`/`requests` (Kubernetes quantities →
//!   memory, memory reservation, CPUs, CPU shares), `readOnlyRootFilesystem` (with a writable
//!   tmpfs `/tmp`), `labels` (also set on the containers), `annotations`, `constraints` (those a
//!   single engine can answer; others are a 400).
//! - **availableReplicas** counts replicas whose `/_/health` answers 200; **invoke** balances
//!   over those, round robin, streaming both ways through a keep-alive pool.
//! - **scale** 0..N adds or removes replicas; at 0 the spec holder keeps the function.
//! - **update** is a rolling replace: start a new replica, wait until healthy, route to it, then
//!   drain (no new requests, in-flight ones finish) and remove an old one; a new replica that
//!   fails rolls everything back.
//! - **logs** come from the engine (`instance` = container id); a follow stream takes in the
//!   replicas started after it opened (engine events) and ends when the function is deleted;
//!   **secrets** are files the provider owns (`<state_dir>/secrets/<namespace>/<name>`, files
//!   0644 in 0700 directories); **namespaces** are files too
//!   (`<state_dir>/namespaces/<name>.json`).
//!
//! Networking: host networking with one `127.0.0.1` port per replica (the watchdog's `port`
//! and `bind_address`), or a user-chosen Docker network ([`Networking::Network`]), where
//! replicas are reached at their address on that network, port 8080.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! use std::sync::Arc;
//! use provider_docker::{DockerConfig, DockerProvider};
//!
//! let provider = DockerProvider::connect(DockerConfig::from_env()?).await?;
//! let config = faas_provider::ServerConfig::from_env()?;
//! let listener = tokio::net::TcpListener::bind(config.socket_addr()).await?;
//! faas_provider::server::serve(listener, Arc::new(provider), &config, faas_provider::server::shutdown_signal()).await?;
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod auth;
pub mod config;
mod engine;
pub mod error;
pub mod labels;
mod logs;
pub mod quantity;
mod routes;
pub mod spec;
mod store;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use async_trait::async_trait;
use bollard::Docker;
use chrono::Utc;
use faas_provider::types::name::validate_secret_name;
use faas_provider::{
    Body, Capabilities, DEFAULT_NAMESPACE, FunctionDeployment, FunctionNamespace, FunctionRef,
    FunctionStatus, LogRequest, LogStream, Provider, ProviderError, ProviderInfo, Result, Secret,
};
use futures::future::join_all;

pub use config::{ConfigError, DockerConfig, Networking, PullPolicy, SETTINGS};
pub use error::PROVIDER_NAME;

use engine::{Engine, Started};
use labels::{FunctionView, Record};
use routes::{Pick, Routes, TrackedBody};
use spec::Plan;
use store::{Store, namespace_not_found, validate_namespace_body};

/// Tries at starting a replica whose host port was taken by someone else in the meantime.
const PORT_ATTEMPTS: u32 = 5;

/// An OpenFaaS provider over a Docker Engine. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct DockerProvider {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for DockerProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerProvider")
            .field("config", &self.inner.engine.config)
            .finish_non_exhaustive()
    }
}

struct Inner {
    engine: Engine,
    routes: Routes,
    /// One lock per function: mutations of a function are serialized.
    locks: Mutex<HashMap<FunctionRef, Arc<tokio::sync::Mutex<()>>>>,
}

impl DockerProvider {
    /// Connects to the engine (negotiating its API version), reads what constraints are checked
    /// against, opens the state directory and starts the background health checks.
    pub async fn connect(config: DockerConfig) -> std::result::Result<Self, ConfigError> {
        let host = config
            .docker_host
            .clone()
            .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string());
        let engine_error = |reason: String| ConfigError::Engine {
            host: host.clone(),
            reason,
        };
        let docker = Docker::connect_with_host(&host).map_err(|e| engine_error(e.to_string()))?;
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| engine_error(e.to_string()))?;
        let facts = engine::engine_facts(&docker)
            .await
            .map_err(|e| engine_error(e.to_string()))?;
        let store = Store::open(&config.state_dir).map_err(|source| ConfigError::StateDir {
            path: config.state_dir.clone(),
            source,
        })?;
        let interval = config.health_interval;
        let inner = Arc::new(Inner {
            engine: Engine::new(docker, config, facts, store),
            routes: Routes::default(),
            locks: Mutex::new(HashMap::new()),
        });
        spawn_health_checks(Arc::downgrade(&inner), interval);
        Ok(Self { inner })
    }

    /// The configuration in use.
    pub fn config(&self) -> &DockerConfig {
        &self.inner.engine.config
    }

    /// The engine client (for embedders and tests that inspect containers).
    pub fn docker(&self) -> &Docker {
        &self.inner.engine.docker
    }

    /// Re-reads every function of this scope from the engine and re-checks replica health (what
    /// the background task does every `health_interval`).
    pub async fn refresh(&self) -> Result<()> {
        self.inner.refresh_all().await
    }
}

fn spawn_health_checks(inner: Weak<Inner>, interval: Duration) {
    if interval.is_zero() {
        return;
    }
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let Some(inner) = inner.upgrade() else { break };
            if let Err(e) = inner.refresh_all().await {
                tracing::warn!(error = %e, "background health check failed");
            }
        }
    });
}

/// What one look at a function found.
struct Observed {
    replicas: u64,
    available: u64,
}

impl Inner {
    async fn lock(&self, function: &FunctionRef) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = self
            .locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(function.clone())
            .or_default()
            .clone();
        lock.lock_owned().await
    }

    fn max_replicas_check(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        let max = self.engine.config.max_replicas;
        if replicas > max {
            return Err(ProviderError::invalid(format!(
                "{function}: {replicas} replicas is more than this provider's maximum of {max} (max_replicas)"
            )));
        }
        Ok(())
    }

    /// Validates a deployment against the engine and the store.
    fn plan(&self, spec: FunctionDeployment) -> Result<Plan> {
        let plan = spec::plan(spec, &self.engine.facts)?;
        self.engine.store.require_namespace(&plan.spec.namespace)?;
        for secret in &plan.spec.secrets {
            if !self
                .engine
                .store
                .secret_exists(&plan.spec.namespace, secret)
            {
                return Err(ProviderError::invalid(format!(
                    "unable to find secret: {secret}"
                )));
            }
        }
        Ok(plan)
    }

    /// Probes the running replicas of `view` and records the ready ones for routing (unless the
    /// function was changed since `epoch`).
    async fn observe(&self, view: &FunctionView, epoch: u64) -> Observed {
        let candidates: Vec<&Record> = view
            .replicas
            .iter()
            .filter(|r| r.is_running() && !self.routes.is_draining(&r.id))
            .collect();
        let probes = candidates.iter().map(|record| async move {
            match record.address {
                Some(addr) if routes::probe(&self.engine.client, addr).await => {
                    Some((record.id.clone(), addr))
                }
                _ => None,
            }
        });
        let ready: Vec<_> = join_all(probes).await.into_iter().flatten().collect();
        let available = ready.len() as u64;
        self.routes.set_observed(&view.function, epoch, ready);
        Observed {
            replicas: view.replicas.len() as u64,
            available,
        }
    }

    fn status(&self, view: &FunctionView, observed: &Observed) -> FunctionStatus {
        let mut status = FunctionStatus::from_deployment(&view.spec, view.created_at);
        status.namespace = view.function.namespace.clone();
        status.replicas = observed.replicas;
        status.available_replicas = observed.available;
        status.invocation_count = self.routes.invocations(&view.function) as f64;
        status
    }

    /// Looks a function up in the engine and refreshes its route; `None` when absent.
    async fn refresh_function(
        &self,
        function: &FunctionRef,
    ) -> Result<Option<(FunctionView, Observed)>> {
        let epoch = self.routes.epoch(function);
        match self.engine.view(function).await? {
            Some(view) => {
                let observed = self.observe(&view, epoch).await;
                Ok(Some((view, observed)))
            }
            None => {
                self.routes.remove_observed(function, epoch);
                Ok(None)
            }
        }
    }

    async fn refresh_all(&self) -> Result<()> {
        let known = self.routes.functions();
        let epochs: HashMap<FunctionRef, u64> = known
            .iter()
            .map(|f| (f.clone(), self.routes.epoch(f)))
            .collect();
        let records = self.engine.records(None, None).await?;
        let views = FunctionView::group(records);
        for function in known {
            if !views.contains_key(&function) {
                self.routes.remove_observed(&function, epochs[&function]);
            }
        }
        join_all(views.values().map(|view| {
            let epoch = epochs
                .get(&view.function)
                .copied()
                .unwrap_or_else(|| self.routes.epoch(&view.function));
            self.observe(view, epoch)
        }))
        .await;
        Ok(())
    }

    /// Starts replicas `indexes` and waits until each is ready; on any failure every replica
    /// started here is removed and the first error returned.
    async fn start_ready(
        &self,
        plan: &Plan,
        generation: u64,
        created_at: chrono::DateTime<Utc>,
        indexes: &[u32],
    ) -> Result<Vec<Started>> {
        let function = FunctionRef::new(&plan.spec.service, &plan.spec.namespace);
        let attempts = indexes.iter().map(|index| {
            let function = &function;
            async move {
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    let started = self
                        .engine
                        .start_replica(plan, generation, created_at, *index)
                        .await?;
                    match self.engine.wait_ready(function, &started).await {
                        Ok(()) => return Ok(started),
                        Err(failure) => {
                            self.engine.remove(&started.id, Duration::ZERO).await;
                            if failure.port_conflict && attempt < PORT_ATTEMPTS {
                                tracing::info!(%function, replica = %started.name, "host port taken meanwhile: retrying on another port");
                                continue;
                            }
                            return Err(failure.error);
                        }
                    }
                }
            }
        });
        let results: Vec<Result<Started>> = join_all(attempts).await;
        let mut started = Vec::new();
        let mut first_error = None;
        for result in results {
            match result {
                Ok(s) => started.push(s),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            None => Ok(started),
            Some(error) => {
                join_all(
                    started
                        .iter()
                        .map(|s| self.engine.remove(&s.id, Duration::ZERO)),
                )
                .await;
                Err(error)
            }
        }
    }

    /// Takes a replica out of routing, lets its in-flight invocations finish, stops and
    /// removes it.
    async fn retire(&self, function: &FunctionRef, id: &str) {
        let grace = self.engine.config.stop_timeout;
        self.routes.drain(function, id);
        self.routes.wait_idle(id, grace).await;
        self.engine.remove(id, grace).await;
        self.routes.forget(id);
    }

    /// Removes spec holders older than `generation`, and creates the holder of `generation`
    /// when missing (e.g. pruned by hand).
    async fn settle_holders(&self, view: &FunctionView, plan: Option<&Plan>) -> Result<()> {
        for holder in view
            .holders
            .iter()
            .filter(|h| h.generation < view.generation)
        {
            self.engine.remove(&holder.id, Duration::ZERO).await;
        }
        if !view.holders.iter().any(|h| h.generation == view.generation) {
            let plan = match plan {
                Some(plan) => plan.clone(),
                None => spec::plan(view.spec.clone(), &self.engine.facts)?,
            };
            self.engine
                .create_holder(&plan, view.generation, view.created_at)
                .await?;
        }
        Ok(())
    }

    async fn deploy(&self, spec: FunctionDeployment) -> Result<()> {
        let plan = self.plan(spec)?;
        let function = FunctionRef::new(&plan.spec.service, &plan.spec.namespace);
        let replicas = plan.spec.min_replicas();
        self.max_replicas_check(&function, replicas)?;
        let _lock = self.lock(&function).await;
        if self.engine.view(&function).await?.is_some() {
            return Err(ProviderError::function_exists(&function));
        }
        self.engine.ensure_image(&plan.spec.image, false).await?;
        let created_at = Utc::now();
        let holder = self.engine.create_holder(&plan, 1, created_at).await?;
        let indexes: Vec<u32> = (0..replicas as u32).collect();
        match self.start_ready(&plan, 1, created_at, &indexes).await {
            Ok(started) => {
                for s in &started {
                    self.routes.add_ready(&function, &s.id, s.addr);
                }
                tracing::info!(%function, image = %plan.spec.image, replicas, "deployed");
                Ok(())
            }
            Err(e) => {
                self.engine.remove(&holder, Duration::ZERO).await;
                Err(e)
            }
        }
    }

    async fn update(&self, spec: FunctionDeployment) -> Result<()> {
        let plan = self.plan(spec)?;
        let function = FunctionRef::new(&plan.spec.service, &plan.spec.namespace);
        let _lock = self.lock(&function).await;
        let view = self
            .engine
            .view(&function)
            .await?
            .ok_or_else(|| ProviderError::function_not_found(&function))?;
        let desired = (view.replicas.len() as u64).max(plan.spec.min_replicas());
        self.max_replicas_check(&function, desired)?;
        self.engine.ensure_image(&plan.spec.image, false).await?;
        let generation = view.generation + 1;
        let new_holder = self
            .engine
            .create_holder(&plan, generation, view.created_at)
            .await?;
        let old = view.replicas.clone();
        let extra = view.free_indexes((desired as usize).saturating_sub(old.len()));
        let mut fresh: Vec<Started> = Vec::new();
        let mut replaced: Vec<Record> = Vec::new();
        for i in 0..desired as usize {
            let index = old
                .get(i)
                .map(|r| r.replica)
                .unwrap_or_else(|| extra[i - old.len()]);
            match self
                .start_ready(&plan, generation, view.created_at, &[index])
                .await
            {
                Ok(mut started) => {
                    let s = started.remove(0);
                    self.routes.add_ready(&function, &s.id, s.addr);
                    fresh.push(s);
                }
                Err(error) => {
                    let rollback = self.roll_back(&view, &fresh, &replaced).await;
                    self.engine.remove(&new_holder, Duration::ZERO).await;
                    return Err(match rollback {
                        Ok(()) => error,
                        Err(rollback_error) => ProviderError::invalid(format!(
                            "{error}; rolling back to the previous spec also failed: {rollback_error}"
                        )),
                    });
                }
            }
            if let Some(record) = old.get(i) {
                self.retire(&function, &record.id).await;
                replaced.push(record.clone());
            }
        }
        for holder in &view.holders {
            self.engine.remove(&holder.id, Duration::ZERO).await;
        }
        tracing::info!(%function, image = %plan.spec.image, replicas = desired, generation, "updated");
        Ok(())
    }

    /// Undoes a partial rolling update: replicas of the previous spec replace the `replaced`
    /// ones, then the `fresh` ones are retired.
    async fn roll_back(
        &self,
        view: &FunctionView,
        fresh: &[Started],
        replaced: &[Record],
    ) -> Result<()> {
        let function = &view.function;
        let mut result = Ok(());
        if !replaced.is_empty() {
            let plan = spec::plan(view.spec.clone(), &self.engine.facts)?;
            let indexes: Vec<u32> = replaced.iter().map(|r| r.replica).collect();
            match self
                .start_ready(&plan, view.generation, view.created_at, &indexes)
                .await
            {
                Ok(started) => {
                    for s in &started {
                        self.routes.add_ready(function, &s.id, s.addr);
                    }
                }
                Err(e) => result = Err(e),
            }
        }
        join_all(fresh.iter().map(|s| self.retire(function, &s.id))).await;
        result
    }

    async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        self.max_replicas_check(function, replicas)?;
        let _lock = self.lock(function).await;
        let view = self
            .engine
            .view(function)
            .await?
            .ok_or_else(|| ProviderError::function_not_found(function))?;
        let current = view.replicas.len() as u64;
        let mut plan = None;
        if replicas > current {
            let p = spec::plan(view.spec.clone(), &self.engine.facts)?;
            self.engine.ensure_image(&p.spec.image, true).await?;
            let indexes = view.free_indexes((replicas - current) as usize);
            let started = self
                .start_ready(&p, view.generation, view.created_at, &indexes)
                .await?;
            for s in &started {
                self.routes.add_ready(function, &s.id, s.addr);
            }
            plan = Some(p);
        } else if replicas < current {
            // Replicas that are down go first, then the highest indexes.
            let mut victims: Vec<&Record> = view.replicas.iter().collect();
            victims.sort_by_key(|r| (r.is_running(), std::cmp::Reverse(r.replica)));
            let victims = &victims[..(current - replicas) as usize];
            join_all(victims.iter().map(|r| self.retire(function, &r.id))).await;
        }
        self.settle_holders(&view, plan.as_ref()).await?;
        tracing::info!(%function, from = current, to = replicas, "scaled");
        Ok(())
    }

    async fn delete(&self, function: &FunctionRef) -> Result<()> {
        let _lock = self.lock(function).await;
        let view = self
            .engine
            .view(function)
            .await?
            .ok_or_else(|| ProviderError::function_not_found(function))?;
        join_all(view.replicas.iter().map(|r| self.retire(function, &r.id))).await;
        for holder in &view.holders {
            self.engine.remove(&holder.id, Duration::ZERO).await;
        }
        self.routes.remove_function(function);
        // Anything that appeared meanwhile (another provider instance) goes too.
        for record in self
            .engine
            .records(Some(&function.namespace), Some(&function.name))
            .await?
        {
            self.engine.remove(&record.id, Duration::ZERO).await;
        }
        tracing::info!(%function, "deleted");
        Ok(())
    }

    async fn invoke(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        let guard = match self.routes.pick(function) {
            Pick::Ready(guard) => guard,
            Pick::Unknown | Pick::NotReady => {
                if self.refresh_function(function).await?.is_none() {
                    return Err(ProviderError::function_not_found(function));
                }
                match self.routes.pick(function) {
                    Pick::Ready(guard) => guard,
                    _ => {
                        return Err(ProviderError::NotReady {
                            name: function.to_string(),
                        });
                    }
                }
            }
        };
        self.routes.count_invocation(function);
        let (mut parts, body) = request.into_parts();
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let addr = guard.endpoint().addr;
        parts.uri = format!("http://{addr}{path}")
            .parse()
            .map_err(|e| ProviderError::invalid(format!("invalid request path {path:?}: {e}")))?;
        // The upstream's Host is its own address; the caller's is in X-Forwarded-Host.
        parts.headers.remove(http::header::HOST);
        match self
            .engine
            .client
            .request(http::Request::from_parts(parts, body))
            .await
        {
            Ok(response) => {
                Ok(response.map(|incoming| Body::new(TrackedBody::new(incoming, guard))))
            }
            Err(error) => {
                if error.is_connect() {
                    let id = guard.endpoint().id.clone();
                    drop(guard);
                    self.routes.mark_down(function, &id);
                }
                Err(ProviderError::Unreachable {
                    name: function.to_string(),
                    source: Box::new(error),
                })
            }
        }
    }
}

#[async_trait]
impl Provider for DockerProvider {
    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::full();
        caps.max_replicas = Some(self.inner.engine.config.max_replicas);
        caps
    }

    async fn info(&self) -> Result<ProviderInfo> {
        Ok(ProviderInfo::new(
            PROVIDER_NAME,
            "docker",
            env!("CARGO_PKG_VERSION"),
        ))
    }

    async fn health(&self) -> Result<()> {
        self.inner
            .engine
            .docker
            .ping()
            .await
            .map(|_| ())
            .map_err(|e| error::unavailable(&e))
    }

    async fn list(&self, namespace: &str) -> Result<Vec<FunctionStatus>> {
        let namespace = namespace_or_default(namespace);
        self.inner.engine.store.require_namespace(namespace)?;
        let inner = &self.inner;
        let known = inner.routes.functions();
        let epochs: HashMap<FunctionRef, u64> = known
            .iter()
            .map(|f| (f.clone(), inner.routes.epoch(f)))
            .collect();
        let records = inner.engine.records(Some(namespace), None).await?;
        let views = FunctionView::group(records);
        let statuses = join_all(views.values().map(|view| async {
            let epoch = epochs
                .get(&view.function)
                .copied()
                .unwrap_or_else(|| inner.routes.epoch(&view.function));
            let observed = inner.observe(view, epoch).await;
            inner.status(view, &observed)
        }))
        .await;
        Ok(statuses)
    }

    async fn get(&self, function: &FunctionRef) -> Result<FunctionStatus> {
        let function = normalize(function);
        self.inner
            .engine
            .store
            .require_namespace(&function.namespace)?;
        match self.inner.refresh_function(&function).await? {
            Some((view, observed)) => Ok(self.inner.status(&view, &observed)),
            None => Err(ProviderError::function_not_found(&function)),
        }
    }

    async fn deploy(&self, spec: FunctionDeployment) -> Result<()> {
        self.inner.deploy(spec).await
    }

    async fn update(&self, spec: FunctionDeployment) -> Result<()> {
        self.inner.update(spec).await
    }

    async fn delete(&self, function: &FunctionRef) -> Result<()> {
        let function = normalize(function);
        self.inner
            .engine
            .store
            .require_namespace(&function.namespace)?;
        self.inner.delete(&function).await
    }

    async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        let function = normalize(function);
        self.inner
            .engine
            .store
            .require_namespace(&function.namespace)?;
        self.inner.scale(&function, replicas).await
    }

    async fn invoke(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        self.inner.invoke(&normalize(function), request).await
    }

    async fn list_secrets(&self, namespace: &str) -> Result<Vec<Secret>> {
        let namespace = namespace_or_default(namespace);
        let store = &self.inner.engine.store;
        store.require_namespace(namespace)?;
        Ok(store
            .list_secrets(namespace)?
            .into_iter()
            .map(|name| Secret::new(name, namespace, String::new()))
            .collect())
    }

    async fn create_secret(&self, secret: Secret) -> Result<()> {
        validate_secret_name(&secret.name)?;
        let namespace = namespace_or_default(&secret.namespace);
        let store = &self.inner.engine.store;
        store.require_namespace(namespace)?;
        store.write_secret(namespace, &secret.name, secret.bytes(), true)
    }

    async fn update_secret(&self, secret: Secret) -> Result<()> {
        validate_secret_name(&secret.name)?;
        let namespace = namespace_or_default(&secret.namespace);
        let store = &self.inner.engine.store;
        store.require_namespace(namespace)?;
        store.write_secret(namespace, &secret.name, secret.bytes(), false)
    }

    async fn delete_secret(&self, name: &str, namespace: &str) -> Result<()> {
        validate_secret_name(name)?;
        let namespace = namespace_or_default(namespace);
        let store = &self.inner.engine.store;
        store.require_namespace(namespace)?;
        // Replicas that mount it keep their copy, as with faasd; new replicas need it back.
        store.delete_secret(namespace, name)
    }

    async fn logs(&self, request: LogRequest) -> Result<LogStream> {
        let function = normalize(&request.function);
        self.inner
            .engine
            .store
            .require_namespace(&function.namespace)?;
        let engine = &self.inner.engine;
        // Opened first: a replica started while the containers are listed is not missed.
        let watch = request.follow.then(|| {
            let filters = labels::filters(
                &engine.config.scope,
                Some(&function.namespace),
                Some(&function.name),
            );
            logs::watch(&engine.docker, filters)
        });
        let records = engine
            .records(Some(&function.namespace), Some(&function.name))
            .await?;
        if records.is_empty() {
            return Err(ProviderError::function_not_found(&function));
        }
        Ok(logs::stream(&engine.docker, &records, request, watch).await)
    }

    async fn list_namespaces(&self) -> Result<Vec<String>> {
        self.inner.engine.store.list_namespaces()
    }

    async fn get_namespace(&self, name: &str) -> Result<FunctionNamespace> {
        self.inner
            .engine
            .store
            .namespace(name)?
            .ok_or_else(|| namespace_not_found(name))
    }

    async fn create_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        validate_namespace_body(&namespace)?;
        self.inner.engine.store.write_namespace(&namespace, true)
    }

    async fn update_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        validate_namespace_body(&namespace)?;
        self.inner.engine.store.write_namespace(&namespace, false)
    }

    async fn delete_namespace(&self, name: &str) -> Result<()> {
        if name == DEFAULT_NAMESPACE {
            return Err(ProviderError::invalid(format!(
                "the default namespace {DEFAULT_NAMESPACE} cannot be deleted"
            )));
        }
        let store = &self.inner.engine.store;
        if store.namespace(name)?.is_none() {
            return Err(namespace_not_found(name));
        }
        let records = self.inner.engine.records(Some(name), None).await?;
        let views = FunctionView::group(records);
        if !views.is_empty() {
            let names: Vec<&str> = views.keys().map(|f| f.name.as_str()).collect();
            return Err(ProviderError::invalid(format!(
                "namespace {name} still holds {} function(s) ({}): delete them first",
                names.len(),
                names.join(", ")
            )));
        }
        store.delete_namespace(name)
    }
}

fn namespace_or_default(namespace: &str) -> &str {
    if namespace.is_empty() {
        DEFAULT_NAMESPACE
    } else {
        namespace
    }
}

fn normalize(function: &FunctionRef) -> FunctionRef {
    FunctionRef::new(
        function.name.clone(),
        namespace_or_default(&function.namespace),
    )
}
