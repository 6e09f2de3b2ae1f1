//! The routing table: function → owning backend. No I/O here: the provider fills it from the
//! backends' own lists (at start, and on a lookup miss) and keeps it current on deploy, move and
//! delete. Backends stay the source of truth, so a restarted federation loses nothing.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use faas_provider::{FunctionRef, ProviderError};

/// What one backend's full listing gave: each function with its routing annotation.
pub(crate) type Listing = Result<Vec<(FunctionRef, Option<String>)>, ProviderError>;

/// Indices into the federation's backend list.
pub(crate) type BackendIndex = usize;

/// Routes by namespace, then function name: looking a listed name up takes no allocation.
type Routes = HashMap<String, HashMap<String, BackendIndex>>;

#[derive(Debug)]
struct State {
    routes: Routes,
    /// Backend `i` has been fully listed at least once: its routes are known, even while it
    /// is down.
    listed: Vec<bool>,
    last_rebuild: Option<Instant>,
}

/// The table, plus the lock that makes concurrent misses share one rebuild.
#[derive(Debug)]
pub(crate) struct RoutingTable {
    state: RwLock<State>,
    rebuild: tokio::sync::Mutex<()>,
    names: Vec<String>,
    default: BackendIndex,
}

/// What a rebuild found.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// Routes after the rebuild.
    pub(crate) routes: usize,
    /// Backends whose listing failed (their previous routes were kept).
    pub(crate) failed: Vec<(BackendIndex, ProviderError)>,
    /// Functions found on more than one backend, with the backend chosen.
    pub(crate) duplicates: Vec<(FunctionRef, BackendIndex)>,
}

