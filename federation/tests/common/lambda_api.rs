//! The federation with its OpenFaaS routes and the Lambda API on one 127.0.0.1 listener, over
//! three in-process backends: `local` (the default: a memory provider, or whatever a
//! [`Fixture`] starts, e.g. a Docker Engine in `lambda_api_docker.rs`), `edge` (memory) and
//! `faulty` (a memory provider whose functions answer 500), with the embedded async queue and
//! its worker.

#![allow(dead_code, unreachable_pub)]

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use faas_provider::{
    Body, Capabilities, FunctionDeployment, FunctionNamespace, FunctionRef, FunctionStatus,
    LogRequest, LogStream, Provider, ProviderInfo, Result, ServerConfig,
};
use federation::lambda_api::{self, LambdaApiConfig};
use federation::queue::{AsyncConfig, EmbeddedQueue, Queue, QueueMetrics, Worker};
use federation::{Backend, FederatedProvider};
use provider_memory::MemoryProvider;
use tokio::sync::oneshot;

/// The access key the signing tests configure.
pub const ACCESS_KEY: &str = "AKIDFEDERATIONTEST";
/// Its secret.
pub const SECRET_KEY: &str = "federation/secret+KEY";
/// The body a `faulty` function answers with status 500.
pub const FAULT_BODY: &str = r#"{"errorMessage":"boom","errorType":"Crash"}"#;

/// A memory provider whose invocations answer 500 with [`FAULT_BODY`].
pub struct Faulty(pub MemoryProvider);

#[async_trait]
impl Provider for Faulty {
    fn capabilities(&self) -> Capabilities {
        self.0.capabilities()
    }
    async fn info(&self) -> Result<ProviderInfo> {
        self.0.info().await
    }
    async fn list(&self, namespace: &str) -> Result<Vec<FunctionStatus>> {
        self.0.list(namespace).await
    }
    async fn get(&self, function: &FunctionRef) -> Result<FunctionStatus> {
        self.0.get(function).await
    }
    async fn deploy(&self, spec: FunctionDeployment) -> Result<()> {
        self.0.deploy(spec).await
    }
    async fn update(&self, spec: FunctionDeployment) -> Result<()> {
        self.0.update(spec).await
    }
    async fn delete(&self, function: &FunctionRef) -> Result<()> {
        self.0.delete(function).await
    }
    async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        self.0.scale(function, replicas).await
    }
    async fn invoke(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        self.0.invoke(function, request).await?;
        Ok(http::Response::builder()
            .status(500)
            .header("content-type", "application/json")
            .body(Body::from(FAULT_BODY))
            .unwrap())
    }
    async fn logs(&self, request: LogRequest) -> Result<LogStream> {
        self.0.logs(request).await
    }
    async fn list_namespaces(&self) -> Result<Vec<String>> {
        self.0.list_namespaces().await
    }
    async fn get_namespace(&self, name: &str) -> Result<FunctionNamespace> {
        self.0.get_namespace(name).await
    }
    async fn create_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        self.0.create_namespace(namespace).await
    }
    async fn update_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        self.0.update_namespace(namespace).await
    }
    async fn delete_namespace(&self, name: &str) -> Result<()> {
        self.0.delete_namespace(name).await
    }
}

/// What a test's echo function saw, read from its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echoed {
    pub method: String,
    pub path: String,
    pub body: String,
}

/// What the default backend `local` runs on, and how the functions the tests create there
/// behave. The test bodies of `lambda_api_sdk.rs` run over [`Memory`] and over a Docker Engine
/// (`lambda_api_docker.rs`).
#[async_trait]
pub trait Fixture: Send + Sync {
    /// A fresh provider for `local`, and what must live as long as it.
    async fn local(&self) -> (Arc<dyn Provider>, Box<dyn Any + Send + Sync>);
    /// Two images of functions that answer what they received ([`Fixture::echoed`] reads it).
    fn echo_images(&self) -> [String; 2];
    /// The image of a function whose calls answer 500, and the backend it is created on.
    fn crash(&self) -> (String, &'static str);
    /// Checks the payload of a crashed call.
    fn assert_crash_payload(&self, payload: &[u8]);
    /// The request an echo function received, from its answer.
    fn echoed(&self, answer: &[u8]) -> Echoed;
    /// Text the log tail of an echo function's call contains.
    fn call_log(&self) -> &'static str;
}

/// `local` is a memory provider: functions answer the JSON echo of provider-memory.
pub struct Memory;

#[async_trait]
impl Fixture for Memory {
    async fn local(&self) -> (Arc<dyn Provider>, Box<dyn Any + Send + Sync>) {
        (Arc::new(MemoryProvider::new()), Box::new(()))
    }

