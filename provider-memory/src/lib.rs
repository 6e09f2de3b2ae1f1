//! # provider-memory
//!
//! The reference OpenFaaS provider: every semantic of the provider API, held in memory, with no
//! daemon behind it. Functions "run" as an echo: an invocation answers `200` with the request
//! as JSON ([`EchoResponse`]) and names the replica that served it in [`INSTANCE_HEADER`].
//!
//! What it implements ([`Capabilities::full`]):
//! - functions: deploy (409 on a taken name, secrets must exist), update (keeps
//!   `invocationCount`, `createdAt` and replicas, raised to `com.openfaas.scale.min`), delete,
//!   scale (0..N), get, list;
//! - readiness: replicas are ready at once, or after [`MemoryProvider::with_readiness_delay`];
//!   an invocation with no ready replica is `NotReady`;
//! - namespaces: `openfaas-fn` always exists; others are created, updated and deleted;
//! - secrets: create, update, delete, list (values never returned);
//! - logs: lifecycle and per-invocation lines, with `instance`, `since`, `tail` and `follow`.
//!
//! ```
//! use faas_provider::{Body, FunctionDeployment, FunctionRef, Provider};
//! use provider_memory::{EchoResponse, MemoryProvider};
//! use http_body_util::BodyExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> faas_provider::Result<()> {
//! let provider = MemoryProvider::new();
//! let mut spec = FunctionDeployment::new("echo", "example/echo:1");
//! spec.namespace = "openfaas-fn".into();
//! provider.deploy(spec).await?;
//!
//! let function = FunctionRef::new("echo", "openfaas-fn");
//! let request = http::Request::post("/a/b?x=1").body(Body::from("hi")).unwrap();
//! let response = provider.invoke(&function, request).await?;
//! let bytes = response.into_body().collect().await.unwrap().to_bytes();
//! let echo: EchoResponse = serde_json::from_slice(&bytes).unwrap();
//! assert_eq!((echo.path.as_str(), echo.query.as_str()), ("/a/b", "x=1"));
//! assert_eq!(echo.body.as_deref(), Some("hi"));
//! assert_eq!(provider.get(&function).await?.invocation_count, 1.0);
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod echo;
mod logs;
mod state;
#[cfg(test)]
mod tests;

use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use async_trait::async_trait;
use faas_provider::error::ResourceKind;
use faas_provider::types::name::{validate_secret_name, validate_service};
use faas_provider::types::{namespace_not_found, namespace_or_default, validate_namespace_body};
use faas_provider::{
    Body, Capabilities, DEFAULT_NAMESPACE, FunctionDeployment, FunctionNamespace, FunctionRef,
    FunctionStatus, LogRequest, LogStream, Provider, ProviderError, ProviderInfo, Result, Secret,
};
use futures::StreamExt;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use tokio::time::Instant;

pub use echo::{EchoResponse, INSTANCE_HEADER};
pub use logs::DEFAULT_LOG_HISTORY;

use state::{FunctionEntry, NamespaceEntry, Replicas, State};

/// The name this provider reports in `/system/info` and in backend errors.
pub const PROVIDER_NAME: &str = "faas-memory";

/// An OpenFaaS provider keeping everything in memory. Cheap to create; share it as
/// `Arc<MemoryProvider>` (or `Arc<dyn Provider>`).
#[derive(Debug)]
pub struct MemoryProvider {
    state: RwLock<State>,
    readiness_delay: Duration,
    log_history: usize,
}

impl Default for MemoryProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryProvider {
    /// A provider with only the empty default namespace; replicas are ready at once.
    pub fn new() -> Self {
        Self::with_readiness_delay(Duration::ZERO)
    }

    /// A provider whose new replicas (deploy, scale up, update raising to the minimum) become
    /// available only `delay` after they were added, so callers must poll readiness.
    pub fn with_readiness_delay(delay: Duration) -> Self {
        Self {
            state: RwLock::new(State::new()),
            readiness_delay: delay,
            log_history: DEFAULT_LOG_HISTORY,
        }
    }

