//! The scaler over the memory backend: scale from zero (single, 100 concurrent, timeout,
//! refusal, off), the autoscaler (up to max under load, back to min after the window,
//! `min == max` left alone), the idler (to zero, then woken), label validation and the
//! OpenFaaS-named metrics, through the provider API and over HTTP.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use faas_provider::types::{FunctionDeployment, FunctionStatus, ProviderInfo};
use faas_provider::{Body, Capabilities, FunctionRef, Provider, ProviderError, Result};
use federation::scaling::{
    LABEL_MAX, LABEL_MIN, LABEL_TARGET, LABEL_TYPE, LABEL_ZERO, LABEL_ZERO_DURATION, Scaler,
    ScalingConfig, Windows,
};
use prometheus_client::registry::Registry;
use provider_memory::MemoryProvider;

const NS: &str = "openfaas-fn";

/// Counts the scale and status calls reaching the provider it wraps, and can refuse scales.
struct Counting {
    inner: Arc<MemoryProvider>,
    scales: AtomicU64,
    gets: AtomicU64,
    refuse: bool,
    /// How long a scale to zero goes on after the status says 0 (docker's stopping
    /// containers).
    stopping: Duration,
}

impl Counting {
    fn new(inner: MemoryProvider) -> Arc<Self> {
        Arc::new(Self {
            inner: Arc::new(inner),
            scales: AtomicU64::new(0),
            gets: AtomicU64::new(0),
            refuse: false,
            stopping: Duration::ZERO,
        })
    }
}

#[async_trait]
impl Provider for Counting {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn info(&self) -> Result<ProviderInfo> {
        self.inner.info().await
    }
    async fn list(&self, namespace: &str) -> Result<Vec<FunctionStatus>> {
        self.inner.list(namespace).await
    }
    async fn list_namespaces(&self) -> Result<Vec<String>> {
        self.inner.list_namespaces().await
    }
    async fn get(&self, function: &FunctionRef) -> Result<FunctionStatus> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(function).await
    }
    async fn ready(&self, function: &FunctionRef) -> Result<bool> {
        self.inner.ready(function).await
    }
    async fn deploy(&self, spec: FunctionDeployment) -> Result<()> {
        self.inner.deploy(spec).await
    }
    async fn update(&self, spec: FunctionDeployment) -> Result<()> {
        self.inner.update(spec).await
    }
    async fn delete(&self, function: &FunctionRef) -> Result<()> {
        self.inner.delete(function).await
    }
    async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        self.scales.fetch_add(1, Ordering::SeqCst);
        if self.refuse {
            return Err(ProviderError::Throttled("scale refused by the test".into()));
        }
        self.inner.scale(function, replicas).await?;
        if replicas == 0 {
            tokio::time::sleep(self.stopping).await;
        }
        Ok(())
    }
    async fn invoke(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        self.inner.invoke(function, request).await
    }
}

fn fast() -> ScalingConfig {
    ScalingConfig {
        scale_from_zero_timeout: Duration::from_secs(10),
        interval: Duration::from_millis(50),
        windows: Windows {
            stable: Duration::from_millis(500),
            panic: Duration::from_millis(150),
            scale_down: Duration::from_millis(800),
        },
        idle_interval: Duration::from_millis(50),
        ..ScalingConfig::default()
    }
}

