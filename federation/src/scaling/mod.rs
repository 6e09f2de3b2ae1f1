//! Self-scaling in front of any [`Provider`]: [`Scaler`] wraps a provider (the federation, or
//! any backend on its own) and is itself a `Provider`, so every invocation it forwards is seen
//! by three parts, Knative-style (collection, decision, actuation):
//!
//! - **scale from zero**: an invocation of a function whose replicas are 0 scales it to
//!   `max(com.openfaas.scale.min, 1)`, waits (polling `ready` right after the scale answers,
//!   then with backoff; the scale call and the wait together bounded by
//!   [`ScalingConfig::scale_from_zero_timeout`]) and then forwards; concurrent cold calls of one
//!   function share one scale-up. Not ready in time: 504 naming the function and the wait;
//! - **autoscaler**: the requests it forwards are counted per function; every
//!   [`ScalingConfig::interval`] the load (`rps` or in-flight `capacity`, label
//!   `com.openfaas.scale.type`) gives a replica count ([`Policy::desired`]) that is applied at
//!   once when higher and after the scale-down window when lower ([`decide::Tracker`]);
//! - **idler**: functions labelled `com.openfaas.scale.zero=true` with no invocation for
//!   `com.openfaas.scale.zero-duration` are scaled to 0, and wake through the first part.
//!
//! Replica counts are checked against the capabilities of the function's own backend
//! ([`Scaler::with_capabilities`]). Backends learn nothing of this: they only answer `get`,
//! `ready`, `scale` and `invoke`.

mod decide;
mod metrics;
mod policy;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use faas_provider::server::INTERNAL_HEADER;
use faas_provider::types::{
    FunctionDeployment, FunctionNamespace, FunctionStatus, ProviderInfo, Secret,
};
use faas_provider::{
    Body, Capabilities, FunctionRef, LogRequest, LogStream, Provider, ProviderError, Result,
};
use http::StatusCode;
use prometheus_client::registry::Registry;

pub use decide::{Tracker, Windows};
pub use metrics::UNKNOWN_FUNCTION;
pub use policy::{
    LABEL_MAX, LABEL_MIN, LABEL_PROPORTION, LABEL_TARGET, LABEL_TYPE, LABEL_ZERO,
    LABEL_ZERO_DURATION, LoadKind, Policy,
};

/// How long a replica count seen by the scaler is trusted on the invoke path before it asks
/// the backend again (the autoscaler refreshes active functions every interval; an invocation
/// answered "no endpoints" forgets it at once).
const SEEN_TTL: Duration = Duration::from_secs(5);
/// First and longest pause between readiness polls while waking a function.
const WAKE_POLL_FIRST: Duration = Duration::from_millis(2);
const WAKE_POLL_MAX: Duration = Duration::from_millis(100);

/// Records how long a step of a wake took: a `debug` event of target `faas_timing` (fields `op`,
/// `us`), what `faas-bench-wake` breaks a scale from zero down by.
fn timed(op: &'static str, began: Instant) {
    tracing::debug!(target: "faas_timing", op, us = began.elapsed().as_micros() as u64);
}

/// The scaler's settings (federation keys of the same names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalingConfig {
    /// Wake functions at zero replicas on invocation (`scale_from_zero`, default true).
    pub scale_from_zero: bool,
    /// Longest wait for a woken function's first ready replica (`scale_from_zero_timeout`,
    /// default 30 s).
    pub scale_from_zero_timeout: Duration,
    /// Run the autoscaler (`autoscale`, default true).
    pub autoscale: bool,
    /// Autoscaler evaluation interval (`autoscale_interval`, default 2 s).
    pub interval: Duration,
    /// Load averaging and scale-down windows (`autoscale_stable_window` 30 s,
    /// `autoscale_panic_window` 3 s, `scale_down_window` 60 s).
    pub windows: Windows,
    /// How often the idler looks for functions to scale to zero (`idle_interval`, default 30 s).
    pub idle_interval: Duration,
}

impl Default for ScalingConfig {
    fn default() -> Self {
        Self {
            scale_from_zero: true,
            scale_from_zero_timeout: Duration::from_secs(30),
            autoscale: true,
            interval: Duration::from_secs(2),
            windows: Windows::default(),
            idle_interval: Duration::from_secs(30),
        }
    }
}

