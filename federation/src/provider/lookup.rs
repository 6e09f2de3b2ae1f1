//! Owner lookup: which backend holds a function. The routing table answers first; a miss
//! rebuilds it from the backends' own lists (at most every `min_rebuild_interval`) or asks
//! every backend for that one function; a stale route (the owner says not found) is dropped
//! and the function looked up once more (`FederatedProvider::with_owner`).

use futures::future::{BoxFuture, join_all};

use faas_provider::{FunctionDeployment, FunctionRef, Provider, ProviderError, Result};

use super::federated::{FederatedProvider, is_refusal};
use crate::backends::Backend;
use crate::cache::{Applied, BackendIndex, Listing};
use crate::routing::{GATEWAY_ANNOTATION, pick_backend};

/// What a rebuild of the routing table found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildReport {
    /// Functions routed after the rebuild.
    pub routes: usize,
    /// Backends that could not be listed (their previous routes were kept), with why.
    pub unreachable: Vec<(String, String)>,
}

/// Where a function is, after asking the backends.
#[derive(Debug)]
pub(super) enum Located {
    Found(BackendIndex),
    Absent,
    /// Not on any reachable backend, and these unreachable ones have never been listed.
    Unknown(Vec<BackendIndex>),
}

impl FederatedProvider {
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

    pub(super) async fn rebuild_locked(&self) -> Applied {
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

    pub(super) fn pick(&self, spec: &FunctionDeployment) -> Result<BackendIndex> {
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
    pub(super) async fn resolve(&self, function: &FunctionRef) -> Result<BackendIndex> {
        match self.locate(function).await {
            Located::Found(i) => Ok(i),
            Located::Absent => Err(ProviderError::function_not_found(function)),
            Located::Unknown(backends) => Err(self.unavailable(&backends, function)),
        }
    }

    pub(super) async fn locate(&self, function: &FunctionRef) -> Located {
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
    pub(super) async fn with_owner<'a, T>(
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

    /// [`Self::with_owner`] for a write that does work ([`FederatedProvider::write`]): `call`
    /// gets the owning backend, may refuse (e.g. a replica count beyond what that backend
    /// accepts), and returns a future that owns what it needs.
    pub(super) async fn with_owner_write<T: Send + 'static>(
        &self,
        function: &FunctionRef,
        operation: &'static str,
        call: impl Fn(&Backend) -> Result<BoxFuture<'static, Result<T>>>,
    ) -> Result<T> {
        let first = self.resolve(function).await?;
        let backend = &self.backends[first];
        match self
            .write(backend, operation, function, call(backend)?)
            .await
        {
            Err(error) if error.is_not_found() => {
                self.table.evict(function, first);
                match self.locate(function).await {
                    Located::Found(second) if second != first => {
                        let backend = &self.backends[second];
                        self.write(backend, operation, function, call(backend)?)
                            .await
                    }
                    _ => Err(error),
                }
            }
            other => other,
        }
    }
}
