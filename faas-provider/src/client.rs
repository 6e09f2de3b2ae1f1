//! HTTP client: a [`Provider`] over the OpenFaaS provider REST API.
//!
//! [`HttpProvider`] turns every trait call back into the HTTP request the Go SDK serves
//! (`/system/*`, `/function/*`, `/healthz`), so any remote provider — this workspace's
//! [`crate::server`], or a Go one such as faasd or faas-netes — plugs in wherever a local
//! provider does (federation backends, black-box conformance runs).
//!
//! Remote status codes are mapped back into [`ProviderError`] (the inverse of the server's
//! mapping); invocations are proxied with bodies streamed both ways and the function's status
//! passed through untouched, so only a transport failure is an error there.
//!
//! ```no_run
//! use std::time::Duration;
//! use faas_provider::{FunctionRef, Provider, client::HttpProvider};
//!
//! # async fn run() -> faas_provider::Result<()> {
//! let remote = HttpProvider::new("http://127.0.0.1:8081")?
//!     .with_basic_auth("admin", "secret")
//!     .with_timeout(Duration::from_secs(30));
//! let remote = remote.clone().with_capabilities(remote.probe_capabilities().await?);
//! for function in remote.list("openfaas-fn").await? {
//!     println!("{} ({} ready)", function.name, function.available_replicas);
//! }
//! let echo = FunctionRef::new("echo", "openfaas-fn");
//! let request = http::Request::post("/").body(faas_provider::Body::from("hi")).unwrap();
//! let response = remote.invoke(&echo, request).await?;
//! println!("{}", response.status());
//! # Ok(())
//! # }
//! ```

mod base_url;
mod decode;
mod errors;
mod invoke;
mod logs;
mod pool;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::{Method, StatusCode};
use reqwest::{RequestBuilder, Url};
use serde::Serialize;

use crate::error::{ProviderError, Result};
use crate::provider::{Body, Capabilities, FunctionRef, LogRequest, LogStream, Provider};
use crate::types::gojson::format_time;
use crate::types::{
    DeleteFunctionRequest, FunctionDeployment, FunctionNamespace, FunctionStatus, GoJson,
    ProviderInfo, ScaleServiceRequest, Secret,
};

use base_url::{plain_http, segment, validate_base_url};
use errors::{Call, Target};

/// Default bound on a system call (`/system/*`, `/healthz`): faasd pulls images inside
/// `POST /system/functions`, so this is generous.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default bound on an invocation, request to last byte (the gateway's `upstream_timeout`).
pub const DEFAULT_INVOKE_TIMEOUT: Duration = Duration::from_secs(60);
/// Bound on establishing a TCP (and TLS) connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest response body read from a system call (lists of functions included).
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
/// Largest part of an error body kept for the error message.
const MAX_ERROR_BYTES: usize = 8 * 1024;
/// Function name used by [`HttpProvider::probe_capabilities`]'s log query.
const PROBE_FUNCTION: &str = "faas-capability-probe";

/// A plain-`http://` provider's invocation pool and the base URL's path prefix.
#[derive(Clone)]
struct PlainHttp {
    pool: std::sync::Arc<pool::Pool>,
    /// The base URL's path without its trailing slash (`""` or e.g. `/prefix`).
    prefix: String,
}

/// Basic-auth credentials; `Debug` never shows the password.
#[derive(Clone)]
struct BasicAuth {
    user: String,
    password: String,
}

/// A [`Provider`] that is a remote OpenFaaS provider, reached over its REST API.
///
/// Cheap to clone (clones share one `reqwest::Client` and one invocation pool).
#[derive(Clone)]
pub struct HttpProvider {
    client: reqwest::Client,
    /// Invocations of a plain-`http://` provider skip `reqwest` (see [`pool`]).
    plain: Option<PlainHttp>,
    /// Validated base URL without a trailing slash, e.g. `http://127.0.0.1:8081` or
    /// `https://gw.example/prefix`.
    base: String,
    name: String,
    auth: Option<BasicAuth>,
    timeout: Duration,
    deploy_timeout: Duration,
    invoke_timeout: Duration,
    capabilities: Capabilities,
}

