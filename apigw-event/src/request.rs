//! HTTP request ⇄ API Gateway v2 / Function URL event: the provider describes a request as an
//! event, the shim turns the event back into the request the function sees.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{COOKIE, HOST, USER_AGENT};
use http::{HeaderName, HeaderValue, Method};

use crate::body::{decode_body, encode_body, join_headers};
use crate::error::EventError;
use crate::wire::{DEFAULT_ROUTE, HttpDescription, HttpEvent, PAYLOAD_VERSION, RequestContext};

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
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;

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
    fn clf_time_formats_utc() {
        assert_eq!(clf_time(1_583_348_638), "04/Mar/2020:19:03:58 +0000");
        assert_eq!(clf_time(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(clf_time(951_782_400), "29/Feb/2000:00:00:00 +0000");
    }
}
