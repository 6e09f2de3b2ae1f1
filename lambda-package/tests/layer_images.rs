//! Layer images (`PackageOptions::layer_images`, `faas-lambda package --layer`): their layers
//! go over the function image's, in order, with the same flattening rules, through a real
//! registry.

mod packaging_common;

use std::process::Command;

use lambda_package::flatten::FlattenError;
use lambda_package::{ErrorClass, PackageError, RegistryCredentials, package_image};
use packaging_common::{S_IFREG, assert_contained, bootstrap, options, push_test_image, read_zip};
use test_support::images::{self, TestImage};
use test_support::middlewares::{self, MIDDLEWARES_DIR, NAMES};
use test_support::oci::{Image, ImageConfig, LayerBuilder};
use test_support::oci_index::{LayerCompression, RawImage, RawLayer, RawTar, push_raw};
use test_support::push::{self, oci_client};
use test_support::{Registry, images::MIDDLEWARES_LAYER};

/// Push a one-off image built from `layers` as `layer-test/NAME:1`.
async fn push_layers(registry: &Registry, name: &'static str, layers: Vec<LayerBuilder>) -> String {
    let image = TestImage {
        name,
        tag: "1",
        summary: "a layer image",
    };
    let content = Image::new(
        ImageConfig::default(),
        layers.into_iter().map(LayerBuilder::finish).collect(),
    );
    push::push_image(
        &oci_client(),
        &registry.host(),
        &registry.auth(),
        image,
        &content,
    )
    .await
    .unwrap()
    .reference
}

#[tokio::test]
async fn a_middleware_image_is_added_to_a_function_image_in_order() {
    let registry = Registry::start();
    let echo = push_test_image(&registry, images::ECHO).await;
    let mw = push_test_image(&registry, MIDDLEWARES_LAYER).await;
    let mut replace = LayerBuilder::new("replaces add-header, adds a file");
    replace
        .dir("/opt", 0o755)
        .dir(MIDDLEWARES_DIR, 0o755)
        .file(
            "/opt/middlewares/add-header",
            0o755,
            b"#!/bin/sh\nexec cat\n",
        )
        .file("/opt/extra", 0o644, b"extra\n");
    let later = push_layers(&registry, "layer-test/replace", vec![replace]).await;
    let dir = tempfile::tempdir().unwrap();

    // Without layer images: no /opt.
    let plain = dir.path().join("plain.zip");
    let plain_summary = package_image(&echo.reference, &options(&registry), &plain)
        .await
        .unwrap();
    assert!(!read_zip(&plain).0.contains_key("rootfs/opt/"));
    assert!(plain_summary.layer_images.is_empty());

    let mut opts = options(&registry);
    opts.layer_images = vec![mw.reference.clone()];
    let zip = dir.path().join("fn.zip");
    let summary = package_image(&echo.reference, &opts, &zip).await.unwrap();
    let (entries, _) = read_zip(&zip);
    assert_contained(&entries);
    for name in NAMES {
        let entry = &entries[&format!("rootfs{MIDDLEWARES_DIR}/{name}")];
        assert_eq!(entry.mode, S_IFREG | 0o755, "{name}");
        assert_eq!(entry.text(), middlewares::script(name), "{name}");
    }
    // The function image's files and its config are kept; the layer image's config is not used.
    assert!(entries.contains_key("rootfs/bin/busybox"));
    assert!(entries.contains_key("rootfs/usr/bin/fwatchdog"));
    assert_eq!(summary.spec.env, images::ECHO.build().config.env);
    assert_eq!(summary.spec.image_digest, echo.digest);
    assert_eq!(
        summary.layer_images,
        [(mw.reference.clone(), mw.digest.clone())]
    );
    let mw_layer = &MIDDLEWARES_LAYER.build().layers[0].blob;
    assert_eq!(summary.layers.len(), plain_summary.layers.len() + 1);
    assert_eq!(
        summary.layers.last().unwrap(),
        &(mw_layer.digest.clone(), mw_layer.size())
    );
    assert_eq!(summary.files, plain_summary.files + NAMES.len() as u64);

    // Two layer images through the CLI: applied in the order given (the later one wins).
    let cli_zip = dir.path().join("cli.zip");
    let output = Command::new(env!("CARGO_BIN_EXE_faas-lambda"))
        .args(["package", &echo.reference, "-o"])
        .arg(&cli_zip)
        .args(["--insecure-registry", &registry.host(), "--quiet"])
        .args(["--layer", &mw.reference, "--layer", &later])
        .arg("--bootstrap")
        .arg(bootstrap())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let layer_lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("layer ")).collect();
    assert_eq!(layer_lines.len(), 2, "{stdout}");
    assert!(layer_lines[0].contains(&format!("{} {}", mw.reference, mw.digest)));
    assert!(layer_lines[1].contains(&later), "{stdout}");
    let (entries, _) = read_zip(&cli_zip);
    assert_eq!(
        entries["rootfs/opt/middlewares/add-header"].text(),
        "#!/bin/sh\nexec cat\n"
    );
    assert_eq!(entries["rootfs/opt/extra"].text(), "extra\n");
    assert_eq!(
        entries["rootfs/opt/middlewares/hmac"].text(),
        middlewares::script("hmac")
    );
}

