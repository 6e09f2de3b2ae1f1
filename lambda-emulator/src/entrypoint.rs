//! The entrypoint of a Lambda zip imported as an OCI image (`faas-lambda-entrypoint`, put at
//! `/var/runtime/faas-lambda-entrypoint` by `lambda-package`'s importer): it serves the
//! function contract the OpenFaaS backends speak to a watchdog, and runs the zip's `bootstrap`
//! (from `/var/task`) against a Runtime API of its own, through the [`Emulator`].
//!
//! - `GET /_/health`: 200 (the process is up; the runtime starts on the first call, as a
//!   Lambda execution environment does).
//! - A request carrying [`INVOKE_HEADER`] (the federation's Lambda `Invoke` adds it) is an
//!   invocation: its body is the event, unchanged; the answer is the function's response,
//!   unchanged (200), or, for a function error, 500 with the error object and
//!   `X-Amz-Function-Error` (the federation turns any answer ≥ 500 into Lambda's
//!   `Unhandled`).
//! - Any other request is an HTTP call: it becomes an API Gateway v2 (payload 2.0) event, and the
//!   function's response is mapped back to HTTP as API Gateway does (a JSON object with
//!   `statusCode` is a response description; any other JSON is a 200 `application/json` body).
//!   A function error or an unusable response is a 502, as API Gateway answers.
//! - Concurrency: at most `max_inflight` invocations run at once (each in its own execution
//!   environment); further requests wait for a free one (they are not refused).
//!
//! Settings, from the environment (the names the watchdog reads): `port` (8080),
//! `max_inflight` (1, Lambda's one event per environment), `exec_timeout` (function timeout:
//! integer seconds or `30s`/`500ms`/`2m`; default 3 s, Lambda's). Every other variable of the
//! container is passed to the function, except the names Lambda reserves.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use tokio::sync::Semaphore;

use crate::emulator::Emulator;
use crate::error::EmulatorError;
use crate::runtime_api::MAX_PAYLOAD_BYTES;

/// The header marking a Lambda `Invoke` (the same name as `lambda_package::import::INVOKE_HEADER`).
pub const INVOKE_HEADER: &str = "x-faas-lambda-invoke";

/// Settings the entrypoint reads and does not pass to the function.
pub const ENTRYPOINT_VARIABLES: &[&str] = &[
    "port",
    "max_inflight",
    "exec_timeout",
    "read_timeout",
    "write_timeout",
    "PATH",
    "HOME",
    "HOSTNAME",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// The entrypoint's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrypointSettings {
    /// `port` (8080).
    pub port: u16,
    /// `max_inflight` (1).
    pub max_inflight: usize,
    /// `exec_timeout` (3 s).
    pub timeout: Duration,
    /// `_HANDLER`: the function's `Handler`, passed on to the bootstrap as Lambda does
    /// (`bootstrap`).
    pub handler: String,
}

/// Parses `30`, `30s`, `500ms`, `2m`, `1h`.
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let duration = match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n.checked_mul(60)?),
        "h" => Duration::from_secs(n.checked_mul(3600)?),
        _ => return None,
    };
    (!duration.is_zero()).then_some(duration)
}

impl EntrypointSettings {
    /// From `lookup` (the environment); a bad value is an error naming it.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let port = match lookup("port") {
            Some(text) => text
                .trim()
                .parse::<u16>()
                .map_err(|_| format!("port: {text:?} is not a port number"))?,
            None => 8080,
        };
        let max_inflight = match lookup("max_inflight") {
            Some(text) => match text.trim().parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => return Err(format!("max_inflight: {text:?} is not a number above zero")),
            },
            None => 1,
        };
        let timeout = match lookup("exec_timeout") {
            Some(text) => parse_duration(&text)
                .ok_or_else(|| format!("exec_timeout: {text:?} is not a positive duration"))?,
            None => Duration::from_secs(3),
        };
        let handler = lookup("_HANDLER")
            .map(|text| text.trim().to_string())
            .filter(|text| !text.is_empty())
            .unwrap_or_else(|| "bootstrap".to_string());
        Ok(Self {
            port,
            max_inflight,
            timeout,
            handler,
        })
    }
}

/// The function's own variables among `vars`: everything but the entrypoint's settings and
/// Lambda's reserved names.
pub fn function_env(vars: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    vars.into_iter()
        .filter(|(key, _)| {
            !ENTRYPOINT_VARIABLES.contains(&key.as_str())
                && !crate::config::RESERVED_VARIABLES.contains(&key.as_str())
                && !key.is_empty()
        })
        .collect()
}

#[derive(Clone)]
struct Entry {
    emulator: Arc<Emulator>,
    slots: Arc<Semaphore>,
}

