//! The Invoke front end: `POST /2015-03-31/functions/{name}/invocations` in Lambda's wire
//! format. Platform errors are restJson1 (status + `x-amzn-ErrorType` + `{"Type","message"}`);
//! function errors are 200 + `X-Amz-Function-Error: Unhandled` + the error object.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};

use crate::error::EmulatorError;
use crate::invoke::Shared;
use crate::invoke_result::LATEST;
use crate::runtime_api::MAX_PAYLOAD_BYTES;

/// Largest `Event` (asynchronous) invoke payload.
pub const MAX_ASYNC_PAYLOAD_BYTES: usize = 1024 * 1024;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/2015-03-31/functions/{name}/invocations", post(invoke))
        .fallback(|| async {
            rest_error(
                StatusCode::NOT_FOUND,
                "UnknownOperationException",
                "Unknown operation: only POST /2015-03-31/functions/{name}/invocations is served",
            )
        })
        .with_state(shared)
}

fn rest_error(status: StatusCode, code: &str, message: &str) -> Response {
    rest_error_with(status, code, message, serde_json::Map::new())
}

fn rest_error_with(
    status: StatusCode,
    code: &str,
    message: &str,
    extra: serde_json::Map<String, serde_json::Value>,
) -> Response {
    let mut body = serde_json::Map::new();
    let kind = if status.is_server_error() {
        "Service"
    } else {
        "User"
    };
    body.insert("Type".into(), kind.into());
    body.insert("message".into(), message.into());
    body.extend(extra);
    let mut response = (
        status,
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        serde_json::Value::Object(body).to_string(),
    )
        .into_response();
    if let Ok(code) = HeaderValue::from_str(code) {
        response.headers_mut().insert("x-amzn-ErrorType", code);
    }
    response
}

/// The error response for an emulator error.
pub(crate) fn error_response(error: &EmulatorError) -> Response {
    match error {
        EmulatorError::PayloadTooLarge { .. } => rest_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLargeException",
            &error.to_string(),
        ),
        EmulatorError::Throttled { .. } => {
            let mut extra = serde_json::Map::new();
            extra.insert(
                "Reason".into(),
                "ReservedFunctionConcurrentInvocationLimitExceeded".into(),
            );
            rest_error_with(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequestsException",
                "Rate Exceeded.",
                extra,
            )
        }
        EmulatorError::InitFailed {
            error_type,
            message,
        } => {
            let mut extra = serde_json::Map::new();
            extra.insert("errorType".into(), error_type.clone().into());
            extra.insert("errorMessage".into(), message.clone().into());
            rest_error_with(
                StatusCode::BAD_GATEWAY,
                "InvalidRuntimeException",
                &format!("The function's runtime failed to initialise: {error_type}: {message}"),
                extra,
            )
        }
        EmulatorError::Stopped => rest_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceException",
            "the emulator is stopping",
        ),
        other => rest_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            &other.to_string(),
        ),
    }
}

/// `name`, `name:qualifier`, `arn:aws:lambda:region:account:function:name[:qualifier]` or
/// `account:function:name[:qualifier]` → (name, qualifier).
fn parse_function_name(raw: &str) -> (String, Option<String>) {
    let parts: Vec<&str> = raw.split(':').collect();
    match parts.as_slice() {
        [name] => (name.to_string(), None),
        [name, qualifier] => (name.to_string(), Some(qualifier.to_string())),
        [.., "function", name] => (name.to_string(), None),
        [.., "function", name, qualifier] => (name.to_string(), Some(qualifier.to_string())),
        _ => (raw.to_string(), None),
    }
}

