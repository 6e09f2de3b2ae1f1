//! The answer to one invoke, and the function errors the emulator reports itself (timeouts,
//! runtime exits) in Lambda's `{"errorType", "errorMessage"}` form.

use std::time::Duration;

use bytes::Bytes;

/// `X-Amz-Executed-Version` (only `$LATEST` exists here).
pub const LATEST: &str = "$LATEST";

/// The answer to one invoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeResult {
    /// The result, or the error object when `function_error` is set.
    pub payload: Bytes,
    /// `X-Amz-Function-Error` (`Unhandled`) when the function failed.
    pub function_error: Option<String>,
    /// The Content-Type the runtime gave its result.
    pub content_type: Option<String>,
    /// `X-Amz-Executed-Version`.
    pub executed_version: String,
}

impl InvokeResult {
    pub(crate) fn success(payload: Bytes, content_type: Option<String>) -> Self {
        InvokeResult {
            payload,
            function_error: None,
            content_type,
            executed_version: LATEST.to_string(),
        }
    }

    pub(crate) fn error(error_type: &str, message: &str) -> Self {
        let body = serde_json::json!({"errorType": error_type, "errorMessage": message});
        Self::error_body(Bytes::from(body.to_string()))
    }

    pub(crate) fn error_body(payload: Bytes) -> Self {
        InvokeResult {
            payload,
            function_error: Some("Unhandled".to_string()),
            content_type: Some("application/json".to_string()),
            executed_version: LATEST.to_string(),
        }
    }
}

/// The runtime went away mid-invoke (`Runtime.ExitError`).
pub(crate) fn exit_error(request_id: &str, how: &str) -> InvokeResult {
    InvokeResult::error(
        "Runtime.ExitError",
        &format!("RequestId: {request_id} Error: Runtime exited with error: {how}"),
    )
}

/// The function ran past its timeout (`Sandbox.Timeout`).
pub(crate) fn timed_out(timeout: Duration) -> InvokeResult {
    InvokeResult::error(
        "Sandbox.Timeout",
        &format!("Task timed out after {:.2} seconds", timeout.as_secs_f64()),
    )
}

/// A function error reply: the runtime's body when it is there, else a synthesized object.
pub(crate) fn function_error(error_type: Option<String>, body: Bytes) -> InvokeResult {
    if body.iter().all(u8::is_ascii_whitespace) {
        InvokeResult::error(error_type.as_deref().unwrap_or("Unhandled"), "")
    } else {
        InvokeResult::error_body(body)
    }
}

/// `(errorType, errorMessage)` of an error body (the raw text when it is not the JSON form).
pub(crate) fn parse_error_body(body: &[u8]) -> (Option<String>, String) {
    let value: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        value
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    match field("errorMessage") {
        Some(message) => (field("errorType"), message),
        None => (
            field("errorType"),
            String::from_utf8_lossy(body).into_owned(),
        ),
    }
}
