//! Pulling from a real registry on 127.0.0.1: OCI and Docker v2s2 manifests, an image index
//! with two platforms (and an attestation entry), basic auth (accepted, refused, from a Docker
//! config), a missing image, a bad reference, an unreachable registry, and blobs the registry
//! serves corrupted (digest) or truncated (size).

mod packaging_common;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use lambda_package::oci::{ImageSource, RegistryCredentials};
use lambda_package::{Architecture, ErrorClass, PackageError, package_image};
use packaging_common::{S_IFLNK, bootstrap, options, push_test_image, read_zip};
use test_support::Registry;
use test_support::images::{self, WATCHDOG_PATH};
use test_support::oci::{ImageConfig, LayerBuilder};
use test_support::oci_index::{self, LayerCompression, RawImage, RawLayer};

fn out_zip(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("fn.zip")
}

#[tokio::test]
async fn oci_manifest_is_packaged_with_its_config() {
    let registry = Registry::start();
    let pushed = push_test_image(&registry, images::ECHO).await;
    let dir = tempfile::tempdir().unwrap();
    let zip = out_zip(&dir);
    let summary = package_image(&pushed.reference, &options(&registry), &zip)
        .await
        .expect("package the OCI image");
    assert_eq!(summary.image_digest, pushed.digest);
    assert_eq!(summary.index_digest, None);
    assert_eq!(summary.architecture, Architecture::X86_64);
    let config = &images::ECHO.build().config;
    assert_eq!(summary.spec.env, config.env);
    assert_eq!(summary.spec.entrypoint, vec![WATCHDOG_PATH.to_string()]);
    assert_eq!(summary.spec.working_dir, "/home/app");
    assert_eq!(summary.spec.architecture, "x86_64");
    assert_eq!(summary.spec.image_digest, pushed.digest);
    let (entries, _) = read_zip(&zip);
    let watchdog = &entries["rootfs/usr/bin/fwatchdog"];
    assert_eq!(watchdog.perm(), 0o755);
    assert_eq!(
        watchdog.data,
        std::fs::read(test_support::assets::static_fwatchdog()).unwrap()
    );
    let cat = &entries["rootfs/bin/cat"];
    assert_eq!((cat.kind(), cat.text().as_str()), (S_IFLNK, "busybox"));
    assert_eq!(summary.zipped_bytes, std::fs::metadata(&zip).unwrap().len());
}

#[tokio::test]
async fn docker_v2s2_manifest_is_packaged() {
    let registry = Registry::start();
    let pushed = push_test_image(&registry, images::ENV).await;
    let dir = tempfile::tempdir().unwrap();
    let summary = package_image(
        &pushed.docker_reference,
        &options(&registry),
        &out_zip(&dir),
    )
    .await
    .expect("package the Docker v2s2 image");
    assert_eq!(summary.image_digest, pushed.docker_digest);
    assert_ne!(summary.image_digest, pushed.digest);
    assert!(summary.spec.env.iter().any(|e| e == "fprocess=env"));
    let (entries, _) = read_zip(&out_zip(&dir));
    assert!(entries.contains_key("rootfs/bin/busybox"));
}

fn arch_image(arch: &str, variant: Option<&str>) -> RawImage {
    let mut layer = LayerBuilder::new(format!("arch {arch}"));
    layer.file("/arch", 0o644, format!("{arch}\n").as_bytes());
    let config = ImageConfig {
        env: vec![format!("ARCH={arch}")],
        cmd: vec!["/bin/true".into()],
        ..Default::default()
    };
    RawImage::new(
        arch,
        variant,
        &config,
        vec![RawLayer::from_builder(layer, LayerCompression::Gzip)],
    )
}

