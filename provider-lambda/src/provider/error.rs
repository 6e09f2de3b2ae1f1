//! AWS errors → [`ProviderError`], by the service's error code (the same for AWS, moto and
//! LocalStack): not found → `NotFound`, already exists → `AlreadyExists`, invalid parameters →
//! `InvalidRequest` with AWS's message, throttling → `Throttled`, payload limits →
//! `PayloadTooLarge`, cannot connect / timed out / service error → `Unavailable`, the rest →
//! `Backend` (500, detail logged only).

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use faas_provider::error::ResourceKind;
use faas_provider::{BoxError, ProviderError};

/// The name this provider reports in `/system/info` and in errors.
pub const PROVIDER_NAME: &str = "faas-lambda";

/// What a call was about, for `NotFound`/`AlreadyExists`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject<'a> {
    /// A function, `name.namespace`.
    Function(&'a str),
    /// A secret, by its OpenFaaS name.
    Secret(&'a str),
}

/// Maps an SDK error about `subject`.
pub(crate) fn from_sdk<E, R>(error: SdkError<E, R>, subject: Subject<'_>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let (kind, name) = match subject {
        Subject::Function(name) => (ResourceKind::Function, name),
        Subject::Secret(name) => (ResourceKind::Secret, name),
    };
    match &error {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            let message = service.err().message().unwrap_or("no message").to_string();
            match code {
                "ResourceNotFoundException" => ProviderError::not_found(kind, name),
                "ResourceExistsException" => ProviderError::already_exists(kind, name),
                "ResourceConflictException" if message.contains("already exist") => {
                    ProviderError::already_exists(kind, name)
                }
                "ResourceConflictException" | "ResourceNotReadyException" => {
                    ProviderError::NotReady {
                        name: name.to_string(),
                    }
                }
                "InvalidParameterValueException"
                | "InvalidParameterException"
                | "InvalidRequestException"
                | "InvalidRequestContentException"
                | "ValidationException"
                | "CodeStorageExceededException"
                | "CodeVerificationFailedException"
                | "InvalidCodeSignatureException"
                | "InvalidZipFileException"
                | "PolicyLengthExceededException"
                | "MalformedPolicyDocumentException" => {
                    ProviderError::invalid(format!("Lambda refused {name}: {code}: {message}"))
                }
                "RequestTooLargeException" => {
                    ProviderError::PayloadTooLarge(format!("{name}: {message}"))
                }
                "TooManyRequestsException" | "ThrottlingException" | "Throttling" => {
                    ProviderError::Throttled(format!("{name}: {message}"))
                }
                "ServiceException" | "InternalServiceError" | "ServiceUnavailableException" => {
                    unavailable(format!("{code}: {message}"))
                }
                _ => backend(error),
            }
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            unavailable(faas_provider::error::chain(&error))
        }
        _ => backend(error),
    }
}

/// `Unavailable` for AWS (cannot connect, timed out, service failure).
pub(crate) fn unavailable(reason: impl Into<String>) -> ProviderError {
    ProviderError::Unavailable {
        backend: "lambda".to_string(),
        reason: reason.into(),
    }
}

/// `Backend` (500) for anything else.
pub(crate) fn backend(error: impl Into<BoxError>) -> ProviderError {
    ProviderError::backend(PROVIDER_NAME, error)
}
