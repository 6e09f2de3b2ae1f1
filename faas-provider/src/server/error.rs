//! The only place where a [`ProviderError`] becomes an HTTP status code.
//!
//! Error bodies are plain text with a trailing newline, as Go's `http.Error` writes them.
//! 5xx bodies say what failed without internal detail; the cause is logged here, once.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use crate::headers::{INTERNAL_HEADER, INVOKE_ERROR_HEADER, NOT_FOUND, NOT_READY};
use crate::{FunctionRef, ProviderError};

/// The status code for an error on a `/system/*` route.
pub fn status_of(error: &ProviderError) -> StatusCode {
    match error {
        ProviderError::NotFound { .. } => StatusCode::NOT_FOUND,
        ProviderError::AlreadyExists { .. } => StatusCode::CONFLICT,
        ProviderError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
        ProviderError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ProviderError::Unsupported { .. } => StatusCode::NOT_IMPLEMENTED,
        ProviderError::NotReady { .. } | ProviderError::Unavailable { .. } => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ProviderError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        ProviderError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
        ProviderError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
        // A remote refused *our* credentials: the caller's are not at fault.
        ProviderError::Unauthorized(_) => StatusCode::BAD_GATEWAY,
        ProviderError::Unreachable { .. } | ProviderError::Backend { .. } => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// The message sent to the caller: the error's text for 4xx and the informative 5xx kinds,
/// a generic line for backend failures (whose detail goes to the log only).
fn public_message(error: &ProviderError) -> String {
    match error {
        ProviderError::Backend { provider, .. } => format!("{provider}: internal error"),
        ProviderError::Unreachable { name, .. } => format!("Can't reach service for: {name}."),
        ProviderError::Unauthorized(_) => {
            "a backend provider refused the configured credentials".to_string()
        }
        other => other.to_string(),
    }
}

/// A plain-text error response, Go `http.Error` style.
pub(crate) fn text_response(status: StatusCode, message: &str) -> Response {
    let mut response = (status, format!("{}\n", message.trim_end())).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn log(status: StatusCode, error: &ProviderError) {
    if status.is_server_error() {
        tracing::error!(status = status.as_u16(), error = %error, source = ?std::error::Error::source(error), "request failed");
    } else {
        tracing::debug!(status = status.as_u16(), error = %error, "request rejected");
    }
}

impl IntoResponse for ProviderError {
    fn into_response(self) -> Response {
        let status = status_of(&self);
        log(status, &self);
        text_response(status, &public_message(&self))
    }
}

/// The response for an error while invoking `function` (`/function/...`): unknown or unready
/// functions are 503 `No endpoints available for: <name>.` as the Go SDK proxy answers, told
/// apart by [`INVOKE_ERROR_HEADER`]; every proxy-made response carries
/// `X-OpenFaaS-Internal: proxy`.
pub(crate) fn invoke_error(function: &FunctionRef, error: ProviderError) -> Response {
    let (status, message, reason) = match &error {
        ProviderError::NotFound { .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            no_endpoints(function),
            Some(NOT_FOUND),
        ),
        ProviderError::NotReady { .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            no_endpoints(function),
            Some(NOT_READY),
        ),
        other => (status_of(other), public_message(other), None),
    };
    log(status, &error);
    let mut response = text_response(status, &message);
    let headers = response.headers_mut();
    headers.insert(INTERNAL_HEADER, HeaderValue::from_static("proxy"));
    if let Some(reason) = reason {
        headers.insert(INVOKE_ERROR_HEADER, HeaderValue::from_static(reason));
    }
    response
}

fn no_endpoints(function: &FunctionRef) -> String {
    format!("No endpoints available for: {}.", function.name)
}
