//! `/function/{name}.{namespace}{path}?{query}`: the invoke proxy's client side.
//!
//! Bodies are streamed both ways; the remote's answer (any status) is the result, and only a
//! failure to get one is an error — except the remote proxy's own answer that the function does
//! not exist, which is [`ProviderError::NotFound`] as from an in-process provider (see
//! [`remote_not_found`]).

use http::header::{self, HeaderValue};
use http::{Extensions, StatusCode, Uri};
use http_body::Body as _;
use reqwest::Url;

use super::HttpProvider;
use super::pool::PoolError;
use crate::error::{ProviderError, Result};
use crate::headers::{INTERNAL_HEADER, INVOKE_ERROR_HEADER, NOT_FOUND, strip_hop_by_hop};
use crate::provider::{Body, FunctionRef};

pub(super) async fn invoke(
    provider: &HttpProvider,
    function: &FunctionRef,
    request: http::Request<Body>,
) -> Result<http::Response<Body>> {
    let target = invoke_target(function, request.uri())?;
    let (parts, body) = request.into_parts();

    let mut headers = parts.headers;
    strip_hop_by_hop(&mut headers);
    headers.remove(header::HOST);

    let size = body.size_hint().exact();
    let body = if size == Some(0) {
        // No body: a GET must not turn into a chunked request, and a stale length must not
        // make the remote wait for bytes that never come.
        if headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0")
        {
            headers.remove(header::CONTENT_LENGTH);
        }
        None
    } else {
        if let Some(size) = size {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
        }
        Some(body)
    };

    let mut response = match &provider.plain {
        Some(plain) => {
            let uri = format!("{}{target}", plain.prefix);
            let uri = Uri::try_from(uri).map_err(|e| bad_target(function, e))?;
            let mut outgoing = http::Request::new(body.unwrap_or_else(Body::empty));
            *outgoing.method_mut() = parts.method;
            *outgoing.uri_mut() = uri;
            *outgoing.headers_mut() = headers;
            let response = plain
                .pool
                .send(outgoing, provider.invoke_timeout)
                .await
                .map_err(|error| match error {
                    PoolError::Timeout => timeout(provider, function),
                    other => unavailable(provider, function, other.to_string()),
                })?;
            response.map(Body::new)
        }
        None => {
            let url = Url::parse(&format!("{}{target}", provider.base))
                .map_err(|e| bad_target(function, e))?;
            let mut outgoing = reqwest::Request::new(parts.method, url);
            if let Some(body) = body {
                *outgoing.body_mut() = Some(reqwest::Body::wrap_stream(body.into_data_stream()));
            }
            *outgoing.headers_mut() = headers;
            *outgoing.timeout_mut() = Some(provider.invoke_timeout);
            let response = provider.client.execute(outgoing).await.map_err(|error| {
                if error.is_timeout() {
                    timeout(provider, function)
                } else {
                    unavailable(provider, function, super::errors::transport_reason(error))
                }
            })?;
            let response: http::Response<reqwest::Body> = response.into();
            response.map(Body::new)
        }
    };
    tracing::debug!(backend = %provider.name, %function, status = response.status().as_u16(), "invoked");
    let existence = existence(&response);
    if remote_not_found(provider, function, existence).await {
        return Err(ProviderError::function_not_found(function));
    }
    strip_hop_by_hop(response.headers_mut());
    *response.extensions_mut() = Extensions::new();
    Ok(response)
}

/// What a remote's answer says about the function's existence.
#[derive(Debug, PartialEq, Eq)]
enum Existence {
    /// The function answered, or the proxy answered for another reason.
    Answered,
    /// The remote proxy says there is no such function.
    NotFound,
    /// The remote proxy found no endpoint: unknown or unready, ask the remote.
    Ask,
}

/// Reads an invocation's answer for the remote proxy's "no such function".
///
/// Providers answer an unknown function with `503 No endpoints available for: <name>.` (the Go
/// SDK's proxy; older ones and faas-federation 404 `Cannot find service`), which is also their
/// answer for a function without a ready replica, and a function may answer 503 or 404 itself.
/// So only answers marked `X-OpenFaaS-Internal: proxy` count, and then:
/// - this crate's server says why in [`INVOKE_ERROR_HEADER`]: `not-found` is trusted (the server
///   removes that header from functions' answers), any other reason is not a not-found;
/// - a remote without that header (a Go provider) is to be asked for the function's status,
///   and only its 404 there makes this a not-found (one extra call, on that rare answer only).
fn existence(response: &http::Response<Body>) -> Existence {
    let status = response.status();
    if status != StatusCode::SERVICE_UNAVAILABLE && status != StatusCode::NOT_FOUND {
        return Existence::Answered;
    }
    let headers = response.headers();
    if headers
        .get(INTERNAL_HEADER)
        .is_none_or(|value| value.as_bytes() != b"proxy")
    {
        return Existence::Answered;
    }
    match headers.get(INVOKE_ERROR_HEADER) {
        Some(reason) if reason.as_bytes() == NOT_FOUND.as_bytes() => Existence::NotFound,
        Some(_) => Existence::Answered,
        None => Existence::Ask,
    }
}

