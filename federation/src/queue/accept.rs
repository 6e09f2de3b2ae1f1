//! `POST /async-function/{name}[.namespace][/path]`: check, store, answer 202.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use faas_provider::types::name::{is_dns1123_label, validate_namespace};
use faas_provider::{FunctionRef, Provider, ProviderError};
use http::{HeaderValue, Method, StatusCode};

use crate::body::{BodyError, read_bounded};

use super::{AsyncCall, AsyncConfig, Queue, QueueError, QueueMetrics};

/// The call id header, kept when the caller sends one.
pub const CALL_ID_HEADER: &str = "x-call-id";
/// Where the result is POSTed.
pub const CALLBACK_HEADER: &str = "x-callback-url";

#[derive(Clone)]
struct AcceptState {
    provider: Arc<dyn Provider>,
    queue: Arc<dyn Queue>,
    config: Arc<AsyncConfig>,
    metrics: QueueMetrics,
}

/// The `/async-function/...` routes, to merge into the server's router.
pub fn routes(
    provider: Arc<dyn Provider>,
    queue: Arc<dyn Queue>,
    config: AsyncConfig,
    metrics: QueueMetrics,
) -> Router {
    let state = AcceptState {
        provider,
        queue,
        config: Arc::new(config),
        metrics,
    };
    Router::new()
        .route("/async-function/{*rest}", any(accept))
        .with_state(state)
}

/// The function and the path after it, from `/async-function/<qualified>[/<rest>]`.
fn split(path: &str, default_namespace: &str) -> Result<(FunctionRef, String), ProviderError> {
    let after = path.strip_prefix("/async-function/").unwrap_or("");
    let (qualified, rest) = match after.split_once('/') {
        Some((qualified, rest)) => (qualified, format!("/{rest}")),
        None => (after, "/".to_string()),
    };
    let function = FunctionRef::parse(qualified, default_namespace);
    if function.name.is_empty() {
        return Err(ProviderError::invalid(
            "provide a function name in the request path",
        ));
    }
    if !is_dns1123_label(&function.name) {
        return Err(ProviderError::invalid(format!(
            "invalid function name {:?}",
            function.name
        )));
    }
    validate_namespace(&function.namespace)?;
    Ok((function, rest))
}

async fn accept(State(state): State<AcceptState>, request: Request) -> Response {
    if request.method() != Method::POST {
        let mut response = (
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "async invocations are POST requests, not {}\n",
                request.method()
            ),
        )
            .into_response();
        response
            .headers_mut()
            .insert(http::header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    match store(&state, request).await {
        Ok(id) => {
            let mut response = StatusCode::ACCEPTED.into_response();
            if let Ok(value) = HeaderValue::from_str(&id) {
                response.headers_mut().insert(CALL_ID_HEADER, value);
            }
            response
        }
        Err(error) => error.into_response(),
    }
}

async fn store(state: &AcceptState, request: Request) -> Result<String, ProviderError> {
    let (mut parts, body) = request.into_parts();
    let default_namespace = state.provider.capabilities().default_namespace;
    let (function, path) = split(parts.uri.path(), &default_namespace)?;
    let limit = state.config.max_body_bytes;
    // Refused before anything is stored; the body is read only up to the limit.
    let too_large = || {
        ProviderError::PayloadTooLarge(format!(
            "an async request body is at most {limit} bytes (async_max_body_bytes)"
        ))
    };
    let body = read_bounded(&parts.headers, body, limit)
        .await
        .map_err(|error| match error {
            BodyError::TooLarge => too_large(),
            BodyError::Read(reason) => ProviderError::invalid(reason),
        })?;
    // 404 for a function no backend has (the provider's own NotFound message).
    state.provider.get(&function).await?;

    let id = parts
        .headers
        .get(CALL_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty())
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
    let callback_url = parts
        .headers
        .get(CALLBACK_HEADER)
        .map(|value| {
            value
                .to_str()
                .ok()
                .filter(|url| url.starts_with("http://") || url.starts_with("https://"))
                .map(str::to_string)
                .ok_or_else(|| {
                    ProviderError::invalid("X-Callback-Url must be an http:// or https:// URL")
                })
        })
        .transpose()?;
    faas_provider::headers::strip_hop_by_hop(&mut parts.headers);
    parts.headers.insert(
        CALL_ID_HEADER,
        HeaderValue::from_str(&id)
            .map_err(|_| ProviderError::invalid("X-Call-Id is not a valid header value"))?,
    );
    let call = AsyncCall {
        id: id.clone(),
        name: function.name.clone(),
        namespace: function.namespace.clone(),
        method: parts.method.to_string(),
        path,
        query: parts.uri.query().map(str::to_string),
        headers: AsyncCall::store_headers(&parts.headers),
        body: body.to_vec(),
        callback_url,
        accepted_ms: AsyncCall::now_ms(),
    };
    state
        .queue
        .enqueue(&call)
        .await
        .map_err(|error| match error {
            QueueError::Full { .. } => ProviderError::Throttled(error.to_string()),
            other => ProviderError::Unavailable {
                backend: format!("async queue ({})", state.queue.kind()),
                reason: other.to_string(),
            },
        })?;
    state
        .metrics
        .call(&Arc::from(function.to_string()), "queued");
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_names_the_function_and_what_follows() {
        let (function, rest) = split("/async-function/echo", "openfaas-fn").unwrap();
        assert_eq!(function, FunctionRef::new("echo", "openfaas-fn"));
        assert_eq!(rest, "/");
        let (function, rest) = split("/async-function/echo.team/a/b", "openfaas-fn").unwrap();
        assert_eq!(function, FunctionRef::new("echo", "team"));
        assert_eq!(rest, "/a/b");
        assert!(split("/async-function/", "openfaas-fn").is_err());
        assert!(split("/async-function/Bad_Name", "openfaas-fn").is_err());
    }
}
