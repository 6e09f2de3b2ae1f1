//! The zip of a static and of a dynamically linked test image, packaged by `package_image` from
//! a local registry, answers invocations in the Lambda-like sandbox of `lambda-emulator`
//! (`DockerSandbox`: busybox-only container, the extracted zip read-only at /var/task, user
//! 993:993, host network) through the project's Runtime API emulator.

use std::time::Duration;

use bytes::Bytes;
use lambda_emulator::{DockerSandbox, Emulator, EmulatorConfig, Sandbox, extract_zip_to_temp};
use lambda_package::{BootstrapSource, PackageOptions, package_image};
use lambda_shim::event::{event_from_request, response_from_payload};
use test_support::images::{self, TestImage};
use test_support::sandbox::load_sandbox_image;
use test_support::{Registry, push};

async fn package(
    registry: &Registry,
    image: TestImage,
    dir: &std::path::Path,
) -> std::path::PathBuf {
    push::push_image(
        &push::oci_client(),
        &registry.host(),
        &registry.auth(),
        image,
        image.build(),
    )
    .await
    .expect("push the test image");
    let options = PackageOptions {
        insecure_registries: vec![registry.host()],
        bootstrap: BootstrapSource::File(test_support::assets::static_bootstrap().to_path_buf()),
        ..Default::default()
    };
    let zip = dir.join(format!("{}.zip", image.name.replace('/', "-")));
    let summary = package_image(&image.reference(&registry.host()), &options, &zip)
        .await
        .expect("package the image");
    assert!(summary.zipped_bytes > 0);
    zip
}

#[tokio::test]
async fn packaged_static_and_dynamic_images_answer_in_the_docker_sandbox() {
    let registry = Registry::start();
    let engine = test_support::docker_engine();
    let docker = engine.client().await;
    let sandbox_image = load_sandbox_image(&docker).await;
    let work = tempfile::tempdir().unwrap();
    for (image, prefix) in [(images::ECHO, ""), (images::DYNAMIC, "dynamic: ")] {
        let zip = package(&registry, image, work.path()).await;
        let task = extract_zip_to_temp(&zip, None).expect("extract the zip");
        let mut cfg = EmulatorConfig::new("packaged", task.path());
        cfg.timeout = Duration::from_secs(30);
        cfg.sandbox = Sandbox::Docker(DockerSandbox::new(docker.clone(), sandbox_image.clone()));
        let emulator = Emulator::start(cfg).await.expect("start the emulator");

        let (parts, ()) = http::Request::post("/zip?from=registry")
            .header("content-type", "text/plain")
            .body(())
            .unwrap()
            .into_parts();
        let event = event_from_request(&parts, b"hello zip", "zip-request");
        let answer = emulator
            .invoke(Bytes::from(serde_json::to_vec(&event).unwrap()))
            .await
            .expect("invoke with an HTTP event");
        assert_eq!(
            answer.function_error,
            None,
            "{}: {}",
            image.name,
            String::from_utf8_lossy(&answer.payload)
        );
        let response = response_from_payload(&answer.payload).expect("an API Gateway v2 response");
        assert_eq!(response.status(), 200, "{}", image.name);
        assert_eq!(
            String::from_utf8_lossy(response.body()),
            format!("{prefix}hello zip"),
            "{}",
            image.name
        );

        let raw = emulator
            .invoke(Bytes::from_static(br#"{"raw":1}"#))
            .await
            .expect("invoke with a raw payload");
        assert_eq!(
            raw.function_error,
            None,
            "{}",
            String::from_utf8_lossy(&raw.payload)
        );
        assert_eq!(
            String::from_utf8_lossy(&raw.payload),
            format!(r#"{prefix}{{"raw":1}}"#)
        );
        emulator.stop().await;
    }
}
