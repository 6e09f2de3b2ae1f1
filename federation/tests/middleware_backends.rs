//! One middleware image, two backends, the same answers: test-support's `MIDDLEWARE` image
//! (`cat` behind the `add-header`, `hmac` and `cloudevents` Serverless Open Runtime
//! middlewares, `SLSMIDDLEWARES` in its Env) deployed through one federation on a docker
//! backend (the real engine, the watchdog on a 127.0.0.1 port of the host network) and on a
//! lambda backend in local mode (moto for the control plane; the image packaged into a zip and
//! run by the shim in the emulator). Every request gets the same status, the header the
//! `after` hook adds, the CloudEvents envelope the `before` hook made of the body (echoed by
//! `cat`), and the same refusal (502 naming the `hmac` hook and its reason) when the HMAC
//! signature is missing or wrong.
//!
//! Runs with the federation's `docker` and `lambda` features (a `[[test]]` with
//! `required-features`).

use std::sync::Arc;

use bollard::Docker;
use faas_provider::{Body, FunctionDeployment, FunctionRef, Provider};
use federation::{FederatedProvider, FederationConfig, GATEWAY_ANNOTATION};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use test_support::images::MIDDLEWARE;
use test_support::middlewares::{
    ADDED_HEADER, ADDED_HEADER_VALUE, SIGNATURE_HEADER, TEST_HMAC_SECRET, signature,
};
use test_support::moto::{ACCESS_KEY, Moto, REGION, SECRET_KEY};

const NS: &str = "openfaas-fn";

/// What a backend answered, in the terms compared.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    /// The header the `add-header` after hook sets.
    added: Option<String>,
    /// `Content-Type`.
    content_type: Option<String>,
    /// The body as JSON (the envelope, its `id` checked and removed), or as text.
    body: Result<Value, String>,
}

/// A request, built afresh for each backend.
struct Case {
    what: &'static str,
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
    /// `x-hub-signature-256`, if any.
    signature: Option<String>,
}

impl Case {
    fn request(&self) -> http::Request<Body> {
        let mut request = http::Request::post(self.path).header("content-type", self.content_type);
        if let Some(signature) = &self.signature {
            request = request.header(SIGNATURE_HEADER, signature);
        }
        request.body(Body::from(self.body.to_string())).unwrap()
    }
}

