//! Shared pieces of the async and trigger tests: a function double that counts its calls, can
//! answer 503 a number of times or sleep, a callback receiver, and a server with the async
//! routes.

#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::Request;
use faas_provider::types::{FunctionDeployment, FunctionStatus, ProviderInfo};
use faas_provider::{Body, Capabilities, FunctionRef, Provider, ProviderError, Result};
use http_body_util::BodyExt;
use tokio::sync::mpsc;

/// A provider of functions that answer their body back, counting calls per `X-Call-Id`, and
/// that fail with 503 for the first `fail_first` calls of a function, or sleep `delay`.
#[derive(Default)]
pub struct Functions {
    pub statuses: Mutex<BTreeMap<FunctionRef, FunctionStatus>>,
    pub calls: Mutex<HashMap<String, u64>>,
    pub total: AtomicU64,
    pub fail_first: AtomicU64,
    pub delay: Mutex<Duration>,
    pub running: AtomicUsize,
    pub most_running: AtomicUsize,
    /// `X-Topic` of each call that had one.
    pub topics: Mutex<Vec<String>>,
    /// While set, calls wait (before they count) until it is cleared.
    pub held: AtomicBool,
}

impl Functions {
    pub fn add(&self, name: &str, annotations: &[(&str, &str)]) {
        let status = FunctionStatus {
            name: name.into(),
            image: "example/echo:1".into(),
            namespace: "openfaas-fn".into(),
            annotations: Some(
                annotations
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            replicas: 1,
            available_replicas: 1,
            ..FunctionStatus::default()
        };
        self.statuses
            .lock()
            .unwrap()
            .insert(FunctionRef::new(name, "openfaas-fn"), status);
    }

    pub fn remove(&self, name: &str) {
        self.statuses
            .lock()
            .unwrap()
            .remove(&FunctionRef::new(name, "openfaas-fn"));
    }

    pub fn distinct_calls(&self) -> usize {
        self.calls.lock().unwrap().len()
    }

    pub fn runs_of(&self, id: &str) -> u64 {
        self.calls.lock().unwrap().get(id).copied().unwrap_or(0)
    }
}

struct Running<'a>(&'a AtomicUsize);
impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl Provider for Functions {
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    async fn info(&self) -> Result<ProviderInfo> {
        Ok(ProviderInfo::new("functions-double", "test", "0"))
    }
    async fn list(&self, namespace: &str) -> Result<Vec<FunctionStatus>> {
        Ok(self
            .statuses
            .lock()
            .unwrap()
            .iter()
            .filter(|(f, _)| f.namespace == namespace)
            .map(|(_, s)| s.clone())
            .collect())
    }
    async fn get(&self, function: &FunctionRef) -> Result<FunctionStatus> {
        self.statuses
            .lock()
            .unwrap()
            .get(function)
            .cloned()
            .ok_or_else(|| ProviderError::function_not_found(function))
    }
    async fn deploy(&self, _spec: FunctionDeployment) -> Result<()> {
        Err(ProviderError::unsupported("deploy", "functions-double"))
    }
    async fn update(&self, _spec: FunctionDeployment) -> Result<()> {
        Err(ProviderError::unsupported("update", "functions-double"))
    }
    async fn delete(&self, function: &FunctionRef) -> Result<()> {
        self.remove(&function.name);
        Ok(())
    }
    async fn scale(&self, _function: &FunctionRef, _replicas: u64) -> Result<()> {
        Ok(())
    }
    async fn invoke(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        self.get(function).await?;
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        let _running = Running(&self.running);
        self.most_running.fetch_max(now, Ordering::SeqCst);
        let id = request
            .headers()
            .get("x-call-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let topic = request.headers().get("x-topic").cloned();
        if let Some(topic) = topic.as_ref().and_then(|t| t.to_str().ok()) {
            self.topics.lock().unwrap().push(topic.to_string());
        }
        let path = request.uri().to_string();
        let body = request.into_body().collect().await.unwrap().to_bytes();
        while self.held.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let delay = *self.delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        *self.calls.lock().unwrap().entry(id).or_default() += 1;
        self.total.fetch_add(1, Ordering::SeqCst);
        let failing = self
            .fail_first
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        let mut response = http::Response::builder()
            .status(if failing { 503 } else { 200 })
            .header("x-echo-path", path)
            .header("x-function", function.name.as_str());
        if let Some(topic) = topic {
            response = response.header("x-topic-seen", topic);
        }
        Ok(response.body(Body::from(body)).unwrap())
    }
}

/// One callback as received.
#[derive(Debug)]
pub struct Callback {
    pub headers: http::HeaderMap,
    pub body: bytes::Bytes,
}

/// An HTTP server on 127.0.0.1 that forwards every request it receives to the channel.
pub async fn callback_receiver() -> (String, mpsc::UnboundedReceiver<Callback>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().fallback(move |request: Request| {
        let tx = tx.clone();
        async move {
            let (parts, body) = request.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            let _ = tx.send(Callback {
                headers: parts.headers,
                body,
            });
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/callback", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

/// Serves `app` on 127.0.0.1 as the binary does (`serve_router`, with its body drain);
/// returns its base URL.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        faas_provider::server::serve_router(
            listener,
            app,
            &faas_provider::ServerConfig::default(),
            std::future::pending(),
        )
        .await
        .unwrap()
    });
    url
}

/// Waits until `check` holds (every 20 ms), failing after `limit`.
pub async fn until<F: FnMut() -> bool>(limit: Duration, what: &str, mut check: F) {
    until_async(limit, what, || std::future::ready(check())).await;
}

/// [`until`] for a check that has to wait (a request, a provider read).
pub async fn until_async<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
