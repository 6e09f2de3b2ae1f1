//! [`Inner`]: what every clone of a `DockerProvider` shares (the engine, the routes, the
//! per-function locks). Its operations live by concern, each module adding to `impl Inner`:
//! `lifecycle` (create, start, replace, remove replicas), `readiness` (health and routes),
//! `invoke`, `warm` (the warm pool).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use faas_provider::FunctionRef;

use crate::engine::Engine;
use crate::routes::Routes;

/// The provider's state, behind the `DockerProvider` handle.
pub(crate) struct Inner {
    pub(crate) engine: Engine,
    pub(crate) routes: Routes,
    /// One lock per function: mutations of a function are serialized.
    pub(crate) locks: Mutex<HashMap<FunctionRef, Arc<tokio::sync::Mutex<()>>>>,
    /// Held while a warm pool is filled: the provider-wide `warm_max` is counted and used
    /// under it.
    pub(crate) pool_lock: tokio::sync::Mutex<()>,
}

impl Inner {
    /// Waits for `function`'s lock (one per function, created on first use).
    pub(crate) async fn lock(&self, function: &FunctionRef) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = self
            .locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(function.clone())
            .or_default()
            .clone();
        lock.lock_owned().await
    }
}
