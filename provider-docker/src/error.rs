//! Engine errors → [`ProviderError`]: 404 → `NotFound`, 409 → `AlreadyExists`, 400 →
//! `InvalidRequest`, cannot connect → `Unavailable`, anything else → `Backend`.

use bollard::errors::Error as EngineError;
use faas_provider::ProviderError;
use faas_provider::error::ResourceKind;

/// The name this provider reports in `/system/info` and in errors.
pub const PROVIDER_NAME: &str = "faas-docker";

/// What an engine call was about, to name it in `NotFound`/`AlreadyExists`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject<'a> {
    /// A function `name.namespace`.
    Function(&'a str),
    /// A container, by name or id (reported as the function it belongs to when known).
    Container(&'a str),
}

/// True when the engine could not be reached at all (socket missing, refused, timed out).
pub(crate) fn is_connection_error(error: &EngineError) -> bool {
    matches!(
        error,
        EngineError::IOError { .. }
            | EngineError::HyperLegacyError { .. }
            | EngineError::HttpClientError { .. }
            | EngineError::SocketNotFoundError(_)
            | EngineError::RequestTimeoutError
            | EngineError::HyperResponseError { .. }
    )
}

/// The engine's HTTP status, when it answered with an error.
pub(crate) fn status(error: &EngineError) -> Option<u16> {
    match error {
        EngineError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// Maps an engine error about `subject` into the provider's error.
pub(crate) fn from_engine(error: EngineError, subject: Subject<'_>) -> ProviderError {
    let name = match subject {
        Subject::Function(name) | Subject::Container(name) => name.to_string(),
    };
    match &error {
        EngineError::DockerResponseServerError {
            status_code: 404, ..
        } => ProviderError::NotFound {
            kind: ResourceKind::Function,
            name,
        },
        EngineError::DockerResponseServerError {
            status_code: 409, ..
        } => ProviderError::AlreadyExists {
            kind: ResourceKind::Function,
            name,
        },
        EngineError::DockerResponseServerError {
            status_code: 400,
            message,
        } => ProviderError::invalid(format!("the Docker Engine refused {name}: {message}")),
        e if is_connection_error(e) => unavailable(e),
        _ => ProviderError::backend(PROVIDER_NAME, error),
    }
}

/// `Unavailable` for an engine that cannot be reached.
pub(crate) fn unavailable(error: &EngineError) -> ProviderError {
    ProviderError::Unavailable {
        backend: "docker".to_string(),
        reason: error.to_string(),
    }
}

/// `Backend` for a local failure of the provider (I/O on its state directory...).
pub(crate) fn internal(error: impl Into<faas_provider::BoxError>) -> ProviderError {
    ProviderError::backend(PROVIDER_NAME, error)
}

/// `.on(subject)` on engine results.
pub(crate) trait EngineResultExt<T> {
    /// Maps the error with [`from_engine`].
    fn on(self, subject: Subject<'_>) -> Result<T, ProviderError>;
}

impl<T> EngineResultExt<T> for Result<T, EngineError> {
    fn on(self, subject: Subject<'_>) -> Result<T, ProviderError> {
        self.map_err(|e| from_engine(e, subject))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(status_code: u16) -> EngineError {
        EngineError::DockerResponseServerError {
            status_code,
            message: "engine says no".into(),
        }
    }

    #[test]
    fn statuses_map_to_semantic_errors() {
        let subject = Subject::Function("echo.openfaas-fn");
        assert!(matches!(
            from_engine(server(404), subject),
            ProviderError::NotFound { ref name, .. } if name == "echo.openfaas-fn"
        ));
        assert!(matches!(
            from_engine(server(409), subject),
            ProviderError::AlreadyExists { .. }
        ));
        match from_engine(server(400), subject) {
            ProviderError::InvalidRequest(message) => assert!(message.contains("engine says no")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            from_engine(server(500), subject),
            ProviderError::Backend { .. }
        ));
        assert!(matches!(
            from_engine(EngineError::RequestTimeoutError, subject),
            ProviderError::Unavailable { .. }
        ));
        assert!(matches!(
            from_engine(
                EngineError::SocketNotFoundError("/nope.sock".into()),
                Subject::Container("c")
            ),
            ProviderError::Unavailable { .. }
        ));
    }
}