/// The capabilities of the backend that owns a function.
pub type OwnerCapabilities = Arc<dyn Fn(&FunctionRef) -> Capabilities + Send + Sync>;

/// What the scaler last saw of a function, and how many times what it saw was made stale.
#[derive(Debug, Default)]
struct Sight {
    seen: Option<Seen>,
    /// Counts the changes (scales, updates, calls answered "no endpoints") that make a
    /// status read started before them stale.
    changes: u64,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    available: u64,
    at: Instant,
}

/// A status read by a call, and the change count it was read after.
#[derive(Debug)]
struct Fresh {
    status: FunctionStatus,
    changes: u64,
}

/// One function's counters and state.
#[derive(Debug)]
struct Entry {
    /// `name.namespace`, the metrics' `function_name`.
    label: Arc<str>,
    in_flight: AtomicU64,
    started: AtomicU64,
    last_invoked: Mutex<Instant>,
    sight: Mutex<Sight>,
    /// Serialises wake-ups (and idling) of this function.
    wake: tokio::sync::Mutex<()>,
    sampler: Mutex<Sampler>,
}

#[derive(Debug)]
struct Sampler {
    tracker: Tracker,
    started: u64,
    at: Instant,
}

impl Entry {
    fn new(function: &FunctionRef, now: Instant) -> Self {
        Self {
            label: Arc::from(function.to_string()),
            in_flight: AtomicU64::new(0),
            started: AtomicU64::new(0),
            last_invoked: Mutex::new(now),
            sight: Mutex::default(),
            wake: tokio::sync::Mutex::new(()),
            sampler: Mutex::new(Sampler {
                tracker: Tracker::new(now),
                started: 0,
                at: now,
            }),
        }
    }

    /// The change count: read it before asking a status, hand it to [`Self::see_as_of`].
    fn changes(&self) -> u64 {
        lock(&self.sight).changes
    }

    /// Keeps `available`, read from a status asked after the count was `changes`, unless the
    /// function changed meanwhile: a read that started before the idler scaled to zero must
    /// not tell the next call that a replica is ready. True when kept.
    fn see_as_of(&self, changes: u64, available: u64) -> bool {
        let mut sight = lock(&self.sight);
        let current = sight.changes == changes;
        if current {
            sight.seen = Some(Seen {
                available,
                at: Instant::now(),
            });
        }
        current
    }

    /// Forgets what was seen, and makes every status read started before now stale.
    fn forget_seen(&self) {
        let mut sight = lock(&self.sight);
        sight.seen = None;
        sight.changes += 1;
    }

    /// True when a ready replica was seen recently enough to forward without asking.
    fn ready_recently(&self) -> bool {
        lock(&self.sight)
            .seen
            .is_some_and(|seen| seen.available > 0 && seen.at.elapsed() < SEEN_TTL)
    }
}

/// Decrements the in-flight count when the invocation ends, however it ends.
struct InFlight<'a>(&'a AtomicU64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A [`Provider`] that scales the provider it wraps: see the module docs.
pub struct Scaler {
    inner: Arc<dyn Provider>,
    config: ScalingConfig,
    owner: OwnerCapabilities,
    entries: RwLock<HashMap<FunctionRef, Arc<Entry>>>,
    metrics: metrics::Metrics,
    unknown: Arc<str>,
}

impl std::fmt::Debug for Scaler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scaler")
            .field("config", &self.config)
            .field("functions", &self.read_entries().len())
            .finish_non_exhaustive()
    }
}

impl Scaler {
    /// Scales `inner` with `config`; every function is checked against what `inner` says of
    /// it ([`Provider::capabilities_of`]: the owning backend's, for a federation) unless
    /// [`Scaler::with_capabilities`] says otherwise.
    pub fn new(inner: Arc<dyn Provider>, config: ScalingConfig) -> Self {
        let provider = inner.clone();
        Self {
            inner,
            config,
            owner: Arc::new(move |function| provider.capabilities_of(function)),
            entries: RwLock::new(HashMap::new()),
            metrics: metrics::Metrics::default(),
            unknown: Arc::from(UNKNOWN_FUNCTION),
        }
    }

    /// Uses `owner` for the capabilities (scale to zero, `max_replicas`) of each function's own
    /// backend.
    pub fn with_capabilities(mut self, owner: OwnerCapabilities) -> Self {
        self.owner = owner;
        self
    }

    /// The settings in force.
    pub fn config(&self) -> &ScalingConfig {
        &self.config
    }