    /// Keeps at most `lines` log lines per function (default [`DEFAULT_LOG_HISTORY`]); older
    /// lines are dropped. Applies to functions deployed afterwards.
    pub fn log_history_limit(mut self, lines: usize) -> Self {
        self.log_history = lines;
        self
    }

    /// The stored value of a secret (what a function would read at
    /// `/var/openfaas/secrets/<name>`), for tests and embedders; `None` when absent.
    pub fn secret_value(&self, name: &str, namespace: &str) -> Option<Vec<u8>> {
        self.read()
            .namespaces
            .get(namespace)?
            .secrets
            .get(name)
            .cloned()
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // State is plain data updated in place without panicking paths: a poisoned lock still
        // holds consistent data.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Validates a deployment and fills its namespace.
fn validate_spec(mut spec: FunctionDeployment) -> Result<FunctionDeployment> {
    validate_service(&spec.service)?;
    if spec.image.trim().is_empty() {
        return Err(ProviderError::invalid("image: is required"));
    }
    spec.namespace = namespace_or_default(&spec.namespace).to_string();
    Ok(spec)
}

/// Every secret the spec names must exist in its namespace.
fn check_secrets(namespace: &NamespaceEntry, spec: &FunctionDeployment) -> Result<()> {
    match spec
        .secrets
        .iter()
        .find(|name| !namespace.secrets.contains_key(name.as_str()))
    {
        Some(missing) => Err(ProviderError::invalid(format!(
            "unable to find secret: {missing}"
        ))),
        None => Ok(()),
    }
}

fn secret_not_found(name: &str) -> ProviderError {
    ProviderError::NotFound {
        kind: ResourceKind::Secret,
        name: name.to_string(),
    }
}

#[async_trait]
impl Provider for MemoryProvider {
    fn capabilities(&self) -> Capabilities {
        Capabilities::full()
    }

    async fn info(&self) -> Result<ProviderInfo> {
        Ok(
            ProviderInfo::new(PROVIDER_NAME, "memory", env!("CARGO_PKG_VERSION"))
                .with_sha(env!("FAAS_BUILD_SHA")),
        )
    }

    async fn list(&self, namespace: &str) -> Result<Vec<FunctionStatus>> {
        let now = Instant::now();
        let state = self.read();
        let namespace = state.namespace(namespace_or_default(namespace))?;
        Ok(namespace
            .functions
            .values()
            .map(|f| f.status(now))
            .collect())
    }

    async fn get(&self, function: &FunctionRef) -> Result<FunctionStatus> {
        let now = Instant::now();
        Ok(self
            .read()
            .function(&function.or_default_namespace())?
            .status(now))
    }

    async fn deploy(&self, spec: FunctionDeployment) -> Result<()> {
        let spec = validate_spec(spec)?;
        let function = FunctionRef::new(spec.service.clone(), spec.namespace.clone());
        let now = Instant::now();
        let mut state = self.write();
        let id = state.next_id();
        let namespace = state.namespace_mut(&spec.namespace)?;
        if namespace.functions.contains_key(&spec.service) {
            return Err(ProviderError::function_exists(&function));
        }
        check_secrets(namespace, &spec)?;
        let count = spec.min_replicas();
        let replicas = Replicas::new(count, self.readiness_delay, now);
        let image = spec.image.clone();
        let mut entry = FunctionEntry::new(id, spec, replicas, self.log_history);
        entry.log_lifecycle(format!("Deployed {image} with {count} replicas"));
        namespace.functions.insert(function.name.clone(), entry);
        tracing::info!(%function, %image, replicas = count, "deployed");
        Ok(())
    }

    async fn update(&self, spec: FunctionDeployment) -> Result<()> {
        let spec = validate_spec(spec)?;
        let function = FunctionRef::new(spec.service.clone(), spec.namespace.clone());
        let now = Instant::now();
        let mut state = self.write();
        let namespace = state.namespace_mut(&spec.namespace)?;
        if !namespace.functions.contains_key(&spec.service) {
            return Err(ProviderError::function_not_found(&function));
        }
        check_secrets(namespace, &spec)?;
        let entry = namespace
            .functions
            .get_mut(&spec.service)
            .ok_or_else(|| ProviderError::function_not_found(&function))?;
        let min = spec.min_replicas();
        if entry.replicas.desired() < min {
            entry.replicas.set(min, now);
        }
        let image = spec.image.clone();
        entry.spec = spec;
        let count = entry.replicas.desired();
        entry.log_lifecycle(format!("Updated to {image} with {count} replicas"));
        tracing::info!(%function, %image, replicas = count, "updated");
        Ok(())
    }

    async fn delete(&self, function: &FunctionRef) -> Result<()> {
        let function = function.or_default_namespace();
        let mut state = self.write();
        let namespace = state.namespace_mut(&function.namespace)?;
        let mut entry = namespace
            .functions
            .remove(&function.name)
            .ok_or_else(|| ProviderError::function_not_found(&function))?;
        // Followers see this last line, then their stream ends as the log is dropped.
        entry.log_lifecycle("Deleted");
        drop(entry);
        tracing::info!(%function, "deleted");
        Ok(())
    }

    async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        let function = function.or_default_namespace();
        let now = Instant::now();
        let mut state = self.write();
        let entry = state.function_mut(&function)?;
        let from = entry.replicas.desired();
        entry.replicas.set(replicas, now);
        entry.log_lifecycle(format!("Scaled from {from} to {replicas}"));
        tracing::info!(%function, from, to = replicas, "scaled");
        Ok(())
    }

    async fn invoke(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        let function = function.or_default_namespace();
        let (id, instance) = {
            let now = Instant::now();
            let mut state = self.write();
            // Invoking in an unknown namespace is an unknown function (503 like the SDK's
            // resolver), not a bad request.
            let entry = state
                .namespaces
                .get_mut(&function.namespace)
                .and_then(|ns| ns.functions.get_mut(&function.name))
                .ok_or_else(|| ProviderError::function_not_found(&function))?;
            let index = entry
                .pick_instance(now)
                .ok_or_else(|| ProviderError::NotReady {
                    name: function.to_string(),
                })?;
            (entry.id, (index, entry.instance_name(index)))
        };
        let (index, instance) = instance;

        let (parts, body) = request.into_parts();
        let body = echo::read_body(body).await?;
        let echo = EchoResponse::new(&function, &parts, &body);
        let json =
            serde_json::to_vec(&echo).map_err(|e| ProviderError::backend(PROVIDER_NAME, e))?;
        let instance_value = HeaderValue::try_from(&instance)
            .map_err(|e| ProviderError::backend(PROVIDER_NAME, e))?;

        {
            let mut state = self.write();
            // Credit the function only if it is still the one that was picked (not deleted,
            // nor deleted and deployed again, while the body was read).
            if let Some(entry) = state
                .function_mut(&function)
                .ok()
                .filter(|entry| entry.id == id)
            {
                entry.invocations = entry.invocations.saturating_add(1);
                entry.log(
                    index,
                    format!("{} {} -> 200", parts.method, parts.uri.path()),
                );
            }
        }

        // HEAD answers the same status and headers as GET, with no body (RFC 9110 §9.3.2).
        let content_length = HeaderValue::from(json.len());
        let body = if parts.method == http::Method::HEAD {
            Body::empty()
        } else {
            Body::from(json)
        };
        let mut response = http::Response::new(body);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(http::header::CONTENT_LENGTH, content_length);
        headers.insert(HeaderName::from_static(INSTANCE_HEADER), instance_value);
        Ok(response)
    }

    async fn list_secrets(&self, namespace: &str) -> Result<Vec<Secret>> {
        let namespace = namespace_or_default(namespace);
        let state = self.read();
        Ok(state
            .namespace(namespace)?
            .secrets
            .keys()
            .map(|name| Secret::new(name.clone(), namespace, String::new()).without_value())
            .collect())
    }

    async fn create_secret(&self, secret: Secret) -> Result<()> {
        validate_secret_name(&secret.name)?;
        let mut state = self.write();
        let namespace = state.namespace_mut(namespace_or_default(&secret.namespace))?;
        if namespace.secrets.contains_key(&secret.name) {
            return Err(ProviderError::AlreadyExists {
                kind: ResourceKind::Secret,
                name: secret.name,
            });
        }
        namespace
            .secrets
            .insert(secret.name.clone(), secret.bytes().to_vec());
        Ok(())
    }

    async fn update_secret(&self, secret: Secret) -> Result<()> {
        validate_secret_name(&secret.name)?;
        let mut state = self.write();
        let namespace = state.namespace_mut(namespace_or_default(&secret.namespace))?;
        let value = namespace
            .secrets
            .get_mut(&secret.name)
            .ok_or_else(|| secret_not_found(&secret.name))?;
        *value = secret.bytes().to_vec();
        Ok(())
    }

    async fn delete_secret(&self, name: &str, namespace: &str) -> Result<()> {
        validate_secret_name(name)?;
        let mut state = self.write();
        // Functions still referencing it keep running, as with faasd.
        state
            .namespace_mut(namespace_or_default(namespace))?
            .secrets
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| secret_not_found(name))
    }

