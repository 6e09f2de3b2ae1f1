//! Bounds that match the work, through the federation: a deploy that takes 20 s on a remote
//! backend and a function that answers after 20 s both succeed with the default settings;
//! past `deploy_timeout` the caller gets a 504 naming the backend and the bound while the
//! deploy completes in the background (never left half made); past the invocation deadline
//! (`upstream_timeout`, or a backend's `invoke_timeout`) the call is a 504 naming both.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use faas_provider::types::{FunctionDeployment, FunctionStatus, ProviderInfo};
use faas_provider::{
    Body, Capabilities, FunctionRef, Provider, ProviderError, Result, ServerConfig,
};
use federation::config::{BackendConfig, FederationConfig};
use federation::{Backend, Bound, FederatedProvider};
use provider_memory::MemoryProvider;

use common::{NS, client, labelled, serve_runtime};

/// Label of a test function: how long its deploy takes on [`Slow`].
const DEPLOY_MS: &str = "test.deploy-ms";
/// Label of a test function: how long it takes to answer on [`Slow`].
const ANSWER_MS: &str = "test.answer-ms";

/// A memory provider whose deploys and invocations take as long as the function's labels say.
/// A deploy is made in two steps, as real backends do: the function first exists with no
/// replica, then (after the delay) gets its replica. A deploy dropped between the two would
/// leave it at zero for good: half made.
struct Slow {
    inner: MemoryProvider,
}

fn millis(labels: Option<&std::collections::BTreeMap<String, String>>, key: &str) -> Duration {
    let ms = labels
        .and_then(|labels| labels.get(key))
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    Duration::from_millis(ms)
}

#[async_trait]
impl Provider for Slow {
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
        self.inner.get(function).await
    }
    async fn deploy(&self, spec: FunctionDeployment) -> Result<()> {
        let delay = millis(spec.labels.as_ref(), DEPLOY_MS);
        let function = FunctionRef::new(spec.service.clone(), spec.namespace.clone());
        self.inner.deploy(spec).await?;
        self.inner.scale(&function, 0).await?;
        tokio::time::sleep(delay).await;
        self.inner.scale(&function, 1).await
    }
    async fn update(&self, spec: FunctionDeployment) -> Result<()> {
        self.inner.update(spec).await
    }
    async fn delete(&self, function: &FunctionRef) -> Result<()> {
        self.inner.delete(function).await
    }
    async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        self.inner.scale(function, replicas).await
    }
    async fn invoke(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        let status = self.inner.get(function).await?;
        tokio::time::sleep(millis(status.labels.as_ref(), ANSWER_MS)).await;
        self.inner.invoke(function, request).await
    }
}

/// [`Slow`] served over HTTP like a remote provider configured for long work (its own
/// `read_timeout`/`write_timeout` well above 20 s, as faasd's 60 s `service_timeout`).
async fn remote_slow() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let config = ServerConfig {
        read_timeout: Duration::from_secs(120),
        write_timeout: Duration::from_secs(120),
        ..ServerConfig::default()
    };
    let provider: Arc<dyn Provider> = Arc::new(Slow {
        inner: MemoryProvider::new(),
    });
    tokio::spawn(async move {
        let app = faas_provider::server::router(provider, &config);
        faas_provider::server::serve_router(listener, app, &config, std::future::pending()).await
    });
    url
}