    fn echo_images(&self) -> [String; 2] {
        ["example/echo:1".into(), "example/echo:2".into()]
    }

    fn crash(&self) -> (String, &'static str) {
        ("example/crash:1".into(), "faulty")
    }

    fn assert_crash_payload(&self, payload: &[u8]) {
        assert_eq!(payload, FAULT_BODY.as_bytes());
    }

    fn echoed(&self, answer: &[u8]) -> Echoed {
        let echo: provider_memory::EchoResponse = serde_json::from_slice(answer)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(answer)));
        Echoed {
            method: echo.method,
            path: echo.path,
            body: echo.body.expect("a UTF-8 body"),
        }
    }

    fn call_log(&self) -> &'static str {
        "POST / -> 200"
    }
}

/// A served federation with the Lambda API.
pub struct LambdaApi {
    pub url: String,
    /// The default backend's provider.
    pub local: Arc<dyn Provider>,
    pub edge: Arc<MemoryProvider>,
    pub federation: Arc<FederatedProvider>,
    shutdown: Option<oneshot::Sender<()>>,
    /// What `local` needs alive (dropped after the server is told to stop).
    _keep: Box<dyn Any + Send + Sync>,
}

impl Drop for LambdaApi {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl LambdaApi {
    /// Without signature checking.
    pub async fn start() -> Self {
        Self::start_with(LambdaApiConfig::default()).await
    }

    /// With [`ACCESS_KEY`] / [`SECRET_KEY`] required.
    pub async fn start_signed() -> Self {
        Self::start_with(LambdaApiConfig {
            credentials: vec![(ACCESS_KEY.to_string(), SECRET_KEY.to_string())],
            ..LambdaApiConfig::default()
        })
        .await
    }

    pub async fn start_with(config: LambdaApiConfig) -> Self {
        Self::start_on(&Memory, config).await
    }

    /// Over `fixture`'s `local`, without signature checking.
    pub async fn on(fixture: &dyn Fixture) -> Self {
        Self::start_on(fixture, LambdaApiConfig::default()).await
    }

    /// Over `fixture`'s `local`, with [`ACCESS_KEY`] / [`SECRET_KEY`] required.
    pub async fn on_signed(fixture: &dyn Fixture) -> Self {
        Self::start_on(
            fixture,
            LambdaApiConfig {
                credentials: vec![(ACCESS_KEY.to_string(), SECRET_KEY.to_string())],
                ..LambdaApiConfig::default()
            },
        )
        .await
    }

    pub async fn start_on(fixture: &dyn Fixture, config: LambdaApiConfig) -> Self {
        let (local, keep) = fixture.local().await;
        let edge = Arc::new(MemoryProvider::new());
        let federation = FederatedProvider::new(
            vec![
                Backend::in_process("local", local.clone()),
                Backend::in_process("edge", edge.clone()),
                Backend::in_process("faulty", Arc::new(Faulty(MemoryProvider::new()))),
            ],
            "local",
        )
        .expect("a valid federation");
        federation.start().await;
        let federation = Arc::new(federation);
        let provider: Arc<dyn Provider> = federation.clone();
        let queue: Arc<dyn Queue> = Arc::new(EmbeddedQueue::new(1000));
        let worker = Arc::new(Worker::new(
            queue.clone(),
            provider.clone(),
            AsyncConfig::default(),
            QueueMetrics::default(),
        ));
        worker.spawn();
        let app = faas_provider::server::router(provider.clone(), &ServerConfig::default())
            .merge(lambda_api::routes(provider, queue, config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        // Served as the binary serves it (`serve_router`: its body drain lets a client that
        // writes a too-large payload first read the 413 rather than a reset).
        tokio::spawn(async move {
            let _ = faas_provider::server::serve_router(
                listener,
                app,
                &ServerConfig::default(),
                async {
                    let _ = rx.await;
                },
            )
            .await;
        });
        Self {
            url,
            local,
            edge,
            federation,
            shutdown: Some(tx),
            _keep: keep,
        }
    }

    /// The port, for `--endpoint-url`.
    pub fn port(&self) -> u16 {
        self.url.rsplit(':').next().unwrap().parse().unwrap()
    }
}

/// A plain HTTP client (no proxy).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Waits until `check` holds (5 s at most).
pub async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
