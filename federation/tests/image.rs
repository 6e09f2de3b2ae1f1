//! The container image of `federation/Dockerfile`: its runtime stage (everything from the
//! last `FROM`) is built on the test Docker Engine around the static `faas-federation` built
//! here (test-support's `static_binary`, the build the Dockerfile's first stage runs), then
//! started with host networking on a 127.0.0.1 port, and must serve `/healthz`,
//! `/system/info`, a deploy and an invocation over its in-memory backend, as a non-root user.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateContainerOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder,
};
use futures::StreamExt;
use test_support::oci::LayerBuilder;

const DOCKERFILE: &str = include_str!("../Dockerfile");

/// The Dockerfile's runtime stage for a build context holding the files it copies from the
/// build stage (named by their file name), and those files: each `COPY --from=build SRC DST`
/// becomes `COPY <name of SRC> DST`.
fn runtime_stage(
    dockerfile: &str,
    files: &HashMap<&str, PathBuf>,
) -> (String, Vec<(String, PathBuf)>) {
    let lines: Vec<&str> = dockerfile.lines().collect();
    let from = lines
        .iter()
        .rposition(|line| line.starts_with("FROM "))
        .expect("the Dockerfile has a FROM");
    let mut context = Vec::new();
    let mut stage = String::new();
    for line in &lines[from..] {
        match line.strip_prefix("COPY --from=build ") {
            Some(rest) => {
                let (source, destination) = rest.split_once(' ').expect("COPY SRC DST");
                let name = source.rsplit('/').next().expect("a file name");
                let path = files
                    .get(name)
                    .unwrap_or_else(|| panic!("the runtime stage copies {source}: no file for it"));
                context.push((name.to_string(), path.clone()));
                stage.push_str(&format!("COPY {name} {destination}\n"));
            }
            None => {
                stage.push_str(line);
                stage.push('\n');
            }
        }
    }
    (stage, context)
}

/// A container removed (with its image) when dropped.
struct Started {
    docker: Docker,
    id: String,
    image: String,
}

impl Drop for Started {
    fn drop(&mut self) {
        let (docker, id, image) = (self.docker.clone(), self.id.clone(), self.image.clone());
        let cleanup = async move {
            let force = RemoveContainerOptionsBuilder::default().force(true).build();
            let _ = docker.remove_container(&id, Some(force)).await;
            let force = RemoveImageOptionsBuilder::default().force(true).build();
            let _ = docker.remove_image(&image, Some(force), None).await;
        };
        // Dropped inside the test's runtime: clean up on a thread of its own.
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(cleanup)
        })
        .join()
        .expect("cleanup thread");
    }
}

impl Started {
    async fn logs(&self) -> String {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .build();
        let mut logs = self.docker.logs(&self.id, Some(options));
        let mut text = String::new();
        while let Some(Ok(chunk)) = logs.next().await {
            text.push_str(&chunk.to_string());
        }
        text
    }
}

async fn build(docker: &Docker, tag: &str) {
    let binary = tokio::task::spawn_blocking(|| {
        test_support::assets::static_binary("federation", "faas-federation")
    })
    .await
    .expect("the static build");
    let files = HashMap::from([
        ("faas-federation", binary),
        (
            "ca-certificates.crt",
            PathBuf::from("/etc/ssl/certs/ca-certificates.crt"),
        ),
    ]);
    let (stage, context) = runtime_stage(DOCKERFILE, &files);
    let mut tar = LayerBuilder::new("federation image context");
    tar.file("Dockerfile", 0o644, stage.as_bytes());
    for (name, path) in &context {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        tar.file(name, 0o755, &bytes);
    }
    let options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(tag)
        .rm(true)
        .forcerm(true)
        .build();
    let body = bollard::body_full(tar.finish_tar().into());
    let mut progress = docker.build_image(options, None, Some(body));
    let mut log = String::new();
    while let Some(item) = progress.next().await {
        let info = item.unwrap_or_else(|e| panic!("building {tag}: {e}\n{log}\n{stage}"));
        if let Some(error) = info.error_detail.and_then(|d| d.message) {
            panic!("building {tag}: {error}\n{log}\n{stage}");
        }
        log.push_str(info.stream.as_deref().unwrap_or_default());
    }
}

#[tokio::test]
async fn the_image_serves_the_api_as_a_non_root_user() {
    let engine = tokio::task::spawn_blocking(test_support::docker_engine)
        .await
        .expect("the Docker Engine");
    let docker = engine.client().await;
    let tag = format!("faas-test/federation:{}", std::process::id());
    build(&docker, &tag).await;

    // As shipped: every address, port 8080, a numeric non-root user, the binary alone.
    let image = docker.inspect_image(&tag).await.expect("the built image");
    let config = image.config.expect("an image config");
    let env = config.env.unwrap_or_default();
    assert!(env.contains(&"bind=0.0.0.0".to_string()), "{env:?}");
    assert!(env.contains(&"port=8080".to_string()), "{env:?}");
    let user = config.user.unwrap_or_default();
    let uid: u32 = user
        .split(':')
        .next()
        .and_then(|u| u.parse().ok())
        .unwrap_or_else(|| panic!("user {user:?} is not numeric"));
    assert_ne!(uid, 0, "the image runs as root");

    // Tests listen on loopback only: the host network, a free 127.0.0.1 port.
    let port = test_support::net::free_port();
    let body = ContainerCreateBody {
        image: Some(tag.clone()),
        env: Some(vec![format!("port={port}"), "bind=127.0.0.1".into()]),
        host_config: Some(HostConfig {
            network_mode: Some("host".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let name = format!("faas-test-federation-image-{}", std::process::id());
    let options = CreateContainerOptionsBuilder::default().name(&name).build();
    let created = docker
        .create_container(Some(options), body)
        .await
        .expect("creating the container");
    let started = Started {
        docker: docker.clone(),
        id: created.id.clone(),
        image: tag.clone(),
    };
    docker
        .start_container(&created.id, None)
        .await
        .expect("starting the container");

    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match client.get(format!("{url}/healthz")).send().await {
            Ok(response) if response.status() == 200 => break,
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            other => panic!(
                "no /healthz within 30 s: {other:?}\n{}",
                started.logs().await
            ),
        }
    }

    let info: serde_json::Value = client
        .get(format!("{url}/system/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["provider"], "faas-federation", "{info}");
    assert_eq!(
        info["orchestration"], "federation (local: memory)",
        "{info}"
    );

    let deployed = client
        .post(format!("{url}/system/functions"))
        .json(&serde_json::json!({"service": "echo", "image": "example/echo:1"}))
        .send()
        .await
        .unwrap();
    assert!(deployed.status().is_success(), "{deployed:?}");
    let invoked = client
        .post(format!("{url}/function/echo/in/the/image"))
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(invoked.status(), 200);
    let echo: serde_json::Value = invoked.json().await.unwrap();
    assert_eq!(
        (echo["path"].as_str(), echo["body"].as_str()),
        (Some("/in/the/image"), Some("hello")),
        "{echo}"
    );

    // The process itself runs as that user (seen from the host).
    let inspect = docker.inspect_container(&created.id, None).await.unwrap();
    let pid = inspect
        .state
        .and_then(|s| s.pid)
        .expect("a running process");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uids: Vec<u32> = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .expect("a Uid line")
        .split_whitespace()
        .map(|u| u.parse().unwrap())
        .collect();
    assert_eq!(uids, vec![uid; 4], "{status}");
    drop(started);
}
