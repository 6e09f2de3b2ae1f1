//! One accepted asynchronous call, as it is stored in a queue (JSON; bytes in base64).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use faas_provider::{Body, FunctionRef};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde::{Deserialize, Serialize};

/// A call accepted on `/async-function/...`: everything needed to run it later.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsyncCall {
    /// The call id (`X-Call-Id`: the caller's, or a new UUID).
    pub id: String,
    /// Function name.
    pub name: String,
    /// Function namespace.
    pub namespace: String,
    /// HTTP method.
    pub method: String,
    /// Path after the function name (`/` when none).
    pub path: String,
    /// Query string, without `?`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Request headers (hop-by-hop ones removed), values as raw bytes.
    #[serde(default)]
    pub headers: Vec<Header>,
    /// Request body.
    #[serde(default, with = "base64_bytes")]
    pub body: Vec<u8>,
    /// Where the result is POSTed (`X-Callback-Url`), if anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// When the call was accepted, in milliseconds since the Unix epoch.
    pub accepted_ms: u64,
}

/// One header of a stored call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Lower-case header name.
    pub name: String,
    /// Raw value.
    #[serde(with = "base64_bytes")]
    pub value: Vec<u8>,
}

impl AsyncCall {
    /// A `POST /` of function `f` with `body`, for tests.
    #[cfg(test)]
    pub(crate) fn sample(id: &str, body: &[u8]) -> Self {
        Self {
            id: id.into(),
            name: "f".into(),
            namespace: "openfaas-fn".into(),
            method: "POST".into(),
            path: "/".into(),
            query: None,
            headers: Vec::new(),
            body: body.to_vec(),
            callback_url: None,
            accepted_ms: 0,
        }
    }

    /// The function the call is for.
    pub fn function(&self) -> FunctionRef {
        FunctionRef::new(self.name.clone(), self.namespace.clone())
    }

    /// Milliseconds since the Unix epoch, now.
    pub fn now_ms() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| {
                u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
            })
    }

    /// Copies `headers` into the stored form.
    pub fn store_headers(headers: &HeaderMap) -> Vec<Header> {
        headers
            .iter()
            .map(|(name, value)| Header {
                name: name.as_str().to_string(),
                value: value.as_bytes().to_vec(),
            })
            .collect()
    }

    /// The request the worker sends through the provider's invoke path. Stored headers that
    /// are no longer valid (never the case for what the accept handler stored) are skipped.
    pub fn to_request(&self) -> Result<http::Request<Body>, String> {
        let method = Method::from_bytes(self.method.as_bytes())
            .map_err(|_| format!("invalid method {:?}", self.method))?;
        let uri = match &self.query {
            Some(query) => format!("{}?{query}", self.path),
            None => self.path.clone(),
        };
        let mut request = http::Request::builder()
            .method(method)
            .uri(&uri)
            .body(Body::from(self.body.clone()))
            .map_err(|error| format!("invalid request {uri:?}: {error}"))?;
        let headers = request.headers_mut();
        for header in &self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(header.name.as_bytes()),
                HeaderValue::from_bytes(&header.value),
            ) {
                headers.append(name, value);
            }
        }
        Ok(request)
    }

    /// The stored JSON.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an AsyncCall always serialises")
    }

    /// A call from its stored JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes).map_err(|error| error.to_string())
    }
}

mod base64_bytes {
    use super::{Engine, STANDARD};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> AsyncCall {
        AsyncCall {
            id: "id-1".into(),
            name: "echo".into(),
            namespace: "openfaas-fn".into(),
            method: "PUT".into(),
            path: "/a/b".into(),
            query: Some("x=1&y=%20".into()),
            headers: vec![
                Header {
                    name: "x-bytes".into(),
                    value: vec![b'a', 0xE9, b'b'],
                },
                Header {
                    name: "x-many".into(),
                    value: b"1".to_vec(),
                },
                Header {
                    name: "x-many".into(),
                    value: b"2".to_vec(),
                },
            ],
            body: vec![0, 159, 146, 150],
            callback_url: Some("http://127.0.0.1:1/cb".into()),
            accepted_ms: 42,
        }
    }

    #[test]
    fn json_round_trips_bytes_exactly() {
        let call = call();
        assert_eq!(AsyncCall::from_json(&call.to_json()).unwrap(), call);
        assert!(AsyncCall::from_json(b"{}").is_err());
    }

    #[tokio::test]
    async fn the_request_carries_method_path_query_headers_and_body() {
        use http_body_util::BodyExt;
        let request = call().to_request().unwrap();
        assert_eq!(request.method(), "PUT");
        assert_eq!(request.uri(), "/a/b?x=1&y=%20");
        assert_eq!(request.headers()["x-bytes"].as_bytes(), &[b'a', 0xE9, b'b']);
        assert_eq!(request.headers().get_all("x-many").iter().count(), 2);
        let body = request.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], &[0, 159, 146, 150]);
    }
}
