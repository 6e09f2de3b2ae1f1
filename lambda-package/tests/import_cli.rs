//! `faas-lambda import` end to end: a zip whose `bootstrap` is `faas-lambda-echo` (static, from
//! lambda-emulator) is imported into a test registry with the static `faas-lambda-entrypoint`,
//! then the pushed image runs on the Docker Engine (host network, `port` on 127.0.0.1) and
//! answers a marked invoke (the event back unchanged) and an HTTP call (an API Gateway v2
//! event and back).

use std::io::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder};
use lambda_package::import::INVOKE_HEADER;
use test_support::assets::static_binary;
use test_support::{Registry, push};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_zip_runs_as_a_container() {
    let (entrypoint, echo) = tokio::task::spawn_blocking(|| {
        (
            static_binary("lambda-emulator", "faas-lambda-entrypoint"),
            static_binary("lambda-emulator", "faas-lambda-echo"),
        )
    })
    .await
    .unwrap();
    let registry = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("fn.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default().unix_permissions(0o700);
    zip.start_file("bootstrap", options).unwrap();
    zip.write_all(&std::fs::read(&echo).unwrap()).unwrap();
    zip.finish().unwrap();

    let image = format!("{}/imported/echo:1", registry.host());
    let output = Command::new(env!("CARGO_BIN_EXE_faas-lambda"))
        .arg("import")
        .arg(&zip_path)
        .args([
            "--image",
            &image,
            "--insecure-registry",
            &registry.host(),
            "--quiet",
        ])
        .arg("--entrypoint")
        .arg(&entrypoint)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(&format!("pushed     {image}")), "{stdout}");
    assert!(stdout.contains("digest     sha256:"), "{stdout}");

    let engine = test_support::docker_engine();
    let docker = engine.client().await;
    push::docker_pull(&docker, &image).await.unwrap();
    let port = test_support::net::free_port();
    let name = format!("faas-import-cli-{}", std::process::id());
    let body = ContainerCreateBody {
        image: Some(image.clone()),
        env: Some(vec![
            format!("port={port}"),
            "bind_address=127.0.0.1".into(),
            "GREETING=hi".into(),
        ]),
        host_config: Some(HostConfig {
            network_mode: Some("host".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    docker
        .create_container(
            Some(CreateContainerOptionsBuilder::default().name(&name).build()),
            body,
        )
        .await
        .unwrap();
    docker.start_container(&name, None).await.unwrap();
    let remove = RemoveContainerOptionsBuilder::default().force(true).build();

    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let start = Instant::now();
    loop {
        if let Ok(answer) = client.get(format!("{url}/_/health")).send().await
            && answer.status() == 200
        {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = docker.remove_container(&name, Some(remove)).await;
            panic!("the container never became healthy");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let raw = client
        .post(format!("{url}/"))
        .header(INVOKE_HEADER, "1")
        .body(r#"{"raw": true}"#)
        .send()
        .await
        .unwrap();
    let raw = (raw.status().as_u16(), raw.text().await.unwrap());
    let http = client
        .post(format!("{url}/hello?a=b"))
        .body("over HTTP")
        .send()
        .await
        .unwrap();
    let path = http.headers().get("x-echo-path").cloned();
    let http = (http.status().as_u16(), http.text().await.unwrap());
    docker.remove_container(&name, Some(remove)).await.unwrap();
    assert_eq!(raw, (200, r#"{"raw": true}"#.to_string()));
    assert_eq!(http, (200, "over HTTP".to_string()));
    assert_eq!(path.unwrap().to_str().unwrap(), "/hello");
}