impl RoutingTable {
    pub(crate) fn new(names: Vec<String>, default: BackendIndex) -> Self {
        let count = names.len();
        Self {
            state: RwLock::new(State {
                routes: HashMap::new(),
                listed: vec![false; count],
                last_rebuild: None,
            }),
            rebuild: tokio::sync::Mutex::new(()),
            names,
            default,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn get(&self, function: &FunctionRef) -> Option<BackendIndex> {
        route(&self.read().routes, function)
    }

    pub(crate) fn insert(&self, function: FunctionRef, backend: BackendIndex) {
        let FunctionRef { name, namespace } = function;
        self.write()
            .routes
            .entry(namespace)
            .or_default()
            .insert(name, backend);
    }

    /// Adds a route for each listed function of `namespace` that has none, under one lock
    /// (a merged list of thousands of functions learns them all at once).
    pub(crate) fn learn<'a>(
        &self,
        namespace: &str,
        listed: impl IntoIterator<Item = (&'a str, BackendIndex)>,
    ) {
        let mut state = self.write();
        if !state.routes.contains_key(namespace) {
            state.routes.insert(namespace.to_string(), HashMap::new());
        }
        let Some(routes) = state.routes.get_mut(namespace) else {
            return;
        };
        for (name, backend) in listed {
            if !routes.contains_key(name) {
                routes.insert(name.to_string(), backend);
            }
        }
    }

    /// Removes the route if it still points at `backend`.
    pub(crate) fn evict(&self, function: &FunctionRef, backend: BackendIndex) {
        let mut state = self.write();
        if route(&state.routes, function) == Some(backend) {
            unroute(&mut state.routes, function);
        }
    }

    pub(crate) fn remove(&self, function: &FunctionRef) {
        unroute(&mut self.write().routes, function);
    }

    pub(crate) fn listed(&self, backend: BackendIndex) -> bool {
        self.read().listed.get(backend).copied().unwrap_or(false)
    }

    pub(crate) fn len(&self) -> usize {
        self.read().routes.values().map(HashMap::len).sum()
    }

    /// Every route (for diagnostics and tests), sorted.
    pub(crate) fn routes(&self) -> Vec<(FunctionRef, BackendIndex)> {
        let mut routes = flatten(&self.read().routes);
        routes.sort();
        routes
    }

    /// True when no rebuild ran during the last `min_interval`.
    pub(crate) fn rebuild_due(&self, min_interval: Duration) -> bool {
        self.read()
            .last_rebuild
            .is_none_or(|at| at.elapsed() >= min_interval)
    }

    pub(crate) fn rebuild_lock(&self) -> &tokio::sync::Mutex<()> {
        &self.rebuild
    }

    /// Replaces the table with what the listings say. A backend whose listing failed keeps
    /// its previous routes; a function listed by several backends goes to [`choose`]'s pick.
    pub(crate) fn apply(&self, listings: Vec<Listing>) -> Applied {
        let mut applied = Applied::default();
        let mut found: HashMap<FunctionRef, Vec<(BackendIndex, Option<String>)>> = HashMap::new();
        let mut ok = vec![false; self.names.len()];
        for (backend, listing) in listings.into_iter().enumerate() {
            match listing {
                Ok(functions) => {
                    ok[backend] = true;
                    for (function, annotation) in functions {
                        found
                            .entry(function)
                            .or_default()
                            .push((backend, annotation));
                    }
                }
                Err(error) => applied.failed.push((backend, error)),
            }
        }
        let mut state = self.write();
        let mut routes = Routes::new();
        for (function, backend) in flatten(&state.routes) {
            if !ok.get(backend).copied().unwrap_or(false) {
                routes
                    .entry(function.namespace)
                    .or_default()
                    .insert(function.name, backend);
            }
        }
        for (function, candidates) in found {
            let previous = route(&state.routes, &function);
            let chosen = choose(&candidates, previous, &self.names, self.default);
            if candidates.len() > 1 {
                applied.duplicates.push((function.clone(), chosen));
            }
            let FunctionRef { name, namespace } = function;
            routes.entry(namespace).or_default().insert(name, chosen);
        }
        for (backend, listed) in ok.iter().enumerate() {
            if *listed {
                state.listed[backend] = true;
            }
        }
        state.routes = routes;
        state.last_rebuild = Some(Instant::now());
        applied.routes = state.routes.values().map(HashMap::len).sum();
        applied
    }
}

fn route(routes: &Routes, function: &FunctionRef) -> Option<BackendIndex> {
    routes
        .get(&function.namespace)?
        .get(&function.name)
        .copied()
}

fn unroute(routes: &mut Routes, function: &FunctionRef) {
    if let Some(names) = routes.get_mut(&function.namespace) {
        names.remove(&function.name);
        if names.is_empty() {
            routes.remove(&function.namespace);
        }
    }
}

fn flatten(routes: &Routes) -> Vec<(FunctionRef, BackendIndex)> {
    routes
        .iter()
        .flat_map(|(namespace, names)| {
            names.iter().map(|(name, backend)| {
                (FunctionRef::new(name.clone(), namespace.clone()), *backend)
            })
        })
        .collect()
}

/// The owner among backends that all hold a function: the one its annotation routes to, else
/// the current route, else the first. (Two copies exist only while a move is in flight, or when
/// a move could not remove the old copy.)
pub(crate) fn choose(
    candidates: &[(BackendIndex, Option<String>)],
    previous: Option<BackendIndex>,
    names: &[String],
    default: BackendIndex,
) -> BackendIndex {
    let routed = |annotation: &Option<String>| -> Option<BackendIndex> {
        match annotation.as_deref().map(str::trim) {
            None | Some("") => Some(default),
            Some(value) => names.iter().position(|n| n.eq_ignore_ascii_case(value)),
        }
    };
    if let Some((backend, _)) = candidates.iter().find(|(b, a)| routed(a) == Some(*b)) {
        return *backend;
    }
    if let Some(previous) = previous.filter(|p| candidates.iter().any(|(b, _)| b == p)) {
        return previous;
    }
    candidates.first().map(|(b, _)| *b).unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["local".into(), "remote".into()]
    }

    fn f(name: &str) -> FunctionRef {
        FunctionRef::new(name, "openfaas-fn")
    }

    #[test]
    fn duplicates_go_where_the_annotation_says() {
        let both = |a: Option<&str>| vec![(0, a.map(String::from)), (1, a.map(String::from))];
        assert_eq!(choose(&both(Some("remote")), Some(0), &names(), 0), 1);
        assert_eq!(choose(&both(Some("LOCAL")), Some(1), &names(), 0), 0);
        assert_eq!(
            choose(&both(None), Some(1), &names(), 0),
            0,
            "no annotation: default"
        );
        // An annotation naming neither holder: keep the current route, else the first.
        assert_eq!(choose(&both(Some("gone")), Some(1), &names(), 0), 1);
        assert_eq!(choose(&both(Some("gone")), None, &names(), 0), 0);
    }

    #[test]
    fn a_failed_listing_keeps_that_backends_routes() {
        let table = RoutingTable::new(names(), 0);
        table.insert(f("a"), 0);
        table.insert(f("b"), 1);
        table.insert(f("stale"), 0);
        let unavailable = ProviderError::Unavailable {
            backend: "remote".into(),
            reason: "down".into(),
        };
        let applied = table.apply(vec![
            Ok(vec![(f("a"), None), (f("c"), None)]),
            Err(unavailable),
        ]);
        assert_eq!(applied.failed.len(), 1);
        assert_eq!(
            table.routes(),
            vec![(f("a"), 0), (f("b"), 1), (f("c"), 0)],
            "stale dropped, b kept from the failed backend, c added"
        );
        assert!(table.listed(0) && !table.listed(1));
        assert!(!table.rebuild_due(Duration::from_secs(60)));
        assert!(table.rebuild_due(Duration::ZERO));
    }

    #[test]
    fn evict_only_removes_a_route_that_still_points_there() {
        let table = RoutingTable::new(names(), 0);
        table.insert(f("a"), 1);
        table.evict(&f("a"), 0);
        assert_eq!(table.get(&f("a")), Some(1));
        table.evict(&f("a"), 1);
        assert_eq!(table.get(&f("a")), None);
        table.insert(f("a"), 0);
        table.learn("openfaas-fn", [("a", 1)]);
        assert_eq!(table.get(&f("a")), Some(0));
        table.remove(&f("a"));
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn learning_a_list_keeps_known_routes() {
        let table = RoutingTable::new(names(), 0);
        table.insert(f("a"), 1);
        table.learn("openfaas-fn", [("a", 0), ("b", 0), ("c", 1)]);
        table.learn("other", [("a", 1)]);
        assert_eq!(
            table.routes(),
            vec![
                (f("a"), 1),
                (FunctionRef::new("a", "other"), 1),
                (f("b"), 0),
                (f("c"), 1),
            ]
        );
        assert_eq!(table.len(), 4);
    }
}