    /// The wrapped provider.
    pub fn inner(&self) -> &Arc<dyn Provider> {
        &self.inner
    }

    /// Registers the invocation and scaling metrics (OpenFaaS gateway names) into `registry`.
    pub fn register_metrics(&self, registry: &mut Registry) {
        self.metrics.register(registry);
    }

    /// Starts the autoscaler and idler loop; it ends when the returned handle is aborted or the
    /// last other reference to the scaler is dropped.
    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        let interval = self.config.interval.max(Duration::from_millis(10));
        let idle_interval = self.config.idle_interval.max(Duration::from_millis(10));
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last_idle_scan = Instant::now();
            loop {
                ticks.tick().await;
                let Some(scaler) = weak.upgrade() else { return };
                if scaler.config.autoscale {
                    scaler.autoscale().await;
                }
                if last_idle_scan.elapsed() >= idle_interval {
                    last_idle_scan = Instant::now();
                    scaler.idle().await;
                }
            }
        })
    }

    fn read_entries(&self) -> std::sync::RwLockReadGuard<'_, HashMap<FunctionRef, Arc<Entry>>> {
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn entry(&self, function: &FunctionRef) -> Option<Arc<Entry>> {
        self.read_entries().get(function).cloned()
    }

    fn insert(&self, function: &FunctionRef) -> Arc<Entry> {
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(function.clone())
            .or_insert_with(|| Arc::new(Entry::new(function, Instant::now())))
            .clone()
    }

    fn remove(&self, function: &FunctionRef) {
        let removed = self
            .entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(function);
        if let Some(entry) = removed {
            self.metrics.forget(&entry.label);
        }
    }

    /// The entry of a function the backends know (asking them once: the status they gave is
    /// returned too), or `None` for an unknown one, which is then invoked as is so the backend
    /// gives its own answer.
    async fn known(&self, function: &FunctionRef) -> Option<(Arc<Entry>, Option<Fresh>)> {
        if let Some(entry) = self.entry(function) {
            return Some((entry, None));
        }
        let asked = Instant::now();
        let status = self.inner.get(function).await.ok()?;
        timed("scaler: status read", asked);
        let entry = self.insert(function);
        // Read before the entry existed, so as of a new entry's count (0): stale if the idler
        // created the entry and scaled meanwhile.
        let changes = 0;
        if !entry.see_as_of(changes, status.available_replicas) {
            return Some((entry, None));
        }
        self.metrics.replicas(&entry.label, status.replicas);
        Some((entry, Some(Fresh { status, changes })))
    }

    /// Makes sure a function at zero has a ready replica before it is invoked. `fresh` is a
    /// status just read by this call: used instead of asking again unless another wake-up had
    /// to be waited for or the function changed since.
    async fn wake(
        &self,
        function: &FunctionRef,
        entry: &Entry,
        fresh: Option<Fresh>,
    ) -> Result<()> {
        if entry.ready_recently() {
            return Ok(());
        }
        let (_one_at_a_time, fresh) = match entry.wake.try_lock() {
            Ok(guard) => (guard, fresh),
            Err(_) => (entry.wake.lock().await, None),
        };
        if entry.ready_recently() {
            return Ok(());
        }
        let status = match fresh.filter(|fresh| fresh.changes == entry.changes()) {
            Some(fresh) => fresh.status,
            None => {
                let changes = entry.changes();
                let asked = Instant::now();
                let status = self.inner.get(function).await?;
                timed("scaler: status read", asked);
                entry.see_as_of(changes, status.available_replicas);
                status
            }
        };
        if status.replicas > 0 || status.available_replicas > 0 {
            // Running or starting: the backend answers as it does (a function that is not
            // ready yet gets its own 503, as without the scaler).
            return Ok(());
        }
        let policy = Policy::from_labels(status.labels.as_ref()).unwrap_or_default();
        let capabilities = (self.owner)(function);
        if !capabilities.scale_to_zero {
            return Ok(());
        }
        let replicas = capabilities
            .max_replicas
            .map_or(policy.floor(), |cap| policy.floor().min(cap.max(1)));
        let began = Instant::now();
        let changes = entry.changes();
        let timeout = self.config.scale_from_zero_timeout;
        let too_late = |waited: Duration| {
            entry.forget_seen();
            ProviderError::Timeout(format!(
                "function {function} was scaled from zero to {replicas} but had no ready \
                 replica after {:.1}s (scale_from_zero_timeout {timeout:?})",
                waited.as_secs_f64(),
            ))
        };
        // The scale runs on its own task: a backend whose scale waits for readiness (docker
        // does) is bounded by the timeout too, and is not cut off half-way when it is reached.
        let mut scaling = tokio::spawn({
            let (inner, function) = (self.inner.clone(), function.clone());
            async move { inner.scale(&function, replicas).await }
        });
        let answered = tokio::time::timeout(timeout, &mut scaling).await;
        timed("scaler: the backend's scale", began);
        match answered {
            Ok(Ok(answer)) => answer?,
            Ok(Err(failed)) => return Err(ProviderError::backend("scaler", failed)),
            Err(_) => {
                let function = function.clone();
                tokio::spawn(async move {
                    if let Ok(Err(error)) = scaling.await {
                        tracing::warn!(%function, %error, "scale from zero failed after its caller gave up");
                    }
                });
                return Err(too_late(began.elapsed()));
            }
        }
        self.metrics.scaled(&entry.label, "wake", replicas);
        self.metrics.replicas(&entry.label, replicas);
        lock(&entry.sampler).tracker = Tracker::new(began);
        // Polled at once: a backend whose scale waits for readiness (docker) answers `ready`
        // right away, so the wait ends with the scale.
        let waiting = Instant::now();
        let mut pause = WAKE_POLL_FIRST;
        loop {
            match self.inner.ready(function).await {
                Ok(true) => break,
                Ok(false)
                | Err(ProviderError::NotReady { .. } | ProviderError::Unavailable { .. }) => {}
                Err(error) => return Err(error),
            }
            let waited = began.elapsed();
            if waited >= timeout {
                return Err(too_late(waited));
            }
            tokio::time::sleep(pause.min(timeout - waited)).await;
            pause = (pause * 2).min(WAKE_POLL_MAX);
        }
        timed("scaler: readiness after the scale", waiting);
        entry.see_as_of(changes, 1);
        tracing::info!(function = %function, replicas, elapsed_ms = began.elapsed().as_millis() as u64, "scaled from zero");
        Ok(())
    }

    /// One autoscaler round over the functions invoked recently.
    async fn autoscale(&self) {
        let entries: Vec<(FunctionRef, Arc<Entry>)> = self
            .read_entries()
            .iter()
            .map(|(function, entry)| (function.clone(), entry.clone()))
            .collect();
        let rounds = entries
            .iter()
            .map(|(function, entry)| self.autoscale_one(function, entry));
        futures::future::join_all(rounds).await;
    }

    async fn autoscale_one(&self, function: &FunctionRef, entry: &Entry) {
        let changes = entry.changes();
        let status = match self.inner.get(function).await {
            Ok(status) => status,
            Err(ProviderError::NotFound { .. }) => {
                self.remove(function);
                return;
            }
            Err(error) => {
                tracing::debug!(function = %function, %error, "autoscaler: status unavailable");
                return;
            }
        };
        entry.see_as_of(changes, status.available_replicas);
        self.metrics.replicas(&entry.label, status.replicas);
        let policy = match Policy::from_labels(status.labels.as_ref()) {
            Ok(policy) => policy,
            Err(reason) => {
                tracing::debug!(function = %function, %reason, "autoscaler: labels ignored");
                return;
            }
        };
        let now = Instant::now();
        let windows = self.config.windows;
        let cap = (self.owner)(function).max_replicas;
        let decision = {
            let mut sampler = lock(&entry.sampler);
            let started = entry.started.load(Ordering::Relaxed);
            let seconds = now.saturating_duration_since(sampler.at).as_secs_f64();
            let load = match policy.kind {
                LoadKind::Rps if seconds > 0.0 => {
                    started.saturating_sub(sampler.started) as f64 / seconds
                }
                LoadKind::Rps => 0.0,
                LoadKind::Capacity => entry.in_flight.load(Ordering::Relaxed) as f64,
            };
            sampler.started = started;
            sampler.at = now;
            sampler.tracker.observe(now, load, &windows);
            let decision = sampler
                .tracker
                .decide(now, &policy, cap, status.replicas, &windows);
            let idle_for = lock(&entry.last_invoked).elapsed();
            let forgettable = decision.is_none()
                && sampler.tracker.quiet()
                && !policy.zero
                && status.replicas <= policy.floor()
                && entry.in_flight.load(Ordering::Relaxed) == 0
                && idle_for > windows.scale_down.max(windows.stable);
            if forgettable {
                drop(sampler);
                self.remove(function);
                return;
            }
            decision
        };
        let Some(replicas) = decision else { return };
        let reason = if replicas > status.replicas {
            "up"
        } else {
            "down"
        };
        match self.inner.scale(function, replicas).await {
            Ok(()) => {
                tracing::info!(function = %function, from = status.replicas, to = replicas, reason, "autoscaled");
                self.metrics.scaled(&entry.label, reason, replicas);
                entry.see_as_of(changes, status.available_replicas.min(replicas));
            }
            Err(error) => {
                tracing::warn!(function = %function, %error, replicas, "autoscaler: scale refused");
            }
        }
    }

    /// One idler round: functions that may go to zero and were not invoked for their
    /// zero-duration are scaled to 0.
    async fn idle(&self) {
        let namespaces = match self.inner.list_namespaces().await {
            Ok(namespaces) => namespaces,
            Err(error) => {
                tracing::debug!(%error, "idler: namespaces unavailable");
                return;
            }
        };
        for namespace in namespaces {
            let Ok(functions) = self.inner.list(&namespace).await else {
                continue;
            };
            for status in functions {
                let Ok(policy) = Policy::from_labels(status.labels.as_ref()) else {
                    continue;
                };
                if !policy.zero || status.replicas == 0 {
                    continue;
                }
                let function = FunctionRef::new(status.name.clone(), namespace.clone());
                if !(self.owner)(&function).scale_to_zero {
                    continue;
                }
                let entry = self.insert(&function);
                let idle_for = lock(&entry.last_invoked).elapsed();
                if idle_for < policy.zero_duration || entry.in_flight.load(Ordering::Relaxed) > 0 {
                    continue;
                }
                let _no_wake_meanwhile = entry.wake.lock().await;
                // From here a call does not trust an earlier sight of a ready replica: it waits
                // for this lock and reads the status again. One that already trusted it is in
                // flight (counted before it looked), so the function is left alone.
                entry.forget_seen();
                let idle_for = lock(&entry.last_invoked).elapsed();
                if idle_for < policy.zero_duration || entry.in_flight.load(Ordering::SeqCst) > 0 {
                    continue;
                }
                let scaled = self.inner.scale(&function, 0).await;
                // Status reads started while it scaled are stale too.
                entry.forget_seen();
                match scaled {
                    Ok(()) => {
                        tracing::info!(function = %function, idle_s = idle_for.as_secs(), "idled to zero");
                        self.metrics.scaled(&entry.label, "idle", 0);
                        self.metrics.replicas(&entry.label, 0);
                    }
                    Err(error) => {
                        tracing::warn!(function = %function, %error, "idler: scale to zero refused");
                    }
                }
            }
        }
    }

    fn validate(spec: &FunctionDeployment) -> Result<()> {
        Policy::from_labels(spec.labels.as_ref())
            .map(drop)
            .map_err(|reason| ProviderError::InvalidRequest(format!("scaling labels: {reason}")))
    }

    /// Status code of an invocation, as the server answers it.
    fn code(result: &Result<http::Response<Body>>) -> u16 {
        match result {
            Ok(response) => response.status().as_u16(),
            Err(error) => Self::error_code(error),
        }
    }

    /// Status code of a failed invocation, as the server answers it.
    fn error_code(error: &ProviderError) -> u16 {
        match error {
            ProviderError::NotFound { .. } | ProviderError::NotReady { .. } => 503,
            other => faas_provider::server::status_of(other).as_u16(),
        }
    }

    /// True when the answer says the function had no replica to serve it.
    fn no_endpoints(result: &Result<http::Response<Body>>) -> bool {
        match result {
            Ok(response) => {
                response.status() == StatusCode::SERVICE_UNAVAILABLE
                    && response.headers().contains_key(INTERNAL_HEADER)
            }
            Err(error) => matches!(
                error,
                ProviderError::NotReady { .. }
                    | ProviderError::NotFound { .. }
                    | ProviderError::Unavailable { .. }
            ),
        }
    }
}

