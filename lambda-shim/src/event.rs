//! API Gateway HTTP API payload 2.0 / Lambda Function URL events, and their conversions to and
//! from `http` types. One implementation serves both sides: the provider turns a request into an
//! [`HttpEvent`] ([`event_from_request`]) and a function's payload back into a response
//! ([`response_from_payload`]); the shim turns the event into a request for the watchdog executor
//! ([`request_from_event`]) and its answer into an [`HttpEventResponse`] ([`event_response_from`]).
//!
//! Body encoding follows `lambda_http`: a body is sent as UTF-8 text when its `Content-Type` is
//! textual (see [`is_text_content`]) and it is valid UTF-8, otherwise base64 with
//! `isBase64Encoded: true`.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE, COOKIE, HOST, SET_COOKIE, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::{Deserialize, Serialize};

/// The `version` of the events this module produces and recognises.
pub const PAYLOAD_VERSION: &str = "2.0";

/// `routeKey` and `stage` of a Function URL event.
pub const DEFAULT_ROUTE: &str = "$default";

/// Header that forces a textual response body in `lambda_http` (and here).
pub const TEXT_ENCODING_HEADER: &str = "x-lambda-http-content-encoding";

/// An API Gateway v2 (HTTP API) / Function URL request event.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct HttpEvent {
    /// `"2.0"`.
    pub version: String,
    /// `"$default"` for Function URLs, else `"METHOD /path"`.
    #[serde(default)]
    pub route_key: String,
    /// The path as requested, not decoded.
    #[serde(default)]
    pub raw_path: String,
    /// The query string without the leading `?` (may be empty).
    #[serde(default)]
    pub raw_query_string: String,
    /// Every cookie of the `Cookie` headers, one `name=value` per element.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookies: Option<Vec<String>>,
    /// Lower-case header names; repeated headers joined with `,`.
    #[serde(default, deserialize_with = "string_map")]
    pub headers: BTreeMap<String, String>,
    /// Decoded query parameters; repeated names joined with `,`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_string_parameters: Option<BTreeMap<String, String>>,
    /// Who called, how, and when.
    #[serde(default)]
    pub request_context: RequestContext,
    /// The body: text, or base64 when `is_base64_encoded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Whether `body` is base64.
    #[serde(default)]
    pub is_base64_encoded: bool,
    /// Route parameters (`null` for Function URLs).
    #[serde(default)]
    pub path_parameters: Option<BTreeMap<String, String>>,
    /// Stage variables (`null` for Function URLs).
    #[serde(default)]
    pub stage_variables: Option<BTreeMap<String, String>>,
}

/// `requestContext` of an [`HttpEvent`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RequestContext {
    /// The account that owns the function (or `anonymous`).
    #[serde(default)]
    pub account_id: String,
    /// The API (or Function URL) id.
    #[serde(default)]
    pub api_id: String,
    /// The `Host` the request was sent to.
    #[serde(default)]
    pub domain_name: String,
    /// The first label of `domain_name`.
    #[serde(default)]
    pub domain_prefix: String,
    /// The HTTP details.
    #[serde(default)]
    pub http: HttpDescription,
    /// The request id.
    #[serde(default)]
    pub request_id: String,
    /// Same as the event's `routeKey`.
    #[serde(default)]
    pub route_key: String,
    /// `"$default"` for Function URLs.
    #[serde(default)]
    pub stage: String,
    /// `dd/Mon/yyyy:HH:MM:SS +0000`.
    #[serde(default)]
    pub time: String,
    /// Milliseconds since the Unix epoch.
    #[serde(default)]
    pub time_epoch: i64,
    /// mTLS / IAM details, kept as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<serde_json::Value>,
    /// Authorizer output, kept as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer: Option<serde_json::Value>,
}