#[tokio::test]
async fn a_layer_image_whiteout_removes_function_files() {
    let registry = Registry::start();
    let echo = push_test_image(&registry, images::ECHO).await;
    let mut remove = LayerBuilder::new("whiteouts over the function image");
    remove
        .dir("/etc", 0o755)
        .whiteout("/etc/group")
        .dir("/usr", 0o755)
        .opaque("/usr/local")
        .file("/usr/local/only", 0o644, b"only\n");
    let layer = push_layers(&registry, "layer-test/whiteout", vec![remove]).await;
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("fn.zip");
    let mut opts = options(&registry);
    opts.layer_images = vec![layer];
    package_image(&echo.reference, &opts, &zip).await.unwrap();
    let (entries, _) = read_zip(&zip);
    assert!(!entries.contains_key("rootfs/etc/group"), "whited out");
    assert!(
        entries.contains_key("rootfs/etc/passwd"),
        "its sibling stays"
    );
    assert!(
        !entries.contains_key("rootfs/usr/local/bin/"),
        "hidden by the opaque dir"
    );
    assert_eq!(entries["rootfs/usr/local/only"].text(), "only\n");
    assert!(
        !entries.keys().any(|k| k.contains(".wh.")),
        "no marker left"
    );
}

fn base_layer() -> RawLayer {
    let mut base = RawTar::new();
    base.dir("etc").file("etc/passwd", 0o644, b"image passwd\n");
    RawLayer::new(&base.finish(), LayerCompression::Gzip)
}

#[tokio::test]
async fn unsafe_layer_image_entries_are_refused_as_in_the_function_image() {
    let registry = Registry::start();
    let client = oci_client();
    let config = ImageConfig::default();
    let function = RawImage::new("amd64", None, &config, vec![base_layer()]);
    let function_ref = format!("{}/layer-test/base:1", registry.host());
    push_raw(&client, &function_ref, &registry.auth(), &function)
        .await
        .unwrap();
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut t = RawTar::new();
    t.file("../escape", 0o644, b"pwned");
    cases.push(("dotdot", t.finish()));
    let mut t = RawTar::new();
    t.file("/etc/passwd", 0o644, b"pwned");
    cases.push(("absolute", t.finish()));
    let mut t = RawTar::new();
    t.hardlink("h", "../../etc/shadow");
    cases.push(("hardlink-out", t.finish()));
    let mut t = RawTar::new();
    t.file("etc/.wh...", 0o644, b"");
    cases.push(("whiteout-dotdot", t.finish()));

    let dir = tempfile::tempdir().unwrap();
    for (name, tar) in cases {
        let layer = RawLayer::new(&tar, LayerCompression::None);
        // As the function image's own top layer.
        let own = RawImage::new("amd64", None, &config, vec![base_layer(), layer.clone()]);
        let own_ref = format!("{}/layer-test/own-{name}:1", registry.host());
        push_raw(&client, &own_ref, &registry.auth(), &own)
            .await
            .unwrap();
        let zip = dir.path().join(format!("{name}.zip"));
        let err = package_image(&own_ref, &options(&registry), &zip)
            .await
            .unwrap_err();
        let PackageError::Layer {
            index: 1, source, ..
        } = &err
        else {
            panic!("{name}: {err}");
        };
        let own_message = source.to_string();
        assert!(matches!(source, FlattenError::Hostile(_)), "{name}: {err}");

        // The same layer in a layer image.
        let image = RawImage::new("amd64", None, &config, vec![layer]);
        let image_ref = format!("{}/layer-test/layer-{name}:1", registry.host());
        push_raw(&client, &image_ref, &registry.auth(), &image)
            .await
            .unwrap();
        let mut opts = options(&registry);
        opts.layer_images = vec![image_ref.clone()];
        let err = package_image(&function_ref, &opts, &zip).await.unwrap_err();
        let PackageError::LayerImage { reference, source } = &err else {
            panic!("{name}: {err}");
        };
        assert_eq!(reference, &image_ref);
        let PackageError::Layer {
            index: 0, source, ..
        } = source.as_ref()
        else {
            panic!("{name}: {err}");
        };
        assert!(matches!(source, FlattenError::Hostile(_)), "{name}: {err}");
        assert_eq!(source.to_string(), own_message, "{name}");
        assert_eq!(err.class(), ErrorClass::Caller);
        assert!(
            err.to_string()
                .starts_with(&format!("layer image {image_ref}: layer 0"))
        );
        assert!(!zip.exists(), "{name}: no zip left");
    }
}

