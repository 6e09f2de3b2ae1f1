//! Every invocation gets a call id and one access log line.
//!
//! The call id is the caller's `X-Call-Id` when it sent a usable one, else a new UUID; the
//! function receives it in the same header, the caller gets it back in the response, and the
//! access log line (at [`AccessLog`]'s level) carries it with the method, path, status and
//! time to the response head.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;

use crate::AccessLog;

/// The call id header (the OpenFaaS gateway's name).
pub const CALL_ID_HEADER: &str = "x-call-id";

/// The longest caller-sent call id that is kept (longer ones are replaced).
const MAX_CALL_ID_LEN: usize = 128;

/// The caller's call id when usable (visible ASCII, at most [`MAX_CALL_ID_LEN`]), else a new one.
fn call_id(request: &Request) -> HeaderValue {
    request
        .headers()
        .get(CALL_ID_HEADER)
        .filter(|value| {
            let bytes = value.as_bytes();
            !bytes.is_empty()
                && bytes.len() <= MAX_CALL_ID_LEN
                && bytes.iter().all(u8::is_ascii_graphic)
        })
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::try_from(uuid::Uuid::new_v4().to_string())
                .expect("a UUID is a header value")
        })
}

/// The middleware: call id in, call id out, one access log line.
pub async fn track(State(level): State<AccessLog>, mut request: Request, next: Next) -> Response {
    let id = call_id(&request);
    request.headers_mut().insert(CALL_ID_HEADER, id.clone());
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let started = Instant::now();
    let mut response = next.run(request).await;
    let status = response.status().as_u16();
    response.headers_mut().insert(CALL_ID_HEADER, id.clone());
    let call_id = id.to_str().unwrap_or_default();
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    macro_rules! access {
        ($level:expr) => {
            tracing::event!(
                target: "faas_provider::access",
                $level,
                call_id,
                %method,
                path = path.as_str(),
                status,
                duration_ms,
                "invocation"
            )
        };
    }
    match level {
        AccessLog::Off => {}
        AccessLog::Error => access!(tracing::Level::ERROR),
        AccessLog::Warn => access!(tracing::Level::WARN),
        AccessLog::Info => access!(tracing::Level::INFO),
        AccessLog::Debug => access!(tracing::Level::DEBUG),
        AccessLog::Trace => access!(tracing::Level::TRACE),
    }
    response
}