/// `requestContext.http` of an [`HttpEvent`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct HttpDescription {
    /// The request method.
    #[serde(default)]
    pub method: String,
    /// The request path.
    #[serde(default)]
    pub path: String,
    /// e.g. `HTTP/1.1`.
    #[serde(default)]
    pub protocol: String,
    /// The caller's address.
    #[serde(default)]
    pub source_ip: String,
    /// The caller's `User-Agent`.
    #[serde(default)]
    pub user_agent: String,
}

/// An API Gateway v2 / Function URL response payload.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct HttpEventResponse {
    /// The HTTP status.
    pub status_code: u16,
    /// Single-valued headers (repeated ones joined with `,`).
    #[serde(default, deserialize_with = "string_map")]
    pub headers: BTreeMap<String, String>,
    /// Payload 1.0 style multi-valued headers; accepted on input, never produced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_value_headers: Option<BTreeMap<String, Vec<String>>>,
    /// One `Set-Cookie` value per element.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cookies: Vec<String>,
    /// The body: text, or base64 when `is_base64_encoded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Whether `body` is base64.
    #[serde(default)]
    pub is_base64_encoded: bool,
}

/// Why an event or a payload could not be converted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The payload is not JSON at all.
    #[error("the function's payload is not JSON: {0}")]
    NotJson(serde_json::Error),
    /// A JSON object with `statusCode` whose fields do not fit the response shape.
    #[error("invalid API Gateway v2 response: {0}")]
    InvalidResponse(String),
    /// The event's method is missing or invalid.
    #[error("invalid HTTP method {0:?} in the event")]
    InvalidMethod(String),
    /// The event's path/query do not form a request target.
    #[error("invalid request target {0:?} in the event")]
    InvalidUri(String),
    /// A header name or value is not valid HTTP.
    #[error("invalid header {0:?}")]
    InvalidHeader(String),
    /// `isBase64Encoded` is true but the body is not base64.
    #[error("the body is marked base64 but does not decode: {0}")]
    InvalidBase64(base64::DecodeError),
}

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
fn encode_body(headers: &HeaderMap, body: &[u8]) -> (Option<String>, bool) {
    if body.is_empty() {
        return (None, false);
    }
    match std::str::from_utf8(body) {
        Ok(text) if is_text_content(headers) => (Some(text.to_string()), false),
        _ => (Some(BASE64.encode(body)), true),
    }
}

fn decode_body(body: Option<&str>, base64: bool) -> Result<Bytes, EventError> {
    match body {
        None => Ok(Bytes::new()),
        Some(b) if base64 => BASE64
            .decode(b.as_bytes())
            .map(Bytes::from)
            .map_err(EventError::InvalidBase64),
        Some(b) => Ok(Bytes::copy_from_slice(b.as_bytes())),
    }
}

