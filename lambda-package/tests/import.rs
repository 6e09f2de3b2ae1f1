//! The zip → image importer at library level: the image's layout (files under /var/task,
//! modes, the entrypoint, the config), the refusals (no bootstrap, path escapes, too large, not
//! a zip, a dynamic entrypoint), and a push to a real registry read back by the puller.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use flate2::read::GzDecoder;
use lambda_package::Architecture;
use lambda_package::import::{
    ENTRYPOINT_PATH, ImportError, ImportOptions, build_image, entrypoint_architecture, import_zip,
};
use lambda_package::oci::{ImageSource, RegistryCredentials};
use sha2::{Digest, Sha256};
use test_support::Registry;
use zip::write::SimpleFileOptions;

/// One entry of a test zip: name, unix mode (0 = none recorded), contents; a `None` content
/// with a trailing `/` name is a directory, `Some` with mode 0o120777 a symlink.
type Entry<'a> = (&'a str, u32, &'a [u8]);

fn zip_of(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, mode, data) in entries {
        let mut options = SimpleFileOptions::default();
        if *mode & 0o777 != 0 {
            options = options.unix_permissions(*mode & 0o777);
        }
        if name.ends_with('/') {
            writer.add_directory(*name, options).unwrap();
        } else if *mode & 0o170000 == 0o120000 {
            writer
                .add_symlink(*name, std::str::from_utf8(data).unwrap(), options)
                .unwrap();
        } else {
            writer.start_file(*name, options).unwrap();
            writer.write_all(data).unwrap();
        }
    }
    writer.finish().unwrap().into_inner()
}

fn sha256(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// A tar entry: kind byte, mode, contents (or link target).
#[derive(Debug, PartialEq, Eq)]
struct TarEntry {
    kind: u8,
    mode: u32,
    data: Vec<u8>,
}

fn untar(gz: &[u8]) -> (BTreeMap<String, TarEntry>, String) {
    let mut tar_bytes = Vec::new();
    GzDecoder::new(gz).read_to_end(&mut tar_bytes).unwrap();
    let diff_id = sha256(&tar_bytes);
    let mut archive = tar::Archive::new(tar_bytes.as_slice());
    let mut entries = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let header = entry.header().clone();
        assert_eq!((header.uid().unwrap(), header.gid().unwrap()), (0, 0));
        let mut data = Vec::new();
        if let Some(target) = entry.link_name().unwrap() {
            data = target.to_string_lossy().into_owned().into_bytes();
        } else {
            entry.read_to_end(&mut data).unwrap();
        }
        let kind = header.entry_type().as_byte();
        entries.insert(
            path.trim_end_matches('/').to_string(),
            TarEntry {
                kind,
                mode: header.mode().unwrap(),
                data,
            },
        );
    }
    (entries, diff_id)
}

const ENTRYPOINT: &[u8] = b"\x7fELF entrypoint stand-in";

