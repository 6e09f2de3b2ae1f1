//! What an invocation answers: the request, echoed as JSON.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use faas_provider::{Body, FunctionRef, ProviderError, Result};
use http_body_util::{BodyExt, LengthLimitError};
use serde::{Deserialize, Serialize};

/// Response header naming the replica that served an invocation (`<name>-<n>`).
pub const INSTANCE_HEADER: &str = "x-memory-instance";

/// The JSON body of every invocation of a [`crate::MemoryProvider`] function.
///
/// ```json
/// {"function":"echo","namespace":"openfaas-fn","method":"POST","path":"/a/b","query":"x=1",
///  "headers":{"content-type":"text/plain"},"body":"hello"}
/// ```
///
/// Exactly one of `body` (the request body when it is valid UTF-8) and `bodyBase64` (standard
/// base64 otherwise) is present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EchoResponse {
    /// The function's name.
    pub function: String,
    /// The function's namespace.
    pub namespace: String,
    /// The request method, e.g. `POST`.
    pub method: String,
    /// The request URI's path (`/` for `/function/<name>`).
    pub path: String,
    /// The raw query string without `?` (`""` when none).
    pub query: String,
    /// Request headers: lowercase names; repeated values joined with `", "`.
    pub headers: BTreeMap<String, String>,
    /// The request body, when it is valid UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The request body in standard base64, when it is not valid UTF-8.
    #[serde(
        default,
        rename = "bodyBase64",
        skip_serializing_if = "Option::is_none"
    )]
    pub body_base64: Option<String>,
}

impl EchoResponse {
    /// The echo of a request to `function`.
    pub fn new(function: &FunctionRef, parts: &http::request::Parts, body: &[u8]) -> Self {
        let mut headers = BTreeMap::<String, String>::new();
        for name in parts.headers.keys() {
            let joined = parts
                .headers
                .get_all(name)
                .iter()
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
                .collect::<Vec<_>>()
                .join(", ");
            headers.insert(name.as_str().to_ascii_lowercase(), joined);
        }
        let (body, body_base64) = match std::str::from_utf8(body) {
            Ok(text) => (Some(text.to_string()), None),
            Err(_) => (None, Some(STANDARD.encode(body))),
        };
        Self {
            function: function.name.clone(),
            namespace: function.namespace.clone(),
            method: parts.method.as_str().to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().unwrap_or_default().to_string(),
            headers,
            body,
            body_base64,
        }
    }

    /// The request body as bytes, from whichever of `body` / `bodyBase64` is present
    /// (`None` when `bodyBase64` is not valid base64).
    pub fn body_bytes(&self) -> Option<Vec<u8>> {
        match (&self.body, &self.body_base64) {
            (Some(text), _) => Some(text.as_bytes().to_vec()),
            (None, Some(encoded)) => STANDARD.decode(encoded).ok(),
            (None, None) => Some(Vec::new()),
        }
    }
}

/// Reads a request body to the end, frame by frame. A body cut short by a server-imposed limit
/// is `PayloadTooLarge`; any other read failure (client gone, bad framing) is `InvalidRequest`.
pub(crate) async fn read_body(body: Body) -> Result<Bytes> {
    match body.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
            while let Some(cause) = source {
                if cause.is::<LengthLimitError>() {
                    return Err(ProviderError::PayloadTooLarge(
                        "request body is over the limit".to_string(),
                    ));
                }
                source = cause.source();
            }
            Err(ProviderError::invalid(format!(
                "failed to read the request body: {error}"
            )))
        }
    }
}
