//! Settings of the Lambda API.

use std::time::Duration;

/// Settings of the Lambda API (see [`super::routes`]).
#[derive(Clone, PartialEq, Eq)]
pub struct LambdaApiConfig {
    /// Access key ids and secrets (SigV4). Empty: signatures are not checked, as `basic_auth`
    /// off leaves the OpenFaaS routes open.
    pub credentials: Vec<(String, String)>,
    /// The region of ARNs and of signatures (default `us-east-1`).
    pub region: String,
    /// The account of ARNs (default `000000000000`).
    pub account: String,
    /// Largest `Invoke` payload, request and response (default 6 MB = 6,291,456 bytes, Lambda's).
    pub max_payload_bytes: usize,
    /// Largest `Event` (asynchronous) payload (default 256 KiB, Lambda's classic limit; it
    /// must fit the queue's `async_max_body_bytes`).
    pub max_event_payload_bytes: usize,
    /// Longest synchronous `Invoke` (default 900 s, Lambda's longest timeout); past it the call
    /// answers a `Sandbox.Timedout` function error.
    pub invoke_timeout: Duration,
    /// The backend of functions created through this API without the
    /// `com.openfaas.federation.gateway` tag (`None`: the federation's default backend).
    pub default_backend: Option<String>,
}

impl std::fmt::Debug for LambdaApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.credentials.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("LambdaApiConfig")
            .field("access_key_ids", &ids)
            .field("region", &self.region)
            .field("account", &self.account)
            .field("max_payload_bytes", &self.max_payload_bytes)
            .field("max_event_payload_bytes", &self.max_event_payload_bytes)
            .field("invoke_timeout", &self.invoke_timeout)
            .field("default_backend", &self.default_backend)
            .finish()
    }
}

/// Lambda's synchronous payload limit.
pub const LAMBDA_MAX_PAYLOAD: usize = 6 * 1024 * 1024;

impl Default for LambdaApiConfig {
    fn default() -> Self {
        Self {
            credentials: Vec::new(),
            region: "us-east-1".to_string(),
            account: "000000000000".to_string(),
            max_payload_bytes: LAMBDA_MAX_PAYLOAD,
            max_event_payload_bytes: 256 * 1024,
            invoke_timeout: Duration::from_secs(900),
            default_backend: None,
        }
    }
}
