//! The Kratos importer end to end: a zip whose `bootstrap` is a static program of this project
//! (`faas-lambda-echo`, lambda-emulator), created with the real AWS CLI
//! (`aws lambda create-function --zip-file fileb://fn.zip --runtime provided.al2023`) against a
//! federation whose backend is provider-docker on the real engine, with a test-support registry
//! as `lambda_import_registry`: the zip is imported as an image (the zip under /var/task, the
//! static `faas-lambda-entrypoint`), pushed, deployed, and then answers both
//! `aws lambda invoke` (the payload is the event, the response comes back unchanged) and an
//! HTTP call of `/function/NAME` (an API Gateway v2 event and back). `update-function-code`
//! with a new zip rolls a new image.
//!
//! Runs with the federation's `docker` feature (a `[[test]]` with `required-features`).

#[path = "common/aws_cli.rs"]
mod aws_cli;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aws_cli::AwsCli;
use federation::FederationConfig;
use federation::Runtime;
use serde_json::Value;
use test_support::assets::static_binary;

const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

/// A zip holding `bootstrap` (0755) with `program`'s bytes, plus `extra` files.
fn function_zip(dir: &Path, name: &str, program: &Path, extra: &[(&str, &[u8])]) -> PathBuf {
    let path = dir.join(name);
    let file = std::fs::File::create(&path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
    zip.start_file("bootstrap", options).unwrap();
    zip.write_all(&std::fs::read(program).unwrap()).unwrap();
    for (name, data) in extra {
        zip.start_file(*name, options.unix_permissions(0o644))
            .unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap();
    path
}

/// `aws lambda ARGS --endpoint-url URL` with dummy credentials (the API checks no signature
/// here) and raw payloads; must succeed; its JSON output (`null` when empty).
async fn aws(url: &str, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.extend(["--cli-binary-format", "raw-in-base64-out"]);
    AwsCli::new(url, "x", "x")
        .with_read_timeout(Duration::from_secs(300))
        .json(&args)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_bootstrap_zip_created_with_the_aws_cli_runs_on_docker() {
    let (entrypoint, echo) = tokio::task::spawn_blocking(|| {
        (
            static_binary("lambda-emulator", "faas-lambda-entrypoint"),
            static_binary("lambda-emulator", "faas-lambda-echo"),
        )
    })
    .await
    .unwrap();
    let registry = test_support::Registry::start();
    let engine: Arc<test_support::DockerEngine> =
        tokio::task::spawn_blocking(test_support::docker_engine)
            .await
            .unwrap();
    let state = tempfile::tempdir().unwrap();
    let scope = format!("imp{}", std::process::id());
    let text = format!(
        r#"
        default_backend = "engine"
        lambda_import_registry = "{registry}/lambda"
        lambda_import_insecure = true
        lambda_import_entrypoint = "{entrypoint}"
        [[backends]]
        name = "engine"
        kind = "docker"
        timeout = "120s"
        docker_host = "{host}"
        state_dir = "{state}"
        scope = "{scope}"
        stop_timeout = 2
        "#,
        registry = registry.host(),
        entrypoint = entrypoint.display(),
        host = engine.host(),
        state = state.path().display(),
    );
    let config = FederationConfig::from_toml(&text, Path::new("/nonexistent")).unwrap();
    let mut metrics = prometheus_client::registry::Registry::default();
    let runtime = Runtime::start(&config, &mut metrics).await.unwrap();
    let app = runtime.router(&faas_provider::ServerConfig::default(), metrics);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().unwrap();
    let zip = function_zip(dir.path(), "fn.zip", &echo, &[]);
    let created = aws(
        &url,
        &[
            "create-function",
            "--function-name",
            "zip-echo",
            "--runtime",
            "provided.al2023",
            "--handler",
            "echo.handler",
            "--role",
            ROLE,
            "--timeout",
            "10",
            "--zip-file",
            &format!("fileb://{}", zip.display()),
        ],
    )
    .await;
    assert_eq!(created["PackageType"], "Zip", "{created}");
    assert_eq!(created["Runtime"], "provided.al2023");
    let got = aws(&url, &["get-function", "--function-name", "zip-echo"]).await;
    let image = got["Code"]["ImageUri"].as_str().unwrap().to_string();
    assert!(
        image.starts_with(&format!("{}/lambda/zip-echo:zip-", registry.host())),
        "{got}"
    );

    // aws lambda invoke: the payload is the event, the response comes back unchanged.
    let out = dir.path().join("out.json");
    let payload = r#"{"hello": "world", "n": [1, 2]}"#;
    let invoked = aws(
        &url,
        &[
            "invoke",
            "--function-name",
            "zip-echo",
            "--payload",
            payload,
            &out.display().to_string(),
        ],
    )
    .await;
    assert_eq!(invoked["StatusCode"], 200, "{invoked}");
    assert_eq!(invoked.get("FunctionError"), None, "{invoked}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), payload);

    // /function/NAME: an API Gateway v2 event in, its response description back out.
    let response = reqwest::Client::new()
        .post(format!("{url}/function/zip-echo/some/path?x=1"))
        .header("content-type", "text/plain")
        .body("through API Gateway v2")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    assert_eq!(header("x-echo-method").as_deref(), Some("POST"));
    assert_eq!(header("x-echo-path").as_deref(), Some("/some/path"));
    assert_eq!(header("x-echo-query").as_deref(), Some("x=1"));
    // The function's Handler reached the bootstrap as Lambda passes it (`_HANDLER`).
    assert_eq!(header("x-echo-handler").as_deref(), Some("echo.handler"));
    assert_eq!(header("content-type").as_deref(), Some("text/plain"));
    assert_eq!(response.text().await.unwrap(), "through API Gateway v2");

    // A new zip: a new image, and the function still answers.
    let zip2 = function_zip(dir.path(), "fn2.zip", &echo, &[("version.txt", b"2")]);
    aws(
        &url,
        &[
            "update-function-code",
            "--function-name",
            "zip-echo",
            "--zip-file",
            &format!("fileb://{}", zip2.display()),
        ],
    )
    .await;
    let got = aws(&url, &["get-function", "--function-name", "zip-echo"]).await;
    let image2 = got["Code"]["ImageUri"].as_str().unwrap();
    assert_ne!(image2, image, "{got}");
    let invoked = aws(
        &url,
        &[
            "invoke",
            "--function-name",
            "zip-echo",
            "--payload",
            "[3]",
            &out.display().to_string(),
        ],
    )
    .await;
    assert_eq!(invoked["StatusCode"], 200, "{invoked}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "[3]");

    aws(&url, &["delete-function", "--function-name", "zip-echo"]).await;
    server.abort();
}
