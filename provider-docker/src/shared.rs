//! [`Inner`]: what every clone of a `DockerProvider` shares (the engine, the routes, the
//! per-function locks). Its operations live by concern, each module adding to `impl Inner`:
//! `lifecycle` (create, start, replace, remove replicas), `readiness` (health and routes),
//! `invoke`, `warm` (the warm pool).

use faas_provider::FunctionRef;
use faas_provider::sync::{KeyedGuard, KeyedLocks};

use crate::engine::Engine;
use crate::labels::FunctionView;
use crate::recent::RecentViews;
use crate::routes::Routes;

/// The provider's state, behind the `DockerProvider` handle.
pub(crate) struct Inner {
    pub(crate) engine: Engine,
    pub(crate) routes: Routes,
    /// One lock per function: mutations of a function are serialized (idle keys forgotten).
    pub(crate) locks: KeyedLocks<FunctionRef>,
    /// Held while a warm pool is filled: the provider-wide `warm_max` is counted and used
    /// under it.
    pub(crate) pool_lock: tokio::sync::Mutex<()>,
    /// The view a status read just listed, for the mutation that follows.
    pub(crate) recent: RecentViews,
}

/// A function's lock, held by a mutation: taking it and letting it go are changes of the
/// function ([`RecentViews::changed`]).
pub(crate) struct Mutation<'a> {
    _lock: KeyedGuard<'a, FunctionRef>,
    recent: &'a RecentViews,
    function: FunctionRef,
    /// The function as a status read listed it just before, nothing changed since.
    pub(crate) listed: Option<FunctionView>,
}

impl Drop for Mutation<'_> {
    fn drop(&mut self) {
        self.recent.changed(&self.function);
    }
}

impl Inner {
    /// Waits for `function`'s lock, for a mutation.
    pub(crate) async fn lock(&self, function: &FunctionRef) -> Mutation<'_> {
        let lock = self.locks.lock(function.clone()).await;
        let listed = self.recent.take(function);
        self.recent.changed(function);
        Mutation {
            _lock: lock,
            recent: &self.recent,
            function: function.clone(),
            listed,
        }
    }

    /// The function as the engine holds it, from the view a status read listed just before
    /// when there is one (`listed`).
    pub(crate) async fn view_of(
        &self,
        function: &FunctionRef,
        listed: Option<FunctionView>,
    ) -> faas_provider::Result<Option<FunctionView>> {
        match listed {
            Some(view) => Ok(Some(view)),
            None => self.engine.view(function).await,
        }
    }
}