impl fmt::Debug for HttpProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpProvider")
            .field("base", &self.base)
            .field("name", &self.name)
            .field(
                "auth",
                &self.auth.as_ref().map(|a| format!("{}:<redacted>", a.user)),
            )
            .field("timeout", &self.timeout)
            .field("deploy_timeout", &self.deploy_timeout)
            .field("invoke_timeout", &self.invoke_timeout)
            .field("capabilities", &self.capabilities)
            .finish()
    }
}

impl HttpProvider {
    /// A client for the provider at `base_url` (`http://` or `https://`, optionally with a
    /// path prefix; no credentials, query or fragment). Nothing is contacted yet.
    pub fn new(base_url: &str) -> Result<Self> {
        let url = validate_base_url(base_url)?;
        let base = url.as_str().trim_end_matches('/').to_string();
        // Validated: the URL has a host, and http(s) has a known default port.
        let name = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or(80)
        );
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            .connect_timeout(CONNECT_TIMEOUT)
            .no_proxy()
            .build()
            .map_err(|e| ProviderError::backend(name.clone(), e))?;
        let plain = plain_http(&url, &name);
        Ok(Self {
            client,
            plain,
            base,
            name,
            auth: None,
            timeout: DEFAULT_TIMEOUT,
            deploy_timeout: DEFAULT_TIMEOUT,
            invoke_timeout: DEFAULT_INVOKE_TIMEOUT,
            capabilities: Capabilities::default(),
        })
    }

    /// Sends these basic-auth credentials on every `/system/*` call (never on invocations,
    /// so they cannot reach a function).
    pub fn with_basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.auth = Some(BasicAuth {
            user: user.into(),
            password: password.into(),
        });
        self
    }

    /// Bound on each system call, request to last byte of the response (for log streams:
    /// until the response headers). Default [`DEFAULT_TIMEOUT`].
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Bound on each write that does work on the remote (deploy, update, delete, scale: image
    /// pulls, readiness waits), request to last byte. Default [`DEFAULT_TIMEOUT`].
    pub fn with_deploy_timeout(mut self, timeout: Duration) -> Self {
        self.deploy_timeout = timeout;
        self
    }

    /// Bound on each invocation, request to last byte of the response.
    /// Default [`DEFAULT_INVOKE_TIMEOUT`].
    pub fn with_invoke_timeout(mut self, timeout: Duration) -> Self {
        self.invoke_timeout = timeout;
        self
    }

    /// The backend name used in errors (default: `host:port` of the base URL).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// What [`Provider::capabilities`] reports (default [`Capabilities::default`]); see
    /// [`HttpProvider::probe_capabilities`] to discover them.
    pub fn with_capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// The backend name used in errors.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The base URL (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Discovers which optional features the remote implements, without side effects:
    /// `GET /system/secrets` (secrets), a `GET /system/logs` query for a function that does not
    /// exist (logs) and `GET /system/namespace/{default}` (namespace mutation; the Go SDK
    /// answers 501 there when no mutation handler is wired). A 501, a 405 or a router's
    /// `404 page not found` means unsupported; any other answer means the route exists.
    ///
    /// `default_namespace`, `scale_to_zero` and `max_replicas` cannot be observed without
    /// changing state and are kept from the configured capabilities. The result is returned,
    /// not stored: pass it to [`HttpProvider::with_capabilities`].
    ///
    /// Errors: the remote cannot be reached, times out or refuses the credentials.
    pub async fn probe_capabilities(&self) -> Result<Capabilities> {
        let namespace = self.capabilities.default_namespace.clone();
        let secrets = async { route_supported(self.list_secrets(&namespace).await) };
        let logs = async {
            let mut request = LogRequest::new(FunctionRef::new(PROBE_FUNCTION, &namespace));
            request.tail = Some(1);
            // The stream is dropped unread: the response (and its connection) is discarded.
            route_supported(self.logs(request).await)
        };
        let namespaces = async { route_supported(self.get_namespace(&namespace).await) };
        let (secrets, logs, namespace_mutation) = futures::try_join!(secrets, logs, namespaces)?;
        Ok(Capabilities {
            secrets,
            logs,
            namespace_mutation,
            ..self.capabilities.clone()
        })
    }

    // ---- plumbing ----------------------------------------------------------------------

    /// `{base}{path}?{query}`; `path` must already be encoded (see [`segment`]).
    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url> {
        let mut url = Url::parse(&format!("{}{}", self.base, path))
            .map_err(|e| ProviderError::invalid(format!("cannot build a URL for {path:?}: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// A system request: credentials attached.
    fn system(&self, method: Method, url: Url) -> RequestBuilder {
        let builder = self.client.request(method, url);
        match &self.auth {
            Some(auth) => builder.basic_auth(&auth.user, Some(&auth.password)),
            None => builder,
        }
    }

    /// The bound on `call`: the deploy timeout for writes, the system timeout otherwise.
    fn bound(&self, call: &Call) -> Duration {
        if call.write {
            self.deploy_timeout
        } else {
            self.timeout
        }
    }

    /// Sends a system request bounded by [`Self::bound`] as a whole and returns the
    /// successful response's body; non-2xx statuses become errors.
    async fn exchange(&self, call: &Call, builder: RequestBuilder) -> Result<Bytes> {
        let mut response = builder
            .timeout(self.bound(call))
            .send()
            .await
            .map_err(|e| self.transport_error(call, e))?;
        let status = response.status();
        tracing::debug!(backend = %self.name, route = %call.route, status = status.as_u16(), "remote call");
        if !status.is_success() {
            let body = read_limited(&mut response, MAX_ERROR_BYTES, false)
                .await
                .unwrap_or_default();
            return Err(self.status_error(call, status, &body));
        }
        read_limited(&mut response, MAX_RESPONSE_BYTES, true)
            .await
            .map_err(|e| match e {
                ReadError::Transport(e) => self.transport_error(call, e),
                ReadError::TooLarge => ProviderError::backend(
                    self.name.clone(),
                    format!(
                        "{}: response body is larger than {MAX_RESPONSE_BYTES} bytes",
                        call.route
                    ),
                ),
            })
    }

    /// [`HttpProvider::exchange`] with a JSON body.
    async fn exchange_json<B: Serialize + ?Sized>(
        &self,
        call: &Call,
        method: Method,
        url: Url,
        body: &B,
    ) -> Result<Bytes> {
        self.exchange(call, self.system(method, url).json(body))
            .await
    }

    /// Decodes a success body as one wire object.
    fn decode<T: GoJson>(&self, call: &Call, body: &[u8]) -> Result<T> {
        T::from_go_json(body).map_err(|e| self.decode_error(call, e))
    }

    fn decode_error(&self, call: &Call, error: serde_json::Error) -> ProviderError {
        ProviderError::backend(
            self.name.clone(),
            format!(
                "{}: the response is not the expected JSON: {error}",
                call.route
            ),
        )
    }

    /// The error for a request that got no (complete) response.
    fn transport_error(&self, call: &Call, error: reqwest::Error) -> ProviderError {
        if error.is_timeout() {
            ProviderError::Timeout(format!(
                "{} on {} did not finish within {:?}",
                call.route,
                self.name,
                self.bound(call)
            ))
        } else {
            ProviderError::Unavailable {
                backend: self.name.clone(),
                reason: errors::transport_reason(error),
            }
        }
    }

    fn status_error(&self, call: &Call, status: StatusCode, body: &[u8]) -> ProviderError {
        errors::status_error(&self.name, call, status, body)
    }

    /// `name.namespace` for messages, the default namespace standing in for an empty one.
    fn qualified(&self, name: &str, namespace: &str) -> String {
        let namespace = if namespace.is_empty() {
            self.capabilities.default_namespace.as_str()
        } else {
            namespace
        };
        format!("{name}.{namespace}")
    }
}

/// Maps a probe's result to "the route exists": `Unsupported` → false; transport, timeout
/// and credential failures are errors; any other answer (including 4xx/5xx about the probe's
/// made-up inputs) proves the route is there.
fn route_supported<T>(result: Result<T>) -> Result<bool> {
    match result {
        Ok(_) => Ok(true),
        Err(ProviderError::Unsupported { .. }) => Ok(false),
        Err(
            e @ (ProviderError::Unavailable { .. }
            | ProviderError::Timeout(_)
            | ProviderError::Unauthorized(_)),
        ) => Err(e),
        Err(_) => Ok(true),
    }
}

/// Why reading a body stopped.
enum ReadError {
    Transport(reqwest::Error),
    TooLarge,
}

/// Reads at most `limit` bytes of a body: beyond it, `TooLarge` when `strict`, else the
/// first `limit` bytes (error messages).
async fn read_limited(
    response: &mut reqwest::Response,
    limit: usize,
    strict: bool,
) -> Result<Bytes, ReadError> {
    let mut buffer = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Transport)? {
        if buffer.len() + chunk.len() > limit {
            if strict {
                return Err(ReadError::TooLarge);
            }
            buffer.extend_from_slice(&chunk[..limit - buffer.len()]);
            break;
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buffer))
}

fn namespace_query(namespace: &str) -> Vec<(&'static str, &str)> {
    if namespace.is_empty() {
        Vec::new()
    } else {
        vec![("namespace", namespace)]
    }
}

#[async_trait]
impl Provider for HttpProvider {
    fn capabilities(&self) -> Capabilities {
        self.capabilities.clone()
    }

    async fn info(&self) -> Result<ProviderInfo> {
        let call = Call::new("info", Target::None, "GET /system/info");
        let body = self
            .exchange(
                &call,
                self.system(Method::GET, self.url("/system/info", &[])?),
            )
            .await?;
        self.decode(&call, &body)
    }

    async fn health(&self) -> Result<()> {
        let call = Call::new("health", Target::None, "GET /healthz");
        let builder = self.client.get(self.url("/healthz", &[])?);
        self.exchange(&call, builder).await.map(|_| ())
    }

    async fn list(&self, namespace: &str) -> Result<Vec<FunctionStatus>> {
        let (call, body) = self.list_body(namespace).await?;
        decode::list(&body).map_err(|e| self.decode_error(&call, e))
    }

    async fn list_json(&self, namespace: &str) -> Result<Vec<u8>> {
        let (call, body) = self.list_body(namespace).await?;
        decode::list_json::<FunctionStatus>(body).map_err(|e| self.decode_error(&call, e))
    }

    async fn get(&self, function: &FunctionRef) -> Result<FunctionStatus> {
        let call = Call::new(
            "get",
            Target::Function(self.qualified(&function.name, &function.namespace)),
            "GET /system/function/{name}",
        );
        let path = format!(
            "/system/function/{}",
            segment("function name", &function.name)?
        );
        let url = self.url(&path, &namespace_query(&function.namespace))?;
        let body = self.exchange(&call, self.system(Method::GET, url)).await?;
        self.decode(&call, &body)
    }

    async fn deploy(&self, spec: FunctionDeployment) -> Result<()> {
        let call = Call::write(
            "deploy",
            Target::Function(self.qualified(&spec.service, &spec.namespace)),
            "POST /system/functions",
        );
        let url = self.url("/system/functions", &[])?;
        self.exchange_json(&call, Method::POST, url, &spec)
            .await
            .map(|_| ())
    }

    async fn update(&self, spec: FunctionDeployment) -> Result<()> {
        let call = Call::write(
            "update",
            Target::Function(self.qualified(&spec.service, &spec.namespace)),
            "PUT /system/functions",
        );
        let url = self.url("/system/functions", &[])?;
        self.exchange_json(&call, Method::PUT, url, &spec)
            .await
            .map(|_| ())
    }

    async fn delete(&self, function: &FunctionRef) -> Result<()> {
        let call = Call::write(
            "delete",
            Target::Function(self.qualified(&function.name, &function.namespace)),
            "DELETE /system/functions",
        );
        // faasd reads the namespace from the body, faas-netes from the query: send both.
        let url = self.url("/system/functions", &namespace_query(&function.namespace))?;
        let body = DeleteFunctionRequest {
            function_name: function.name.clone(),
            namespace: function.namespace.clone(),
        };
        self.exchange_json(&call, Method::DELETE, url, &body)
            .await
            .map(|_| ())
    }

    async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        let call = Call::write(
            "scale",
            Target::Function(self.qualified(&function.name, &function.namespace)),
            "POST /system/scale-function/{name}",
        );
        // faas-netes reads path + query, faasd reads the body: send all of them.
        let path = format!(
            "/system/scale-function/{}",
            segment("function name", &function.name)?
        );
        let url = self.url(&path, &namespace_query(&function.namespace))?;
        let body = ScaleServiceRequest {
            service_name: function.name.clone(),
            replicas,
            namespace: function.namespace.clone(),
        };
        self.exchange_json(&call, Method::POST, url, &body)
            .await
            .map(|_| ())
    }

    async fn invoke(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        invoke::invoke(self, function, request).await
    }

    async fn list_secrets(&self, namespace: &str) -> Result<Vec<Secret>> {
        let call = Call::optional(
            "secrets",
            Target::Namespace(if namespace.is_empty() {
                self.capabilities.default_namespace.clone()
            } else {
                namespace.to_string()
            }),
            "GET /system/secrets",
        );
        let url = self.url("/system/secrets", &namespace_query(namespace))?;
        let body = self.exchange(&call, self.system(Method::GET, url)).await?;
        decode::list(&body).map_err(|e| self.decode_error(&call, e))
    }

    async fn create_secret(&self, secret: Secret) -> Result<()> {
        self.secret_call(Method::POST, "POST /system/secrets", &secret)
            .await
    }

    async fn update_secret(&self, secret: Secret) -> Result<()> {
        self.secret_call(Method::PUT, "PUT /system/secrets", &secret)
            .await
    }

    async fn delete_secret(&self, name: &str, namespace: &str) -> Result<()> {
        let secret = Secret::new(name, namespace, "");
        self.secret_call(Method::DELETE, "DELETE /system/secrets", &secret)
            .await
    }

    async fn logs(&self, request: LogRequest) -> Result<LogStream> {
        let function = &request.function;
        let call = Call::optional(
            "logs",
            Target::Function(self.qualified(&function.name, &function.namespace)),
            "GET /system/logs",
        );
        let since = request.since.as_ref().map(format_time);
        let tail = request.tail.map(|t| t.to_string());
        let mut query: Vec<(&str, &str)> = vec![("name", function.name.as_str())];
        if !function.namespace.is_empty() {
            query.push(("namespace", function.namespace.as_str()));
        }
        if let Some(instance) = &request.instance {
            query.push(("instance", instance.as_str()));
        }
        if let Some(since) = &since {
            query.push(("since", since.as_str()));
        }
        if let Some(tail) = &tail {
            query.push(("tail", tail.as_str()));
        }
        query.push(("follow", if request.follow { "true" } else { "false" }));
        let url = self.url("/system/logs", &query)?;
        // Follow streams never end: only the wait for the response head is bounded.
        let head = async {
            let mut response = self
                .system(Method::GET, url)
                .send()
                .await
                .map_err(|e| self.transport_error(&call, e))?;
            let status = response.status();
            if !status.is_success() {
                let body = read_limited(&mut response, MAX_ERROR_BYTES, false)
                    .await
                    .unwrap_or_default();
                return Err(self.status_error(&call, status, &body));
            }
            Ok(response)
        };
        let response = tokio::time::timeout(self.timeout, head)
            .await
            .map_err(|_| {
                ProviderError::Timeout(format!(
                    "{} on {}: no response within {:?}",
                    call.route, self.name, self.timeout
                ))
            })??;
        Ok(logs::ndjson(response.bytes_stream(), self.name.clone()))
    }

    async fn list_namespaces(&self) -> Result<Vec<String>> {
        let call = Call::optional("namespaces", Target::None, "GET /system/namespaces");
        let url = self.url("/system/namespaces", &[])?;
        match self.exchange(&call, self.system(Method::GET, url)).await {
            Ok(body) => decode::strings(&body).map_err(|e| self.decode_error(&call, e)),
            // A provider without the route has only its default namespace (what the trait's
            // default says, and what the gateway assumes on a 404).
            Err(ProviderError::Unsupported { .. }) => {
                Ok(vec![self.capabilities.default_namespace.clone()])
            }
            Err(e) => Err(e),
        }
    }

    async fn get_namespace(&self, name: &str) -> Result<FunctionNamespace> {
        let call = Call::optional(
            "namespaces",
            Target::Namespace(name.to_string()),
            "GET /system/namespace/{name}",
        );
        let url = self.url(
            &format!("/system/namespace/{}", segment("namespace", name)?),
            &[],
        )?;
        let body = self.exchange(&call, self.system(Method::GET, url)).await?;
        self.decode(&call, &body)
    }

    async fn create_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        self.namespace_call(Method::POST, "POST /system/namespace/{name}", &namespace)
            .await
    }

    async fn update_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        self.namespace_call(Method::PUT, "PUT /system/namespace/{name}", &namespace)
            .await
    }

    async fn delete_namespace(&self, name: &str) -> Result<()> {
        // faasd parses a body on DELETE too and requires its name to match the path.
        let namespace = FunctionNamespace {
            name: name.to_string(),
            ..FunctionNamespace::default()
        };
        self.namespace_call(
            Method::DELETE,
            "DELETE /system/namespace/{name}",
            &namespace,
        )
        .await
    }
}