    async fn logs(&self, request: LogRequest) -> Result<LogStream> {
        let function = request.function.or_default_namespace();
        if request.follow {
            // Following may create the function's live feed: the write side of the lock.
            let mut state = self.write();
            return Ok(state.function_mut(&function)?.log_stream(&request));
        }
        let history = self.read().function(&function)?.log_history(&request);
        Ok(futures::stream::iter(history).boxed())
    }

    async fn list_namespaces(&self) -> Result<Vec<String>> {
        Ok(self.read().namespaces.keys().cloned().collect())
    }

    async fn get_namespace(&self, name: &str) -> Result<FunctionNamespace> {
        self.read()
            .namespaces
            .get(name)
            .map(|ns| ns.meta.clone())
            .ok_or_else(|| namespace_not_found(name))
    }

    async fn create_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        validate_namespace_body(&namespace)?;
        let mut state = self.write();
        if state.namespaces.contains_key(&namespace.name) {
            return Err(ProviderError::AlreadyExists {
                kind: ResourceKind::Namespace,
                name: namespace.name,
            });
        }
        state
            .namespaces
            .insert(namespace.name.clone(), NamespaceEntry::new(namespace));
        Ok(())
    }

    async fn update_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        validate_namespace_body(&namespace)?;
        let mut state = self.write();
        let entry = state
            .namespaces
            .get_mut(&namespace.name)
            .ok_or_else(|| namespace_not_found(&namespace.name))?;
        entry.meta = namespace;
        Ok(())
    }

    async fn delete_namespace(&self, name: &str) -> Result<()> {
        if name == DEFAULT_NAMESPACE {
            return Err(ProviderError::invalid(format!(
                "the default namespace {DEFAULT_NAMESPACE} cannot be deleted"
            )));
        }
        let mut state = self.write();
        let entry = state
            .namespaces
            .get(name)
            .ok_or_else(|| namespace_not_found(name))?;
        if !entry.functions.is_empty() {
            let names: Vec<&str> = entry.functions.keys().map(String::as_str).collect();
            return Err(ProviderError::invalid(format!(
                "namespace {name} still holds {} function(s) ({}): delete them first",
                names.len(),
                names.join(", ")
            )));
        }
        // Its secrets go with it.
        state.namespaces.remove(name);
        Ok(())
    }
}
