//! What every handler shares: the provider, the queue, the settings; resolving `FunctionName`
//! path segments and reading bodies without axum's own (non-Lambda) rejections.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use faas_provider::{FunctionRef, FunctionStatus, Provider};
use http::request::Parts;

use super::config::LambdaApiConfig;
use super::error::LambdaError;
use super::model::Render;
use super::names::{self, Target};
use super::sigv4::Keys;
use crate::queue::Queue;

/// The handlers' state: one `Arc`, so that the middleware's and handlers' copies of it cost
/// one reference count each per request.
#[derive(Clone)]
pub(crate) struct ApiState(Arc<Shared>);

/// What [`ApiState`] shares.
pub(crate) struct Shared {
    pub(crate) provider: Arc<dyn Provider>,
    pub(crate) queue: Arc<dyn Queue>,
    pub(crate) config: Arc<LambdaApiConfig>,
    /// The SigV4 keys (from `config.credentials`).
    pub(crate) keys: Arc<Keys>,
}

impl ApiState {
    pub(crate) fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for ApiState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// A function resolved from a `FunctionName` (or resource ARN).
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub(crate) function: FunctionRef,
    pub(crate) qualifier: Option<String>,
    /// Its Lambda name.
    pub(crate) name: String,
    /// Its ARN.
    pub(crate) arn: String,
}

impl Resolved {
    pub(crate) fn render(&self) -> Render<'_> {
        Render {
            name: &self.name,
            arn: &self.arn,
        }
    }
}

impl ApiState {
    pub(crate) fn default_namespace(&self) -> String {
        self.provider.capabilities().default_namespace
    }

    /// Resolves `FunctionName` (see [`names`]).
    pub(crate) fn resolve(&self, raw: &str) -> Result<Resolved, LambdaError> {
        let default_namespace = self.default_namespace();
        let Target {
            function,
            qualifier,
        } = names::parse(raw, &default_namespace)?;
        Ok(self.resolved(function, qualifier, &default_namespace))
    }

    fn resolved(
        &self,
        function: FunctionRef,
        qualifier: Option<String>,
        default_namespace: &str,
    ) -> Resolved {
        let name = names::lambda_name(&function, default_namespace);
        let arn = names::arn(&self.config.region, &self.config.account, &name);
        Resolved {
            function,
            qualifier,
            name,
            arn,
        }
    }

    /// The identity of a listed function.
    pub(crate) fn of_status(&self, status: &FunctionStatus, default_namespace: &str) -> Resolved {
        let namespace = if status.namespace.is_empty() {
            default_namespace.to_string()
        } else {
            status.namespace.clone()
        };
        self.resolved(
            FunctionRef::new(status.name.clone(), namespace),
            None,
            default_namespace,
        )
    }

    /// The function's status; 404 in Lambda's words when absent.
    pub(crate) async fn status(&self, target: &Resolved) -> Result<FunctionStatus, LambdaError> {
        self.provider
            .get(&target.function)
            .await
            .map_err(|e| LambdaError::from_provider(e, &target.arn))
    }
}

/// The `{name}` path segment (percent-decoded), resolved.
pub(crate) struct FunctionPath(pub(crate) Resolved);

impl FromRequestParts<ApiState> for FunctionPath {
    type Rejection = LambdaError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| LambdaError::invalid(format!("FunctionName: {e}")))?;
        let mut resolved = state.resolve(&raw)?;
        if let Some(qualifier) = query_param(parts, "Qualifier") {
            if resolved
                .qualifier
                .as_ref()
                .is_some_and(|given| *given != qualifier)
            {
                return Err(LambdaError::invalid(
                    "The derived qualifier from the function name does not match the specified \
                     qualifier.",
                ));
            }
            resolved.qualifier = Some(qualifier);
        }
        Ok(Self(resolved))
    }
}

/// The first value of a query parameter.
pub(crate) fn query_param(parts: &Parts, name: &str) -> Option<String> {
    query_params(parts, name).into_iter().next()
}

/// Every value of a query parameter.
pub(crate) fn query_params(parts: &Parts, name: &str) -> Vec<String> {
    form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .collect()
}

/// The whole body (already read, and bounded, by the API's guard).
pub(crate) struct Payload(pub(crate) Bytes);

impl Payload {
    /// From a request's body.
    pub(crate) async fn from_body(body: axum::body::Body) -> Result<Self, LambdaError> {
        axum::body::to_bytes(body, usize::MAX)
            .await
            .map(Payload)
            .map_err(|e| LambdaError::invalid_content(format!("reading the request body: {e}")))
    }
}

impl<S: Send + Sync> FromRequest<S> for Payload {
    type Rejection = LambdaError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        Self::from_body(request.into_body()).await
    }
}

/// The request id of this call (set by the guard).
#[derive(Debug, Clone)]
pub(crate) struct RequestId(pub(crate) String);
