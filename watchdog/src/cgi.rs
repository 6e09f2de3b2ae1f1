//! The `Http_*` environment variables a forked function process receives (classic watchdog and
//! of-watchdog `getEnvironment`).

use http::header::{CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::request::Parts;

use faas_provider::encoding::percent_decode;

/// Go's `textproto.CanonicalMIMEHeaderKey`: `content-type` → `Content-Type`.
pub fn canonical_header_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper {
            c.to_ascii_uppercase()
        } else {
            c.to_ascii_lowercase()
        });
        upper = c == '-';
    }
    out
}

/// The `Http_*` variables for one request, in the order Go builds them (headers first, so the
/// computed values win when a client sends a header of the same name).
///
/// - every header except `Host` and `Transfer-Encoding` (Go moves those out of `r.Header`) as
///   `Http_<Canonical_Name>` with dashes turned into underscores, first value only;
/// - `Http_Method`; `Http_ContentLength` and `Http_Content_Length` (Go's `r.ContentLength`:
///   the Content-Length header, `-1` for a chunked body, else `0`);
/// - `Http_Query` (raw query) and `Http_Path` (percent-decoded path) when non-empty;
/// - `Http_Transfer_Encoding` when the request has one; `Http_Host` when known.
pub fn http_env(parts: &Parts) -> Vec<(String, String)> {
    let mut env = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (name, value) in &parts.headers {
        if name == HOST || name == TRANSFER_ENCODING || !seen.insert(name.as_str()) {
            continue;
        }
        let key = format!(
            "Http_{}",
            canonical_header_name(name.as_str()).replace('-', "_")
        );
        env.push((key, String::from_utf8_lossy(value.as_bytes()).into_owned()));
    }
    env.push(("Http_Method".into(), parts.method.as_str().to_string()));
    let content_length = content_length(parts).to_string();
    env.push(("Http_ContentLength".into(), content_length.clone()));
    env.push(("Http_Content_Length".into(), content_length));
    if let Some(query) = parts.uri.query().filter(|q| !q.is_empty()) {
        env.push(("Http_Query".into(), query.to_string()));
    }
    let path = percent_decode(parts.uri.path());
    if !path.is_empty() {
        env.push(("Http_Path".into(), path));
    }
    if let Some(te) = parts.headers.get(TRANSFER_ENCODING) {
        let first = String::from_utf8_lossy(te.as_bytes());
        let first = first.split(',').next().unwrap_or("").trim().to_string();
        env.push(("Http_Transfer_Encoding".into(), first));
    }
    let host = parts
        .headers
        .get(HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .or_else(|| parts.uri.authority().map(|a| a.to_string()));
    if let Some(host) = host.filter(|h| !h.is_empty()) {
        env.push(("Http_Host".into(), host));
    }
    env
}

/// Go's `r.ContentLength` for a server request.
pub fn content_length(parts: &Parts) -> i64 {
    let chunked = parts
        .headers
        .get_all(TRANSFER_ENCODING)
        .iter()
        .any(|v| String::from_utf8_lossy(v.as_bytes()).contains("chunked"));
    if chunked {
        return -1;
    }
    parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(req: http::Request<()>) -> Vec<(String, String)> {
        http_env(&req.into_parts().0)
    }

    fn get<'a>(env: &'a [(String, String)], key: &str) -> Option<&'a str> {
        env.iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn canonical_names() {
        assert_eq!(canonical_header_name("content-type"), "Content-Type");
        assert_eq!(canonical_header_name("x-CUSTOM-header"), "X-Custom-Header");
        assert_eq!(canonical_header_name("x_under"), "X_under");
    }

    #[test]
    fn request_variables() {
        let req = http::Request::post("/some%20path/x?a=1&b=%20")
            .header("Host", "example:8080")
            .header("Content-Type", "text/plain")
            .header("X-Custom-Header", "one")
            .header("X-Custom-Header", "two")
            .header("Content-Length", "5")
            .body(())
            .unwrap();
        let env = env_of(req);
        assert_eq!(get(&env, "Http_Method"), Some("POST"));
        assert_eq!(get(&env, "Http_Content_Type"), Some("text/plain"));
        assert_eq!(get(&env, "Http_X_Custom_Header"), Some("one"));
        assert_eq!(get(&env, "Http_ContentLength"), Some("5"));
        assert_eq!(get(&env, "Http_Content_Length"), Some("5"));
        assert_eq!(get(&env, "Http_Query"), Some("a=1&b=%20"));
        assert_eq!(get(&env, "Http_Path"), Some("/some path/x"));
        assert_eq!(get(&env, "Http_Host"), Some("example:8080"));
        assert_eq!(get(&env, "Http_Transfer_Encoding"), None);
        assert_eq!(env.iter().filter(|(k, _)| k == "Http_Host").count(), 1);
    }

    #[test]
    fn chunked_request() {
        let req = http::Request::put("/")
            .header("Transfer-Encoding", "chunked")
            .body(())
            .unwrap();
        let env = env_of(req);
        assert_eq!(get(&env, "Http_ContentLength"), Some("-1"));
        assert_eq!(get(&env, "Http_Transfer_Encoding"), Some("chunked"));
        assert_eq!(get(&env, "Http_Query"), None);
        assert_eq!(get(&env, "Http_Path"), Some("/"));
    }

    #[test]
    fn percent_decoding_keeps_bad_escapes() {
        assert_eq!(percent_decode("/a%2Fb%zz%4"), "/a/b%zz%4");
    }
}
