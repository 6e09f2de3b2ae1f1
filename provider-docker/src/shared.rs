//! [`Inner`]: what every clone of a `DockerProvider` shares (the engine, the routes, the
//! per-function locks). Its operations live by concern, each module adding to `impl Inner`:
//! `lifecycle` (create, start, replace, remove replicas), `readiness` (health and routes),
//! `invoke`, `warm` (the warm pool).

use faas_provider::FunctionRef;
use faas_provider::sync::{KeyedGuard, KeyedLocks};

use crate::engine::Engine;
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
}

impl Inner {
    /// Waits for `function`'s lock.
    pub(crate) async fn lock(&self, function: &FunctionRef) -> KeyedGuard<'_, FunctionRef> {
        self.locks.lock(function.clone()).await
    }
}