#[tokio::test]
async fn image_index_platform_is_chosen_and_attestations_skipped() {
    let registry = Registry::start();
    let host = registry.host();
    let amd = arch_image("amd64", None);
    let arm = arch_image("arm64", Some("v8"));
    let index = oci_index::index(&[(&arm, "arm64", Some("v8")), (&amd, "amd64", None)], true);
    let client = test_support::push::oci_client();
    oci_index::push_index(
        &client,
        &host,
        "multi/arch",
        "1",
        &registry.auth(),
        &[&amd, &arm],
        &index,
    )
    .await
    .unwrap();
    let reference = format!("{host}/multi/arch:1");
    let source = ImageSource::new(
        &reference,
        &RegistryCredentials::Anonymous,
        std::slice::from_ref(&host),
    )
    .unwrap();

    // No preference: amd64 first, although arm64 and an attestation come first in the index.
    let default = source.resolve(None).await.unwrap();
    assert_eq!(default.architecture, Architecture::X86_64);
    assert_eq!(default.manifest_digest, amd.manifest.digest);
    assert_eq!(default.index_digest.as_deref(), Some(index.digest.as_str()));
    assert_eq!(default.config.env, vec!["ARCH=amd64".to_string()]);

    let arm64 = source.resolve(Some(Architecture::Arm64)).await.unwrap();
    assert_eq!(arm64.architecture, Architecture::Arm64);
    assert_eq!(arm64.manifest_digest, arm.manifest.digest);
    assert_eq!(arm64.layers[0].digest, arm.layers[0].blob.digest);

    // The whole package: the amd64 layer is what lands in the zip.
    let dir = tempfile::tempdir().unwrap();
    let summary = package_image(&reference, &options(&registry), &out_zip(&dir))
        .await
        .unwrap();
    assert_eq!(summary.index_digest.as_deref(), Some(index.digest.as_str()));
    let (entries, _) = read_zip(&out_zip(&dir));
    assert_eq!(entries["rootfs/arch"].text(), "amd64\n");

    // arm64 with an x86_64 bootstrap: refused before any layer is fetched.
    let mut opts = options(&registry);
    opts.architecture = Some(Architecture::Arm64);
    let err = package_image(&reference, &opts, &out_zip(&dir))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PackageError::Bootstrap { message, .. } if message.contains("x86_64") && message.contains("arm64")),
        "{err}"
    );
    assert_eq!(err.class(), ErrorClass::Internal);

    // An index without the asked-for platform.
    let only_arm = oci_index::index(&[(&arm, "arm64", Some("v8"))], false);
    oci_index::push_index(
        &client,
        &host,
        "multi/arch",
        "arm-only",
        &registry.auth(),
        &[&arm],
        &only_arm,
    )
    .await
    .unwrap();
    let source = ImageSource::new(
        &format!("{host}/multi/arch:arm-only"),
        &RegistryCredentials::Anonymous,
        std::slice::from_ref(&host),
    )
    .unwrap();
    // Reported by the packager as the same failure.
    let err = PackageError::from(
        source
            .resolve(Some(Architecture::X86_64))
            .await
            .unwrap_err(),
    );
    assert!(
        matches!(&err, PackageError::Unsupported(m) if m.contains("linux/amd64") && m.contains("linux/arm64/v8")),
        "{err}"
    );
    assert!(err.is_caller_error());
    // Without a preference the only usable entry is taken.
    assert_eq!(
        source.resolve(None).await.unwrap().architecture,
        Architecture::Arm64
    );
}

