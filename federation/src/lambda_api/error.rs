//! Lambda's error shape: a status, the header `x-amzn-ErrorType: <Code>` and a JSON body
//! `{"Type":"User"|"Service","message":...}` (plus `Reason` for throttling), which AWS SDKs map
//! to their modelled exceptions. Every failure on the Lambda API's paths goes through here;
//! the OpenFaaS error map is never used on them.

use axum::response::{IntoResponse, Response};
use faas_provider::ProviderError;
use http::{HeaderValue, StatusCode};

/// The response header naming the exception.
pub const ERROR_TYPE_HEADER: &str = "x-amzn-errortype";

/// An error of the Lambda API, in Lambda's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaError {
    /// HTTP status.
    pub status: StatusCode,
    /// The exception's name, e.g. `ResourceNotFoundException`.
    pub code: &'static str,
    /// The human-readable message.
    pub message: String,
    /// `Reason` member (throttling only).
    pub reason: Option<&'static str>,
}

impl LambdaError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            reason: None,
        }
    }

    /// 404 `ResourceNotFoundException`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "ResourceNotFoundException", message)
    }

    /// 404 for the function with ARN `arn`, worded as Lambda does.
    pub fn function_not_found(arn: &str) -> Self {
        Self::not_found(format!("Function not found: {arn}"))
    }

    /// 409 `ResourceConflictException`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "ResourceConflictException", message)
    }

    /// 400 `InvalidParameterValueException`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            message,
        )
    }

    /// 400 `InvalidRequestContentException` (a body that is not JSON).
    pub fn invalid_content(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContentException",
            message,
        )
    }

    /// 413 `RequestTooLargeException`.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLargeException",
            message,
        )
    }

    /// 429 `TooManyRequestsException` with `reason`.
    pub fn throttled(message: impl Into<String>, reason: &'static str) -> Self {
        Self {
            reason: Some(reason),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequestsException",
                message,
            )
        }
    }

    /// 500 `ServiceException`.
    pub fn service(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            message,
        )
    }

    /// 404 `UnknownOperationException`: no Lambda operation has this method and path.
    pub fn unknown_operation(method: &http::Method, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            format!("Unknown operation {method} {path}"),
        )
    }

    /// 403 `MissingAuthenticationTokenException`: signatures are required and none was sent.
    pub fn missing_authentication() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        )
    }

    /// 400 `IncompleteSignatureException`: a malformed signature.
    pub fn incomplete_signature(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "IncompleteSignatureException",
            message,
        )
    }

    /// 403 `UnrecognizedClientException`: an unknown access key id.
    pub fn unrecognized_client() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    }

    /// 403 `InvalidSignatureException`.
    pub fn invalid_signature(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "InvalidSignatureException", message)
    }

    /// `User` for 4xx, `Service` for 5xx (Lambda's `Type` member).
    pub fn kind(&self) -> &'static str {
        if self.status.is_server_error() {
            "Service"
        } else {
            "User"
        }
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::json!({ "Type": self.kind(), "message": self.message });
        if let Some(reason) = self.reason {
            body["Reason"] = serde_json::Value::from(reason);
        }
        body
    }

    /// The error for a provider failure about the function with ARN `arn` (control-plane
    /// operations; invoke refines a few cases itself).
    pub fn from_provider(error: ProviderError, arn: &str) -> Self {
        match error {
            ProviderError::NotFound { .. } => Self::function_not_found(arn),
            ProviderError::AlreadyExists { .. } => {
                Self::conflict(format!("Function already exist: {arn}"))
            }
            ProviderError::InvalidRequest(message) | ProviderError::Unprocessable(message) => {
                Self::invalid(message)
            }
            ProviderError::PayloadTooLarge(message) => Self::too_large(message),
            ProviderError::Throttled(message) => {
                Self::throttled(message, "CallerRateLimitExceeded")
            }
            ProviderError::NotReady { .. } => Self::throttled(
                format!("Rate Exceeded: {arn} has no ready replica"),
                "ReservedFunctionConcurrentInvocationLimitExceeded",
            ),
            ProviderError::Unsupported { .. } => Self::invalid(error.to_string()),
            other => {
                tracing::warn!(error = %other, %arn, "Lambda API: backend failure");
                Self::service(other.to_string())
            }
        }
    }
}

impl std::fmt::Display for LambdaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for LambdaError {}

impl IntoResponse for LambdaError {
    fn into_response(self) -> Response {
        let body = self.body().to_string();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(ERROR_TYPE_HEADER, HeaderValue::from_static(self.code));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faas_provider::FunctionRef;
    use http_body_util::BodyExt;

    async fn parts(error: LambdaError) -> (StatusCode, String, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let code = response.headers()[ERROR_TYPE_HEADER]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(response.headers()["content-type"], "application/json");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, code, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn errors_have_lambdas_shape() {
        let (status, code, body) = parts(LambdaError::function_not_found("arn:x")).await;
        assert_eq!(status, 404);
        assert_eq!(code, "ResourceNotFoundException");
        assert_eq!(
            body,
            serde_json::json!({"Type":"User","message":"Function not found: arn:x"})
        );
        let (status, code, body) = parts(LambdaError::service("boom")).await;
        assert_eq!((status.as_u16(), code.as_str()), (500, "ServiceException"));
        assert_eq!(body["Type"], "Service");
        let (status, code, body) = parts(LambdaError::throttled("slow", "R")).await;
        assert_eq!(
            (status.as_u16(), code.as_str()),
            (429, "TooManyRequestsException")
        );
        assert_eq!(body["Reason"], "R");
    }

    #[test]
    fn provider_errors_map_to_lambda_exceptions() {
        let f = FunctionRef::new("a", "openfaas-fn");
        let cases = [
            (
                ProviderError::function_not_found(&f),
                404,
                "ResourceNotFoundException",
            ),
            (
                ProviderError::function_exists(&f),
                409,
                "ResourceConflictException",
            ),
            (
                ProviderError::invalid("x"),
                400,
                "InvalidParameterValueException",
            ),
            (
                ProviderError::PayloadTooLarge("x".into()),
                413,
                "RequestTooLargeException",
            ),
            (
                ProviderError::Throttled("x".into()),
                429,
                "TooManyRequestsException",
            ),
            (
                ProviderError::NotReady { name: "a".into() },
                429,
                "TooManyRequestsException",
            ),
            (ProviderError::backend("p", "boom"), 500, "ServiceException"),
            (
                ProviderError::Unavailable {
                    backend: "b".into(),
                    reason: "down".into(),
                },
                500,
                "ServiceException",
            ),
        ];
        for (error, status, code) in cases {
            let mapped = LambdaError::from_provider(error, "arn:f");
            assert_eq!((mapped.status.as_u16(), mapped.code), (status, code));
        }
    }
}
