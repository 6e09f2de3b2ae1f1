//! The provider's base URL and the paths built on it: validation, the plain-HTTP invocation
//! pool of an `http://` base, percent-encoded path segments.

use reqwest::Url;

use super::{CONNECT_TIMEOUT, PlainHttp, pool};
use crate::error::{ProviderError, Result};

pub(super) fn validate_base_url(input: &str) -> Result<Url> {
    let shown = if input.contains('@') {
        "<url with credentials>"
    } else {
        input
    };
    let url = Url::parse(input.trim())
        .map_err(|e| ProviderError::invalid(format!("invalid provider URL {shown:?}: {e}")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(ProviderError::invalid(format!(
            "invalid provider URL {shown:?}: scheme must be http or https, not {:?}",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ProviderError::invalid(
            "invalid provider URL: credentials must not be part of the URL; use with_basic_auth",
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ProviderError::invalid(format!(
            "invalid provider URL {shown:?}: a host is required"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ProviderError::invalid(format!(
            "invalid provider URL {shown:?}: a query or fragment is not allowed"
        )));
    }
    Ok(url)
}

/// The invocation pool of an `http://` base URL, connecting to `authority` (`host:port`);
/// `None` for `https://`, which goes through `reqwest` and its TLS.
pub(super) fn plain_http(url: &Url, authority: &str) -> Option<PlainHttp> {
    if url.scheme() != "http" {
        return None;
    }
    let host_header = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str()?),
        None => url.host_str()?.to_string(),
    };
    Some(PlainHttp {
        pool: pool::Pool::new(authority, &host_header, CONNECT_TIMEOUT)?,
        prefix: url.path().trim_end_matches('/').to_string(),
    })
}

/// One path segment, percent-encoded (everything but RFC 3986 unreserved characters).
/// Empty, `.` and `..` are refused: they would change the route.
pub(super) fn segment(what: &str, value: &str) -> Result<String> {
    if value.is_empty() {
        return Err(ProviderError::invalid(format!("{what} is required")));
    }
    if value == "." || value == ".." {
        return Err(ProviderError::invalid(format!("invalid {what} {value:?}")));
    }
    Ok(crate::encoding::percent_encode(value))
}