fn docker_config(dir: &Path, registry: &str, user: &str, password: &str) -> PathBuf {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let path = dir.join("config.json");
    std::fs::write(
        &path,
        format!(r#"{{"auths": {{"http://{registry}": {{"auth": "{auth}"}}}}}}"#),
    )
    .unwrap();
    path
}

#[tokio::test]
async fn basic_auth_accepted_refused_and_from_docker_config() {
    let registry = Registry::start_with_basic_auth("faas", "s3cret-pw");
    let pushed = push_test_image(&registry, images::ECHO).await;
    let dir = tempfile::tempdir().unwrap();
    let zip = out_zip(&dir);

    let mut opts = options(&registry);
    opts.credentials = RegistryCredentials::Basic {
        username: "faas".into(),
        password: "s3cret-pw".into(),
    };
    let summary = package_image(&pushed.reference, &opts, &zip).await.unwrap();
    assert_eq!(summary.image_digest, pushed.digest);

    opts.credentials = RegistryCredentials::DockerConfig(Some(docker_config(
        dir.path(),
        &registry.host(),
        "faas",
        "s3cret-pw",
    )));
    package_image(&pushed.reference, &opts, &zip)
        .await
        .expect("credentials from a Docker config.json");

    std::fs::remove_file(&zip).unwrap();
    for credentials in [
        RegistryCredentials::Basic {
            username: "faas".into(),
            password: "wrong".into(),
        },
        RegistryCredentials::Anonymous,
        RegistryCredentials::DockerConfig(Some(docker_config(
            dir.path(),
            &registry.host(),
            "faas",
            "nope",
        ))),
    ] {
        opts.credentials = credentials.clone();
        let err = package_image(&pushed.reference, &opts, &zip)
            .await
            .unwrap_err();
        assert!(
            matches!(err, PackageError::AuthRefused { .. }),
            "{credentials:?}: {err}"
        );
        assert_eq!(err.class(), ErrorClass::Caller);
        assert!(!zip.exists(), "no zip is left behind on failure");
    }
}

#[tokio::test]
async fn missing_image_and_bad_reference_are_clear_errors() {
    let registry = Registry::start();
    let pushed = push_test_image(&registry, images::ECHO).await;
    let host = registry.host();
    let dir = tempfile::tempdir().unwrap();
    let zip = out_zip(&dir);
    let opts = options(&registry);

    for reference in [
        format!("{host}/faas-test/echo:no-such-tag"),
        format!("{host}/no/such-repo:1"),
        format!("{host}/faas-test/echo@sha256:{}", "0".repeat(64)),
    ] {
        let err = package_image(&reference, &opts, &zip).await.unwrap_err();
        assert!(
            matches!(err, PackageError::NotFound { .. }),
            "{reference}: {err}"
        );
        assert!(err.to_string().contains("not found"), "{err}");
        assert!(err.is_caller_error());
    }
    // Every reference names the loopback registry: nothing else may ever be contacted.
    for reference in [
        String::new(),
        format!("{host}/UPPER/case:tag"),
        format!("{host}/x:bad tag"),
        format!("{host}/x@sha256:short"),
        format!("{host}/a..b:1"),
    ] {
        let reference = reference.as_str();
        let err = package_image(reference, &opts, &zip).await.unwrap_err();
        assert!(
            matches!(err, PackageError::BadReference { .. }),
            "{reference:?}: {err}"
        );
        assert!(err.is_caller_error());
    }
    // The real one still works with the same options.
    package_image(&pushed.reference, &opts, &zip).await.unwrap();
}

#[tokio::test]
async fn unreachable_registry_is_unavailable() {
    let port = test_support::net::free_port();
    let host = format!("127.0.0.1:{port}");
    let opts = lambda_package::PackageOptions {
        insecure_registries: vec![host.clone()],
        bootstrap: lambda_package::BootstrapSource::File(bootstrap()),
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let err = package_image(&format!("{host}/x/y:1"), &opts, &out_zip(&dir))
        .await
        .unwrap_err();
    assert!(matches!(err, PackageError::Unreachable { .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::Unavailable);
    assert!(err.is_unavailable());
}

/// The file distribution stores a blob in.
fn blob_file(registry: &Registry, digest: &str) -> PathBuf {
    let hex = digest.trim_start_matches("sha256:");
    registry
        .dir()
        .join("data/docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data")
}

#[tokio::test]
async fn corrupted_and_truncated_blobs_are_refused() {
    let registry = Registry::start();
    let pushed = push_test_image(&registry, images::WHITEOUT).await;
    let image = images::WHITEOUT.build();
    let dir = tempfile::tempdir().unwrap();
    let zip = out_zip(&dir);
    let opts = options(&registry);

    // Same length, different bytes: only the digest can tell.
    let top = &image.layers[2].blob;
    let path = blob_file(&registry, &top.digest);
    let mut data = std::fs::read(&path).unwrap();
    let last = data.len() - 1;
    data[last] ^= 0xff;
    std::fs::write(&path, &data).unwrap();
    let err = package_image(&pushed.reference, &opts, &zip)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PackageError::BlobMismatch { digest, .. } if *digest == top.digest),
        "{err}"
    );
    assert!(err.is_caller_error());
    assert!(!zip.exists());

    // Truncated: the size check.
    std::fs::write(&path, &top.data[..top.data.len() - 10]).unwrap();
    let err = package_image(&pushed.reference, &opts, &zip)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PackageError::BlobMismatch { message, .. } if message.contains("bytes")),
        "{err}"
    );

    // Restored, it packages.
    std::fs::write(&path, &top.data).unwrap();
    package_image(&pushed.reference, &opts, &zip).await.unwrap();
}
