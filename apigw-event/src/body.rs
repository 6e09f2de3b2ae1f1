//! Body and header rules shared by requests and responses: the `lambda_http` text-or-base64
//! body encoding, and joining repeated headers into one value.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::error::EventError;

/// Header that forces a textual response body in `lambda_http` (and here).
pub const TEXT_ENCODING_HEADER: &str = "x-lambda-http-content-encoding";

/// Whether a body with these headers is sent as text (the `lambda_http` rules): a
/// `Content-Encoding` makes it binary; `x-lambda-http-content-encoding: text` or a missing
/// `Content-Type` make it text; otherwise `text/*`, `application/json`, `application/javascript`,
/// `application/xml`, `application/yaml` and `+json`/`+xml`/`+yaml` types are text.
pub fn is_text_content(headers: &HeaderMap) -> bool {
    if headers
        .get(TEXT_ENCODING_HEADER)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"text"))
    {
        return true;
    }
    if headers.contains_key(CONTENT_ENCODING) {
        return false;
    }
    let Some(content_type) = headers.get(CONTENT_TYPE) else {
        return true;
    };
    let Ok(content_type) = content_type.to_str() else {
        return false;
    };
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime.starts_with("text")
        || matches!(
            mime.as_str(),
            "application/json" | "application/javascript" | "application/xml" | "application/yaml"
        )
        || mime.ends_with("+json")
        || mime.ends_with("+xml")
        || mime.ends_with("+yaml")
}

/// `(body, isBase64Encoded)` for a body, `None` when empty.
pub(crate) fn encode_body(headers: &HeaderMap, body: &[u8]) -> (Option<String>, bool) {
    if body.is_empty() {
        return (None, false);
    }
    match std::str::from_utf8(body) {
        Ok(text) if is_text_content(headers) => (Some(text.to_string()), false),
        _ => (Some(BASE64.encode(body)), true),
    }
}

pub(crate) fn decode_body(body: Option<&str>, base64: bool) -> Result<Bytes, EventError> {
    match body {
        None => Ok(Bytes::new()),
        Some(b) if base64 => BASE64
            .decode(b.as_bytes())
            .map(Bytes::from)
            .map_err(EventError::InvalidBase64),
        Some(b) => Ok(Bytes::copy_from_slice(b.as_bytes())),
    }
}

/// Make the framing headers of a request or response rebuilt from an event match its `len`-byte
/// body: `Transfer-Encoding` goes (the body is whole), `Content-Length` becomes `len` (set when
/// it was present or the body is not empty). An event copies the headers of the message it
/// describes, so once a middleware rewrote the body they would otherwise describe the old one.
pub fn sync_content_length(headers: &mut HeaderMap, len: usize) {
    headers.remove(TRANSFER_ENCODING);
    if len > 0 || headers.contains_key(CONTENT_LENGTH) {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
    }
}

/// Header map → lower-case name → values joined with `,`, leaving out the names in `skip`.
pub(crate) fn join_headers(headers: &HeaderMap, skip: &[HeaderName]) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        if skip.contains(name) {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes());
        out.entry(name.as_str().to_string())
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn text_content_rules() {
        let with = |pairs: &[(&str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.append(
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                );
            }
            is_text_content(&h)
        };
        assert!(with(&[]));
        assert!(with(&[("content-type", "text/html; charset=utf-8")]));
        assert!(with(&[("content-type", "application/json")]));
        assert!(with(&[("content-type", "application/javascript")]));
        assert!(with(&[("content-type", "application/xml")]));
        assert!(with(&[("content-type", "application/yaml")]));
        assert!(with(&[("content-type", "application/problem+json")]));
        assert!(with(&[("content-type", "image/svg+xml")]));
        assert!(with(&[("content-type", "application/x+yaml")]));
        assert!(!with(&[("content-type", "application/octet-stream")]));
        assert!(!with(&[("content-type", "image/png")]));
        assert!(!with(&[
            ("content-type", "text/plain"),
            ("content-encoding", "gzip")
        ]));
        assert!(with(&[
            ("content-type", "image/png"),
            ("x-lambda-http-content-encoding", "text")
        ]));
    }

    #[test]
    fn content_length_follows_the_body() {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_LENGTH, HeaderValue::from(3));
        h.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        sync_content_length(&mut h, 11);
        assert_eq!(h[CONTENT_LENGTH], "11");
        assert!(!h.contains_key(TRANSFER_ENCODING));
        sync_content_length(&mut h, 0);
        assert_eq!(h[CONTENT_LENGTH], "0");
        let mut empty = HeaderMap::new();
        sync_content_length(&mut empty, 0);
        assert!(
            empty.is_empty(),
            "no body, no header: a GET stays a bare GET"
        );
    }
}
