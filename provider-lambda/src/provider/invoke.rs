//! Invocation: an HTTP request becomes an API Gateway v2 event (the same conversion the shim
//! reverses, [`lambda_shim::event`]), the function's payload becomes the HTTP response.
//!
//! Where the payload goes is an [`Invoker`]: Lambda's `Invoke` API ([`AwsInvoker`]) or the
//! local emulators of local mode (`crate::local`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use bytes::Bytes;
use faas_provider::{Body, ProviderError, Result};
use http::{HeaderValue, Response, StatusCode, header};
use lambda_shim::event::{event_from_request, response_from_payload};

use super::error::{Subject, from_sdk};

/// Lambda's synchronous payload limit (request and response), bytes: 6 MiB. (The Runtime API
/// emulators accept 100 bytes more; the provider holds callers to Lambda's documented limit.)
pub const MAX_PAYLOAD: usize = 6 * 1024 * 1024;

/// Header carrying Lambda's function error type on the error responses this provider builds.
pub const FUNCTION_ERROR_HEADER: &str = "x-amz-function-error";

/// The `errorType` of a failed middleware hook in the shim (`SLSMIDDLEWARES`): answered 502,
/// as the watchdog answers the same failure, so a function behaves alike on every backend.
pub use lambda_shim::runtime::MIDDLEWARE_FAILED;

/// A function's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoked {
    /// The payload.
    pub payload: Bytes,
    /// `X-Amz-Function-Error` when the function failed (the payload is then an error object).
    pub function_error: Option<String>,
}

/// How a function's code runs locally (local mode): what the provider hands an [`Invoker`]
/// after each successful deploy or update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed<'a> {
    /// The Lambda function name.
    pub lambda_name: &'a str,
    /// The zip just uploaded.
    pub zip: &'a Path,
    /// `CodeSha256` as Lambda reports it (base64 SHA-256 of the zip).
    pub code_sha256: &'a str,
    /// The function's timeout.
    pub timeout: Duration,
    /// Memory, MB.
    pub memory_mb: u32,
    /// The environment Lambda holds.
    pub env: &'a BTreeMap<String, String>,
}

/// Where invocation payloads go.
#[async_trait]
pub trait Invoker: Send + Sync + 'static {
    /// Invokes `lambda_name` with `payload`. `function` (`name.namespace`) names errors.
    /// `Throttled` means the function's concurrency is exhausted (the provider tells a
    /// reservation of 0 — scaled to zero — apart from a busy function).
    async fn invoke(&self, lambda_name: &str, function: &str, payload: Bytes) -> Result<Invoked>;

    /// The function's code or configuration changed (local mode starts its emulator).
    async fn deployed(&self, _deployed: Deployed<'_>) -> Result<()> {
        Ok(())
    }

    /// The function is gone.
    async fn removed(&self, _lambda_name: &str) {}

    /// The function's reserved concurrency changed (`None` = no reservation).
    async fn scaled(&self, _lambda_name: &str, _reserved: Option<u32>) {}

    /// The function's `com.openfaas.scale.warm` count, after each deploy, update and scale:
    /// local mode keeps that many initialised execution environments while the function is at
    /// zero (Lambda itself has no such knob).
    async fn keep_warm(&self, _lambda_name: &str, _standbys: u32) {}
}

/// Lambda's own `Invoke` API (synchronous, `RequestResponse`).
#[derive(Debug, Clone)]
pub struct AwsInvoker {
    client: aws_sdk_lambda::Client,
}

impl AwsInvoker {
    /// An invoker over `client` (configure its retries: a retried invoke may run twice).
    pub fn new(client: aws_sdk_lambda::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl Invoker for AwsInvoker {
    async fn invoke(&self, lambda_name: &str, function: &str, payload: Bytes) -> Result<Invoked> {
        let output = self
            .client
            .invoke()
            .function_name(lambda_name)
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| from_sdk(e, Subject::Function(function)))?;
        Ok(Invoked {
            payload: output
                .payload
                .map(|b| Bytes::from(b.into_inner()))
                .unwrap_or_default(),
            function_error: output.function_error,
        })
    }
}

/// Reads the request (at most [`MAX_PAYLOAD`] bytes of body) and encodes its event.
pub async fn request_payload(request: http::Request<Body>) -> Result<(Bytes, bool)> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_PAYLOAD).await.map_err(|e| {
        ProviderError::PayloadTooLarge(format!(
            "the request body is over Lambda's {MAX_PAYLOAD} bytes (or could not be read: {e})"
        ))
    })?;
    let request_id = uuid::Uuid::new_v4().to_string();
    let event = event_from_request(&parts, &body, &request_id);
    let payload = serde_json::to_vec(&event)
        .map_err(|e| ProviderError::backend(super::error::PROVIDER_NAME, e))?;
    if payload.len() > MAX_PAYLOAD {
        return Err(ProviderError::PayloadTooLarge(format!(
            "the request's event is {} bytes; Lambda accepts at most {MAX_PAYLOAD}",
            payload.len()
        )));
    }
    Ok((Bytes::from(payload), parts.method == http::Method::HEAD))
}

/// The HTTP response for a function's answer: the API Gateway v2 response it returned, or
/// 500 (504 for a timeout, 502 for a failed middleware) with the error message when it
/// failed, or 502 when its answer is not an HTTP response.
pub fn response(invoked: Invoked, head: bool) -> Response<Body> {
    let mut response = match &invoked.function_error {
        Some(kind) => function_error(kind, &invoked.payload),
        None => match response_from_payload(&invoked.payload) {
            Ok(response) => response.map(Body::from),
            Err(e) => text(
                StatusCode::BAD_GATEWAY,
                &format!("the function's answer is not an HTTP response: {e}"),
            ),
        },
    };
    // The body is re-framed here: lengths the function declared do not apply.
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response.headers_mut().remove(header::TRANSFER_ENCODING);
    if head {
        *response.body_mut() = Body::empty();
    }
    response
}

