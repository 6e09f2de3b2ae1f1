//! How the runtime reports failures: [`ErrorReport`] (the body of the Runtime API's `/error` and
//! `/init/error`) and [`RuntimeError`] (why the loop stopped). Re-exported by
//! [`crate::runtime`].

use http::StatusCode;
use serde::Serialize;

/// The variable holding the Runtime API endpoint.
pub const RUNTIME_API_ENV: &str = "AWS_LAMBDA_RUNTIME_API";

/// How the runtime stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// `AWS_LAMBDA_RUNTIME_API` is unset.
    #[error("{RUNTIME_API_ENV} is not set: the bootstrap must be started by a Lambda runtime")]
    MissingEndpoint,
    /// `AWS_LAMBDA_RUNTIME_API` does not parse.
    #[error("invalid {RUNTIME_API_ENV} {value:?}: {reason}")]
    InvalidEndpoint {
        /// The value.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The Runtime API could not be reached or broke the connection.
    #[error("Runtime API request {what} failed: {message}")]
    Http {
        /// Which call.
        what: &'static str,
        /// The client error.
        message: String,
    },
    /// The Runtime API answered an unexpected status.
    #[error("the Runtime API answered {status} to {what}: {body}")]
    Status {
        /// Which call.
        what: &'static str,
        /// The status.
        status: StatusCode,
        /// Its body (truncated).
        body: String,
    },
    /// The `/next` answer lacks the request id.
    #[error("the /next response has no Lambda-Runtime-Aws-Request-Id")]
    NoRequestId,
    /// Initialisation failed (already reported to `/runtime/init/error`).
    #[error("init failed ({error_type}): {message}")]
    Init {
        /// The reported `errorType`.
        error_type: String,
        /// The reported message.
        message: String,
    },
    /// http mode: the function's server exited.
    #[error("the function's process exited: {0}")]
    ProcessExited(String),
}

impl RuntimeError {
    /// Whether the runtime must exit (a 500 from the Runtime API, or no Runtime API at all).
    pub fn is_fatal(&self) -> bool {
        match self {
            RuntimeError::Status { status, .. } => *status == StatusCode::INTERNAL_SERVER_ERROR,
            _ => true,
        }
    }
}

/// The body of `/error` and `/init/error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorReport {
    /// e.g. `Runtime.ExitError`.
    #[serde(rename = "errorType")]
    pub error_type: String,
    /// Human-readable cause.
    #[serde(rename = "errorMessage")]
    pub error_message: String,
    /// Always empty (there is no stack to show).
    #[serde(rename = "stackTrace")]
    pub stack_trace: Vec<String>,
}

impl ErrorReport {
    /// A report with no stack trace.
    pub fn new(error_type: impl Into<String>, error_message: impl Into<String>) -> Self {
        ErrorReport {
            error_type: error_type.into(),
            error_message: error_message.into(),
            stack_trace: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_report_wire_names() {
        let json = serde_json::to_value(ErrorReport::new("Sandbox.Timeout", "late")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"errorType":"Sandbox.Timeout","errorMessage":"late","stackTrace":[]})
        );
    }
}
