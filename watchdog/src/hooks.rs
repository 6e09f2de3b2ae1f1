//! The middleware pipeline around one call (`SLSMIDDLEWARES`, see the `middleware` crate): the
//! request, buffered, is presented to the `before` hooks as an API Gateway v2 HTTP event (the
//! JSON the Lambda provider builds and the Lambda shim receives, `apigw-event`), the event they
//! leave becomes the request the function gets; the function's response, buffered, is
//! presented to the `after` hooks as an API Gateway v2 response and mapped back to HTTP.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use apigw_event::{
    HttpEvent, event_from_request, event_response_from, request_from_event, response_from_payload,
    sync_content_length,
};
use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use middleware::{HookError, Pipeline};
use tokio::time::Instant;

use crate::Body;
use crate::body::{internal, text};
use crate::cgi::content_length;
use crate::config::{ConfigError, WatchdogConfig};
use crate::fork::until;
use crate::log::log;

/// The header whose value becomes the event's `requestContext.requestId` (the OpenFaaS
/// gateway's call id); without it an id is made up.
pub(crate) const CALL_ID_HEADER: &str = "x-call-id";

/// The configured middlewares (not checked yet), or `None` when there are none.
pub(crate) fn pipeline(config: &WatchdogConfig) -> Result<Option<Pipeline>, ConfigError> {
    if config.middlewares.is_empty() {
        return Ok(None);
    }
    let pipeline = Pipeline::in_dir(&config.middleware_dir, &config.middlewares)?
        .with_env(config.process_env.clone())
        .with_working_dir(config.working_dir.clone());
    Ok(Some(pipeline))
}

/// A failed hook: 502 with its name and the start of its stderr.
fn hook_failed(error: &HookError) -> Response<Body> {
    log!("{error}");
    internal(StatusCode::BAD_GATEWAY, error.to_string())
}

/// The hooks' output does not map back to HTTP: 502 naming the hook that printed it last.
fn unusable(name: &str, hook: &str, what: &str, error: impl std::fmt::Display) -> Response<Body> {
    let message = format!("middleware {name:?} ({hook}) printed {what}: {error}");
    log!("{message}");
    internal(StatusCode::BAD_GATEWAY, message)
}

fn request_id(parts: &Parts) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    if let Some(id) = parts
        .headers
        .get(CALL_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
    {
        return id.to_string();
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{nanos:x}-{:x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Buffer the request (at most `middleware_max_body_bytes`: 413 past it), run the `before`
/// hooks on its event, and build the request the function gets from the event they leave.
/// `Err` is the response to send instead (the function does not run).
pub(crate) async fn before(
    config: &WatchdogConfig,
    pipeline: &Pipeline,
    parts: Parts,
    body: Body,
    deadline: Option<Instant>,
) -> Result<Request<Body>, Response<Body>> {
    let limit = config.middleware_max_body_bytes;
    let too_large = || {
        text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body exceeds middleware_max_body_bytes ({limit} bytes): middlewares get it whole"
            ),
        )
    };
    if usize::try_from(content_length(&parts)).is_ok_and(|n| n > limit) {
        return Err(too_large());
    }
    let collected =
        tokio::time::timeout(config.read_timeout, Limited::new(body, limit).collect()).await;
    let body = match collected {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<LengthLimitError>() => return Err(too_large()),
        Ok(Err(e)) => {
            let message = format!("failed to read request body: {e}");
            return Err(text(StatusCode::BAD_REQUEST, message));
        }
        Err(_) => {
            let message = format!(
                "request body not received within read_timeout {:?}",
                config.read_timeout
            );
            return Err(text(StatusCode::REQUEST_TIMEOUT, message));
        }
    };
    let event = event_from_request(&parts, &body, &request_id(&parts));
    let json = serde_json::to_vec(&event).expect("an event serializes");
    let out = pipeline
        .before(Bytes::from(json), deadline)
        .await
        .map_err(|e| hook_failed(&e))?;
    let last = pipeline
        .middlewares()
        .last()
        .map_or("", |m| m.name.as_str());
    let what = "an event that is not an API Gateway v2 HTTP event";
    let event: HttpEvent =
        serde_json::from_slice(&out).map_err(|e| unusable(last, "before", what, e))?;
    let (mut head, body) = request_from_event(event)
        .map_err(|e| unusable(last, "before", what, e))?
        .into_parts();
    sync_content_length(&mut head.headers, body.len());
    head.version = parts.version;
    head.extensions = parts.extensions;
    Ok(Request::from_parts(head, Body::from(body)))
}

/// Buffer the function's response (at most `middleware_max_body_bytes`: 502 past it), run the
/// `after` hooks on its API Gateway v2 response, and answer what they leave.
pub(crate) async fn after(
    config: &WatchdogConfig,
    pipeline: &Pipeline,
    response: Response<Body>,
    deadline: Option<Instant>,
) -> Response<Body> {
    let limit = config.middleware_max_body_bytes;
    let (parts, body) = response.into_parts();
    let body = match until(deadline, Limited::new(body, limit).collect()).await {
        None => {
            return text(
                StatusCode::GATEWAY_TIMEOUT,
                "the function's response did not end within the call's deadline",
            );
        }
        Some(Ok(collected)) => collected.to_bytes(),
        Some(Err(e)) if e.is::<LengthLimitError>() => {
            let message = format!(
                "the function's response exceeds middleware_max_body_bytes ({limit} bytes)"
            );
            log!("{message}");
            return internal(StatusCode::BAD_GATEWAY, message);
        }
        Some(Err(e)) => {
            let message = format!("the function's output broke off: {e}");
            log!("{message}");
            return text(StatusCode::INTERNAL_SERVER_ERROR, message);
        }
    };
    let event = event_response_from(parts, &body);
    let json = serde_json::to_vec(&event).expect("a response serializes");
    let out = match pipeline.after(Bytes::from(json), deadline).await {
        Ok(out) => out,
        Err(e) => return hook_failed(&e),
    };
    let last = pipeline
        .middlewares()
        .first()
        .map_or("", |m| m.name.as_str());
    match response_from_payload(&out) {
        Ok(response) => {
            let (mut head, body) = response.into_parts();
            sync_content_length(&mut head.headers, body.len());
            Response::from_parts(head, Body::from(body))
        }
        Err(e) => unusable(
            last,
            "after",
            "a response that is not an API Gateway v2 response",
            e,
        ),
    }
}