/// The entrypoint's routes over `emulator` (whose `max_concurrency` should be
/// `max_inflight`).
pub fn router(emulator: Arc<Emulator>, max_inflight: usize) -> Router {
    let entry = Entry {
        emulator,
        slots: Arc::new(Semaphore::new(max_inflight)),
    };
    Router::new()
        .route("/_/health", get(|| async { "OK" }))
        .fallback(call)
        .with_state(entry)
}

fn plain(status: StatusCode, message: impl Into<String>) -> Response {
    (status, message.into()).into_response()
}

fn platform_error(error: &EmulatorError) -> Response {
    let status = match error {
        EmulatorError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        EmulatorError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        EmulatorError::Stopped => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_GATEWAY,
    };
    plain(status, error.to_string())
}

async fn call(State(entry): State<Entry>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_PAYLOAD_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is over {MAX_PAYLOAD_BYTES} bytes"),
            );
        }
    };
    let Ok(_slot) = entry.slots.acquire().await else {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "stopping");
    };
    if parts.headers.contains_key(INVOKE_HEADER) {
        invoke(&entry.emulator, body).await
    } else {
        http_call(&entry.emulator, &parts, &body).await
    }
}

/// A Lambda `Invoke`: the event and the response as they are.
async fn invoke(emulator: &Emulator, payload: Bytes) -> Response {
    let result = match emulator.invoke(payload).await {
        Ok(result) => result,
        Err(error) => return platform_error(&error),
    };
    let failed = result.function_error.is_some();
    let status = if failed {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    let mut response = Response::new(Body::from(result.payload));
    *response.status_mut() = status;
    let content_type = result
        .content_type
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
        .unwrap_or(HeaderValue::from_static("application/json"));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    if let Some(kind) = result
        .function_error
        .as_deref()
        .and_then(|k| HeaderValue::from_str(k).ok())
    {
        response.headers_mut().insert("x-amz-function-error", kind);
    }
    response
}

/// An HTTP call: an API Gateway v2 event in, an API Gateway response out.
async fn http_call(emulator: &Emulator, parts: &http::request::Parts, body: &[u8]) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let event = apigw_event::event_from_request(parts, body, &request_id);
    let payload = match serde_json::to_vec(&event) {
        Ok(payload) => Bytes::from(payload),
        Err(error) => return plain(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    };
    let result = match emulator.invoke(payload).await {
        Ok(result) => result,
        Err(error) => return platform_error(&error),
    };
    if let Some(kind) = &result.function_error {
        tracing_error(kind, &result.payload);
        return plain(StatusCode::BAD_GATEWAY, "Internal Server Error");
    }
    match apigw_event::response_from_payload(&result.payload) {
        Ok(response) => response.map(Body::from),
        Err(error) => {
            eprintln!("faas-lambda-entrypoint: the function's response is not usable: {error}");
            plain(StatusCode::BAD_GATEWAY, "Internal Server Error")
        }
    }
}

fn tracing_error(kind: &str, payload: &[u8]) {
    eprintln!(
        "faas-lambda-entrypoint: function error {kind}: {}",
        String::from_utf8_lossy(payload)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_from_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.to_string())
            }
        };
        let defaults = EntrypointSettings::from_lookup(env(&[])).unwrap();
        assert_eq!(
            defaults,
            EntrypointSettings {
                port: 8080,
                max_inflight: 1,
                timeout: Duration::from_secs(3),
                handler: "bootstrap".into(),
            }
        );
        let set = EntrypointSettings::from_lookup(env(&[
            ("port", "9001"),
            ("max_inflight", "4"),
            ("exec_timeout", "2m"),
            ("_HANDLER", "function.handler"),
        ]))
        .unwrap();
        assert_eq!(
            (
                set.port,
                set.max_inflight,
                set.timeout,
                set.handler.as_str()
            ),
            (9001, 4, Duration::from_secs(120), "function.handler")
        );
        for (pairs, needle) in [
            (&[("port", "x")][..], "port"),
            (&[("max_inflight", "0")][..], "max_inflight"),
            (&[("exec_timeout", "soon")][..], "exec_timeout"),
        ] {
            let error = EntrypointSettings::from_lookup(env(pairs)).unwrap_err();
            assert!(error.contains(needle), "{error}");
        }
    }

    #[test]
    fn only_the_functions_own_variables_pass() {
        let vars = [
            ("port", "8080"),
            ("GREETING", "hi"),
            ("AWS_REGION", "x"),
            ("exec_timeout", "3s"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        assert_eq!(
            function_env(vars),
            [("GREETING".to_string(), "hi".to_string())]
        );
    }
}
