//! The zip, read back with the zip crate: layout (`bootstrap`, `faas-launch.json`, `rootfs/`),
//! unix modes and types, symlinks, the launch spec; the same image gives the same bytes; size
//! caps; the `faas-lambda package` CLI.

mod packaging_common;

use std::process::Command;

use lambda_package::{ErrorClass, PackageError, package_image};
use lambda_shim::spec::{LAUNCH_SPEC_FILE, LaunchSpec};
use packaging_common::{
    S_IFDIR, S_IFLNK, S_IFREG, assert_contained, bootstrap, options, push_test_image, read_zip,
};
use test_support::Registry;
use test_support::images;

#[tokio::test]
async fn zip_layout_modes_and_launch_spec() {
    let registry = Registry::start();
    let pushed = push_test_image(&registry, images::DYNAMIC).await;
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("fn.zip");
    let summary = package_image(&pushed.reference, &options(&registry), &zip)
        .await
        .unwrap();
    let (entries, order) = read_zip(&zip);

    assert_eq!(&order[..3], ["bootstrap", LAUNCH_SPEC_FILE, "rootfs/"]);
    let shim = &entries["bootstrap"];
    assert_eq!(shim.mode, S_IFREG | 0o755);
    assert_eq!(shim.data, std::fs::read(bootstrap()).unwrap());
    let spec_entry = &entries[LAUNCH_SPEC_FILE];
    assert_eq!(spec_entry.mode, S_IFREG | 0o644);
    let spec: LaunchSpec = serde_json::from_slice(&spec_entry.data).unwrap();
    assert_eq!(spec, summary.spec);
    assert_eq!(spec.rootfs, "rootfs");
    assert_eq!(spec.architecture, "x86_64");
    assert_eq!(spec.image, pushed.reference);
    assert_eq!(spec.image_digest, pushed.digest);
    assert_eq!(spec.env, images::DYNAMIC.build().config.env);
    assert_eq!(spec.working_dir, "/home/app");
    assert_eq!(entries["rootfs/"].mode, S_IFDIR | 0o755);

    // Every entry: a dir 0755, a file 0644/0755, or a symlink 0777; nothing outside rootfs/.
    let (mut files, mut dirs, mut links, mut bytes) = (0u64, 0u64, 0u64, 0u64);
    for (name, e) in &entries {
        match e.kind() {
            S_IFDIR => {
                assert!(name.ends_with('/'), "{name}");
                assert_eq!(e.perm(), 0o755, "{name}");
                dirs += 1;
            }
            S_IFREG => {
                assert!(matches!(e.perm(), 0o644 | 0o755), "{name}: {:o}", e.perm());
                files += 1;
                bytes += e.data.len() as u64;
            }
            S_IFLNK => {
                assert_eq!(e.perm(), 0o777, "{name}");
                links += 1;
            }
            other => panic!("{name}: unexpected type {other:o}"),
        }
    }
    assert_contained(&entries);
    assert_eq!(
        (files, dirs, links),
        (summary.files, summary.dirs, summary.symlinks)
    );
    assert_eq!(bytes, summary.unzipped_bytes, "unzipped = file bytes");
    assert_eq!(summary.zipped_bytes, std::fs::metadata(&zip).unwrap().len());

    // The dynamic program, its libraries and its loader (through the relative /lib64 link).
    let program = &entries[&format!("rootfs{}", test_support::assets::DYNAMIC_PROGRAM)];
    assert_eq!(program.perm(), 0o755);
    let loader = &entries["rootfs/lib64/ld-linux-x86-64.so.2"];
    assert_eq!(loader.kind(), S_IFLNK);
    assert_eq!(
        loader.text(),
        "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
    );
    assert!(entries.contains_key("rootfs/lib/x86_64-linux-gnu/libc.so.6"));
    // The image's /root is 0700 and /tmp 1777: both readable directories now.
    assert_eq!(entries["rootfs/root/"].mode, S_IFDIR | 0o755);
    assert_eq!(entries["rootfs/tmp/"].mode, S_IFDIR | 0o755);
    let passwd = &entries["rootfs/etc/passwd"];
    assert_eq!(passwd.mode, S_IFREG | 0o644);
    assert!(passwd.text().starts_with("root:x:0:0"));
}

