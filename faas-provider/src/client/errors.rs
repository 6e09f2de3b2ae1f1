//! Remote status codes back into [`ProviderError`]: the inverse of `server::error`.

use std::fmt;

use http::StatusCode;

use crate::error::{ProviderError, ResourceKind};

/// The body a Go (gorilla/mux or net/http) router sends for a path it has no route for.
const GO_ROUTE_NOT_FOUND: &str = "404 page not found";
/// Longest remote message kept in an error.
const MAX_MESSAGE_CHARS: usize = 512;

/// What a 404 or 409 is about.
#[derive(Debug, Clone)]
pub(super) enum Target {
    /// Nothing in particular (info, health, namespace list).
    None,
    /// A function, `name.namespace`.
    Function(String),
    /// A secret, by name.
    Secret(String),
    /// A namespace, by name.
    Namespace(String),
}

impl Target {
    fn kind(&self) -> Option<(ResourceKind, &str)> {
        match self {
            Self::None => None,
            Self::Function(name) => Some((ResourceKind::Function, name)),
            Self::Secret(name) => Some((ResourceKind::Secret, name)),
            Self::Namespace(name) => Some((ResourceKind::Namespace, name)),
        }
    }
}

/// One system call, for error mapping and messages.
#[derive(Debug, Clone)]
pub(super) struct Call {
    /// The trait operation (`Unsupported.operation`).
    pub(super) operation: &'static str,
    /// What a 404/409 names.
    pub(super) target: Target,
    /// `METHOD /path` with the route's variables as placeholders.
    pub(super) route: &'static str,
    /// An optional route (secrets, logs, namespaces): a router 404 means "not implemented".
    pub(super) optional: bool,
    /// A write that does work (deploy, update, delete, scale): bounded by the deploy timeout.
    pub(super) write: bool,
}

impl Call {
    pub(super) fn new(operation: &'static str, target: Target, route: &'static str) -> Self {
        Self {
            operation,
            target,
            route,
            optional: false,
            write: false,
        }
    }

    pub(super) fn write(operation: &'static str, target: Target, route: &'static str) -> Self {
        Self {
            write: true,
            ..Self::new(operation, target, route)
        }
    }

    pub(super) fn optional(operation: &'static str, target: Target, route: &'static str) -> Self {
        Self {
            optional: true,
            ..Self::new(operation, target, route)
        }
    }
}

/// A remote's error answer, kept as the source of [`ProviderError::Backend`].
#[derive(Debug)]
pub(super) struct RemoteStatus {
    route: &'static str,
    status: StatusCode,
    message: String,
}

impl fmt::Display for RemoteStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} answered {}", self.route, self.status)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for RemoteStatus {}

/// The remote's message: body text trimmed, cut to a readable length.
fn message_of(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Maps a non-success status of a system call to the error it stands for.
pub(super) fn status_error(
    backend: &str,
    call: &Call,
    status: StatusCode,
    body: &[u8],
) -> ProviderError {
    let message = message_of(body);
    let or_generic = |what: &str| {
        if message.is_empty() {
            format!("{backend} answered {what} to {}", call.route)
        } else {
            message.clone()
        }
    };
    let unsupported = || ProviderError::unsupported(call.operation, backend);
    match status.as_u16() {
        400 => ProviderError::InvalidRequest(if message.is_empty() {
            format!(
                "{backend} rejected {} ({} {}) as a bad request, without a message",
                call.route,
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            )
        } else {
            message
        }),
        401 | 403 => ProviderError::Unauthorized(format!(
            "{backend} refused the credentials for {} ({status})",
            call.route
        )),
        404 => {
            if message == GO_ROUTE_NOT_FOUND && call.optional {
                return unsupported();
            }
            match call.target.kind() {
                Some((kind, name)) => ProviderError::NotFound {
                    kind,
                    name: name.to_string(),
                },
                // info or health without a route: the remote does not implement it.
                None => unsupported(),
            }
        }
        405 | 501 => unsupported(),
        409 => match call.target.kind() {
            Some((kind, name)) => ProviderError::AlreadyExists {
                kind,
                name: name.to_string(),
            },
            None => ProviderError::InvalidRequest(or_generic("409 Conflict")),
        },
        413 => ProviderError::PayloadTooLarge(or_generic("413 Payload Too Large")),
        422 => ProviderError::Unprocessable(or_generic("422 Unprocessable Entity")),
        429 => ProviderError::Throttled(or_generic("429 Too Many Requests")),
        503 => ProviderError::Unavailable {
            backend: backend.to_string(),
            reason: or_generic("503 Service Unavailable"),
        },
        504 => ProviderError::Timeout(or_generic("504 Gateway Timeout")),
        // Other 4xx: the request was refused for a reason the contract has no name for.
        code if (400..500).contains(&code) => ProviderError::InvalidRequest(format!(
            "{backend} refused {} with {status}{}",
            call.route,
            if message.is_empty() {
                String::new()
            } else {
                format!(": {message}")
            }
        )),
        // Other 5xx, and anything unexpected (1xx, 3xx: redirects are not followed).
        _ => ProviderError::backend(
            backend,
            RemoteStatus {
                route: call.route,
                status,
                message,
            },
        ),
    }
}

/// A transport error's text, cause chain included, without the URL.
pub(super) fn transport_reason(error: reqwest::Error) -> String {
    crate::error::chain(&error.without_url())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(optional: bool) -> Call {
        Call {
            operation: "secrets",
            target: Target::Secret("s".into()),
            route: "PUT /system/secrets",
            optional,
            write: false,
        }
    }

    #[test]
    fn router_404_is_unsupported_only_on_optional_routes() {
        let body = b"404 page not found\n";
        assert!(status_error("b", &call(true), StatusCode::NOT_FOUND, body).is_unsupported());
        assert!(matches!(
            status_error("b", &call(false), StatusCode::NOT_FOUND, body),
            ProviderError::NotFound { kind: ResourceKind::Secret, ref name } if name == "s"
        ));
        assert!(status_error("b", &call(true), StatusCode::NOT_FOUND, b"").is_not_found());
    }

    #[test]
    fn long_messages_are_cut() {
        let long = "x".repeat(10_000);
        let message = message_of(long.as_bytes());
        assert!(message.chars().count() <= MAX_MESSAGE_CHARS + 1);
        assert_eq!(message_of(b"  hi \n"), "hi");
    }
}
