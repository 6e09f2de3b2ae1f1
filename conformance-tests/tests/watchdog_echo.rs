//! The suite with the `watchdog-env` echo format, answered by the real watchdog executor
//! (`watchdog::Watchdog`, serializing mode) running an `echo-request`-style function:
//! `sh -c 'env | grep ^Http_ | sort; echo; exec cat'`. Proves the decoding of that format and the
//! handling of the watchdog's own 405 for OPTIONS/HEAD against real output.
//!
//! The provider under test is the memory provider for everything but the response body of an
//! invocation: it still sees each invocation (readiness, counts, logs), then the watchdog answers.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use conformance_tests::{EchoFunction, HttpTarget, Target};
use faas_provider::client::HttpProvider;
use faas_provider::server::serve;
use faas_provider::{
    Body, Capabilities, FunctionDeployment, FunctionNamespace, FunctionRef, FunctionStatus,
    LogRequest, LogStream, Provider, ProviderInfo, Result, Secret, ServerConfig,
};
use http_body_util::BodyExt;
use provider_memory::MemoryProvider;
use watchdog::{Mode, Watchdog, WatchdogConfig};

const ECHO_REQUEST: &str = "env | grep '^Http_' | sort; echo; exec cat";

/// Memory semantics, with invocations answered by a real watchdog.
struct WatchdogBacked {
    memory: MemoryProvider,
    watchdog: Watchdog,
}

impl WatchdogBacked {
    fn new() -> Self {
        let mut config = WatchdogConfig::new(
            Mode::Serializing,
            vec!["sh".into(), "-c".into(), ECHO_REQUEST.into()],
        );
        config.suppress_lock = true;
        config.combine_output = false;
        Self {
            memory: MemoryProvider::with_readiness_delay(Duration::from_millis(20)),
            watchdog: Watchdog::new(config).expect("watchdog config"),
        }
    }
}

#[async_trait]
impl Provider for WatchdogBacked {
    fn capabilities(&self) -> Capabilities {
        self.memory.capabilities()
    }
    async fn info(&self) -> Result<ProviderInfo> {
        self.memory.info().await
    }
    async fn list(&self, namespace: &str) -> Result<Vec<FunctionStatus>> {
        self.memory.list(namespace).await
    }
    async fn get(&self, function: &FunctionRef) -> Result<FunctionStatus> {
        self.memory.get(function).await
    }
    async fn deploy(&self, spec: FunctionDeployment) -> Result<()> {
        self.memory.deploy(spec).await
    }
    async fn update(&self, spec: FunctionDeployment) -> Result<()> {
        self.memory.update(spec).await
    }
    async fn delete(&self, function: &FunctionRef) -> Result<()> {
        self.memory.delete(function).await
    }
    async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        self.memory.scale(function, replicas).await
    }
    async fn invoke(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        let (parts, body) = request.into_parts();
        // The memory provider decides unknown/unready and counts and logs the call.
        let probe = http::Request::from_parts(parts.clone(), Body::empty());
        let counted = self.memory.invoke(function, probe).await?;
        let _ = counted.into_body().collect().await;
        let head = parts.method == http::Method::HEAD;
        let response = self
            .watchdog
            .handle(http::Request::from_parts(parts, body))
            .await;
        if head {
            // What the HTTP hop to a function container does: a HEAD answer has no body.
            let (parts, _) = response.into_parts();
            return Ok(http::Response::from_parts(parts, Body::empty()));
        }
        Ok(response)
    }
    async fn list_secrets(&self, namespace: &str) -> Result<Vec<Secret>> {
        self.memory.list_secrets(namespace).await
    }
    async fn create_secret(&self, secret: Secret) -> Result<()> {
        self.memory.create_secret(secret).await
    }
    async fn update_secret(&self, secret: Secret) -> Result<()> {
        self.memory.update_secret(secret).await
    }
    async fn delete_secret(&self, name: &str, namespace: &str) -> Result<()> {
        self.memory.delete_secret(name, namespace).await
    }
    async fn logs(&self, request: LogRequest) -> Result<LogStream> {
        self.memory.logs(request).await
    }
    async fn list_namespaces(&self) -> Result<Vec<String>> {
        self.memory.list_namespaces().await
    }
    async fn get_namespace(&self, name: &str) -> Result<FunctionNamespace> {
        self.memory.get_namespace(name).await
    }
    async fn create_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        self.memory.create_namespace(namespace).await
    }
    async fn update_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        self.memory.update_namespace(namespace).await
    }
    async fn delete_namespace(&self, name: &str) -> Result<()> {
        self.memory.delete_namespace(name).await
    }
}

fn echo() -> EchoFunction {
    EchoFunction::watchdog("127.0.0.1:5000/conformance/echo-request:latest", "")
}

async fn in_process() -> Target {
    Target::new(
        Arc::new(WatchdogBacked::new()),
        Capabilities::full(),
        echo(),
    )
}

async fn served() -> Target {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let url = format!("http://{}", listener.local_addr().expect("local address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        serve(
            listener,
            Arc::new(WatchdogBacked::new()),
            &ServerConfig::default(),
            shutdown,
        )
        .await
        .expect("the provider server failed");
    });
    let provider = HttpProvider::new(&url)
        .expect("client")
        .with_capabilities(Capabilities::full());
    Target::new(Arc::new(provider), Capabilities::full(), echo())
        .with_http(HttpTarget::new(url))
        .keep_alive(stop)
}

mod in_process {
    conformance_tests::suite!(super::in_process);
}

mod over_http {
    conformance_tests::suite!(super::served);
}
