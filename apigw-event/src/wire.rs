//! The API Gateway v2 / Function URL event and response payloads as they are serialised
//! (camelCase names, API Gateway's leniency about header value types), and recognising an
//! event among other payloads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The `version` of the events this module produces and recognises.
pub const PAYLOAD_VERSION: &str = "2.0";

/// `routeKey` and `stage` of a Function URL event.
pub const DEFAULT_ROUTE: &str = "$default";

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_rejects_non_http_payloads() {
        assert!(HttpEvent::detect(b"hello").is_none());
        assert!(HttpEvent::detect(b"{\"key\":\"value\"}").is_none());
        assert!(HttpEvent::detect(br#"{"version":"1.0","httpMethod":"GET"}"#).is_none());
        assert!(HttpEvent::detect(br#"{"version":"2.0","requestContext":{}}"#).is_none());
    }
}