#[tokio::test]
async fn missing_foreign_or_unauthorised_layer_images_are_clear_errors() {
    let registry = Registry::start_with_basic_auth("fn", "fn-pw");
    let echo = push_test_image(&registry, images::ECHO).await;
    let mw = push_test_image(&registry, MIDDLEWARES_LAYER).await;
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("fn.zip");
    let mut opts = options(&registry);
    opts.credentials = RegistryCredentials::Basic {
        username: "fn".into(),
        password: "fn-pw".into(),
    };
    // The function image's credentials serve a layer image on its registry.
    opts.layer_images = vec![mw.reference.clone()];
    package_image(&echo.reference, &opts, &zip).await.unwrap();
    std::fs::remove_file(&zip).unwrap();

    let refusal = |err: PackageError, reference: &str| -> PackageError {
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("layer image {reference}: ")),
            "{text}"
        );
        let PackageError::LayerImage { source, .. } = err else {
            unreachable!()
        };
        *source
    };

    // A missing one: not found, the caller's fault, nothing written.
    let missing = format!("{}/layer-test/missing:1", registry.host());
    opts.layer_images = vec![mw.reference.clone(), missing.clone()];
    let err = package_image(&echo.reference, &opts, &zip)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Caller);
    let source = refusal(err, &missing);
    assert!(matches!(source, PackageError::NotFound { .. }), "{source}");
    assert!(!zip.exists());

    // A malformed reference.
    opts.layer_images = vec!["Not/A/Reference".into()];
    let err = package_image(&echo.reference, &opts, &zip)
        .await
        .unwrap_err();
    let source = refusal(err, "Not/A/Reference");
    assert!(
        matches!(source, PackageError::BadReference { .. }),
        "{source}"
    );

    // Another architecture than the function image's.
    let arm = RawImage::new(
        "arm64",
        Some("v8"),
        &ImageConfig::default(),
        vec![base_layer()],
    );
    let arm_ref = format!("{}/layer-test/arm:1", registry.host());
    push_raw(&oci_client(), &arm_ref, &registry.auth(), &arm)
        .await
        .unwrap();
    opts.layer_images = vec![arm_ref.clone()];
    let err = package_image(&echo.reference, &opts, &zip)
        .await
        .unwrap_err();
    let source = refusal(err, &arm_ref);
    assert!(
        matches!(&source, PackageError::Unsupported(m) if m.contains("arm64") && m.contains("x86_64")),
        "{source}"
    );

    // Explicit credentials are not sent to another registry, even one that would take them.
    let other = Registry::start_with_basic_auth("fn", "fn-pw");
    let foreign = push_test_image(&other, MIDDLEWARES_LAYER).await;
    opts.insecure_registries.push(other.host());
    opts.layer_images = vec![foreign.reference.clone()];
    let err = package_image(&echo.reference, &opts, &zip)
        .await
        .unwrap_err();
    let source = refusal(err, &foreign.reference);
    assert!(
        matches!(source, PackageError::AuthRefused { .. }),
        "{source}"
    );
    assert!(!zip.exists());
}