fn build(entries: &[Entry<'_>]) -> Result<lambda_package::import::ImportImage, ImportError> {
    build_image(
        &zip_of(entries),
        ENTRYPOINT,
        Architecture::X86_64,
        &ImportOptions::default(),
    )
}

#[test]
fn the_zip_goes_under_var_task_with_its_modes_beside_the_entrypoint() {
    let image = build(&[
        ("bootstrap", 0o100700, b"#!/bin/sh\n"),
        ("lib/", 0o40700, b""),
        ("lib/data.txt", 0o100600, b"data"),
        ("lib/tool", 0o100750, b"tool"),
        ("deep/er/file", 0, b"x"),
        ("link", 0o120777, b"lib/data.txt"),
    ])
    .unwrap();
    assert_eq!(image.layers.len(), 2);
    for layer in &image.layers {
        assert_eq!(layer.digest, sha256(&layer.data));
    }

    let (runtime, runtime_diff) = untar(&image.layers[0].data);
    assert_eq!(runtime_diff, image.layers[0].diff_id);
    let entrypoint = &runtime[ENTRYPOINT_PATH.trim_start_matches('/')];
    assert_eq!(
        (entrypoint.mode, entrypoint.data.as_slice()),
        (0o755, ENTRYPOINT)
    );
    assert_eq!(runtime["tmp"].mode, 0o1777);

    let (task, task_diff) = untar(&image.layers[1].data);
    assert_eq!(task_diff, image.layers[1].diff_id);
    let mode = |path: &str| task[path].mode;
    assert_eq!(mode("var/task"), 0o755);
    assert_eq!(mode("var/task/bootstrap"), 0o755, "owner-executable → 0755");
    assert_eq!(task["var/task/bootstrap"].data, b"#!/bin/sh\n");
    assert_eq!(
        mode("var/task/lib"),
        0o755,
        "directories are made enterable"
    );
    assert_eq!(
        mode("var/task/lib/data.txt"),
        0o644,
        "readable by the non-root user"
    );
    assert_eq!(mode("var/task/lib/tool"), 0o755);
    assert_eq!(mode("var/task/deep"), 0o755, "missing parents are added");
    assert_eq!(mode("var/task/deep/er/file"), 0o644);
    let link = &task["var/task/link"];
    assert_eq!(
        (link.kind, link.data.as_slice()),
        (b'2', &b"lib/data.txt"[..])
    );
    assert_eq!(image.stats.files, 4, "{:?}", image.stats);
    assert_eq!(image.stats.symlinks, 1);
    assert_eq!(image.stats.unzipped_bytes, 10 + 4 + 4 + 1);

    let config: serde_json::Value = serde_json::from_slice(&image.config).unwrap();
    assert_eq!(config["architecture"], "amd64");
    assert_eq!(
        config["config"]["Entrypoint"],
        serde_json::json!([ENTRYPOINT_PATH])
    );
    assert_eq!(config["config"]["User"], "993:993");
    assert_eq!(config["config"]["WorkingDir"], "/var/task");
    assert_eq!(
        config["config"]["ExposedPorts"],
        serde_json::json!({"8080/tcp": {}})
    );
    assert!(
        config["config"]["Env"]
            .as_array()
            .unwrap()
            .contains(&"LAMBDA_TASK_ROOT=/var/task".into())
    );
    assert_eq!(
        config["rootfs"]["diff_ids"],
        serde_json::json!([image.layers[0].diff_id, image.layers[1].diff_id])
    );
    let manifest: serde_json::Value = serde_json::from_slice(&image.manifest).unwrap();
    assert_eq!(manifest["config"]["digest"], sha256(&image.config));
    assert_eq!(manifest["layers"][1]["digest"], image.layers[1].digest);
    assert_eq!(image.digest, sha256(&image.manifest));

    let again = build(&[
        ("bootstrap", 0o100700, b"#!/bin/sh\n"),
        ("lib/", 0o40700, b""),
        ("lib/data.txt", 0o100600, b"data"),
        ("lib/tool", 0o100750, b"tool"),
        ("deep/er/file", 0, b"x"),
        ("link", 0o120777, b"lib/data.txt"),
    ])
    .unwrap();
    assert_eq!(
        again.digest, image.digest,
        "the same zip gives the same image"
    );
}

#[test]
fn a_bootstrap_without_modes_is_made_executable() {
    let image = build(&[("bootstrap", 0, b"x")]).unwrap();
    let (task, _) = untar(&image.layers[1].data);
    assert_eq!(task["var/task/bootstrap"].mode, 0o755);
}

#[test]
fn unusable_zips_are_refused_as_the_callers_fault() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (zip_of(&[("handler.py", 0o100644, b"x")]), "no bootstrap"),
        (zip_of(&[("sub/bootstrap", 0o100755, b"x")]), "no bootstrap"),
        (
            zip_of(&[("bootstrap", 0o100755, b"x"), ("../escape", 0o100644, b"x")]),
            "escape",
        ),
        (
            zip_of(&[
                ("bootstrap", 0o100755, b"x"),
                ("/etc/passwd", 0o100644, b"x"),
            ]),
            "absolute",
        ),
        (
            zip_of(&[
                ("bootstrap", 0o100755, b"x"),
                ("dir", 0o120777, b"/etc"),
                ("dir/passwd", 0o100644, b"x"),
            ]),
            "symlink",
        ),
        (
            zip_of(&[
                ("bootstrap", 0o100755, b"x"),
                ("./bootstrap", 0o100755, b"y"),
            ]),
            "twice",
        ),
        (b"not a zip at all".to_vec(), "cannot be read"),
    ];
    for (zip, needle) in cases {
        let error = build_image(
            &zip,
            ENTRYPOINT,
            Architecture::X86_64,
            &ImportOptions::default(),
        )
        .unwrap_err();
        assert!(error.is_caller_error(), "{error}");
        assert!(error.to_string().contains(needle), "{needle}: {error}");
    }
    let big = vec![b'a'; 2048];
    let opts = ImportOptions {
        max_unzipped_bytes: 1024,
        ..Default::default()
    };
    let error = build_image(
        &zip_of(&[("bootstrap", 0o100755, &big)]),
        ENTRYPOINT,
        Architecture::X86_64,
        &opts,
    )
    .unwrap_err();
    assert!(
        matches!(error, ImportError::TooLarge { limit: 1024 }),
        "{error}"
    );
}