#[async_trait]
impl Provider for Scaler {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn capabilities_of(&self, function: &FunctionRef) -> Capabilities {
        (self.owner)(function)
    }

    async fn info(&self) -> Result<ProviderInfo> {
        self.inner.info().await
    }

    async fn health(&self) -> Result<()> {
        self.inner.health().await
    }

    async fn list(&self, namespace: &str) -> Result<Vec<FunctionStatus>> {
        self.inner.list(namespace).await
    }

    async fn list_json(&self, namespace: &str) -> Result<Vec<u8>> {
        self.inner.list_json(namespace).await
    }

    async fn get(&self, function: &FunctionRef) -> Result<FunctionStatus> {
        self.inner.get(function).await
    }

    async fn deploy(&self, spec: FunctionDeployment) -> Result<()> {
        Self::validate(&spec)?;
        self.inner.deploy(spec).await
    }

    async fn update(&self, spec: FunctionDeployment) -> Result<()> {
        Self::validate(&spec)?;
        let function = FunctionRef::new(spec.service.clone(), spec.namespace.clone());
        let result = self.inner.update(spec).await;
        if let Some(entry) = self.entry(&function) {
            entry.forget_seen();
        }
        result
    }

    async fn delete(&self, function: &FunctionRef) -> Result<()> {
        let result = self.inner.delete(function).await;
        if !matches!(result, Err(ref error) if !matches!(error, ProviderError::NotFound { .. })) {
            self.remove(function);
        }
        result
    }