async fn invoke(
    State(shared): State<Arc<Shared>>,
    Path(raw_name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (name, qualifier) = parse_function_name(&raw_name);
    let qualifier = qualifier.or_else(|| query.get("Qualifier").cloned());
    let not_found = || {
        rest_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            &format!(
                "Function not found: arn:aws:lambda:{}:{}:function:{}{}",
                shared.cfg.region,
                shared.cfg.account_id,
                name,
                qualifier
                    .as_deref()
                    .map(|q| format!(":{q}"))
                    .unwrap_or_default()
            ),
        )
    };
    if name != shared.cfg.function_name {
        return not_found();
    }
    if qualifier.as_deref().is_some_and(|q| q != LATEST) {
        return not_found();
    }
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let invocation_type = header("x-amz-invocation-type").unwrap_or("RequestResponse");
    let limit = match invocation_type {
        "RequestResponse" | "DryRun" => MAX_PAYLOAD_BYTES,
        "Event" => MAX_ASYNC_PAYLOAD_BYTES,
        other => {
            return rest_error(
                StatusCode::BAD_REQUEST,
                "InvalidParameterValueException",
                &format!(
                    "X-Amz-Invocation-Type {other:?} must be RequestResponse, Event or DryRun"
                ),
            );
        }
    };
    let payload = match Limited::new(body, limit).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return rest_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLargeException",
                &format!(
                    "Request must be smaller than {limit} bytes for the InvokeFunction operation"
                ),
            );
        }
        Err(e) => {
            return rest_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContentException",
                &format!("cannot read the request body: {e}"),
            );
        }
    };
    if !payload.is_empty() && serde_json::from_slice::<serde::de::IgnoredAny>(&payload).is_err() {
        return rest_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContentException",
            "Could not parse request body into json: the payload must be JSON",
        );
    }
    let payload = if payload.is_empty() {
        Bytes::from_static(b"{}")
    } else {
        payload
    };
    let client_context = match header("x-amz-client-context") {
        None => None,
        Some(encoded) => match base64::engine::general_purpose::STANDARD.decode(encoded) {
            Ok(decoded) if serde_json::from_slice::<serde::de::IgnoredAny>(&decoded).is_ok() => {
                Some(String::from_utf8_lossy(&decoded).into_owned())
            }
            _ => {
                return rest_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestContentException",
                    "Client context must be a valid Base64-encoded JSON object.",
                );
            }
        },
    };
    match invocation_type {
        "DryRun" => StatusCode::NO_CONTENT.into_response(),
        "Event" => {
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                if let Err(e) = shared.invoke(payload, client_context).await {
                    eprintln!("faas-lambda-emulator: asynchronous invoke failed: {e}");
                }
            });
            StatusCode::ACCEPTED.into_response()
        }
        _ => match shared.invoke(payload, client_context).await {
            Ok(result) => {
                let mut response = Response::new(Body::from(result.payload));
                let headers = response.headers_mut();
                let content_type = result
                    .content_type
                    .as_deref()
                    .and_then(|ct| HeaderValue::from_str(ct).ok())
                    .unwrap_or_else(|| HeaderValue::from_static("application/json"));
                headers.insert(axum::http::header::CONTENT_TYPE, content_type);
                if let Ok(v) = HeaderValue::from_str(&result.executed_version) {
                    headers.insert("x-amz-executed-version", v);
                }
                if let Some(error) = result
                    .function_error
                    .as_deref()
                    .and_then(|e| HeaderValue::from_str(e).ok())
                {
                    headers.insert("x-amz-function-error", error);
                }
                response
            }
            Err(e) => error_response(&e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names() {
        assert_eq!(parse_function_name("fn"), ("fn".into(), None));
        assert_eq!(
            parse_function_name("fn:$LATEST"),
            ("fn".into(), Some("$LATEST".into()))
        );
        assert_eq!(
            parse_function_name("arn:aws:lambda:us-east-1:000000000000:function:fn"),
            ("fn".into(), None)
        );
        assert_eq!(
            parse_function_name("arn:aws:lambda:us-east-1:000000000000:function:fn:7"),
            ("fn".into(), Some("7".into()))
        );
        assert_eq!(
            parse_function_name("000000000000:function:fn"),
            ("fn".into(), None)
        );
    }
}
