//! Basic auth on `/system/*`, with OpenFaaS's credential files.

use std::path::Path;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderValue, StatusCode, header};
use subtle::ConstantTimeEq;

use super::error::text_response;
use crate::ConfigError;

/// File holding the user name, under `secret_mount_path`.
pub const USER_FILE: &str = "basic-auth-user";
/// File holding the password, under `secret_mount_path`.
pub const PASSWORD_FILE: &str = "basic-auth-password";

/// Credentials a request must present.
#[derive(Clone)]
pub struct BasicAuthCredentials {
    user: String,
    password: String,
}

impl std::fmt::Debug for BasicAuthCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuthCredentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl BasicAuthCredentials {
    /// Credentials from values.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            password: password.into(),
        }
    }

    /// Reads `basic-auth-user` and `basic-auth-password` from `dir`, whitespace trimmed.
    pub fn read_from_dir(dir: &Path) -> Result<Self, ConfigError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path)
                .map(|s| s.trim().to_string())
                .map_err(|source| ConfigError::Credentials { path, source })
        };
        Ok(Self::new(read(USER_FILE)?, read(PASSWORD_FILE)?))
    }

    /// True when the `Authorization` header carries these credentials (constant-time compare).
    pub fn accepts(&self, authorization: Option<&HeaderValue>) -> bool {
        let Some(decoded) = authorization
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Basic ")
                    .or_else(|| v.strip_prefix("basic "))
            })
            .and_then(|b64| STANDARD.decode(b64.trim()).ok())
        else {
            return false;
        };
        let Some(colon) = decoded.iter().position(|b| *b == b':') else {
            return false;
        };
        let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
        let user_ok = user.ct_eq(self.user.as_bytes());
        let password_ok = password.ct_eq(self.password.as_bytes());
        bool::from(user_ok & password_ok)
    }
}

/// What the auth layer enforces: credentials, or a refusal of everything when basic auth is on
/// but the credential files could not be read (fail closed).
#[derive(Clone, Debug)]
pub(crate) enum AuthPolicy {
    Require(BasicAuthCredentials),
    DenyAll,
}

pub(crate) async fn require_basic_auth(
    State(policy): State<AuthPolicy>,
    req: Request,
    next: Next,
) -> Response {
    let allowed = match &policy {
        AuthPolicy::Require(credentials) => {
            credentials.accepts(req.headers().get(header::AUTHORIZATION))
        }
        AuthPolicy::DenyAll => false,
    };
    if allowed {
        return next.run(req).await;
    }
    let mut response = text_response(StatusCode::UNAUTHORIZED, "invalid credentials");
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"Restricted\""),
    );
    response.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_for(user: &str, password: &str) -> HeaderValue {
        HeaderValue::from_str(&format!(
            "Basic {}",
            STANDARD.encode(format!("{user}:{password}"))
        ))
        .unwrap()
    }

    #[test]
    fn accepts_only_exact_credentials() {
        let credentials = BasicAuthCredentials::new("admin", "s3cret:x");
        assert!(credentials.accepts(Some(&header_for("admin", "s3cret:x"))));
        assert!(!credentials.accepts(Some(&header_for("admin", "s3cret"))));
        assert!(!credentials.accepts(Some(&header_for("Admin", "s3cret:x"))));
        assert!(!credentials.accepts(Some(&HeaderValue::from_static("Bearer abc"))));
        assert!(!credentials.accepts(Some(&HeaderValue::from_static("Basic !!!"))));
        assert!(!credentials.accepts(None));
    }
}