/// The error object a function's failure carries: `{"errorType","errorMessage"}`.
#[derive(Debug, serde::Deserialize)]
struct ErrorObject {
    #[serde(rename = "errorType", default)]
    error_type: String,
    #[serde(rename = "errorMessage", default)]
    error_message: String,
}

fn function_error(kind: &str, payload: &[u8]) -> Response<Body> {
    let (error_type, message) = match serde_json::from_slice::<ErrorObject>(payload) {
        Ok(e) => (e.error_type, e.error_message),
        Err(_) => (String::new(), String::from_utf8_lossy(payload).into_owned()),
    };
    let status = if error_type == MIDDLEWARE_FAILED {
        StatusCode::BAD_GATEWAY
    } else if error_type.contains("Timeout") || message.contains("timed out") {
        StatusCode::GATEWAY_TIMEOUT
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    let line = match (error_type.is_empty(), message.is_empty()) {
        (false, false) => format!("{error_type}: {message}"),
        (false, true) => error_type,
        (true, false) => message,
        (true, true) => "the function failed".to_string(),
    };
    let mut response = text(status, &line);
    if let Ok(value) = HeaderValue::from_str(kind) {
        response.headers_mut().insert(FUNCTION_ERROR_HEADER, value);
    }
    response
}

fn text(status: StatusCode, message: &str) -> Response<Body> {
    let mut response = Response::new(Body::from(format!("{}\n", message.trim_end())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    async fn parts(response: Response<Body>) -> (StatusCode, http::HeaderMap, Bytes) {
        let (parts, body) = response.into_parts();
        (
            parts.status,
            parts.headers,
            body.collect().await.unwrap().to_bytes(),
        )
    }

    #[tokio::test]
    async fn http_responses_map_back() {
        let payload = br#"{"statusCode":201,"headers":{"x-a":"1","content-type":"text/plain","content-length":"999"},"cookies":["a=1","b=2"],"body":"aGk=","isBase64Encoded":true}"#;
        let invoked = Invoked {
            payload: Bytes::from_static(payload),
            function_error: None,
        };
        let (status, headers, body) = parts(response(invoked, false)).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(headers["x-a"], "1");
        assert!(!headers.contains_key("content-length"));
        let cookies: Vec<_> = headers.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert_eq!(body, "hi");
    }

    #[tokio::test]
    async fn function_errors_are_5xx_with_the_message() {
        let invoked = Invoked {
            payload: Bytes::from_static(
                br#"{"errorType":"Runtime.ExitError","errorMessage":"exit status 1"}"#,
            ),
            function_error: Some("Unhandled".into()),
        };
        let (status, headers, body) = parts(response(invoked, false)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(headers[FUNCTION_ERROR_HEADER], "Unhandled");
        assert_eq!(body, "Runtime.ExitError: exit status 1\n");
        let timeout = Invoked {
            payload: Bytes::from_static(br#"{"errorType":"Sandbox.Timeout","errorMessage":"Task timed out after 3.00 seconds"}"#),
            function_error: Some("Unhandled".into()),
        };
        assert_eq!(
            parts(response(timeout, false)).await.0,
            StatusCode::GATEWAY_TIMEOUT
        );
        let middleware = Invoked {
            payload: Bytes::from_static(
                br#"{"errorType":"Middleware.Failed","errorMessage":"middleware hmac (before) exited with 1: hmac: signature mismatch"}"#,
            ),
            function_error: Some("Unhandled".into()),
        };
        let (status, _, body) = parts(response(middleware, false)).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert_eq!(
            body,
            "Middleware.Failed: middleware hmac (before) exited with 1: hmac: signature mismatch\n"
        );
        let garbage = Invoked {
            payload: Bytes::from_static(b"not json"),
            function_error: None,
        };
        assert_eq!(
            parts(response(garbage, false)).await.0,
            StatusCode::BAD_GATEWAY
        );
    }

    #[tokio::test]
    async fn requests_become_events_and_big_ones_are_refused() {
        let request = http::Request::builder()
            .method("POST")
            .uri("/a/b?x=1")
            .header("content-type", "text/plain")
            .body(Body::from("hello"))
            .unwrap();
        let (payload, head) = request_payload(request).await.unwrap();
        assert!(!head);
        let event: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(event["rawPath"], "/a/b");
        assert_eq!(event["rawQueryString"], "x=1");
        assert_eq!(event["requestContext"]["http"]["method"], "POST");
        assert_eq!(event["body"], "hello");

        let big = http::Request::builder()
            .method("POST")
            .uri("/")
            .body(Body::from(vec![b'x'; MAX_PAYLOAD + 1]))
            .unwrap();
        assert!(matches!(
            request_payload(big).await,
            Err(ProviderError::PayloadTooLarge(_))
        ));
        // Binary bodies grow by a third in base64: the event is what is limited.
        let binary = http::Request::builder()
            .method("POST")
            .uri("/")
            .header("content-type", "application/octet-stream")
            .body(Body::from(vec![0u8; 5 * 1024 * 1024]))
            .unwrap();
        assert!(matches!(
            request_payload(binary).await,
            Err(ProviderError::PayloadTooLarge(_))
        ));
    }
}