/// True when the remote says `function` does not exist (see [`existence`]).
async fn remote_not_found(
    provider: &HttpProvider,
    function: &FunctionRef,
    existence: Existence,
) -> bool {
    match existence {
        Existence::Answered => false,
        Existence::NotFound => true,
        Existence::Ask => {
            use crate::Provider as _;
            matches!(provider.get(function).await, Err(error) if error.is_not_found())
        }
    }
}

fn bad_target(function: &FunctionRef, error: impl std::fmt::Display) -> ProviderError {
    ProviderError::invalid(format!(
        "cannot build the invocation URL for {function}: {error}"
    ))
}

fn timeout(provider: &HttpProvider, function: &FunctionRef) -> ProviderError {
    ProviderError::Timeout(format!(
        "invoking {function} on {}: no response within {:?}",
        provider.name, provider.invoke_timeout
    ))
}

fn unavailable(provider: &HttpProvider, function: &FunctionRef, reason: String) -> ProviderError {
    ProviderError::Unavailable {
        backend: provider.name.clone(),
        reason: format!("invoking {function}: {reason}"),
    }
}

/// `/function/{name}.{namespace}{path}?{query}` (just `{name}` when the namespace is empty),
/// to append to the provider's base URL, from the invocation's URI, whose path is confined to
/// the function: dot segments are resolved without climbing above it.
pub(super) fn invoke_target(function: &FunctionRef, uri: &Uri) -> Result<String> {
    let name = super::segment("function name", &function.name)?;
    let target = if function.namespace.is_empty() {
        name
    } else {
        format!(
            "{name}.{}",
            super::segment("namespace", &function.namespace)?
        )
    };
    let path = confine_path(uri.path());
    let mut text = String::with_capacity(
        10 + target.len() + path.len() + uri.query().map_or(0, |q| q.len() + 1),
    );
    text.push_str("/function/");
    text.push_str(&target);
    text.push_str(&path);
    if let Some(query) = uri.query() {
        text.push('?');
        text.push_str(query);
    }
    Ok(text)
}

/// A request path made safe to append under `/function/{name}`: always starting with `/`,
/// `.`/`..` segments (also percent-encoded ones) resolved but never above the root, and
/// backslashes encoded (URL parsers treat them as separators).
pub(super) fn confine_path(path: &str) -> String {
    if path.starts_with('/')
        && !path.contains('\\')
        && !path
            .split('/')
            .any(|segment| dot_segment(segment).is_some())
    {
        return path.to_string();
    }
    let path = path.replace('\\', "%5C");
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let count = segments.len();
    let mut trailing_slash = false;
    for (i, segment) in segments.into_iter().enumerate() {
        let last = i + 1 == count;
        match dot_segment(segment) {
            Some(1) => trailing_slash = last,
            Some(_) => {
                out.pop();
                trailing_slash = last;
            }
            None => {
                out.push(segment);
                trailing_slash = false;
            }
        }
    }
    let mut result = String::with_capacity(path.len() + 1);
    for segment in &out {
        result.push('/');
        result.push_str(segment);
    }
    if trailing_slash || out.is_empty() {
        result.push('/');
    }
    result
}

/// `Some(1)` for `.`, `Some(2)` for `..` (with `%2e` in any case counting as a dot).
fn dot_segment(segment: &str) -> Option<usize> {
    let dot = |part: &str| part == "." || part.eq_ignore_ascii_case("%2e");
    match segment.len() {
        1 | 3 if dot(segment) => Some(1),
        2 | 4 | 6 => {
            let split = if segment.starts_with('.') { 1 } else { 3 };
            let (first, second) = segment.split_at_checked(split)?;
            (dot(first) && dot(second)).then_some(2)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_the_function() {
        for (input, expected) in [
            ("", "/"),
            ("/", "/"),
            ("/a/b", "/a/b"),
            ("/a/b/", "/a/b/"),
            ("/a//b", "/a//b"),
            ("/a/./b", "/a/b"),
            ("/a/../b", "/b"),
            ("/../../system/secrets", "/system/secrets"),
            ("/%2e%2E/%2e./x", "/x"),
            ("/a/..", "/"),
            ("/a/b/..", "/a/"),
            ("/a\\..\\..\\b", "/a%5C..%5C..%5Cb"),
            ("/x/y/.%2E/%2E./z", "/z"),
            ("/a/.../b/.c/%2e%2e%2e/..d", "/a/.../b/.c/%2e%2e%2e/..d"),
            ("/a/%2f../b", "/a/%2f../b"),
            ("/a/%2e", "/a/"),
        ] {
            assert_eq!(confine_path(input), expected, "{input}");
        }
    }

    #[test]
    fn targets_keep_the_raw_query_and_stay_under_the_function() {
        let f = FunctionRef::new("echo", "dev");
        let target = |f: &FunctionRef, uri: &str| invoke_target(f, &uri.parse().unwrap());
        assert_eq!(
            target(&f, "/a/b?x=1&y=%20z&flag").unwrap(),
            "/function/echo.dev/a/b?x=1&y=%20z&flag"
        );
        assert_eq!(
            target(&f, "/../../system/secrets").unwrap(),
            "/function/echo.dev/system/secrets"
        );
        assert_eq!(
            target(&FunctionRef::new("echo", ""), "/").unwrap(),
            "/function/echo/"
        );
        assert!(target(&FunctionRef::new("..", "x"), "/").is_err());
        assert!(target(&FunctionRef::new("", "x"), "/").is_err());
    }
}