#[test]
fn the_entrypoint_must_be_a_static_executable() {
    let busybox = test_support::assets::busybox();
    let bytes = std::fs::read(busybox).unwrap();
    assert_eq!(
        entrypoint_architecture(busybox, &bytes).unwrap(),
        Architecture::X86_64
    );
    let dynamic = std::path::Path::new("/bin/ls");
    let error = entrypoint_architecture(dynamic, &std::fs::read(dynamic).unwrap()).unwrap_err();
    assert!(error.to_string().contains("dynamically linked"), "{error}");
    assert!(!error.is_caller_error());
}

#[tokio::test]
async fn an_imported_zip_is_pushed_and_reads_back_as_an_image() {
    let registry = Registry::start();
    let zip = zip_of(&[
        ("bootstrap", 0o100755, b"#!/bin/sh\n"),
        ("a.txt", 0o100644, b"a"),
    ]);
    let opts = ImportOptions {
        // Any static executable stands in for the entrypoint here; the image only carries it.
        entrypoint: test_support::assets::busybox().to_path_buf(),
        insecure_registries: vec![registry.host()],
        credentials: RegistryCredentials::Anonymous,
        ..Default::default()
    };
    let reference = format!("{}/lambda/echo:zip-1", registry.host());
    let pushed = import_zip(&zip, &reference, &opts).await.unwrap();
    assert_eq!(pushed.reference, reference);
    assert_eq!(
        pushed.by_digest,
        format!("{}/lambda/echo@{}", registry.host(), pushed.digest)
    );

    let source = ImageSource::new(
        &pushed.by_digest,
        &RegistryCredentials::Anonymous,
        &[registry.host()],
    )
    .unwrap();
    let resolved = source.resolve(None).await.unwrap();
    assert_eq!(resolved.manifest_digest, pushed.digest);
    assert_eq!(resolved.architecture, Architecture::X86_64);
    assert_eq!(resolved.config.entrypoint, [ENTRYPOINT_PATH]);
    assert_eq!(resolved.config.working_dir, "/var/task");
    assert_eq!(resolved.layers.len(), 2);
    let task = source.fetch_blob(&resolved.layers[1]).await.unwrap();
    let (entries, _) = untar(&task);
    assert_eq!(entries["var/task/a.txt"].data, b"a");

    let error = import_zip(&zip, "127.0.0.1:1/Bad_Repo:x", &opts)
        .await
        .unwrap_err();
    assert!(matches!(error, ImportError::Reference { .. }), "{error}");
    let missing = ImportOptions {
        entrypoint: "/nonexistent/faas-lambda-entrypoint".into(),
        ..opts.clone()
    };
    let error = import_zip(&zip, &reference, &missing).await.unwrap_err();
    assert!(matches!(error, ImportError::Entrypoint { .. }), "{error}");
}