/// POSTs `spec` to `/system/functions`; the status and body.
async fn deploy(url: &str, spec: &FunctionDeployment) -> (u16, String) {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let response = client
        .post(format!("{url}/system/functions"))
        .json(spec)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn invoke(url: &str, name: &str) -> (u16, String) {
    let response = client()
        .post(format!("{url}/function/{name}"))
        .body("hello")
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Waits (bounded) until `check` holds.
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let limit = Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < limit, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_20s_deploy_and_a_20s_function_succeed_with_the_defaults() {
    let remote = remote_slow().await;
    let mut config = FederationConfig::default();
    config.backends.push(BackendConfig::http("far", &remote));
    let (url, _runtime) = serve_runtime(&config).await;

    let answers = labelled("answers-late", "far", &[(ANSWER_MS, "20000")]);
    assert_eq!(deploy(&url, &answers).await.0, 202);
    let slow_deploy = labelled("deploys-late", "far", &[(DEPLOY_MS, "20000")]);
    let (deployed, invoked) =
        tokio::join!(deploy(&url, &slow_deploy), invoke(&url, "answers-late"));
    assert_eq!(
        deployed,
        (202, String::new()),
        "a 20 s deploy is not cut at the 10 s read bound"
    );
    assert!(
        invoked.0 == 200 && invoked.1.contains(r#""body":"hello""#),
        "a 20 s function is not cut at 10 s: {invoked:?}"
    );
}

#[tokio::test]
async fn past_the_bounds_a_504_names_the_backend_and_the_bound() {
    let (slow, capped) = (remote_slow().await, remote_slow().await);
    let mut config = FederationConfig::default();
    config.settings.timeouts.deploy = Duration::from_millis(300);
    config.settings.timeouts.upstream = Duration::from_secs(1);
    config.backends.push(BackendConfig::http("far", &slow));
    let mut own = BackendConfig::http("capped", &capped);
    own.invoke_timeout = Some(Duration::from_millis(500));
    config.backends.push(own);
    let (url, runtime) = serve_runtime(&config).await;

    // A deploy past deploy_timeout: 504, and the deploy completes behind it.
    let late = labelled("late", "far", &[(DEPLOY_MS, "1500")]);
    let (status, body) = deploy(&url, &late).await;
    assert_eq!(status, 504, "{body}");
    assert!(
        body.contains("backend far") && body.contains("deploy_timeout"),
        "{body}"
    );
    assert!(body.contains("300ms"), "{body}");
    let federation = runtime.federation.clone();
    let function = FunctionRef::new("late", NS);
    until("the cut deploy completes: the function gets its replica", || {
        let (federation, function) = (federation.clone(), function.clone());
        async move {
            matches!(federation.get(&function).await, Ok(s) if s.replicas == 1 && s.available_replicas == 1)
        }
    })
    .await;
    assert_eq!(deploy(&url, &late).await.0, 409, "deployed once, not twice");

    // Invocations past the deadline: upstream_timeout, or the backend's own invoke_timeout.
    for (name, backend, bound) in [
        ("dawdles", "far", "upstream_timeout"),
        ("dawdles-too", "capped", "this backend's invoke_timeout"),
    ] {
        let spec = labelled(name, backend, &[(ANSWER_MS, "5000")]);
        assert_eq!(deploy(&url, &spec).await.0, 202);
        let (status, body) = invoke(&url, name).await;
        assert_eq!(status, 504, "{body}");
        assert!(body.contains(&format!("backend {backend}")), "{body}");
        assert!(body.contains(bound), "{body}");
    }
}

#[tokio::test]
async fn a_cut_in_process_deploy_completes_in_the_background() {
    let slow = Arc::new(Slow {
        inner: MemoryProvider::new(),
    });
    let backend = Backend::in_process("inside", slow.clone()).with_deploy_timeout(Bound {
        limit: Duration::from_millis(200),
        setting: "deploy_timeout",
    });
    let federation = FederatedProvider::new(vec![backend], "inside").unwrap();
    federation.start().await;

    let spec = labelled("late", "inside", &[(DEPLOY_MS, "1000")]);
    match federation.deploy(spec.clone()).await {
        Err(ProviderError::Timeout(message)) => {
            assert!(message.contains("backend inside"), "{message}");
            assert!(message.contains("200ms (deploy_timeout)"), "{message}");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    let function = FunctionRef::new("late", NS);
    until(
        "the deploy was not dropped halfway (replica 0 for good)",
        || {
            let (slow, function) = (slow.clone(), function.clone());
            async move { matches!(slow.get(&function).await, Ok(s) if s.replicas == 1) }
        },
    )
    .await;
    assert!(matches!(
        federation.deploy(spec).await,
        Err(ProviderError::AlreadyExists { .. })
    ));
}
