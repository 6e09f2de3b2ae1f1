//! Invocations: a request goes to a ready replica (round robin), streaming both ways; a replica
//! that refuses connections is marked down.

use faas_provider::{Body, FunctionRef, ProviderError, Result};

use crate::routes::{Pick, TrackedBody};
use crate::shared::Inner;

impl Inner {
    pub(crate) async fn invoke(
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
