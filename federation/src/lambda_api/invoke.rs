//! `Invoke` (`POST /2015-03-31/functions/{name}/invocations`):
//!
//! - `X-Amz-Invocation-Type: RequestResponse` (default): the payload is the body of a
//!   `POST /` to the function through [`faas_provider::Provider::invoke`]; its answer is the
//!   payload of a 200. A function answering ≥ 500 (or timing out, or answering more than the
//!   payload limit) is a function error: 200 with `X-Amz-Function-Error: Unhandled` and its body
//!   (or an error object) as the payload, as Lambda does.
//! - `Event`: 202 once the call is in the federation's async queue (the queue's worker runs it).
//! - `DryRun`: 204 when the function exists.
//! - `X-Amz-Log-Type: Tail`: `X-Amz-Log-Result` is the base64 of the last 4 KB of the
//!   function's log lines written during the call (between `START` and `END`/`REPORT` lines),
//!   when its backend has logs; without logs the header is left out.
//! - `X-Amz-Executed-Version: $LATEST`; any other `Qualifier` is `ResourceNotFoundException`.
//!
//! Every call carries `X-Faas-Lambda-Invoke: 1` (`lambda_package::import::INVOKE_HEADER`):
//! the entrypoint of an imported zip then hands the body to the handler as the event and its
//! response back unchanged, where a plain `/function/{name}` call becomes an API Gateway v2
//! event. Other functions ignore the header.
//!
//! Unlike Lambda, a payload that is not JSON is passed on as it is (OpenFaaS functions take
//! any bytes).

use std::time::Instant;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use chrono::Utc;
use faas_provider::{Body, LogRequest, ProviderError};
use futures::StreamExt;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::json;

use super::error::LambdaError;
use super::names::{self, LATEST};
use super::state::{ApiState, FunctionPath, Payload, RequestId, Resolved};
use crate::queue::{AsyncCall, Header, QueueError};

/// The header choosing the invocation type.
pub const INVOCATION_TYPE: &str = "x-amz-invocation-type";
/// The header asking for the log tail.
pub const LOG_TYPE: &str = "x-amz-log-type";
/// The function-error header.
pub const FUNCTION_ERROR: &str = "x-amz-function-error";
/// The log tail header.
pub const LOG_RESULT: &str = "x-amz-log-result";
/// The executed version header.
pub const EXECUTED_VERSION: &str = "x-amz-executed-version";
/// How much log a tail holds.
const TAIL_BYTES: usize = 4096;
/// How long reading a call's log lines may take.
const LOG_READ: std::time::Duration = std::time::Duration::from_secs(2);

/// `POST /2015-03-31/functions/{name}/invocations`.
pub(crate) async fn invoke(
    State(state): State<ApiState>,
    FunctionPath(target): FunctionPath,
    request: Request,
) -> Result<Response, LambdaError> {
    names::check_qualifier(target.qualifier.as_deref(), &target.arn)?;
    // The request's own headers and id (no copies); the body was read whole by the guard.
    let (mut parts, body) = request.into_parts();
    let headers = parts.headers;
    let request_id = parts
        .extensions
        .remove::<RequestId>()
        .map(|RequestId(id)| id)
        .unwrap_or_default();
    let Payload(payload) = Payload::from_body(body).await?;
    let invocation_type = headers
        .get(INVOCATION_TYPE)
        .map(|v| v.to_str().unwrap_or_default())
        .unwrap_or("RequestResponse");
    let tail = match headers
        .get(LOG_TYPE)
        .map(|v| v.to_str().unwrap_or_default())
    {
        None | Some("None") => false,
        Some("Tail") => true,
        Some(other) => {
            return Err(LambdaError::invalid(format!(
                "X-Amz-Log-Type must be None or Tail, not '{other}'"
            )));
        }
    };
    match invocation_type {
        "RequestResponse" => {
            request_response(&state, &target, &request_id, &headers, payload, tail).await
        }
        "Event" => event(&state, &target, &request_id, &headers, payload).await,
        "DryRun" => {
            state.status(&target).await?;
            Ok(with_version(StatusCode::NO_CONTENT.into_response()))
        }
        other => Err(LambdaError::invalid(format!(
            "X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, not '{other}'"
        ))),
    }
}

