//! HTTP response ⇄ API Gateway v2 / Function URL response payload: the shim describes the
//! function's answer as a payload, the provider turns a payload back into the response.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, SET_COOKIE};
use http::{HeaderName, HeaderValue, StatusCode};

use crate::body::{decode_body, encode_body, join_headers};
use crate::error::EventError;
use crate::wire::HttpEventResponse;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
