//! Raw HTTP against the provider's REST endpoint (reqwest, no `HttpProvider`): what the
//! wire-level cases use to check status codes, headers and JSON shapes.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use reqwest::{Method, RequestBuilder};
use serde_json::Value;

use crate::echo::{Echo, preview};
use crate::outcome::Failure;
use crate::target::{HttpTarget, Target};

/// A client for the target's REST endpoint.
#[derive(Debug, Clone)]
pub struct Raw {
    client: reqwest::Client,
    http: HttpTarget,
}

impl Raw {
    /// The raw client of `t`; skips the case when the target has no HTTP endpoint.
    pub fn of(t: &Target) -> Result<Self, Failure> {
        let Some(http) = t.http.clone() else {
            return Err(Failure::skipped("the target has no raw HTTP endpoint"));
        };
        let client = reqwest::Client::builder()
            .timeout(t.timeouts.request)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Failure::failed(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self { client, http })
    }

    /// The configured credentials, if any.
    pub fn credentials(&self) -> Option<&(String, String)> {
        self.http.credentials.as_ref()
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.http.base_url)
    }

    /// A request carrying the configured credentials (if any).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let builder = self.anonymous(method, path);
        match &self.http.credentials {
            Some((user, password)) => builder.basic_auth(user, Some(password)),
            None => builder,
        }
    }

    /// A request without credentials.
    pub fn anonymous(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request with a JSON body given as text (possibly malformed on purpose).
    pub fn with_body(&self, method: Method, path: &str, body: impl Into<Bytes>) -> RequestBuilder {
        self.request(method, path)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(reqwest::Body::from(body.into()))
    }

    /// Sends and reads the whole response. `what` names the request in messages.
    pub async fn send(&self, builder: RequestBuilder) -> Result<Reply, Failure> {
        let request = builder
            .build()
            .map_err(|e| Failure::failed(format!("cannot build a request: {e}")))?;
        let what = format!("{} {}", request.method(), request.url().path())
            + &request
                .url()
                .query()
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
        let response = self
            .client
            .execute(request)
            .await
            .map_err(|e| Failure::failed(format!("{what}: request failed: {e}")))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| Failure::failed(format!("{what}: reading the body failed: {e}")))?;
        Ok(Reply {
            what,
            status,
            headers,
            body,
        })
    }
}

/// A raw response, body read.
#[derive(Debug, Clone)]
pub struct Reply {
    /// `METHOD /path?query`, for messages.
    pub what: String,
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Reply {
    /// Fails unless the status is one of `allowed`.
    pub fn expect(&self, allowed: &[u16]) -> Result<&Self, Failure> {
        if allowed.contains(&self.status.as_u16()) {
            Ok(self)
        } else {
            Err(Failure::failed(format!(
                "{}: expected status {}, got {} with body {:?}",
                self.what,
                allowed
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(" or "),
                self.status,
                preview(&self.body)
            )))
        }
    }

    /// Fails unless the status is a 4xx with a non-empty message.
    pub fn expect_client_error_with_message(&self, allowed: &[u16]) -> Result<&Self, Failure> {
        self.expect(allowed)?;
        if self.text().trim().is_empty() {
            return Err(Failure::failed(format!(
                "{}: answered {} with an empty body; a message saying what is wrong is required",
                self.what, self.status
            )));
        }
        Ok(self)
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> Result<Value, Failure> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Failure::failed(format!(
                "{}: body is not JSON ({e}): {:?}",
                self.what,
                preview(&self.body)
            ))
        })
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Fails unless `Content-Type` starts with `prefix`.
    pub fn expect_content_type(&self, prefix: &str) -> Result<&Self, Failure> {
        match self.header("content-type") {
            Some(value) if value.starts_with(prefix) => Ok(self),
            other => Err(Failure::failed(format!(
                "{}: expected Content-Type {prefix}, got {other:?}",
                self.what
            ))),
        }
    }

    /// The body decoded as the target's echo; fails unless the status is 200.
    pub fn echo(&self, t: &Target) -> Result<Echo, Failure> {
        self.expect(&[200])?;
        Echo::decode(t.echo.format, &self.body)
            .map_err(|e| Failure::failed(format!("{}: {e}", self.what)))
    }
}
