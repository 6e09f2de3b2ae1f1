//! Request extractors whose rejections are [`ProviderError`]s, so malformed input gets the
//! same error shape as everything else.

use axum::extract::{FromRequest, Request};
use bytes::Bytes;

use super::AppState;
use crate::{GoJson, ProviderError};

/// A JSON body decoded with Go's rules ([`GoJson`]), size-limited by `max_body_bytes`.
pub(crate) struct GoJsonBody<T>(pub(crate) T);

impl<T: GoJson> FromRequest<AppState> for GoJsonBody<T> {
    type Rejection = ProviderError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req, state.config.max_body_bytes).await?;
        T::from_go_json(&bytes).map(GoJsonBody).map_err(|e| {
            ProviderError::invalid(format!(
                "invalid JSON body: {}",
                describe_json_error(&e, &bytes)
            ))
        })
    }
}

async fn read_body(req: Request, limit: usize) -> Result<Bytes, ProviderError> {
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|e| {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
                || e.to_string().contains("length limit");
            if too_large {
                ProviderError::PayloadTooLarge(format!("request body is larger than {limit} bytes"))
            } else {
                ProviderError::invalid(format!("could not read request body: {e}"))
            }
        })
}

fn describe_json_error(error: &serde_json::Error, bytes: &[u8]) -> String {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        "the body is empty".to_string()
    } else {
        error.to_string()
    }
}

/// A query string's parameters, decoded, in order.
pub(crate) struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        Self(
            form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The first value of `key` (Go's `Query().Get`), empty values count as absent.
    pub(crate) fn first(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The last value of `key` (the log handler's rule).
    pub(crate) fn last(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}
