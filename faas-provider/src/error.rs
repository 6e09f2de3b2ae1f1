//! The one error type every provider returns. HTTP status codes are decided in one place only:
//! `server::error` (and read back by `client` for remote providers).

use std::fmt;

/// A boxed error source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Result with [`ProviderError`].
pub type Result<T, E = ProviderError> = std::result::Result<T, E>;

/// What a [`ProviderError::NotFound`] or [`ProviderError::AlreadyExists`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResourceKind {
    /// A function (`name.namespace`).
    Function,
    /// A secret.
    Secret,
    /// A namespace.
    Namespace,
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Function => "function",
            Self::Secret => "secret",
            Self::Namespace => "namespace",
        })
    }
}

/// What went wrong, in terms every backend can map its native errors into.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The function, secret or namespace does not exist (404; 503 on invoke).
    #[error("{kind} {name} not found")]
    NotFound {
        /// What kind of resource.
        kind: ResourceKind,
        /// Its name (`name.namespace` for functions).
        name: String,
    },
    /// It exists already (409).
    #[error("{kind} {name} already exists")]
    AlreadyExists {
        /// What kind of resource.
        kind: ResourceKind,
        /// Its name.
        name: String,
    },
    /// The request is malformed or invalid (400), with a message for the caller.
    #[error("{0}")]
    InvalidRequest(String),
    /// The request is well-formed but cannot be processed (422), e.g. a bad log query.
    #[error("{0}")]
    Unprocessable(String),
    /// The provider does not implement this operation (501).
    #[error("{operation} is not supported by {provider}")]
    Unsupported {
        /// The operation, e.g. `secrets`.
        operation: &'static str,
        /// The provider's name.
        provider: String,
    },
    /// The function exists but has no ready replica (503 on invoke).
    #[error("function {name} has no ready replicas")]
    NotReady {
        /// `name.namespace`.
        name: String,
    },
    /// A backend (engine, remote provider, cloud API) cannot be reached or is down (503).
    #[error("backend {backend} is unavailable: {reason}")]
    Unavailable {
        /// The backend's name.
        backend: String,
        /// Why, for logs and for the caller.
        reason: String,
    },
    /// The function's replica could not be reached while invoking (500 `Can't reach service`).
    #[error("can't reach service for: {name}: {source}")]
    Unreachable {
        /// `name.namespace`.
        name: String,
        /// The transport error.
        #[source]
        source: BoxError,
    },
    /// The request or response body is over a limit (413).
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    /// The backend throttled the request (429).
    #[error("too many requests: {0}")]
    Throttled(String),
    /// The operation did not finish in time (504).
    #[error("timed out: {0}")]
    Timeout(String),
    /// Credentials were refused by a remote provider (401 when relayed).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Any other backend failure (500; the detail is logged, not sent).
    #[error("{provider} backend error: {source}")]
    Backend {
        /// The provider's name.
        provider: String,
        /// The native error.
        #[source]
        source: BoxError,
    },
}

impl ProviderError {
    /// 400 with `message`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidRequest(message.into())
    }

    /// 404 for the function `name.namespace`.
    pub fn function_not_found(function: &crate::FunctionRef) -> Self {
        Self::NotFound {
            kind: ResourceKind::Function,
            name: function.to_string(),
        }
    }

    /// 404 for a resource named `name` (bare names for secrets and namespaces).
    pub fn not_found(kind: ResourceKind, name: impl Into<String>) -> Self {
        Self::NotFound {
            kind,
            name: name.into(),
        }
    }

    /// 409 for a resource named `name`.
    pub fn already_exists(kind: ResourceKind, name: impl Into<String>) -> Self {
        Self::AlreadyExists {
            kind,
            name: name.into(),
        }
    }

    /// 409 for the function `name.namespace`.
    pub fn function_exists(function: &crate::FunctionRef) -> Self {
        Self::AlreadyExists {
            kind: ResourceKind::Function,
            name: function.to_string(),
        }
    }

    /// 501 for `operation` on `provider`.
    pub fn unsupported(operation: &'static str, provider: impl Into<String>) -> Self {
        Self::Unsupported {
            operation,
            provider: provider.into(),
        }
    }

    /// 500 wrapping a native error of `provider`.
    pub fn backend(provider: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Backend {
            provider: provider.into(),
            source: source.into(),
        }
    }

    /// True for [`ProviderError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// True for [`ProviderError::Unsupported`].
    pub fn is_unsupported(&self) -> bool {
        matches!(self, Self::Unsupported { .. })
    }
}

/// An error and its sources on one line, `outer: cause: root cause`, for logs and messages
/// (many errors print only their own level: a transport's "error sending request"). A source
/// whose text the line already contains (an error that prints its source itself) is not repeated.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{text}")]
    struct Layer {
        text: &'static str,
        #[source]
        source: Option<Box<Layer>>,
    }

    fn layers(texts: &[&'static str]) -> Layer {
        texts
            .iter()
            .rev()
            .fold(None, |source, text| {
                Some(Layer {
                    text,
                    source: source.map(Box::new),
                })
            })
            .expect("at least one layer")
    }

    #[test]
    fn chains_every_source() {
        assert_eq!(chain(&layers(&["outer"])), "outer");
        assert_eq!(
            chain(&layers(&["client error", "connect", "refused"])),
            "client error: connect: refused"
        );
    }

    #[test]
    fn a_source_already_printed_is_not_repeated() {
        assert_eq!(
            chain(&layers(&["reading config: denied", "denied", "root"])),
            "reading config: denied: root"
        );
    }
}
