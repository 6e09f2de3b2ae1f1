//! The invocation path: owner lookup, the call to the owner's provider, metrics, and dropping a
//! stale route. Every `/function/...` request through the federation goes through
//! `FederatedProvider::invoke_on_owner`, so whatever must happen before an invocation reaches
//! a backend (e.g. waiting for a function scaled to zero to get a replica) goes here, between
//! the lookup and the call.

use std::time::Instant;

use faas_provider::{Body, FunctionRef, Result};

use super::federated::FederatedProvider;

impl FederatedProvider {
    /// Invokes `function` on its owner. Not bounded by the backend's system-call timeout:
    /// bounded by the server's invoke timeout and, remotely, the backend's invoke timeout.
    pub(super) async fn invoke_on_owner(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        let owner = self.resolve(function).await?;
        let backend = &self.backends[owner];
        let started = Instant::now();
        let result = backend.provider().invoke(function, request).await;
        self.observe(backend, "invoke", &result, started);
        if matches!(&result, Err(e) if e.is_not_found()) {
            self.table.evict(function, owner);
        }
        result
    }
}
