//! Secrets and Lambda-refused variable names end to end in local mode: the provider (moto for
//! Lambda and Secrets Manager) delivers `OPENFAAS_SECRETS` / `OPENFAAS_ENV`, the real packaged
//! zip's static shim writes the secrets under `/tmp/openfaas/secrets/` and expands the extra
//! variables, and the function reads them.

#[path = "provider_common.rs"]
mod common;

use bytes::Bytes;
use faas_provider::{Body, FunctionDeployment, FunctionRef, Provider, Secret};
use http::StatusCode;
use http_body_util::BodyExt;
use provider_lambda::LambdaProvider;
use test_support::images::{ECHO, ENV};

const NS: &str = "openfaas-fn";
/// Where the shim writes secrets (provider-lambda/README.md, "Secrets"). In local mode with
/// the process sandbox this is the host's `/tmp`, shared by every function: names are unique.
const SECRETS_DIR: &str = "/tmp/openfaas/secrets";

async fn call(p: &LambdaProvider, name: &str) -> (StatusCode, Bytes) {
    let response = p
        .invoke(
            &FunctionRef::new(name, NS),
            http::Request::builder()
                .method("POST")
                .uri("/")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .expect("invoke");
    let status = response.status();
    (
        status,
        response.into_body().collect().await.unwrap().to_bytes(),
    )
}

/// A secret name no concurrent test run shares.
fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{}-{nanos}", std::process::id())
}

/// Removes the secret files this test made in the shared directory.
struct Cleanup(Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for name in &self.0 {
            let _ = std::fs::remove_file(std::path::Path::new(SECRETS_DIR).join(name));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_read_their_secrets_and_refused_variable_names() {
    let setup = common::local_setup().await;
    let p = setup.provider.clone();
    let text_name = unique("api-key");
    let raw_name = unique("raw");
    let _cleanup = Cleanup(vec![text_name.clone(), raw_name.clone()]);
    p.create_secret(Secret::new(&text_name, NS, "s3cr3t value\nline 2"))
        .await
        .unwrap();
    let raw_bytes = vec![0u8, 159, 146, 150, 255, b'\n'];
    let mut raw = Secret::new(&raw_name, NS, "");
    raw.raw_value = raw_bytes.clone();
    p.create_secret(raw).await.unwrap();

    // ECHO reading its secret file.
    let mut spec = FunctionDeployment::new("reader", setup.image(&ECHO));
    spec.env_process = format!("cat {SECRETS_DIR}/{text_name}");
    spec.secrets = vec![text_name.clone()];
    p.deploy(spec.clone()).await.unwrap();
    let (status, body) = call(&p, "reader").await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    assert_eq!(body.as_ref(), b"s3cr3t value\nline 2");

    // A changed value reaches the function on its next update.
    p.update_secret(Secret::new(&text_name, NS, "rotated"))
        .await
        .unwrap();
    p.update(spec).await.unwrap();
    let (status, body) = call(&p, "reader").await;
    assert_eq!(
        (status, body.as_ref()),
        (StatusCode::OK, b"rotated".as_ref())
    );

    // Binary values arrive byte for byte.
    let mut spec = FunctionDeployment::new("raw-reader", setup.image(&ECHO));
    spec.env_process = format!("cat {SECRETS_DIR}/{raw_name}");
    spec.secrets = vec![raw_name.clone()];
    p.deploy(spec).await.unwrap();
    let (status, body) = call(&p, "raw-reader").await;
    assert_eq!(
        (status, body.as_ref()),
        (StatusCode::OK, raw_bytes.as_slice())
    );

    // ENV shows its environment: the refused names as plain variables, the SDK's
    // secret_mount_path, and neither reserved variable (nor the encoded secret).
    let mut spec = FunctionDeployment::new("env", setup.image(&ENV));
    spec.env_vars.insert("my-var".into(), "dash value".into());
    spec.env_vars.insert("A".into(), "single".into());
    spec.env_vars.insert("LAMBDA_OK".into(), "plain".into());
    spec.secrets = vec![text_name.clone(), raw_name.clone()];
    p.deploy(spec).await.unwrap();
    let (status, body) = call(&p, "env").await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8_lossy(&body).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    for expected in [
        "my-var=dash value",
        "A=single",
        "LAMBDA_OK=plain",
        "secret_mount_path=/tmp/openfaas/secrets",
        "AWS_LAMBDA_FUNCTION_NAME=env",
    ] {
        assert!(lines.contains(&expected), "{expected}: {text}");
    }
    for reserved in ["OPENFAAS_SECRETS=", "OPENFAAS_ENV="] {
        assert!(
            !lines.iter().any(|l| l.starts_with(reserved)),
            "{reserved}: {text}"
        );
    }
    assert!(!text.contains("rotated"), "{text}");
    assert!(
        !text.contains("cm90YXRlZA=="),
        "no encoded value either: {text}"
    );

    // The files are private to the function's user.
    use std::os::unix::fs::MetadataExt as _;
    let mode = |path: &str| std::fs::metadata(path).unwrap().mode() & 0o7777;
    assert_eq!(mode(SECRETS_DIR), 0o700);
    assert_eq!(mode(&format!("{SECRETS_DIR}/{text_name}")), 0o400);
}
