//! What can go wrong converting events and payloads.

/// Why an event or a payload could not be converted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The payload is not JSON at all.
    #[error("the function's payload is not JSON: {0}")]
    NotJson(serde_json::Error),
    /// A JSON object with `statusCode` whose fields do not fit the response shape.
    #[error("invalid API Gateway v2 response: {0}")]
    InvalidResponse(String),
    /// The event's method is missing or invalid.
    #[error("invalid HTTP method {0:?} in the event")]
    InvalidMethod(String),
    /// The event's path/query do not form a request target.
    #[error("invalid request target {0:?} in the event")]
    InvalidUri(String),
    /// A header name or value is not valid HTTP.
    #[error("invalid header {0:?}")]
    InvalidHeader(String),
    /// `isBase64Encoded` is true but the body is not base64.
    #[error("the body is marked base64 but does not decode: {0}")]
    InvalidBase64(base64::DecodeError),
}