#[tokio::test]
async fn same_image_same_zip_and_caps_refuse_without_leaving_a_file() {
    let registry = Registry::start();
    let pushed = push_test_image(&registry, images::ECHO).await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.zip"), dir.path().join("b.zip"));
    let opts = options(&registry);
    let first = package_image(&pushed.reference, &opts, &a).await.unwrap();
    package_image(&pushed.reference, &opts, &b).await.unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

    // Zipped cap: one byte short of what it takes.
    let mut tight = options(&registry);
    tight.limits.max_zipped_bytes = first.zipped_bytes - 1;
    let c = dir.path().join("c.zip");
    let err = package_image(&pushed.reference, &tight, &c)
        .await
        .unwrap_err();
    assert!(matches!(err, PackageError::TooBig(_)), "{err}");
    assert_eq!(err.class(), ErrorClass::Caller);
    // Unzipped cap.
    let mut tight = options(&registry);
    tight.limits.max_unzipped_bytes = first.unzipped_bytes - 1;
    let err = package_image(&pushed.reference, &tight, &c)
        .await
        .unwrap_err();
    assert!(matches!(err, PackageError::TooBig(_)), "{err}");
    // Exactly enough is enough.
    let mut exact = options(&registry);
    exact.limits.max_zipped_bytes = first.zipped_bytes;
    exact.limits.max_unzipped_bytes = first.unzipped_bytes;
    package_image(&pushed.reference, &exact, &c).await.unwrap();
    std::fs::remove_file(&c).unwrap();

    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["a.zip", "b.zip"], "no partial zip left behind");

    // A bootstrap that is not an ELF executable.
    let mut bad = options(&registry);
    let script = dir.path().join("bootstrap.sh");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    bad.bootstrap = lambda_package::BootstrapSource::File(script);
    let err = package_image(&pushed.reference, &bad, &c)
        .await
        .unwrap_err();
    assert!(matches!(err, PackageError::Bootstrap { .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::Internal);
}

#[tokio::test]
async fn cli_packages_and_prints_a_summary() {
    let registry = Registry::start_with_basic_auth("cli", "cli-pw");
    let pushed = push_test_image(&registry, images::SHA512SUM).await;
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("fn.zip");
    let cli = env!("CARGO_BIN_EXE_faas-lambda");
    let output = Command::new(cli)
        .args(["package", &pushed.reference, "-o"])
        .arg(&zip)
        .args(["--insecure-registry", &registry.host(), "--username", "cli"])
        .arg("--bootstrap")
        .arg(bootstrap())
        .arg("--quiet")
        .env("FAAS_LAMBDA_REGISTRY_PASSWORD", "cli-pw")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for needle in [
        "arch       x86_64",
        &format!("digest     {}", pushed.digest),
        "zipped",
        "unzipped",
        "files",
    ] {
        assert!(stdout.contains(needle), "{needle:?} missing in:\n{stdout}");
    }
    let (entries, _) = read_zip(&zip);
    assert!(entries.contains_key("rootfs/bin/busybox"));

    // Refused credentials: a non-zero exit and the reason on stderr.
    let output = Command::new(cli)
        .args(["package", &pushed.reference, "-o"])
        .arg(dir.path().join("x.zip"))
        .args(["--insecure-registry", &registry.host(), "--username", "cli"])
        .args(["--password", "wrong", "--quiet"])
        .arg("--bootstrap")
        .arg(bootstrap())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("refused access"), "{stderr}");
    assert!(!dir.path().join("x.zip").exists());
}
