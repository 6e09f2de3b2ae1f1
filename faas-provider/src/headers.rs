//! Headers with a meaning for the invoke proxy.
//!
//! - Hop-by-hop headers describe one connection, so a proxy never forwards them. The provider
//!   server's invoke proxy, the `HttpProvider` client and the watchdog all strip them with
//!   [`strip_hop_by_hop`].
//! - [`INTERNAL_HEADER`] and [`INVOKE_ERROR_HEADER`] mark the answers the invoke proxy makes
//!   itself, so that a client can tell them from a function's own answer.

use http::header::{self, HeaderMap, HeaderName};

/// Marks a response the invoke proxy produced itself, not the function (value `proxy`, as
/// OpenFaaS's Go provider SDK sets it).
pub const INTERNAL_HEADER: &str = "x-openfaas-internal";

/// On a response the invoke proxy produced itself, why the function was not invoked:
/// [`NOT_FOUND`] (no such function) or [`NOT_READY`] (no ready replica). Both answer
/// `503 No endpoints available for: <name>.`, exactly as the Go SDK does, so the status and body
/// cannot tell them apart; this header can. The server removes it from functions' responses, so
/// a function cannot forge it.
pub const INVOKE_ERROR_HEADER: &str = "x-faas-invoke-error";

/// [`INVOKE_ERROR_HEADER`]'s value when the function does not exist.
pub const NOT_FOUND: &str = "not-found";

/// [`INVOKE_ERROR_HEADER`]'s value when the function exists with no ready replica.
pub const NOT_READY: &str = "not-ready";

/// The hop-by-hop headers of Go's `net/http/httputil.ReverseProxy` (RFC 9110's connection
/// options plus the legacy `Keep-Alive` and `Proxy-Connection`).
pub const HOP_BY_HOP: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// True for a header of [`HOP_BY_HOP`] or any other `Proxy-*` header (meant for a proxy on the
/// way, never for the function). Headers named by `Connection` are hop-by-hop too: see
/// [`strip_hop_by_hop`].
pub fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(name) || name.as_str().starts_with("proxy-")
}

/// Removes every hop-by-hop header: those of [`HOP_BY_HOP`], those the `Connection` header
/// names, and any `Proxy-*` header.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|token| HeaderName::from_bytes(token.trim().as_bytes()).ok())
        .collect();
    for name in named.iter().chain(HOP_BY_HOP.iter()) {
        headers.remove(name);
    }
    if headers
        .keys()
        .any(|name| name.as_str().starts_with("proxy-"))
    {
        let proxy: Vec<HeaderName> = headers
            .keys()
            .filter(|name| name.as_str().starts_with("proxy-"))
            .cloned()
            .collect();
        for name in proxy {
            headers.remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn hop_by_hop_headers_are_removed() {
        let mut headers = HeaderMap::new();
        for (k, v) in [
            ("connection", "keep-alive, x-private"),
            ("keep-alive", "timeout=5"),
            ("x-private", "1"),
            ("proxy-authenticate", "Basic"),
            ("proxy-authorization", "Basic x"),
            ("proxy-connection", "keep-alive"),
            ("proxy-other", "1"),
            ("te", "trailers"),
            ("trailer", "x-t"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("x-kept", "yes"),
            ("authorization", "Bearer caller"),
        ] {
            headers.append(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        strip_hop_by_hop(&mut headers);
        let mut left: Vec<&str> = headers.keys().map(|k| k.as_str()).collect();
        left.sort_unstable();
        assert_eq!(left, ["authorization", "x-kept"]);
    }

    #[test]
    fn hop_by_hop_names() {
        for name in [
            "connection",
            "te",
            "proxy-authorization",
            "proxy-x",
            "upgrade",
        ] {
            assert!(is_hop_by_hop(&HeaderName::from_static(name)), "{name}");
        }
        for name in ["authorization", "content-type", "x-proxy", "host"] {
            assert!(!is_hop_by_hop(&HeaderName::from_static(name)), "{name}");
        }
    }

    #[test]
    fn connection_tokens_are_trimmed_and_case_insensitive() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static(" X-Private ,close"),
        );
        headers.insert("x-private", HeaderValue::from_static("1"));
        headers.insert("x-kept", HeaderValue::from_static("1"));
        strip_hop_by_hop(&mut headers);
        assert_eq!(headers.len(), 1);
        assert!(headers.contains_key("x-kept"));
    }
}
