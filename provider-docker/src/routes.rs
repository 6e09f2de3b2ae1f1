//! Which replicas take invocations: per function, the replicas whose watchdog passed
//! `/_/health` at the last look, picked round robin; with in-flight counts so a replica is
//! only stopped once nothing is (or is about to be) sent to it.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use faas_provider::{Body, FunctionRef};
use http_body::{Frame, SizeHint};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The HTTP client to replicas: keep-alive pool, no delay.
pub(crate) type HttpClient = Client<HttpConnector, Body>;

/// How long one `/_/health` probe may take.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// A client for invocations and health probes.
pub(crate) fn http_client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(5)));
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(1024)
        .build(connector)
}

/// True when the watchdog at `addr` answers `/_/health` with 200.
pub(crate) async fn probe(client: &HttpClient, addr: SocketAddr) -> bool {
    let Ok(request) = http::Request::get(format!("http://{addr}/_/health")).body(Body::empty())
    else {
        return false;
    };
    match tokio::time::timeout(PROBE_TIMEOUT, client.request(request)).await {
        Ok(Ok(response)) => response.status() == http::StatusCode::OK,
        _ => false,
    }
}

/// One replica that may take invocations.
#[derive(Debug)]
pub(crate) struct Endpoint {
    /// Container id.
    pub(crate) id: String,
    /// Where its watchdog listens.
    pub(crate) addr: SocketAddr,
    inflight: AtomicUsize,
}

impl Endpoint {
    fn new(id: String, addr: SocketAddr) -> Self {
        Self {
            id,
            addr,
            inflight: AtomicUsize::new(0),
        }
    }
}

/// Counts an invocation on an endpoint until dropped (with the response body).
#[derive(Debug)]
pub(crate) struct InflightGuard(Arc<Endpoint>);

impl InflightGuard {
    fn new(endpoint: Arc<Endpoint>) -> Self {
        endpoint.inflight.fetch_add(1, Ordering::AcqRel);
        Self(endpoint)
    }

    pub(crate) fn endpoint(&self) -> &Arc<Endpoint> {
        &self.0
    }
}