fn spec(name: &str, labels: &[(&str, &str)]) -> FunctionDeployment {
    let mut spec = FunctionDeployment::new(name, "example/echo:1");
    spec.namespace = NS.to_string();
    spec.labels = Some(
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    spec
}

fn function(name: &str) -> FunctionRef {
    FunctionRef::new(name, NS)
}

fn request() -> http::Request<Body> {
    http::Request::builder()
        .method("POST")
        .uri("/")
        .body(Body::from("hi"))
        .unwrap()
}

async fn status(provider: &dyn Provider, name: &str) -> FunctionStatus {
    provider.get(&function(name)).await.expect("status")
}

/// Polls `check` every 20 ms until it holds, failing after `limit` with `what`.
async fn until<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn at_zero(provider: &dyn Provider, name: &str) {
    provider.scale(&function(name), 0).await.unwrap();
    until(Duration::from_secs(10), "0 replicas", || async {
        status(provider, name).await.available_replicas == 0
    })
    .await;
}

#[tokio::test]
async fn a_call_at_zero_wakes_the_function_to_its_minimum() {
    let memory = Counting::new(MemoryProvider::with_readiness_delay(Duration::from_millis(
        50,
    )));
    let scaler = Scaler::new(memory.clone(), fast());
    scaler
        .deploy(spec("wake", &[(LABEL_MIN, "2")]))
        .await
        .unwrap();
    at_zero(&*memory, "wake").await;
    let before = memory.scales.load(Ordering::SeqCst);
    let gets_before = memory.gets.load(Ordering::SeqCst);

    let response = scaler.invoke(&function("wake"), request()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(memory.scales.load(Ordering::SeqCst) - before, 1);
    assert_eq!(
        memory.gets.load(Ordering::SeqCst) - gets_before,
        1,
        "the first call reads the status once; the wake-up uses it"
    );
    let woken = status(&*memory, "wake").await;
    assert_eq!(woken.replicas, 2, "woken to com.openfaas.scale.min");
    assert!(woken.available_replicas >= 1);
}

#[tokio::test]
async fn a_hundred_concurrent_cold_calls_share_one_scale_up() {
    let memory = Counting::new(MemoryProvider::with_readiness_delay(Duration::from_millis(
        200,
    )));
    let scaler = Arc::new(Scaler::new(memory.clone(), fast()));
    scaler.deploy(spec("crowd", &[])).await.unwrap();
    at_zero(&*memory, "crowd").await;
    let before = memory.scales.load(Ordering::SeqCst);

    let calls = (0..100).map(|_| {
        let scaler = scaler.clone();
        tokio::spawn(async move { scaler.invoke(&function("crowd"), request()).await })
    });
    let answers = futures::future::join_all(calls).await;
    let ok = answers
        .into_iter()
        .filter(|answer| matches!(answer, Ok(Ok(response)) if response.status() == 200))
        .count();
    assert_eq!(ok, 100, "every cold call is answered");
    assert_eq!(
        memory.scales.load(Ordering::SeqCst) - before,
        1,
        "one scale call for all of them"
    );
}

#[tokio::test]
async fn a_function_not_ready_in_time_is_a_504_naming_it_over_http() {
    let memory = Counting::new(MemoryProvider::with_readiness_delay(Duration::from_secs(
        30,
    )));
    let config = ScalingConfig {
        scale_from_zero_timeout: Duration::from_millis(300),
        ..fast()
    };
    let scaler: Arc<dyn Provider> = Arc::new(Scaler::new(memory.clone(), config));
    // Deployed with 0 replicas from the start: no wait for the slow readiness.
    scaler
        .deploy(spec("sleepy", &[(LABEL_MIN, "0")]))
        .await
        .unwrap();
    memory.scale(&function("sleepy"), 0).await.unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server_config = faas_provider::ServerConfig::default();
    let app = faas_provider::server::router(scaler, &server_config);
    let server = tokio::spawn(async move {
        faas_provider::server::serve_router(listener, app, &server_config, std::future::pending())
            .await
    });
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let response = client
        .post(format!("{url}/function/sleepy"))
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 504);
    let body = response.text().await.unwrap();
    assert!(body.contains("sleepy"), "{body}");
    assert!(body.contains("scale_from_zero_timeout"), "{body}");
    server.abort();
}

#[tokio::test]
async fn a_refused_scale_answers_the_backends_error() {
    let memory = Arc::new(Counting {
        inner: Arc::new(MemoryProvider::new()),
        scales: AtomicU64::new(0),
        gets: AtomicU64::new(0),
        refuse: true,
        stopping: Duration::ZERO,
    });
    let scaler = Scaler::new(memory.clone(), fast());
    scaler.deploy(spec("refused", &[])).await.unwrap();
    memory.inner.scale(&function("refused"), 0).await.unwrap();
    let error = scaler
        .invoke(&function("refused"), request())
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::Throttled(_)), "{error:?}");
}

