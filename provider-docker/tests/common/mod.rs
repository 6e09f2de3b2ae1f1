//! Shared by the provider-docker integration tests: the engine, the test image, providers with
//! their own scope and state directory, and cleanup of whatever a test leaves in the engine.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use bollard::Docker;
use faas_provider::{Body, FunctionDeployment, FunctionRef, FunctionStatus, Provider};
use http_body_util::BodyExt;
use provider_docker::{DockerConfig, DockerProvider, PullPolicy, labels};

/// The engine (from test-support: `DOCKER_HOST`, or a private `dockerd`) with the test image
/// loaded. Hold it as long as the engine is needed: the last handle stops a private daemon.
pub struct Engine {
    pub handle: Arc<test_support::DockerEngine>,
    pub docker_host: String,
    /// The function image (watchdog + busybox, `fprocess=cat`), present in the engine.
    pub image: String,
}

/// The engine with the test images loaded (once per daemon); panics when it cannot start.
pub async fn engine() -> Engine {
    static LOADED: tokio::sync::Mutex<Option<String>> = tokio::sync::Mutex::const_new(None);
    let handle = tokio::task::spawn_blocking(test_support::docker_engine)
        .await
        .expect("starting the Docker Engine");
    let docker_host = handle.host().to_string();
    let mut loaded = LOADED.lock().await;
    if loaded.as_deref() != Some(docker_host.as_str()) {
        let docker = handle.client().await;
        let images = tokio::task::spawn_blocking(test_support::images::build_all)
            .await
            .expect("building the test images");
        test_support::push::docker_load(&docker, images, None)
            .await
            .unwrap_or_else(|e| panic!("loading the test images into {docker_host}: {e}"));
        *loaded = Some(docker_host.clone());
    }
    Engine {
        handle,
        docker_host,
        image: test_support::images::ECHO.local_reference(),
    }
}

/// A provider with its own scope and state directory; its containers are removed on drop.
pub struct TestProvider {
    pub provider: DockerProvider,
    pub engine: Engine,
    pub config: DockerConfig,
    pub scope: String,
    pub state: Arc<tempfile::TempDir>,
}

impl std::ops::Deref for TestProvider {
    type Target = DockerProvider;
    fn deref(&self) -> &DockerProvider {
        &self.provider
    }
}

/// A fresh scope and state directory, configured by `configure`.
pub async fn provider_with(configure: impl FnOnce(&mut DockerConfig)) -> TestProvider {
    let engine = engine().await;
    let state = Arc::new(tempfile::tempdir().expect("state directory"));
    let scope = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let mut config = DockerConfig::new(Some(engine.docker_host.clone()), state.path());
    config.scope = scope.clone();
    config.pull_policy = PullPolicy::IfNotPresent;
    config.stop_timeout = Duration::from_secs(5);
    config.startup_timeout = Duration::from_secs(60);
    config.health_interval = Duration::from_millis(500);
    configure(&mut config);
    let provider = DockerProvider::connect(config.clone())
        .await
        .unwrap_or_else(|e| panic!("connecting to the engine at {}: {e}", engine.docker_host));
    TestProvider {
        provider,
        engine,
        config,
        scope,
        state,
    }
}

/// A provider with the test defaults.
pub async fn provider() -> TestProvider {
    provider_with(|_| {}).await
}

impl TestProvider {
    /// Another provider instance over the same engine, scope and state (a restart).
    pub async fn restarted(&self) -> DockerProvider {
        DockerProvider::connect(self.config.clone())
            .await
            .expect("reconnect")
    }

    /// Every container of this scope (holders and replicas).
    pub async fn containers(&self) -> Vec<bollard::models::ContainerSummary> {
        scope_containers(self.docker(), &self.scope).await
    }

    /// The replica containers of `name` (default namespace), inspected.
    pub async fn replicas(&self, name: &str) -> Vec<bollard::models::ContainerInspectResponse> {
        let mut out = Vec::new();
        for c in self.containers().await {
            let labels = c.labels.clone().unwrap_or_default();
            if labels.get(labels::FUNCTION).map(String::as_str) == Some(name)
                && labels.get(labels::ROLE).map(String::as_str) == Some("replica")
            {
                let id = c.id.clone().unwrap();
                out.push(self.docker().inspect_container(&id, None).await.unwrap());
            }
        }
        out
    }
}

pub async fn scope_containers(
    docker: &Docker,
    scope: &str,
) -> Vec<bollard::models::ContainerSummary> {
    test_support::labelled_containers(docker, labels::SCOPE, scope).await
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        test_support::remove_labelled_blocking(self.docker(), labels::SCOPE, &self.scope);
    }
}

/// A deployment of the test image named `name` running `fprocess`.
pub async fn spec(name: &str, fprocess: &str) -> FunctionDeployment {
    let mut spec = FunctionDeployment::new(name, test_support::images::ECHO.local_reference());
    spec.namespace = faas_provider::DEFAULT_NAMESPACE.into();
    spec.env_process = fprocess.into();
    // Serializing mode: stderr is part of the body and a failing process answers 500.
    spec.env_vars.insert("mode".into(), "serializing".into());
    spec
}

pub fn function(name: &str) -> FunctionRef {
    FunctionRef::new(name, faas_provider::DEFAULT_NAMESPACE)
}

/// Invokes `name` with `body` (POST /), returning status and body text.
pub async fn invoke(provider: &dyn Provider, name: &str, body: &str) -> (u16, String) {
    invoke_path(provider, name, "/", body).await
}

pub async fn invoke_path(
    provider: &dyn Provider,
    name: &str,
    path: &str,
    body: &str,
) -> (u16, String) {
    let request = http::Request::post(path)
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = provider
        .invoke(&function(name), request)
        .await
        .unwrap_or_else(|e| panic!("invoke {name}: {e}"));
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("response body")
        .to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// Polls `get` until `check` holds (bounded; panics with the last status).
pub async fn wait_status(
    provider: &dyn Provider,
    name: &str,
    what: &str,
    check: impl Fn(&FunctionStatus) -> bool,
) -> FunctionStatus {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let status = provider.get(&function(name)).await;
        if let Ok(status) = &status
            && check(status)
        {
            return status.clone();
        }
        if tokio::time::Instant::now() > deadline {
            panic!("{name}: never {what}; last status {status:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
