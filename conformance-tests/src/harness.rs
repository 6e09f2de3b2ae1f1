//! What cases share: unique names, a cleanup guard, bounded polling, invocation helpers.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use faas_provider::{
    Body, FunctionDeployment, FunctionNamespace, FunctionRef, FunctionStatus, Provider,
    ProviderError,
};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt;
use tokio::time::Instant;

use crate::echo::{Echo, preview};
use crate::outcome::{Context, Failure};
use crate::target::{CleanupTasks, EchoFormat, Target};

/// A name no other case or run uses: `conf-<8 random hex digits>`.
pub fn unique_name() -> String {
    format!("conf-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

/// Something a case created and must remove.
#[derive(Debug, Clone)]
enum Resource {
    Function(FunctionRef),
    Secret { name: String, namespace: String },
    Namespace(String),
}

/// Deletes what a case created when dropped, whether the case passed, failed or panicked.
///
/// Deletion runs in a task spawned on drop; the runner awaits those tasks after each case
/// ([`Target::settle`]). Resources are deleted newest first, so functions go before the
/// secrets they mount and the namespaces holding them. `NotFound` is ignored (the case may
/// have deleted it itself).
pub struct Cleanup {
    provider: Arc<dyn Provider>,
    tasks: Arc<CleanupTasks>,
    resources: Mutex<Vec<Resource>>,
}

impl Cleanup {
    /// A guard for `target`.
    pub fn new(target: &Target) -> Self {
        Self {
            provider: target.provider.clone(),
            tasks: target.cleanup.clone(),
            resources: Mutex::new(Vec::new()),
        }
    }

    fn push(&self, resource: Resource) {
        self.resources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(resource);
    }

    /// Deletes `function` at the end of the case.
    pub fn function(&self, function: &FunctionRef) {
        self.push(Resource::Function(function.clone()));
    }

    /// Deletes the secret at the end of the case.
    pub fn secret(&self, name: &str, namespace: &str) {
        self.push(Resource::Secret {
            name: name.to_string(),
            namespace: namespace.to_string(),
        });
    }

    /// Deletes the namespace at the end of the case.
    pub fn namespace(&self, name: &str) {
        self.push(Resource::Namespace(name.to_string()));
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let resources =
            std::mem::take(&mut *self.resources.lock().unwrap_or_else(|e| e.into_inner()));
        if resources.is_empty() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let provider = self.provider.clone();
        let task = runtime.spawn(async move {
            for resource in resources.into_iter().rev() {
                // Best effort: the resource may be gone already, or the provider down.
                let _ = match resource {
                    Resource::Function(function) => provider.delete(&function).await,
                    Resource::Secret { name, namespace } => {
                        provider.delete_secret(&name, &namespace).await
                    }
                    Resource::Namespace(name) => provider.delete_namespace(&name).await,
                };
            }
        });
        self.tasks.push(task);
    }
}

/// Polls `probe` (with a growing pause, 20 ms to 500 ms) until it returns `Some`, at most
/// `timeout`. On timeout the failure names `what` and the last observation.
pub async fn eventually<T, F, Fut>(
    timeout: Duration,
    what: &str,
    mut probe: F,
) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, String>>,
{
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(20);
    loop {
        let last = match probe().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => String::new(),
            Err(observed) => observed,
        };
        if Instant::now() >= deadline {
            let last = if last.is_empty() {
                String::new()
            } else {
                format!(" (last seen: {last})")
            };
            return Err(Failure::failed(format!(
                "{what}: not reached within {timeout:?}{last}"
            )));
        }
        tokio::time::sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}

/// A one-line summary of a status for messages.
pub(crate) fn summary(status: &FunctionStatus) -> String {
    format!(
        "replicas={} availableReplicas={} image={:?}",
        status.replicas, status.available_replicas, status.image
    )
}

/// Polls `get` until `accept(status)` holds (bounded by `timeouts.ready`).
pub async fn wait_for_status(
    t: &Target,
    function: &FunctionRef,
    what: &str,
    accept: impl Fn(&FunctionStatus) -> bool,
) -> Result<FunctionStatus, Failure> {
    wait_for_status_within(t, t.timeouts.ready, function, what, accept).await
}

/// Polls `get` until `accept(status)` holds, at most `timeout`.
pub async fn wait_for_status_within(
    t: &Target,
    timeout: Duration,
    function: &FunctionRef,
    what: &str,
    accept: impl Fn(&FunctionStatus) -> bool,
) -> Result<FunctionStatus, Failure> {
    eventually(timeout, &format!("{function}: {what}"), || async {
        match t.provider.get(function).await {
            Ok(status) if accept(&status) => Ok(Some(status)),
            Ok(status) => Err(summary(&status)),
            Err(e) => Err(format!("get failed: {e}")),
        }
    })
    .await
}

/// Waits until the function has a ready replica (`availableReplicas > 0`, via `ready`).
pub async fn wait_ready(t: &Target, function: &FunctionRef) -> Result<(), Failure> {
    eventually(t.timeouts.ready, &format!("{function} ready"), || async {
        match t.provider.ready(function).await {
            Ok(true) => Ok(Some(())),
            Ok(false) => Err("not ready".to_string()),
            Err(e) => Err(format!("ready failed: {e}")),
        }
    })
    .await
}

/// A reference to `name` in the target's default namespace.
pub fn in_default(t: &Target, name: &str) -> FunctionRef {
    FunctionRef::new(name, t.caps.default_namespace.clone())
}

/// A deployment of the echo function named `name`, in the default namespace.
pub fn echo_spec(t: &Target, name: &str) -> FunctionDeployment {
    let mut spec = FunctionDeployment::new(name, t.echo.image.clone());
    spec.env_process = t.echo.env_process.clone();
    spec.namespace = t.caps.default_namespace.clone();
    spec
}

/// A deployment of the echo function named `name`, in `namespace`.
pub fn echo_spec_in(t: &Target, name: &str, namespace: &str) -> FunctionDeployment {
    let mut spec = echo_spec(t, name);
    spec.namespace = namespace.to_string();
    spec
}

/// The reference of `spec` (its namespace, or the default one when empty).
pub fn spec_ref(t: &Target, spec: &FunctionDeployment) -> FunctionRef {
    let namespace = if spec.namespace.is_empty() {
        t.caps.default_namespace.clone()
    } else {
        spec.namespace.clone()
    };
    FunctionRef::new(spec.service.clone(), namespace)
}

/// Deploys `spec`, registering it for cleanup first.
pub async fn deploy(
    t: &Target,
    cleanup: &Cleanup,
    spec: FunctionDeployment,
) -> Result<FunctionRef, Failure> {
    let function = spec_ref(t, &spec);
    cleanup.function(&function);
    t.provider
        .deploy(spec)
        .await
        .context(format!("deploy {function}"))?;
    Ok(function)
}

/// Deploys the echo function named `name` into `namespace` (registered for cleanup first),
/// without waiting for it to be ready.
pub async fn deploy_echo_in(
    t: &Target,
    cleanup: &Cleanup,
    name: &str,
    namespace: &str,
) -> Result<FunctionRef, Failure> {
    deploy(t, cleanup, echo_spec_in(t, name, namespace)).await
}

/// Creates a uniquely named namespace through the provider, registered for cleanup first.
pub async fn create_namespace(t: &Target, cleanup: &Cleanup) -> Result<String, Failure> {
    let name = unique_name();
    cleanup.namespace(&name);
    t.provider
        .create_namespace(FunctionNamespace::new(&name))
        .await
        .context(format!("create namespace {name}"))?;
    Ok(name)
}

/// Deploys a uniquely named echo function and waits until it is ready.
pub async fn deploy_echo(t: &Target, cleanup: &Cleanup) -> Result<FunctionRef, Failure> {
    let function = deploy(t, cleanup, echo_spec(t, &unique_name())).await?;
    wait_ready(t, &function).await?;
    Ok(function)
}

/// An invocation's response, body read.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Reply {
    /// The body decoded as the target's echo; fails unless the status is 200.
    pub fn echo(&self, t: &Target) -> Result<Echo, Failure> {
        if self.status != StatusCode::OK {
            return Err(Failure::failed(format!(
                "echo function answered {} (expected 200): {}",
                self.status,
                preview(&self.body)
            )));
        }
        Echo::decode(t.echo.format, &self.body).map_err(Failure::failed)
    }
}

/// An invocation to build: method, upstream path and query, headers, body.
#[derive(Debug, Clone)]
pub struct Call {
    /// Method.
    pub method: Method,
    /// Upstream path and raw query, e.g. `/a/b?q=1`.
    pub uri: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Bytes,
}

impl Call {
    /// `method` on `/` with no body.
    pub fn new(method: Method) -> Self {
        Self {
            method,
            uri: "/".to_string(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// Sets the upstream path and query.
    pub fn uri(mut self, uri: impl Into<String>) -> Self {
        self.uri = uri.into();
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }
}

/// Invokes `function` through the provider; protocol errors are failures, provider errors are
/// returned as they are (cases about unknown or unready functions inspect them).
pub async fn invoke(
    t: &Target,
    function: &FunctionRef,
    call: Call,
) -> Result<Result<Reply, ProviderError>, Failure> {
    let mut builder = http::Request::builder()
        .method(call.method.clone())
        .uri(call.uri.as_str());
    for (name, value) in &call.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let request = builder.body(Body::from(call.body.clone())).map_err(|e| {
        Failure::failed(format!(
            "cannot build the request {} {}: {e}",
            call.method, call.uri
        ))
    })?;
    let what = format!("invoke {function} {} {}", call.method, call.uri);
    let response = match tokio::time::timeout(
        t.timeouts.request,
        t.provider.invoke(function, request),
    )
    .await
    {
        Err(_) => {
            return Err(Failure::failed(format!(
                "{what}: no answer within {:?}",
                t.timeouts.request
            )));
        }
        Ok(Err(e)) => return Ok(Err(e)),
        Ok(Ok(response)) => response,
    };
    let (parts, body) = response.into_parts();
    let body = match tokio::time::timeout(t.timeouts.request, body.collect()).await {
        Err(_) => {
            return Err(Failure::failed(format!(
                "{what}: body not complete within {:?}",
                t.timeouts.request
            )));
        }
        Ok(Err(e)) => {
            return Err(Failure::failed(format!(
                "{what}: reading the response body failed: {e}"
            )));
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    Ok(Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }))
}

/// Invokes and decodes the echo (status must be 200).
pub async fn invoke_echo(t: &Target, function: &FunctionRef, call: Call) -> Result<Echo, Failure> {
    let what = format!("invoke {function} {} {}", call.method, call.uri);
    let reply = invoke(t, function, call).await?.context(&what)?;
    reply
        .echo(t)
        .map_err(|e| Failure::failed(format!("{what}: {e}")))
}

/// True when a watchdog-based echo function itself refused the method: the classic watchdog
/// and the fork modes of of-watchdog accept only GET, POST, PUT, PATCH and DELETE and answer
/// OPTIONS and HEAD with 405 (the proxy's own 405 carries `X-OpenFaaS-Internal`, a function's does not). The
/// request did reach the function, which is what the provider is responsible for.
pub fn refused_by_watchdog(
    t: &Target,
    method: &Method,
    status: StatusCode,
    headers: &HeaderMap,
) -> bool {
    t.echo.format == EchoFormat::WatchdogEnv
        && (*method == Method::OPTIONS || *method == Method::HEAD)
        && status == StatusCode::METHOD_NOT_ALLOWED
        && !headers.contains_key("x-openfaas-internal")
}

/// True when invoking answered "no endpoint": `NotFound`, `NotReady` or `Unavailable` from the
/// provider, or a 503 response (what the REST API answers for unknown and unready functions).
pub(crate) fn is_no_endpoint(result: &Result<Reply, ProviderError>) -> bool {
    match result {
        Ok(reply) => reply.status == StatusCode::SERVICE_UNAVAILABLE,
        Err(
            ProviderError::NotFound { .. }
            | ProviderError::NotReady { .. }
            | ProviderError::Unavailable { .. },
        ) => true,
        Err(_) => false,
    }
}

/// Describes an invocation result for messages.
pub(crate) fn describe(result: &Result<Reply, ProviderError>) -> String {
    match result {
        Ok(reply) => format!("{} {}", reply.status, preview(&reply.body)),
        Err(e) => format!("error {e:?}"),
    }
}

/// Describes an unexpected `Result` of a provider call for messages.
pub(crate) fn describe_result<T: std::fmt::Debug>(result: &Result<T, ProviderError>) -> String {
    match result {
        Ok(value) => {
            let text = format!("Ok({value:?})");
            match text.char_indices().nth(300) {
                Some((cut, _)) => format!("{}…", &text[..cut]),
                None => text,
            }
        }
        Err(e) => format!("Err({e:?})"),
    }
}
