//! The invocation path: owner lookup, the call to the owner's provider bounded by its
//! invocation deadline, metrics, and dropping a stale route. Every `/function/...` request
//! through the federation goes through `FederatedProvider::invoke_on_owner`, so whatever must
//! happen before an invocation reaches a backend (e.g. waiting for a function scaled to zero
//! to get a replica) goes here, between the lookup and the call.

use std::time::Instant;

use faas_provider::{Body, FunctionRef, InvokeStart, ProviderError, Result};

use super::federated::FederatedProvider;

impl FederatedProvider {
    /// Invokes `function` on its owner, until the owner's invocation deadline
    /// (`upstream_timeout`, or the backend's `invoke_timeout`) counted from the request's
    /// arrival at the server ([`InvokeStart`]; from now when called directly, e.g. by the async
    /// worker). Past it: `Timeout` (504) naming the function, the backend and the bound.
    pub(super) async fn invoke_on_owner(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        let arrived = request
            .extensions()
            .get::<InvokeStart>()
            .map_or_else(Instant::now, |start| start.0);
        let owner = self.resolve(function).await?;
        let backend = &self.backends[owner];
        let bound = backend.invoke_timeout();
        let deadline = tokio::time::Instant::from_std(arrived) + bound.limit;
        let started = Instant::now();
        let call = backend.provider().invoke(function, request);
        let result = match tokio::time::timeout_at(deadline, call).await {
            Ok(result) => result,
            Err(_) => Err(ProviderError::Timeout(format!(
                "function {function} on backend {} did not answer within {bound}",
                backend.name()
            ))),
        };
        self.observe(backend, "invoke", &result, started);
        if matches!(&result, Err(e) if e.is_not_found()) {
            self.table.evict(function, owner);
        }
        result
    }
}
