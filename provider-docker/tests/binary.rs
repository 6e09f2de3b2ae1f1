//! The `provider-docker` binary: configured from the environment (`port`, `DOCKER_HOST`,
//! `state_dir`, `scope`, `port_range`...), serving the OpenFaaS API over a real engine.

mod common;

use std::time::Duration;

use faas_provider::client::HttpProvider;
use faas_provider::{Body, FunctionRef, Provider};
use http_body_util::BodyExt;

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_a_docker_provider() {
    let engine = common::engine().await;
    let state = tempfile::tempdir().unwrap();
    let scope = format!("bin{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_provider-docker"))
        .env("port", port.to_string())
        .env("DOCKER_HOST", &engine.docker_host)
        .env("state_dir", state.path())
        .env("scope", &scope)
        .env("image_pull_policy", "IfNotPresent")
        .env("port_range", "30000-30999")
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("run provider-docker");
    let _child = Child(child);

    let url = format!("http://127.0.0.1:{port}");
    let client = HttpProvider::new(&url).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let info = loop {
        match client.info().await {
            Ok(info) => break info,
            Err(e) if tokio::time::Instant::now() > deadline => panic!("never served: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    assert_eq!(
        (info.name.as_str(), info.orchestration.as_str()),
        ("faas-docker", "docker")
    );
    // The commit built, not `unknown`.
    if let Some(sha) = build_sha::expected(env!("CARGO_MANIFEST_DIR")) {
        assert_eq!(
            info.version.as_ref().map(|v| v.sha.as_str()),
            Some(sha.as_str())
        );
    }
    client.health().await.unwrap();

    let spec = common::spec("bin-echo", "cat").await;
    client.deploy(spec).await.unwrap();
    let function = FunctionRef::new("bin-echo", faas_provider::DEFAULT_NAMESPACE);
    let status = client.get(&function).await.unwrap();
    assert_eq!(status.available_replicas, 1);
    let response = client
        .invoke(
            &function,
            http::Request::post("/")
                .body(Body::from("via the binary"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "via the binary");

    // The replica got a port of the configured range.
    let containers = common::scope_containers(&engine.handle.client().await, &scope).await;
    let port: u16 = containers
        .iter()
        .find_map(|c| {
            c.labels
                .as_ref()?
                .get(provider_docker::labels::PORT)?
                .parse()
                .ok()
        })
        .expect("a replica with a port");
    assert!((30000..=30999).contains(&port), "{port}");

    client.delete(&function).await.unwrap();
    assert!(
        common::scope_containers(&engine.handle.client().await, &scope)
            .await
            .is_empty()
    );
}