async fn answer(federation: &FederatedProvider, name: &str, case: &Case) -> Answer {
    let function = FunctionRef::new(name, NS);
    let response = federation
        .invoke(&function, case.request())
        .await
        .unwrap_or_else(|e| panic!("{}: invoke {name}: {e}", case.what));
    let status = response.status().as_u16();
    let added = response
        .headers()
        .get(ADDED_HEADER)
        .map(|v| v.to_str().unwrap().to_string());
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = match serde_json::from_str::<Value>(&text) {
        Ok(mut envelope) if status == 200 => {
            let id = envelope
                .as_object_mut()
                .and_then(|o| o.remove("id"))
                .unwrap_or_else(|| panic!("{}: {name}: no id in {text}", case.what));
            assert!(
                id.as_str().is_some_and(|id| !id.is_empty()),
                "{}: {name}: id {id}",
                case.what
            );
            Ok(envelope)
        }
        _ => Err(text),
    };
    Answer {
        status,
        added,
        content_type,
        body,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_middleware_image_answers_alike_on_docker_and_lambda() {
    let setup = Setup::start().await;
    let federation = setup.federation().await;
    let mut on_docker = FunctionDeployment::new("mw-docker", MIDDLEWARE.local_reference());
    on_docker.namespace = NS.into();
    on_docker.annotations = Some([(GATEWAY_ANNOTATION.to_string(), "engine".to_string())].into());
    let mut on_lambda =
        FunctionDeployment::new("mw-lambda", MIDDLEWARE.reference(&setup.registry.host()));
    on_lambda.namespace = NS.into();
    on_lambda.annotations = Some([(GATEWAY_ANNOTATION.to_string(), "aws".to_string())].into());
    federation.deploy(on_docker).await.unwrap();
    federation.deploy(on_lambda).await.unwrap();

    let secret = TEST_HMAC_SECRET.as_bytes();
    let json_body = r#"{"order": 7, "items": ["a", "é"]}"#;
    let text_body = "plain \"text\"\nline two";
    let cases = [
        Case {
            what: "signed JSON",
            path: "/",
            content_type: "application/json",
            body: json_body,
            signature: Some(signature(secret, json_body.as_bytes())),
        },
        Case {
            what: "signed text on a sub-path",
            path: "/orders/7?x=1",
            content_type: "text/plain",
            body: text_body,
            signature: Some(signature(secret, text_body.as_bytes())),
        },
        Case {
            what: "unsigned",
            path: "/",
            content_type: "application/json",
            body: json_body,
            signature: None,
        },
        Case {
            what: "signed with another key",
            path: "/",
            content_type: "application/json",
            body: json_body,
            signature: Some(signature(b"not the secret", json_body.as_bytes())),
        },
    ];
    let mut answers = Vec::new();
    for case in &cases {
        let docker = answer(&federation, "mw-docker", case).await;
        let lambda = answer(&federation, "mw-lambda", case).await;
        answers.push((case, docker, lambda));
    }

    for (case, docker, lambda) in &answers {
        let what = case.what;
        match what {
            "signed JSON" | "signed text on a sub-path" => {
                assert_eq!(docker.status, 200, "{what}: {docker:?}");
                assert_eq!(docker.added.as_deref(), Some(ADDED_HEADER_VALUE), "{what}");
                let envelope = docker.body.as_ref().expect("a JSON envelope");
                let data = if case.content_type == "application/json" {
                    serde_json::from_str::<Value>(case.body).unwrap()
                } else {
                    json!(case.body)
                };
                assert_eq!(envelope["specversion"], "1.0", "{what}");
                assert_eq!(envelope["type"], "dev.faas-rs.http.post", "{what}");
                assert_eq!(envelope["datacontenttype"], case.content_type, "{what}");
                assert_eq!(envelope["data"], data, "{what}");
                let path = case.path.split('?').next().unwrap();
                assert!(
                    envelope["source"]
                        .as_str()
                        .is_some_and(|s| s.ends_with(path)),
                    "{what}: {envelope}"
                );
            }
            _ => {
                assert_eq!(docker.status, 502, "{what}: {docker:?}");
                let reason = if case.signature.is_none() {
                    "hmac: missing x-hub-signature-256 header"
                } else {
                    "hmac: signature mismatch"
                };
                for (backend, answer) in [("docker", docker), ("lambda", lambda)] {
                    let text = answer.body.as_ref().expect_err("a text refusal");
                    assert!(text.contains(reason), "{what} on {backend}: {text}");
                    assert_eq!(answer.added, None, "{what} on {backend}: no after hook");
                }
            }
        }
        // The same answer from both backends (refusal texts compared by their reason above).
        assert_eq!(docker.status, lambda.status, "{what}");
        assert_eq!(docker.added, lambda.added, "{what}");
        if docker.status == 200 {
            assert_eq!(docker.body, lambda.body, "{what}");
            assert_eq!(docker.content_type, lambda.content_type, "{what}");
        }
    }

    for name in ["mw-docker", "mw-lambda"] {
        federation
            .delete(&FunctionRef::new(name, NS))
            .await
            .unwrap();
    }
    assert!(
        setup.containers().await.is_empty(),
        "containers left behind"
    );
}

/// The engine (the test images loaded), moto, a registry with the test images, the static
/// shim, and a scope of this test's containers (removed on drop).
struct Setup {
    _engine: Arc<test_support::DockerEngine>,
    docker_host: String,
    docker: Docker,
    scope: String,
    state: tempfile::TempDir,
    moto: Moto,
    registry: test_support::Registry,
    bootstrap: std::path::PathBuf,
}

impl Setup {
    async fn start() -> Setup {
        let engine = tokio::task::spawn_blocking(test_support::docker_engine)
            .await
            .unwrap();
        let docker = engine.client().await;
        let images = tokio::task::spawn_blocking(test_support::images::build_all)
            .await
            .unwrap();
        test_support::push::docker_load(&docker, images, None)
            .await
            .unwrap_or_else(|e| panic!("loading the test images: {e}"));
        let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
        let registry = tokio::task::spawn_blocking(test_support::Registry::start)
            .await
            .unwrap();
        test_support::push::push_all(&registry.host(), &registry.auth(), images)
            .await
            .expect("pushing the test images");
        let bootstrap = tokio::task::spawn_blocking(test_support::assets::static_bootstrap)
            .await
            .unwrap()
            .to_path_buf();
        let state = tempfile::tempdir().unwrap();
        let unique: String = state
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        Setup {
            docker_host: engine.host().to_string(),
            _engine: engine,
            docker,
            scope: format!("mw{}{unique}", std::process::id()),
            state,
            moto,
            registry,
            bootstrap,
        }
    }

    /// A federation with a docker backend `engine` and a lambda backend `aws` (local mode).
    async fn federation(&self) -> FederatedProvider {
        let dir = self.state.path();
        std::fs::write(dir.join("aws-secret"), format!("{SECRET_KEY}\n")).unwrap();
        let text = format!(
            r#"
            [[backends]]
            name = "engine"
            kind = "docker"
            timeout = "120s"
            docker_host = "{host}"
            state_dir = "{state}"
            scope = "{scope}"
            image_pull_policy = "IfNotPresent"
            stop_timeout = 5
            health_interval = "500ms"
            [[backends]]
            name = "aws"
            kind = "lambda"
            timeout = "180s"
            lambda_execution_role = "{role}"
            aws_region = "{REGION}"
            aws_endpoint_url = "{endpoint}"
            aws_access_key_id = "{ACCESS_KEY}"
            aws_secret_access_key_file = "aws-secret"
            bootstrap_path = "{bootstrap}"
            insecure_registries = ["{registry}"]
            ready_timeout = "60s"
            local = true
            local_cache_dir = "cache"
            "#,
            host = self.docker_host,
            state = dir.join("docker").display(),
            scope = self.scope,
            role = self.moto.role_arn(),
            endpoint = self.moto.url(),
            bootstrap = self.bootstrap.display(),
            registry = self.registry.host(),
        );
        let config = FederationConfig::from_toml(&text, dir).unwrap();
        let federation = FederatedProvider::from_config(&config).await.unwrap();
        let report = federation.start().await;
        assert!(report.unreachable.is_empty(), "{report:?}");
        federation
    }

    async fn containers(&self) -> Vec<String> {
        scope_containers(&self.docker, &self.scope).await
    }
}

async fn scope_containers(docker: &Docker, scope: &str) -> Vec<String> {
    test_support::labelled_containers(docker, provider_docker::labels::SCOPE, scope)
        .await
        .into_iter()
        .filter_map(|c| c.id)
        .collect()
}

impl Drop for Setup {
    fn drop(&mut self) {
        test_support::remove_labelled_blocking(
            &self.docker,
            provider_docker::labels::SCOPE,
            &self.scope,
        );
    }
}
