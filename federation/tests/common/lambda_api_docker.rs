//! The Docker fixture of the Lambda API tests (`lambda_api_sdk.rs`, `docker::*`): the default
//! backend `local` is provider-docker on the test engine (test-support's: `DOCKER_HOST`, or a
//! private `dockerd`), each federation in a scope and state directory of its own whose
//! containers are removed when the federation is dropped. The test images are loaded into the
//! engine once per test process; functions run them with host networking on 127.0.0.1 ports:
//!
//! - echo: `faas-test/echo-request` (its request's sorted `Http_*` lines, an empty line, the
//!   body), and `faas-test/echo` (the body) as the second image `UpdateFunctionCode` switches to;
//! - crash: `faas-test/fail` (exits 1 with a message on stderr: a 500 from the watchdog).

#![allow(dead_code, unreachable_pub)]

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use faas_provider::Provider;
use provider_docker::{DockerConfig, DockerProvider, PullPolicy, labels};
use test_support::images::{ECHO, ECHO_REQUEST, FAIL, FAIL_MESSAGE};

use super::harness::{Echoed, Fixture};

/// The engine with the test images loaded.
pub struct Docker {
    _engine: Arc<test_support::DockerEngine>,
    host: String,
    docker: bollard::Docker,
}

/// The engine (starting it if need be) with the test images loaded, once per process.
pub async fn docker() -> Docker {
    static LOADED: tokio::sync::Mutex<Option<String>> = tokio::sync::Mutex::const_new(None);
    let engine = tokio::task::spawn_blocking(test_support::docker_engine)
        .await
        .expect("starting the Docker Engine");
    let host = engine.host().to_string();
    let docker = engine.client().await;
    let mut loaded = LOADED.lock().await;
    if loaded.as_deref() != Some(host.as_str()) {
        let images = tokio::task::spawn_blocking(test_support::images::build_all)
            .await
            .expect("building the test images");
        test_support::push::docker_load(&docker, images, None)
            .await
            .unwrap_or_else(|e| panic!("loading the test images into {host}: {e}"));
        *loaded = Some(host.clone());
    }
    Docker {
        _engine: engine,
        host,
        docker,
    }
}

/// A scope and its state directory; the scope's containers are removed on drop.
struct Scope {
    docker: bollard::Docker,
    scope: String,
    _state: tempfile::TempDir,
}

impl Drop for Scope {
    fn drop(&mut self) {
        test_support::remove_labelled_blocking(&self.docker, labels::SCOPE, &self.scope);
    }
}

#[async_trait]
impl Fixture for Docker {
    async fn local(&self) -> (Arc<dyn Provider>, Box<dyn Any + Send + Sync>) {
        let state = tempfile::tempdir().expect("a state directory");
        let scope = format!("l{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let mut config = DockerConfig::new(Some(self.host.clone()), state.path());
        config.scope = scope.clone();
        config.pull_policy = PullPolicy::Never;
        config.stop_timeout = Duration::from_secs(1);
        config.health_interval = Duration::from_millis(500);
        let provider = DockerProvider::connect(config)
            .await
            .unwrap_or_else(|e| panic!("connecting to the engine at {}: {e}", self.host));
        let scope = Scope {
            docker: self.docker.clone(),
            scope,
            _state: state,
        };
        (Arc::new(provider), Box::new(scope))
    }

    fn echo_images(&self) -> [String; 2] {
        [ECHO_REQUEST.local_reference(), ECHO.local_reference()]
    }

    fn crash(&self) -> (String, &'static str) {
        (FAIL.local_reference(), "local")
    }

    fn assert_crash_payload(&self, payload: &[u8]) {
        let text = String::from_utf8_lossy(payload);
        assert!(text.contains(FAIL_MESSAGE), "{text}");
    }

    fn echoed(&self, answer: &[u8]) -> Echoed {
        let text = String::from_utf8_lossy(answer);
        let (head, body) = text
            .split_once("\n\n")
            .unwrap_or_else(|| panic!("not an echo-request answer: {text}"));
        let variable = |name: &str| {
            head.lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
                .unwrap_or_else(|| panic!("no {name} in {head}"))
                .to_string()
        };
        Echoed {
            method: variable("Http_Method"),
            path: variable("Http_Path"),
            body: body.to_string(),
        }
    }

    fn call_log(&self) -> &'static str {
        "Forking fprocess."
    }
}