impl HttpProvider {
    /// `GET /system/functions` of `namespace`: the call (for errors) and the body.
    async fn list_body(&self, namespace: &str) -> Result<(Call, Bytes)> {
        let call = Call::new(
            "list",
            Target::Namespace(if namespace.is_empty() {
                self.capabilities.default_namespace.clone()
            } else {
                namespace.to_string()
            }),
            "GET /system/functions",
        );
        let url = self.url("/system/functions", &namespace_query(namespace))?;
        let body = self.exchange(&call, self.system(Method::GET, url)).await?;
        Ok((call, body))
    }

    /// POST/PUT/DELETE `/system/secrets`: namespace in body and query (faasd reads the query
    /// on DELETE, faas-netes the body).
    async fn secret_call(
        &self,
        method: Method,
        route: &'static str,
        secret: &Secret,
    ) -> Result<()> {
        let call = Call::optional("secrets", Target::Secret(secret.name.clone()), route);
        segment("secret name", &secret.name)?;
        let url = self.url("/system/secrets", &namespace_query(&secret.namespace))?;
        self.exchange_json(&call, method, url, secret)
            .await
            .map(|_| ())
    }

    async fn namespace_call(
        &self,
        method: Method,
        route: &'static str,
        namespace: &FunctionNamespace,
    ) -> Result<()> {
        let call = Call::optional(
            "namespaces",
            Target::Namespace(namespace.name.clone()),
            route,
        );
        let url = self.url(
            &format!(
                "/system/namespace/{}",
                segment("namespace", &namespace.name)?
            ),
            &[],
        )?;
        self.exchange_json(&call, method, url, namespace)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_bases_get_an_invocation_pool() {
        for (base, host, prefix) in [
            ("http://127.0.0.1:8081", "127.0.0.1:8081", ""),
            ("http://gateway.example", "gateway.example", ""),
            (
                "http://gateway.example:80/prefix",
                "gateway.example",
                "/prefix",
            ),
            ("http://[::1]:8080/a/b", "[::1]:8080", "/a/b"),
        ] {
            let provider = HttpProvider::new(base).unwrap();
            let plain = provider.plain.as_ref().expect(base);
            assert_eq!(plain.pool.host(), host, "{base}");
            assert_eq!(plain.prefix, prefix, "{base}");
        }
        let tls = HttpProvider::new("https://gateway.example").unwrap();
        assert!(tls.plain.is_none(), "https goes through reqwest");
    }
}