/// Header map → lower-case name → values joined with `,`, leaving out the names in `skip`.
fn join_headers(headers: &HeaderMap, skip: &[HeaderName]) -> BTreeMap<String, String> {
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

/// Build the event for an HTTP request, as a Function URL would (`routeKey`/`stage` `$default`).
/// `Cookie` headers become `cookies`; repeated headers and query names are joined with `,`.
pub fn event_from_request(
    parts: &http::request::Parts,
    body: &[u8],
    request_id: &str,
) -> HttpEvent {
    let headers = &parts.headers;
    let cookies: Vec<String> = headers
        .get_all(COOKIE)
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(';')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>()
        })
        .collect();
    let raw_query = parts.uri.query().unwrap_or_default().to_string();
    let mut query: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(raw_query.as_bytes()) {
        query
            .entry(k.into_owned())
            .and_modify(|existing| {
                existing.push(',');
                existing.push_str(&v);
            })
            .or_insert_with(|| v.into_owned());
    }
    let header_str = |name: HeaderName| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let domain_name = header_str(HOST)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".to_string());
    let domain_prefix = domain_name
        .split(['.', ':'])
        .next()
        .unwrap_or_default()
        .to_string();
    let source_ip = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "127.0.0.1".to_string());
    let (body, is_base64_encoded) = encode_body(headers, body);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let time_epoch = i64::try_from(now.as_millis()).unwrap_or(i64::MAX);
    let path = parts.uri.path().to_string();
    HttpEvent {
        version: PAYLOAD_VERSION.to_string(),
        route_key: DEFAULT_ROUTE.to_string(),
        raw_path: path.clone(),
        raw_query_string: raw_query,
        cookies: (!cookies.is_empty()).then_some(cookies),
        headers: join_headers(headers, &[COOKIE]),
        query_string_parameters: (!query.is_empty()).then_some(query),
        request_context: RequestContext {
            account_id: "anonymous".to_string(),
            api_id: domain_prefix.clone(),
            domain_name,
            domain_prefix,
            http: HttpDescription {
                method: parts.method.as_str().to_string(),
                path,
                protocol: format!("{:?}", parts.version),
                source_ip,
                user_agent: header_str(USER_AGENT).unwrap_or_default(),
            },
            request_id: request_id.to_string(),
            route_key: DEFAULT_ROUTE.to_string(),
            stage: DEFAULT_ROUTE.to_string(),
            time: clf_time(now.as_secs()),
            time_epoch,
            authentication: None,
            authorizer: None,
        },
        body,
        is_base64_encoded,
        path_parameters: None,
        stage_variables: None,
    }
}

impl HttpEvent {
    /// Parse `payload` as an API Gateway v2 / Function URL event: a JSON object with
    /// `version: "2.0"` and `requestContext.http.method`. Anything else (a raw payload, a
    /// payload 1.0 event, another service's event) is `None`.
    pub fn detect(payload: &[u8]) -> Option<HttpEvent> {
        let value: serde_json::Value = serde_json::from_slice(payload).ok()?;
        let is_v2 = value.get("version").and_then(|v| v.as_str()) == Some(PAYLOAD_VERSION)
            && value
                .pointer("/requestContext/http/method")
                .and_then(|m| m.as_str())
                .is_some();
        if !is_v2 {
            return None;
        }
        serde_json::from_value(value).ok()
    }
}

/// Turn an event into the HTTP request it describes: method and path from the event (`rawPath`,
/// falling back to `requestContext.http.path`), `rawQueryString`, the headers, `cookies` as one
/// `Cookie` header, the body decoded from base64 when flagged.
pub fn request_from_event(ev: HttpEvent) -> Result<http::Request<Bytes>, EventError> {
    let method = Method::from_bytes(ev.request_context.http.method.as_bytes())
        .map_err(|_| EventError::InvalidMethod(ev.request_context.http.method.clone()))?;
    let mut path = if ev.raw_path.is_empty() {
        ev.request_context.http.path.clone()
    } else {
        ev.raw_path.clone()
    };
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    let target = if ev.raw_query_string.is_empty() {
        path
    } else {
        format!("{path}?{}", ev.raw_query_string)
    };
    let uri: http::Uri = target
        .parse()
        .map_err(|_| EventError::InvalidUri(target.clone()))?;
    let mut builder = http::Request::builder().method(method).uri(uri);
    let headers = builder
        .headers_mut()
        .expect("a builder with a valid method and uri has headers");
    for (name, value) in &ev.headers {
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| EventError::InvalidHeader(name.clone()))?;
        let header_value =
            HeaderValue::from_str(value).map_err(|_| EventError::InvalidHeader(name.clone()))?;
        headers.append(header_name, header_value);
    }
    if let Some(cookies) = ev.cookies.as_ref().filter(|c| !c.is_empty()) {
        let joined = cookies.join("; ");
        let value = HeaderValue::from_str(&joined)
            .map_err(|_| EventError::InvalidHeader("cookie".into()))?;
        headers.insert(COOKIE, value);
    }
    let body = decode_body(ev.body.as_deref(), ev.is_base64_encoded)?;
    builder
        .body(body)
        .map_err(|e| EventError::InvalidUri(e.to_string()))
}