fn with_version(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(EXECUTED_VERSION, HeaderValue::from_static(LATEST));
    response
}

/// The request the function receives.
fn function_request(headers: &HeaderMap, payload: Bytes, request_id: &str) -> http::Request<Body> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .cloned()
        .unwrap_or(HeaderValue::from_static("application/json"));
    let mut request = http::Request::post("/")
        .body(Body::from(payload))
        .expect("a static request is valid");
    let out = request.headers_mut();
    out.insert(header::CONTENT_TYPE, content_type);
    if let Ok(id) = HeaderValue::from_str(request_id) {
        out.insert("x-amzn-requestid", id);
    }
    // Imported zips' entrypoint: this body is the event itself, not an HTTP call to wrap.
    out.insert(
        lambda_package::import::INVOKE_HEADER,
        HeaderValue::from_static("1"),
    );
    if let Some(context) = headers.get("x-amz-client-context") {
        out.insert("x-amz-client-context", context.clone());
    }
    request
}

/// A function error's answer: 200, `X-Amz-Function-Error: Unhandled`, `payload`.
fn function_error(payload: Bytes) -> Response {
    let mut response = (StatusCode::OK, payload).into_response();
    let headers = response.headers_mut();
    headers.insert(FUNCTION_ERROR, HeaderValue::from_static("Unhandled"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn error_object(error_type: &str, message: &str) -> Bytes {
    Bytes::from(json!({ "errorType": error_type, "errorMessage": message }).to_string())
}

async fn request_response(
    state: &ApiState,
    target: &Resolved,
    request_id: &str,
    headers: &HeaderMap,
    payload: Bytes,
    tail: bool,
) -> Result<Response, LambdaError> {
    let started_at = tail.then(Utc::now);
    let started = Instant::now();
    let request = function_request(headers, payload, request_id);
    let timeout = state.config.invoke_timeout;
    let call = state.provider.invoke(&target.function, request);
    let result = match tokio::time::timeout(timeout, call).await {
        Ok(result) => result,
        Err(_) => Err(ProviderError::Timeout(format!(
            "Task timed out after {:.2} seconds",
            timeout.as_secs_f64()
        ))),
    };
    let limit = state.config.max_payload_bytes;
    let mut response = match result {
        Ok(answer) => {
            let (parts, body) = answer.into_parts();
            let body = http_body_util::Limited::new(body, limit).collect().await;
            match body {
                Ok(collected) if parts.status.is_server_error() => {
                    function_error(collected.to_bytes())
                }
                Ok(collected) => {
                    let mut response = (StatusCode::OK, collected.to_bytes()).into_response();
                    let content_type = parts
                        .headers
                        .get(header::CONTENT_TYPE)
                        .cloned()
                        .unwrap_or(HeaderValue::from_static("application/json"));
                    response
                        .headers_mut()
                        .insert(header::CONTENT_TYPE, content_type);
                    response
                }
                Err(error) if error.is::<http_body_util::LengthLimitError>() => {
                    function_error(error_object(
                        "Function.ResponseSizeTooLarge",
                        &format!(
                            "Response payload size exceeded maximum allowed payload size ({limit} bytes)."
                        ),
                    ))
                }
                Err(error) => function_error(error_object(
                    "Runtime.ExitError",
                    &format!("the function's answer was cut short: {error}"),
                )),
            }
        }
        Err(ProviderError::Timeout(message)) => {
            function_error(error_object("Sandbox.Timedout", &message))
        }
        Err(ProviderError::Unreachable { source, .. }) => function_error(error_object(
            "Runtime.ExitError",
            &format!("the function could not be reached: {source}"),
        )),
        Err(ProviderError::NotReady { .. }) => {
            return Err(not_ready(state, target).await);
        }
        Err(error) => return Err(LambdaError::from_provider(error, &target.arn)),
    };
    if let Some(started_at) = started_at {
        let ended = started.elapsed();
        if let Some(log) = log_tail(state, target, request_id, started_at, ended).await {
            if let Ok(value) = HeaderValue::from_str(&log) {
                response.headers_mut().insert(LOG_RESULT, value);
            }
        }
    }
    Ok(with_version(response))
}

/// No ready replica: throttled when the function has 0 replicas (a reservation of 0), else
/// the function is still starting.
async fn not_ready(state: &ApiState, target: &Resolved) -> LambdaError {
    match state.provider.get(&target.function).await {
        Ok(status) if status.replicas == 0 => LambdaError::throttled(
            "Rate Exceeded.",
            "ReservedFunctionConcurrentInvocationLimitExceeded",
        ),
        Ok(_) => LambdaError::conflict(
            "The operation cannot be performed at this time. The function is currently in the \
             following state: Pending",
        ),
        Err(error) => LambdaError::from_provider(error, &target.arn),
    }
}

/// The base64 of the last 4 KB of the call's log, or `None` when the backend has no logs.
async fn log_tail(
    state: &ApiState,
    target: &Resolved,
    request_id: &str,
    started_at: chrono::DateTime<Utc>,
    elapsed: std::time::Duration,
) -> Option<String> {
    let mut query = LogRequest::new(target.function.clone());
    query.since = Some(started_at);
    let stream = match state.provider.logs(query).await {
        Ok(stream) => stream,
        Err(error) => {
            if !error.is_unsupported() {
                tracing::debug!(%error, function = %target.function, "Lambda API: no log tail");
            }
            return None;
        }
    };
    let lines: Vec<String> = tokio::time::timeout(
        LOG_READ,
        stream.map(|message| message.text).collect::<Vec<_>>(),
    )
    .await
    .unwrap_or_default();
    let millis = elapsed.as_secs_f64() * 1000.0;
    let mut text = format!("START RequestId: {request_id} Version: {LATEST}\n");
    for line in lines {
        text.push_str(&line);
        text.push('\n');
    }
    text.push_str(&format!("END RequestId: {request_id}\n"));
    text.push_str(&format!(
        "REPORT RequestId: {request_id}\tDuration: {millis:.2} ms\n"
    ));
    let bytes = text.as_bytes();
    let mut start = bytes.len().saturating_sub(TAIL_BYTES);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    Some(STANDARD.encode(&bytes[start..]))
}

async fn event(
    state: &ApiState,
    target: &Resolved,
    request_id: &str,
    headers: &HeaderMap,
    payload: Bytes,
) -> Result<Response, LambdaError> {
    let limit = state.config.max_event_payload_bytes;
    if payload.len() > limit {
        return Err(LambdaError::too_large(format!(
            "Request must be smaller than {limit} bytes for the InvokeAsync operation"
        )));
    }
    state.status(target).await?;
    let request = function_request(headers, Bytes::new(), request_id);
    let call = AsyncCall {
        id: request_id.to_string(),
        name: target.function.name.clone(),
        namespace: target.function.namespace.clone(),
        method: "POST".to_string(),
        path: "/".to_string(),
        query: None,
        headers: request
            .headers()
            .iter()
            .map(|(name, value)| Header {
                name: name.as_str().to_string(),
                value: value.as_bytes().to_vec(),
            })
            .collect(),
        body: payload.to_vec(),
        callback_url: None,
        accepted_ms: AsyncCall::now_ms(),
    };
    state
        .queue
        .enqueue(&call)
        .await
        .map_err(|error| match error {
            QueueError::Full { .. } => {
                LambdaError::throttled(error.to_string(), "CallerRateLimitExceeded")
            }
            other => LambdaError::service(format!("the async queue refused the call: {other}")),
        })?;
    tracing::debug!(function = %target.function, call_id = request_id, "Lambda API: event queued");
    Ok(with_version(StatusCode::ACCEPTED.into_response()))
}
