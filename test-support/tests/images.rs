//! The test images end to end: built here, pushed to a real registry, pulled back by digest,
//! and run in a real Docker Engine (host network, watchdog on a 127.0.0.1 port).

use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
};
use futures::StreamExt;
use oci_client::manifest::OciDescriptor;
use test_support::images::{self, TestImage};
use test_support::net::free_port;
use test_support::oci::{DOCKER_MANIFEST, OCI_MANIFEST};
use test_support::push::{self, oci_client};
use test_support::{Registry, docker_engine};

const PATIENCE: Duration = Duration::from_secs(60);

/// A function container; removed on drop.
struct Function {
    docker: Docker,
    id: String,
    port: u16,
}

impl Function {
    async fn run(docker: &Docker, image: &str, env: &[String]) -> Function {
        let port = free_port();
        let mut env = env.to_vec();
        env.push(format!("port={port}"));
        env.push("bind_address=127.0.0.1".into());
        let name = format!("faas-test-{}-{port}", std::process::id());
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            env: Some(env),
            host_config: Some(HostConfig {
                network_mode: Some("host".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::new().name(&name).build();
        let created = docker
            .create_container(Some(options), body)
            .await
            .unwrap_or_else(|e| panic!("create {image}: {e}"));
        let function = Function {
            docker: docker.clone(),
            id: created.id,
            port,
        };
        docker
            .start_container(&function.id, None)
            .await
            .unwrap_or_else(|e| panic!("start {image}: {e}"));
        function.wait_healthy(image).await;
        function
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn logs(&self) -> String {
        let options = LogsOptionsBuilder::new().stdout(true).stderr(true).build();
        let mut logs = self.docker.logs(&self.id, Some(options));
        let mut text = String::new();
        while let Some(Ok(line)) = logs.next().await {
            text.push_str(&line.to_string());
        }
        text
    }

    async fn wait_healthy(&self, image: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(r) = client().get(self.url("/_/health")).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            if Instant::now() > deadline {
                panic!("{image} never became healthy; logs:\n{}", self.logs().await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn post(&self, path: &str, body: &'static str) -> (u16, String) {
        let response = client()
            .post(self.url(path))
            .body(body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let docker = self.docker.clone();
        let id = self.id.clone();
        // Drop runs inside the test's runtime: remove from a helper thread with its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let options = RemoveContainerOptionsBuilder::new().force(true).build();
                let _ = docker.remove_container(&id, Some(options)).await;
            });
        })
        .join();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Pull `image` back from the registry by digest: manifest bytes, config and every layer in
/// manifest order must be exactly what was built.
async fn verify_pull(registry: &Registry, pushed: &push::Pushed, image: TestImage) {
    let client = oci_client();
    let auth = registry.auth();
    let built = image.build();
    for (reference, media_type, expected) in [
        (pushed.by_digest(), OCI_MANIFEST, &built.oci_manifest),
        (
            format!(
                "{}@{}",
                pushed.docker_reference.rsplit_once(':').unwrap().0,
                pushed.docker_digest
            ),
            DOCKER_MANIFEST,
            &built.docker_manifest,
        ),
    ] {
        let reference: oci_client::Reference = reference.parse().unwrap();
        let (bytes, digest) = client
            .pull_manifest_raw(&reference, &auth, &[media_type])
            .await
            .unwrap_or_else(|e| panic!("pull {reference}: {e}"));
        assert_eq!(digest, expected.digest, "{reference}");
        assert_eq!(bytes, expected.data, "{reference}");
    }
    let reference: oci_client::Reference = pushed.by_digest().parse().unwrap();
    let (manifest, digest, config) = client
        .pull_manifest_and_config(&reference, &auth)
        .await
        .unwrap();
    assert_eq!(digest, pushed.digest);
    assert_eq!(config.as_bytes(), &built.config_blob.data[..]);
    assert_eq!(manifest.layers.len(), built.layers.len());
    for (descriptor, layer) in manifest.layers.iter().zip(&built.layers) {
        let mut data = Vec::new();
        let descriptor: &OciDescriptor = descriptor;
        client
            .pull_blob(&reference, descriptor, &mut data)
            .await
            .unwrap();
        assert_eq!(
            data, layer.blob.data,
            "{} layer {}",
            image.name, layer.blob.digest
        );
    }
}

#[tokio::test]
async fn images_are_pushed_pulled_by_digest_and_run_in_docker() {
    let built = images::build_all();
    let registry = Registry::start();
    let pushed = push::push_all(&registry.host(), &registry.auth(), built)
        .await
        .unwrap_or_else(|e| panic!("push: {e}\n{}", registry.log_tail(20)));
    assert_eq!(pushed.len(), images::ALL.len());
    for p in &pushed {
        verify_pull(&registry, p, p.image).await;
    }
    let by_digest = |image: TestImage| {
        pushed
            .iter()
            .find(|p| p.image == image)
            .unwrap()
            .by_digest()
    };

    let engine = docker_engine();
    let docker = engine.client().await;

    // The acceptance case: pulled by digest from the registry, POST hi → hi.
    let echo_ref = by_digest(images::ECHO);
    push::docker_pull(&docker, &echo_ref)
        .await
        .unwrap_or_else(|e| panic!("docker pull {echo_ref}: {e}\n{}", engine.log_tail(20)));
    let echo = Function::run(&docker, &echo_ref, &[]).await;
    assert_eq!(echo.post("/", "hi").await, (200, "hi".to_string()));
    let logs = echo.logs().await;
    assert!(logs.contains("Forking fprocess."), "{logs}");
    assert!(logs.contains("Wrote 2 Bytes"), "{logs}");

    // The Docker v2s2 copy pulls too.
    let docker_copy = pushed[0].docker_reference.clone();
    push::docker_pull(&docker, &docker_copy).await.unwrap();

    // The other images, pulled by digest, behave as documented.
    for image in [
        images::ECHO_REQUEST,
        images::FAIL,
        images::WHITEOUT,
        images::DYNAMIC,
        images::REDIRECT,
        images::SHA512SUM,
        images::ENV,
    ] {
        push::docker_pull(&docker, &by_digest(image)).await.unwrap();
    }
    let f = Function::run(&docker, &by_digest(images::ECHO_REQUEST), &[]).await;
    let response = client()
        .post(f.url("/path?q=1"))
        .header("X-Test", "yes")
        .body("line1\nline2")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let (head, body) = text.split_once("\n\n").expect("an empty line");
    assert_eq!(body, "line1\nline2");
    let lines: Vec<&str> = head.lines().collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted, "sorted Http_* lines");
    for line in [
        "Http_Method=POST",
        "Http_Path=/path",
        "Http_Query=q=1",
        "Http_X_Test=yes",
    ] {
        assert!(lines.contains(&line), "{line} in {text}");
    }
    assert!(lines.iter().all(|l| l.starts_with("Http_")), "{text}");

    let f = Function::run(&docker, &by_digest(images::FAIL), &[]).await;
    let (status, body) = f.post("/", "x").await;
    assert_eq!(status, 500);
    assert!(body.contains(images::FAIL_MESSAGE), "{body}");

    let f = Function::run(&docker, &by_digest(images::WHITEOUT), &[]).await;
    assert_eq!(
        f.post("/", "").await,
        (200, images::WHITEOUT_LISTING.to_string())
    );

    let f = Function::run(&docker, &by_digest(images::DYNAMIC), &[]).await;
    assert_eq!(f.post("/", "hi").await, (200, "dynamic: hi".to_string()));

    let f = Function::run(&docker, &by_digest(images::SHA512SUM), &[]).await;
    let (status, body) = f.post("/", "hi").await;
    assert_eq!(status, 200);
    assert!(body.starts_with("150a14ed5bea6cc731cf86c41566ac427a8db48ef1b9fd626664b3bfbb99071fa4c922f33dde38719b8c8354e2b7ab9d77e0e67fc12843920a712e73d558e197"), "{body}");

    let f = Function::run(&docker, &by_digest(images::ENV), &["extra=value".into()]).await;
    let (_, body) = f.post("/", "").await;
    assert!(body.lines().any(|l| l == "extra=value"), "{body}");
    assert!(body.lines().any(|l| l == "fprocess=env"), "{body}");

    // http mode: the upstream listens where upstream_url says (one port per replica).
    let upstream = format!("upstream_url=http://127.0.0.1:{}", free_port());
    let f = Function::run(&docker, &by_digest(images::REDIRECT), &[upstream]).await;
    let response = client().get(f.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], images::REDIRECT_LOCATION);
    let response = client()
        .get(f.url(images::REDIRECT_LOCATION))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), images::REDIRECT_TARGET_BODY);
}

#[tokio::test]
async fn docker_load_makes_the_images_runnable_without_a_registry() {
    let engine = docker_engine();
    let docker = engine.client().await;
    let tags = push::docker_load(&docker, images::build_all(), Some("127.0.0.1:5999"))
        .await
        .unwrap_or_else(|e| panic!("docker load: {e}\n{}", engine.log_tail(20)));
    assert!(tags.contains(&images::SLOW.local_reference()));
    assert!(tags.contains(&images::SLOW.reference("127.0.0.1:5999")));
    let f = Function::run(&docker, &images::SLOW.local_reference(), &[]).await;
    let response = client()
        .post(f.url("/"))
        .header("X-Sleep-Seconds", "0")
        .body("late")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "late");
    let f = Function::run(&docker, &images::ECHO.reference("127.0.0.1:5999"), &[]).await;
    assert_eq!(f.post("/", "hi").await, (200, "hi".to_string()));
}