#[tokio::test]
async fn scale_from_zero_off_leaves_the_503() {
    let memory = Counting::new(MemoryProvider::new());
    let config = ScalingConfig {
        scale_from_zero: false,
        ..fast()
    };
    let scaler = Scaler::new(memory.clone(), config);
    scaler.deploy(spec("off", &[])).await.unwrap();
    at_zero(&*memory, "off").await;
    let before = memory.scales.load(Ordering::SeqCst);
    let answer = scaler.invoke(&function("off"), request()).await;
    assert!(
        matches!(answer, Err(ProviderError::NotReady { .. })),
        "{answer:?}"
    );
    assert_eq!(memory.scales.load(Ordering::SeqCst), before);
}

#[tokio::test]
async fn the_autoscaler_reaches_max_under_load_and_returns_to_min() {
    let memory = Counting::new(MemoryProvider::new());
    let scaler = Arc::new(Scaler::new(memory.clone(), fast()));
    let _loop = scaler.spawn();
    scaler
        .deploy(spec(
            "busy",
            &[(LABEL_MIN, "1"), (LABEL_MAX, "3"), (LABEL_TARGET, "5")],
        ))
        .await
        .unwrap();
    // ~100 requests/s against 4.5 per replica: max (3) is needed.
    let load = {
        let scaler = scaler.clone();
        tokio::spawn(async move {
            loop {
                let _ = scaler.invoke(&function("busy"), request()).await;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    until(Duration::from_secs(20), "3 replicas under load", || async {
        status(&*memory, "busy").await.replicas == 3
    })
    .await;
    load.abort();
    until(Duration::from_secs(20), "back to 1 replica", || async {
        status(&*memory, "busy").await.replicas == 1
    })
    .await;
}

#[tokio::test]
async fn min_equal_to_max_is_never_autoscaled() {
    let memory = Counting::new(MemoryProvider::new());
    let scaler = Arc::new(Scaler::new(memory.clone(), fast()));
    let _loop = scaler.spawn();
    scaler
        .deploy(spec(
            "pinned",
            &[(LABEL_MIN, "2"), (LABEL_MAX, "2"), (LABEL_TARGET, "1")],
        ))
        .await
        .unwrap();
    until(Duration::from_secs(10), "2 ready replicas", || async {
        status(&*memory, "pinned").await.available_replicas == 2
    })
    .await;
    let before = memory.scales.load(Ordering::SeqCst);
    // A load far above the target for several evaluation rounds and windows.
    let deadline = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < deadline {
        let _ = scaler.invoke(&function("pinned"), request()).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        memory.scales.load(Ordering::SeqCst),
        before,
        "no scale call"
    );
    assert_eq!(status(&*memory, "pinned").await.replicas, 2);
}

/// A scaler over `memory` with its loop running and `sleeper` deployed: idled to zero after
/// 300 ms without calls.
async fn with_sleeper(memory: Arc<Counting>) -> (Arc<Scaler>, tokio::task::JoinHandle<()>) {
    let scaler = Arc::new(Scaler::new(memory, fast()));
    let running = scaler.spawn();
    scaler
        .deploy(spec(
            "sleeper",
            &[(LABEL_ZERO, "true"), (LABEL_ZERO_DURATION, "300ms")],
        ))
        .await
        .unwrap();
    (scaler, running)
}

#[tokio::test]
async fn the_idler_scales_to_zero_and_the_next_call_wakes_it() {
    let memory = Counting::new(MemoryProvider::new());
    let (scaler, _loop) = with_sleeper(memory.clone()).await;
    scaler
        .deploy(spec("awake", &[(LABEL_ZERO_DURATION, "300ms")]))
        .await
        .unwrap();
    until(Duration::from_secs(20), "idled to 0", || async {
        status(&*memory, "sleeper").await.replicas == 0
    })
    .await;
    assert_eq!(
        status(&*memory, "awake").await.replicas,
        1,
        "without com.openfaas.scale.zero nothing is idled"
    );
    let response = scaler
        .invoke(&function("sleeper"), request())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(status(&*memory, "sleeper").await.available_replicas >= 1);
}

/// A call that comes while the idler's scale to zero is still going on (the status already says
/// 0, the backend is stopping the replica) does not trust the replica the autoscaler saw just
/// before: it waits for the idler and wakes the function.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_during_the_idlers_scale_to_zero_wakes_the_function() {
    let memory = Arc::new(Counting {
        inner: Arc::new(MemoryProvider::new()),
        scales: AtomicU64::new(0),
        gets: AtomicU64::new(0),
        refuse: false,
        stopping: Duration::from_secs(1),
    });
    let (scaler, _loop) = with_sleeper(memory.clone()).await;
    until(
        Duration::from_secs(20),
        "the idler's scale to 0",
        || async {
            memory
                .inner
                .get(&function("sleeper"))
                .await
                .unwrap()
                .replicas
                == 0
        },
    )
    .await;
    assert_eq!(
        memory.scales.load(Ordering::SeqCst),
        1,
        "the call comes while the idler's scale is going on"
    );
    let response = scaler
        .invoke(&function("sleeper"), request())
        .await
        .expect("the call wakes the function");
    assert_eq!(response.status(), 200);
    assert_eq!(memory.scales.load(Ordering::SeqCst), 2, "idled, then woken");
}

#[tokio::test]
async fn bad_scaling_labels_are_a_400_naming_the_label() {
    let scaler = Scaler::new(Arc::new(MemoryProvider::new()), fast());
    for labels in [
        vec![(LABEL_MIN, "x")],
        vec![(LABEL_MIN, "4"), (LABEL_MAX, "2")],
        vec![(LABEL_TYPE, "cpu")],
        vec![(LABEL_ZERO_DURATION, "later")],
    ] {
        let error = scaler.deploy(spec("bad", &labels)).await.unwrap_err();
        assert!(
            matches!(&error, ProviderError::InvalidRequest(message) if message.contains(labels.last().unwrap().0)
                || message.contains("above")),
            "{labels:?}: {error:?}"
        );
    }
    scaler.deploy(spec("good", &[])).await.unwrap();
    let error = scaler
        .update(spec("good", &[(LABEL_TARGET, "-3")]))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::InvalidRequest(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn invocations_are_counted_under_openfaas_metric_names() {
    let scaler = Scaler::new(Arc::new(MemoryProvider::new()), fast());
    let mut registry = Registry::default();
    scaler.register_metrics(&mut registry);
    scaler.deploy(spec("counted", &[])).await.unwrap();
    for _ in 0..3 {
        scaler
            .invoke(&function("counted"), request())
            .await
            .unwrap();
    }
    for name in ["ghost-1", "ghost-2"] {
        let _ = scaler.invoke(&function(name), request()).await;
    }
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    for line in [
        "gateway_function_invocation_total{function_name=\"counted.openfaas-fn\",code=\"200\"} 3",
        "gateway_function_invocation_started{function_name=\"counted.openfaas-fn\"} 3",
        "gateway_function_invocation_total{function_name=\"unknown\",code=\"503\"} 2",
        "gateway_functions_seconds_count{function_name=\"counted.openfaas-fn\",code=\"200\"} 3",
        "gateway_service_count{function_name=\"counted.openfaas-fn\"} 1",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(
        !text.contains("ghost"),
        "unknown functions share one label value"
    );
}