impl Drop for InflightGuard {
    fn drop(&mut self) {
        self.0.inflight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its replica counted as busy until it is read or dropped.
pub(crate) struct TrackedBody {
    inner: hyper::body::Incoming,
    _guard: InflightGuard,
}

impl TrackedBody {
    pub(crate) fn new(inner: hyper::body::Incoming, guard: InflightGuard) -> Self {
        Self {
            inner,
            _guard: guard,
        }
    }
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[derive(Debug, Default)]
struct Route {
    endpoints: Vec<Arc<Endpoint>>,
    cursor: AtomicUsize,
}

/// What [`Routes::pick`] found.
pub(crate) enum Pick {
    /// The function is not known here (look it up in the engine).
    Unknown,
    /// Known, with no ready replica.
    NotReady,
    /// This replica, counted as busy while the guard lives.
    Ready(InflightGuard),
}

/// The routing table.
#[derive(Debug, Default)]
pub(crate) struct Routes {
    table: RwLock<HashMap<FunctionRef, Arc<Route>>>,
    /// Endpoints by container id, so counts survive table rebuilds.
    endpoints: Mutex<HashMap<String, Arc<Endpoint>>>,
    /// Replicas being removed: never routed to again.
    draining: Mutex<HashSet<String>>,
    invocations: Mutex<HashMap<FunctionRef, Arc<AtomicU64>>>,
    /// Per function, the number of the last change made by a mutation; observations made
    /// across a change are stale and dropped.
    epochs: Mutex<HashMap<FunctionRef, u64>>,
    next_epoch: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Routes {
    /// Picks the next ready replica of `function`, round robin.
    pub(crate) fn pick(&self, function: &FunctionRef) -> Pick {
        let table = self.table.read().unwrap_or_else(PoisonError::into_inner);
        let Some(route) = table.get(function) else {
            return Pick::Unknown;
        };
        if route.endpoints.is_empty() {
            return Pick::NotReady;
        }
        let n = route.cursor.fetch_add(1, Ordering::Relaxed);
        let endpoint = route.endpoints[n % route.endpoints.len()].clone();
        Pick::Ready(InflightGuard::new(endpoint))
    }

    /// True when [`Routes::pick`] would route `function` to a replica now.
    pub(crate) fn has_ready(&self, function: &FunctionRef) -> bool {
        let table = self.table.read().unwrap_or_else(PoisonError::into_inner);
        table
            .get(function)
            .is_some_and(|route| !route.endpoints.is_empty())
    }

    /// The current epoch of `function`: pass it back to [`Routes::set_observed`].
    pub(crate) fn epoch(&self, function: &FunctionRef) -> u64 {
        lock(&self.epochs).get(function).copied().unwrap_or(0)
    }

    fn bump(&self, function: &FunctionRef) {
        let epoch = self.next_epoch.fetch_add(1, Ordering::Relaxed) + 1;
        lock(&self.epochs).insert(function.clone(), epoch);
    }

    /// Records what a look at the engine found, unless `function` changed since `epoch` (the
    /// look may predate the change).
    pub(crate) fn set_observed(
        &self,
        function: &FunctionRef,
        epoch: u64,
        ready: Vec<(String, SocketAddr)>,
    ) {
        let epochs = lock(&self.epochs);
        if epochs.get(function).copied().unwrap_or(0) == epoch {
            self.set_ready(function, ready);
        }
    }

    /// Forgets a function the engine no longer has, unless it changed since `epoch`.
    pub(crate) fn remove_observed(&self, function: &FunctionRef, epoch: u64) {
        let epochs = lock(&self.epochs);
        if epochs.get(function).copied().unwrap_or(0) == epoch {
            self.table
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(function);
        }
    }

    /// Sets the ready replicas of `function` (container id, address); replicas being drained
    /// are left out.
    fn set_ready(&self, function: &FunctionRef, ready: Vec<(String, SocketAddr)>) {
        let draining = lock(&self.draining).clone();
        let mut endpoints = lock(&self.endpoints);
        let mut list: Vec<Arc<Endpoint>> = ready
            .into_iter()
            .filter(|(id, _)| !draining.contains(id))
            .map(|(id, addr)| {
                let endpoint = endpoints
                    .entry(id.clone())
                    .or_insert_with(|| Arc::new(Endpoint::new(id.clone(), addr)));
                if endpoint.addr != addr {
                    *endpoint = Arc::new(Endpoint::new(id, addr));
                }
                endpoint.clone()
            })
            .collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        drop(endpoints);
        let mut table = self.table.write().unwrap_or_else(PoisonError::into_inner);
        let cursor = table
            .get(function)
            .map(|r| r.cursor.load(Ordering::Relaxed))
            .unwrap_or(0);
        table.insert(
            function.clone(),
            Arc::new(Route {
                endpoints: list,
                cursor: AtomicUsize::new(cursor),
            }),
        );
    }

    /// Adds one ready replica to `function`'s route (keeping the others).
    pub(crate) fn add_ready(&self, function: &FunctionRef, id: &str, addr: SocketAddr) {
        self.bump(function);
        let mut ready = self.ready_of(function);
        if !ready.iter().any(|(known, _)| known == id) {
            ready.push((id.to_string(), addr));
        }
        self.set_ready(function, ready);
    }

    fn ready_of(&self, function: &FunctionRef) -> Vec<(String, SocketAddr)> {
        let table = self.table.read().unwrap_or_else(PoisonError::into_inner);
        table
            .get(function)
            .map(|route| {
                route
                    .endpoints
                    .iter()
                    .map(|e| (e.id.clone(), e.addr))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Takes a replica out of every route (it failed a connection).
    pub(crate) fn mark_down(&self, function: &FunctionRef, id: &str) {
        self.bump(function);
        let ready: Vec<_> = self
            .ready_of(function)
            .into_iter()
            .filter(|(known, _)| known != id)
            .collect();
        self.set_ready(function, ready);
    }

    /// Stops routing to a replica for good (it is being removed).
    pub(crate) fn drain(&self, function: &FunctionRef, id: &str) {
        lock(&self.draining).insert(id.to_string());
        self.mark_down(function, id);
    }

    /// Waits (up to `limit`) until no invocation is in flight on the replica `id`.
    pub(crate) async fn wait_idle(&self, id: &str, limit: Duration) {
        let endpoint = lock(&self.endpoints).get(id).cloned();
        let Some(endpoint) = endpoint else { return };
        let deadline = tokio::time::Instant::now() + limit;
        while endpoint.inflight.load(Ordering::Acquire) > 0
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Forgets a removed replica.
    pub(crate) fn forget(&self, id: &str) {
        lock(&self.draining).remove(id);
        lock(&self.endpoints).remove(id);
    }

    /// True when the replica is being removed.
    pub(crate) fn is_draining(&self, id: &str) -> bool {
        lock(&self.draining).contains(id)
    }

    /// Forgets a function (deleted).
    pub(crate) fn remove_function(&self, function: &FunctionRef) {
        self.bump(function);
        self.table
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(function);
        lock(&self.invocations).remove(function);
    }

    /// Functions currently in the table.
    pub(crate) fn functions(&self) -> Vec<FunctionRef> {
        self.table
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }

    /// Counts one invocation of `function`.
    pub(crate) fn count_invocation(&self, function: &FunctionRef) {
        if let Some(counter) = lock(&self.invocations).get(function) {
            counter.fetch_add(1, Ordering::Relaxed);
            return;
        }
        lock(&self.invocations)
            .entry(function.clone())
            .or_default()
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Invocations of `function` through this provider instance.
    pub(crate) fn invocations(&self, function: &FunctionRef) -> u64 {
        lock(&self.invocations)
            .get(function)
            .map(|c| c.load(Ordering::Relaxed))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f() -> FunctionRef {
        FunctionRef::new("echo", "openfaas-fn")
    }

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn picked(routes: &Routes) -> String {
        match routes.pick(&f()) {
            Pick::Ready(guard) => guard.endpoint().id.clone(),
            Pick::NotReady => "not-ready".into(),
            Pick::Unknown => "unknown".into(),
        }
    }

    #[test]
    fn round_robin_over_ready_replicas() {
        let routes = Routes::default();
        assert_eq!(picked(&routes), "unknown");
        routes.set_observed(&f(), routes.epoch(&f()), vec![]);
        assert_eq!(picked(&routes), "not-ready");
        routes.set_ready(&f(), vec![("a".into(), addr(1)), ("b".into(), addr(2))]);
        let picks: Vec<String> = (0..4).map(|_| picked(&routes)).collect();
        assert_eq!(picks, ["a", "b", "a", "b"]);
        routes.mark_down(&f(), "a");
        assert_eq!(picked(&routes), "b");
        routes.add_ready(&f(), "a", addr(1));
        routes.drain(&f(), "b");
        assert_eq!(picked(&routes), "a");
        // A drained replica stays out even if a health check reports it again.
        let both = vec![("a".into(), addr(1)), ("b".into(), addr(2))];
        routes.set_observed(&f(), routes.epoch(&f()), both.clone());
        assert_eq!((picked(&routes), picked(&routes)), ("a".into(), "a".into()));
        // An observation that started before a change is dropped.
        let stale = routes.epoch(&f());
        routes.add_ready(&f(), "c", addr(3));
        routes.set_observed(&f(), stale, vec![]);
        assert_ne!(picked(&routes), "not-ready");
        routes.remove_observed(&f(), stale);
        assert_ne!(picked(&routes), "unknown");
        routes.forget("b");
        routes.remove_function(&f());
        assert_eq!(picked(&routes), "unknown");
    }

    #[tokio::test]
    async fn in_flight_invocations_are_counted_until_dropped() {
        let routes = Arc::new(Routes::default());
        routes.set_ready(&f(), vec![("a".into(), addr(1))]);
        let Pick::Ready(guard) = routes.pick(&f()) else {
            panic!("no pick")
        };
        routes.drain(&f(), "a");
        let waiter = {
            let routes = routes.clone();
            tokio::spawn(async move { routes.wait_idle("a", Duration::from_secs(30)).await })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(guard);
        waiter.await.unwrap();
    }
}