    async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        self.inner.scale(function, replicas).await?;
        if let Some(entry) = self.entry(function) {
            lock(&entry.sampler)
                .tracker
                .hold(Instant::now(), &self.config.windows);
            entry.forget_seen();
            self.metrics.replicas(&entry.label, replicas);
        }
        Ok(())
    }

    async fn ready(&self, function: &FunctionRef) -> Result<bool> {
        self.inner.ready(function).await
    }

    async fn invoke(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        let Some((entry, fresh)) = self.known(function).await else {
            self.metrics.started(&self.unknown);
            let began = Instant::now();
            let result = self.inner.invoke(function, request).await;
            self.metrics.finished(
                &self.unknown,
                Self::code(&result),
                began.elapsed().as_secs_f64(),
            );
            return result;
        };
        let began = Instant::now();
        // Counted before the wake looks for a ready replica, so the idler (which forgets what
        // was seen, then reads this count) either leaves the function alone or makes the wake
        // read the status again.
        entry.in_flight.fetch_add(1, Ordering::SeqCst);
        let _in_flight = InFlight(&entry.in_flight);
        if self.config.scale_from_zero {
            if let Err(error) = self.wake(function, &entry, fresh).await {
                self.metrics.started(&entry.label);
                self.metrics.finished(
                    &entry.label,
                    Self::error_code(&error),
                    began.elapsed().as_secs_f64(),
                );
                return Err(error);
            }
        }
        entry.started.fetch_add(1, Ordering::Relaxed);
        *lock(&entry.last_invoked) = Instant::now();
        self.metrics.started(&entry.label);
        let result = self.inner.invoke(function, request).await;
        self.metrics.finished(
            &entry.label,
            Self::code(&result),
            began.elapsed().as_secs_f64(),
        );
        if Self::no_endpoints(&result) {
            entry.forget_seen();
        }
        result
    }

    async fn list_secrets(&self, namespace: &str) -> Result<Vec<Secret>> {
        self.inner.list_secrets(namespace).await
    }

    async fn create_secret(&self, secret: Secret) -> Result<()> {
        self.inner.create_secret(secret).await
    }

    async fn update_secret(&self, secret: Secret) -> Result<()> {
        self.inner.update_secret(secret).await
    }

    async fn delete_secret(&self, name: &str, namespace: &str) -> Result<()> {
        self.inner.delete_secret(name, namespace).await
    }

    async fn logs(&self, request: LogRequest) -> Result<LogStream> {
        self.inner.logs(request).await
    }

    async fn list_namespaces(&self) -> Result<Vec<String>> {
        self.inner.list_namespaces().await
    }

    async fn get_namespace(&self, name: &str) -> Result<FunctionNamespace> {
        self.inner.get_namespace(name).await
    }

    async fn create_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        self.inner.create_namespace(namespace).await
    }

    async fn update_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        self.inner.update_namespace(namespace).await
    }

    async fn delete_namespace(&self, name: &str) -> Result<()> {
        self.inner.delete_namespace(name).await
    }
}