/// Describe an HTTP response as an API Gateway v2 response: `Set-Cookie` headers become
/// `cookies`, other repeated headers are joined with `,`, the body is text or base64.
pub fn event_response_from(resp: http::response::Parts, body: &[u8]) -> HttpEventResponse {
    let cookies = resp
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    let (body, is_base64_encoded) = encode_body(&resp.headers, body);
    HttpEventResponse {
        status_code: resp.status.as_u16(),
        headers: join_headers(&resp.headers, &[SET_COOKIE]),
        multi_value_headers: None,
        cookies,
        body,
        is_base64_encoded,
    }
}

/// Turn a function's payload into the HTTP response API Gateway / a Function URL would send:
/// a JSON object with `statusCode` is an [`HttpEventResponse`]; any other valid JSON is a 200
/// `application/json` response with that JSON as the body; anything else is an error.
pub fn response_from_payload(payload: &[u8]) -> Result<http::Response<Bytes>, EventError> {
    let value: serde_json::Value = serde_json::from_slice(payload).map_err(EventError::NotJson)?;
    if value.get("statusCode").is_none() {
        return http::Response::builder()
            .status(StatusCode::OK)
            .header(CONTENT_TYPE, "application/json")
            .body(Bytes::copy_from_slice(payload))
            .map_err(|e| EventError::InvalidResponse(e.to_string()));
    }
    let resp: HttpEventResponse =
        serde_json::from_value(value).map_err(|e| EventError::InvalidResponse(e.to_string()))?;
    let status = StatusCode::from_u16(resp.status_code)
        .ok()
        .filter(|s| (100..=599).contains(&s.as_u16()))
        .ok_or_else(|| EventError::InvalidResponse(format!("statusCode {}", resp.status_code)))?;
    let mut builder = http::Response::builder().status(status);
    let headers = builder
        .headers_mut()
        .expect("a builder with a valid status has headers");
    let mut append = |name: &str, value: &str| -> Result<(), EventError> {
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| EventError::InvalidHeader(name.to_string()))?;
        let header_value = HeaderValue::from_str(value)
            .map_err(|_| EventError::InvalidHeader(name.to_string()))?;
        headers.append(header_name, header_value);
        Ok(())
    };
    if let Some(multi) = &resp.multi_value_headers {
        for (name, values) in multi {
            if resp.headers.contains_key(name) {
                continue;
            }
            for value in values {
                append(name, value)?;
            }
        }
    }
    for (name, value) in &resp.headers {
        append(name, value)?;
    }
    for cookie in &resp.cookies {
        append(SET_COOKIE.as_str(), cookie)?;
    }
    let body = decode_body(resp.body.as_deref(), resp.is_base64_encoded)?;
    builder
        .body(body)
        .map_err(|e| EventError::InvalidResponse(e.to_string()))
}

/// Accept header maps whose values are strings, numbers or booleans (API Gateway does).
fn string_map<'de, D>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let raw: Option<BTreeMap<String, serde_json::Value>> = Option::deserialize(deserializer)?;
    let mut out = BTreeMap::new();
    for (k, v) in raw.unwrap_or_default() {
        let text = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Null => continue,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "header {k:?} must be a string, not {other}"
                )));
            }
        };
        out.insert(k, text);
    }
    Ok(out)
}

/// `dd/Mon/yyyy:HH:MM:SS +0000` for seconds since the epoch (UTC).
fn clf_time(epoch_secs: u64) -> String {
    let secs = i64::try_from(epoch_secs).unwrap_or(0);
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%d/%b/%Y:%H:%M:%S +0000")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of aws-lambda-rust-runtime's `example-apigw-v2-request-no-authorizer.json` /
    /// the Function URL example of the AWS developer guide.
    const FUNCTION_URL_EVENT: &str = r#"{
      "version": "2.0",
      "routeKey": "$default",
      "rawPath": "/my/path",
      "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
      "cookies": ["cookie1", "cookie2"],
      "headers": {"header1": "value1", "header2": "value1,value2", "content-type": "text/plain"},
      "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
      "requestContext": {
        "accountId": "123456789012",
        "apiId": "<urlid>",
        "authentication": null,
        "authorizer": {"iam": {"accessKey": "AKIA", "accountId": "111122223333"}},
        "domainName": "<url-id>.lambda-url.us-west-2.on.aws",
        "domainPrefix": "<url-id>",
        "http": {"method": "POST", "path": "/my/path", "protocol": "HTTP/1.1",
                 "sourceIp": "123.123.123.123", "userAgent": "agent"},
        "requestId": "id",
        "routeKey": "$default",
        "stage": "$default",
        "time": "12/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1583348638390
      },
      "body": "Hello from client!",
      "pathParameters": null,
      "isBase64Encoded": false,
      "stageVariables": null
    }"#;

    #[test]
    fn aws_example_event_parses_and_becomes_a_request() {
        let ev = HttpEvent::detect(FUNCTION_URL_EVENT.as_bytes()).expect("a v2 event");
        assert_eq!(ev.request_context.http.source_ip, "123.123.123.123");
        assert_eq!(ev.request_context.time_epoch, 1_583_348_638_390);
        let req = request_from_event(ev).unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(
            req.uri().to_string(),
            "/my/path?parameter1=value1&parameter1=value2&parameter2=value"
        );
        assert_eq!(req.headers()["header2"], "value1,value2");
        assert_eq!(req.headers()[COOKIE], "cookie1; cookie2");
        assert_eq!(req.body().as_ref(), b"Hello from client!");
    }

    #[test]
    fn detect_rejects_non_http_payloads() {
        assert!(HttpEvent::detect(b"hello").is_none());
        assert!(HttpEvent::detect(b"{\"key\":\"value\"}").is_none());
        assert!(HttpEvent::detect(br#"{"version":"1.0","httpMethod":"GET"}"#).is_none());
        assert!(HttpEvent::detect(br#"{"version":"2.0","requestContext":{}}"#).is_none());
    }

    #[test]
    fn request_round_trips_through_an_event() {
        let req = http::Request::post("http://fn.example.com/a/b%20c?x=1&y=2&x=3")
            .header("Host", "fn.example.com")
            .header("Cookie", "a=1; b=2")
            .header("Cookie", "c=3")
            .header("X-Multi", "one")
            .header("X-Multi", "two")
            .header("Content-Type", "application/json")
            .header("User-Agent", "tester/1")
            .body(())
            .unwrap();
        let (parts, ()) = req.into_parts();
        let ev = event_from_request(&parts, br#"{"k":1}"#, "req-1");
        assert_eq!(ev.version, "2.0");
        assert_eq!(ev.route_key, "$default");
        assert_eq!(ev.raw_path, "/a/b%20c");
        assert_eq!(ev.raw_query_string, "x=1&y=2&x=3");
        assert_eq!(ev.cookies.as_deref().unwrap(), ["a=1", "b=2", "c=3"]);
        assert!(!ev.headers.contains_key("cookie"));
        assert_eq!(ev.headers["x-multi"], "one,two");
        let query = ev.query_string_parameters.as_ref().unwrap();
        assert_eq!(query["x"], "1,3");
        assert_eq!(query["y"], "2");
        assert_eq!(ev.request_context.domain_name, "fn.example.com");
        assert_eq!(ev.request_context.domain_prefix, "fn");
        assert_eq!(ev.request_context.http.method, "POST");
        assert_eq!(ev.request_context.http.protocol, "HTTP/1.1");
        assert_eq!(ev.request_context.http.user_agent, "tester/1");
        assert_eq!(ev.request_context.request_id, "req-1");
        assert_eq!(
            ev.request_context.time.len(),
            "12/Mar/2020:19:03:58 +0000".len()
        );
        assert!(!ev.is_base64_encoded);
        assert_eq!(ev.body.as_deref(), Some(r#"{"k":1}"#));

        // The exact wire names.
        let json = serde_json::to_value(&ev).unwrap();
        for pointer in [
            "/version",
            "/routeKey",
            "/rawPath",
            "/rawQueryString",
            "/cookies",
            "/headers",
            "/queryStringParameters",
            "/requestContext/accountId",
            "/requestContext/apiId",
            "/requestContext/domainName",
            "/requestContext/domainPrefix",
            "/requestContext/http/method",
            "/requestContext/http/path",
            "/requestContext/http/protocol",
            "/requestContext/http/sourceIp",
            "/requestContext/http/userAgent",
            "/requestContext/requestId",
            "/requestContext/routeKey",
            "/requestContext/stage",
            "/requestContext/time",
            "/requestContext/timeEpoch",
            "/body",
            "/isBase64Encoded",
            "/pathParameters",
            "/stageVariables",
        ] {
            assert!(json.pointer(pointer).is_some(), "{pointer} missing: {json}");
        }

        let back = request_from_event(serde_json::from_value(json).unwrap()).unwrap();
        assert_eq!(back.method(), Method::POST);
        assert_eq!(back.uri().path(), "/a/b%20c");
        assert_eq!(back.uri().query(), Some("x=1&y=2&x=3"));
        assert_eq!(back.headers()[COOKIE], "a=1; b=2; c=3");
        assert_eq!(back.headers()["x-multi"], "one,two");
        assert_eq!(back.body().as_ref(), br#"{"k":1}"#);
    }

    #[test]
    fn binary_request_bodies_are_base64() {
        let (parts, ()) = http::Request::put("/bin")
            .header("Content-Type", "application/octet-stream")
            .body(())
            .unwrap()
            .into_parts();
        let body = [0u8, 159, 146, 150, 255];
        let ev = event_from_request(&parts, &body, "r");
        assert!(ev.is_base64_encoded);
        assert_eq!(ev.body.as_deref(), Some(BASE64.encode(body).as_str()));
        assert_eq!(request_from_event(ev).unwrap().body().as_ref(), body);

        // Invalid UTF-8 is base64 even with a textual type; an empty body is absent.
        let (parts, ()) = http::Request::get("/").body(()).unwrap().into_parts();
        assert!(event_from_request(&parts, &[0xff, 0xfe], "r").is_base64_encoded);
        let empty = event_from_request(&parts, b"", "r");
        assert_eq!(empty.body, None);
        assert!(empty.query_string_parameters.is_none());
        assert!(empty.cookies.is_none());
    }

    #[test]
    fn bad_events_are_errors() {
        let mut ev = HttpEvent::detect(FUNCTION_URL_EVENT.as_bytes()).unwrap();
        ev.is_base64_encoded = true;
        ev.body = Some("not base64!".into());
        assert!(matches!(
            request_from_event(ev.clone()),
            Err(EventError::InvalidBase64(_))
        ));
        ev.request_context.http.method = "GE T".into();
        assert!(matches!(
            request_from_event(ev.clone()),
            Err(EventError::InvalidMethod(_))
        ));
        ev.request_context.http.method = "GET".into();
        ev.body = None;
        ev.headers.insert("bad header".into(), "x".into());
        assert!(matches!(
            request_from_event(ev),
            Err(EventError::InvalidHeader(_))
        ));
    }

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
    fn responses_map_cookies_headers_and_bodies() {
        let (parts, ()) = http::Response::builder()
            .status(201)
            .header("Content-Type", "text/plain")
            .header("Set-Cookie", "a=1; Path=/")
            .header("Set-Cookie", "b=2")
            .header("X-Multi", "one")
            .header("X-Multi", "two")
            .body(())
            .unwrap()
            .into_parts();
        let ev = event_response_from(parts, b"created");
        assert_eq!(ev.status_code, 201);
        assert_eq!(ev.cookies, ["a=1; Path=/", "b=2"]);
        assert!(!ev.headers.contains_key("set-cookie"));
        assert_eq!(ev.headers["x-multi"], "one,two");
        assert_eq!(ev.body.as_deref(), Some("created"));
        assert!(!ev.is_base64_encoded);
        let json = serde_json::to_vec(&ev).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        for key in [
            "statusCode",
            "headers",
            "cookies",
            "body",
            "isBase64Encoded",
        ] {
            assert!(value.get(key).is_some(), "{key} missing: {value}");
        }
        assert!(value.get("multiValueHeaders").is_none());

        let resp = response_from_payload(&json).unwrap();
        assert_eq!(resp.status(), 201);
        let cookies: Vec<_> = resp.headers().get_all(SET_COOKIE).iter().collect();
        assert_eq!(cookies, ["a=1; Path=/", "b=2"]);
        assert_eq!(resp.headers()["x-multi"], "one,two");
        assert_eq!(resp.body().as_ref(), b"created");

        // Binary bodies travel as base64.
        let (parts, ()) = http::Response::builder()
            .header("Content-Type", "image/png")
            .body(())
            .unwrap()
            .into_parts();
        let png = [0x89u8, b'P', b'N', b'G', 0, 0xff];
        let ev = event_response_from(parts, &png);
        assert!(ev.is_base64_encoded);
        let resp = response_from_payload(&serde_json::to_vec(&ev).unwrap()).unwrap();
        assert_eq!(resp.body().as_ref(), png);
    }

    #[test]
    fn payload_inference_and_errors() {
        // The aws-lambda-rust-runtime apigw v2 response fixture shape.
        let resp = response_from_payload(
            br#"{"statusCode":200,"headers":{"content-type":"application/json","x-n":5},
                 "multiValueHeaders":{"x-m":["1","2"]},"body":"{\"message\":\"Hello\"}",
                 "isBase64Encoded":false,"cookies":["c=1"]}"#,
        )
        .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["x-n"], "5");
        let multi: Vec<_> = resp.headers().get_all("x-m").iter().collect();
        assert_eq!(multi, ["1", "2"]);
        assert_eq!(resp.headers()[SET_COOKIE], "c=1");
        assert_eq!(resp.body().as_ref(), br#"{"message":"Hello"}"#);

        // Valid JSON without statusCode: 200 application/json, the JSON itself as the body.
        for payload in [&br#"{"hello":"world"}"#[..], b"\"text\"", b"[1,2]", b"42"] {
            let resp = response_from_payload(payload).unwrap();
            assert_eq!(resp.status(), 200);
            assert_eq!(resp.headers()[CONTENT_TYPE], "application/json");
            assert_eq!(resp.body().as_ref(), payload);
        }

        assert!(matches!(
            response_from_payload(b"plain text"),
            Err(EventError::NotJson(_))
        ));
        assert!(matches!(
            response_from_payload(br#"{"statusCode":"x"}"#),
            Err(EventError::InvalidResponse(_))
        ));
        assert!(matches!(
            response_from_payload(br#"{"statusCode":1000}"#),
            Err(EventError::InvalidResponse(_))
        ));
        assert!(matches!(
            response_from_payload(br#"{"statusCode":200,"body":"%%","isBase64Encoded":true}"#),
            Err(EventError::InvalidBase64(_))
        ));
    }

    #[test]
    fn clf_time_formats_utc() {
        assert_eq!(clf_time(1_583_348_638), "04/Mar/2020:19:03:58 +0000");
        assert_eq!(clf_time(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(clf_time(951_782_400), "29/Feb/2000:00:00:00 +0000");
    }
}
