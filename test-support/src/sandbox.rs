//! Lambda sandbox fixtures: a task directory (what Lambda extracts at `/var/task`) built from a
//! test image without the packager, the busybox-only sandbox image for Docker, and
//! cargo-lambda's Runtime API emulator as an independent peer for the shim.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bytes::Bytes;

use crate::assets::{self, tail};
use crate::images::TestImage;
use crate::net::free_port;
use crate::oci::{Image, ImageConfig, LayerBuilder};
use crate::process::{stop_child, wait_until_ready};
use crate::pypi::PypiTool;

/// The function name cargo-lambda serves in `--only-lambda-apis` mode.
pub const CARGO_LAMBDA_FUNCTION: &str = "_";

/// The busybox-only sandbox image loaded by [`load_sandbox_image`].
pub const SANDBOX_IMAGE: &str = "faas-test/lambda-sandbox:1";

const STARTUP: Duration = Duration::from_secs(90);

/// A task directory like an extracted Lambda zip: `bootstrap` (the static shim), a
/// `faas-launch.json` and `rootfs/` (the image's layers applied in order, whiteouts honoured,
/// modes normalised to 0755/0644 as the packager does). Readable by everyone, so a non-root
/// sandbox user can run it. Deleted on drop.
pub fn task_dir(image: &TestImage) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("faas-lambda-task-")
        .tempdir()
        .expect("task tempdir");
    write_task_dir(
        image.build(),
        &format!("test/{}:{}", image.name, image.tag),
        dir.path(),
    );
    dir
}

/// Fill `dir` with the task layout for `image` (see [`task_dir`]).
pub fn write_task_dir(image: &Image, reference: &str, dir: &Path) {
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(&rootfs).expect("create rootfs");
    for layer in &image.layers {
        apply_layer(&rootfs, &layer.blob.data);
    }
    normalise_modes(&rootfs);
    let bootstrap = dir.join("bootstrap");
    std::fs::copy(assets::static_bootstrap(), &bootstrap).expect("copy bootstrap");
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755))
        .expect("chmod bootstrap");
    let config = &image.config;
    let spec = serde_json::json!({
        "rootfs": "rootfs",
        "architecture": "x86_64",
        "env": config.env,
        "entrypoint": config.entrypoint,
        "cmd": config.cmd,
        "working_dir": config.working_dir,
        "image": reference,
        "image_digest": image.oci_manifest.digest,
    });
    std::fs::write(
        dir.join("faas-launch.json"),
        serde_json::to_vec_pretty(&spec).expect("spec json"),
    )
    .expect("write faas-launch.json");
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).expect("chmod task");
}

/// `path` inside `root`, refusing absolute/`..` escapes (the fixtures are trusted, but a
/// wrong path must fail loudly rather than write outside).
fn inside(root: &Path, path: &Path) -> PathBuf {
    let mut out = root.to_path_buf();
    for c in path.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir | Component::RootDir => {}
            other => panic!("layer entry {} has {other:?}", path.display()),
        }
    }
    out
}

fn remove_any(path: &Path) {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path).expect("remove dir"),
        Ok(_) => std::fs::remove_file(path).expect("remove file"),
        Err(_) => {}
    }
}

/// Apply one gzip'd layer tar: opaque markers and whiteouts first (they hide lower layers
/// only), then the entries.
fn apply_layer(root: &Path, gz: &Bytes) {
    let mut tar_bytes = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut tar_bytes)
        .expect("gunzip layer");
    let mut archive = tar::Archive::new(&tar_bytes[..]);
    let mut entries = Vec::new();
    for entry in archive.entries().expect("layer entries") {
        let mut entry = entry.expect("layer entry");
        let path = entry.path().expect("entry path").into_owned();
        let kind = entry.header().entry_type();
        let mode = entry.header().mode().unwrap_or(0o644);
        let link = entry.link_name().ok().flatten().map(|l| l.into_owned());
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("entry data");
        entries.push((path, kind, mode, link, data));
    }
    for (path, ..) in &entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let parent = inside(root, path.parent().unwrap_or(Path::new("")));
        if name == ".wh..wh..opq" {
            if let Ok(children) = std::fs::read_dir(&parent) {
                for child in children.flatten() {
                    remove_any(&child.path());
                }
            }
        } else if let Some(hidden) = name.strip_prefix(".wh.") {
            remove_any(&parent.join(hidden));
        }
    }
    for (path, kind, mode, link, data) in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with(".wh.") {
            continue;
        }
        let target = inside(root, &path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).expect("parent dirs");
        }
        match kind {
            tar::EntryType::Directory => {
                if !target.is_dir() {
                    remove_any(&target);
                }
                std::fs::create_dir_all(&target).expect("dir");
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                remove_any(&target);
                std::fs::write(&target, &data).expect("file");
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode & 0o7777))
                    .expect("chmod");
            }
            tar::EntryType::Symlink => {
                remove_any(&target);
                let link = link.expect("symlink target");
                std::os::unix::fs::symlink(&link, &target).expect("symlink");
            }
            tar::EntryType::Link => {
                remove_any(&target);
                let source = inside(root, &link.expect("hard link target"));
                std::fs::copy(&source, &target).expect("hard link copy");
            }
            other => panic!("unexpected tar entry type {other:?} in a test layer"),
        }
    }
}

/// Directories 0755, files 0755 when any x bit is set else 0644 (what the packager does, and
/// what Lambda needs for its non-root user).
fn normalise_modes(root: &Path) {
    let meta = std::fs::symlink_metadata(root).expect("stat");
    if meta.file_type().is_symlink() {
        return;
    }
    if meta.is_dir() {
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        for child in std::fs::read_dir(root).expect("read dir").flatten() {
            normalise_modes(&child.path());
        }
    } else {
        let mode = if meta.permissions().mode() & 0o111 != 0 {
            0o755
        } else {
            0o644
        };
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
}

/// The sandbox image: only a static busybox (`/bin/busybox`, `/bin/sh`), an empty `/tmp` and
/// `/var/task`, nothing of any function image.
pub fn sandbox_image() -> Image {
    let busybox = std::fs::read(assets::busybox()).expect("read busybox");
    let mut layer = LayerBuilder::new("test-support: Lambda-like sandbox (busybox only)");
    layer
        .dir("/bin", 0o755)
        .file("/bin/busybox", 0o755, &busybox)
        .symlink("/bin/sh", "busybox")
        .dir("/tmp", 0o1777)
        .dir("/var", 0o755)
        .dir("/var/task", 0o755);
    let mut labels = BTreeMap::new();
    labels.insert(
        "org.opencontainers.image.title".to_string(),
        "faas-test/lambda-sandbox".to_string(),
    );
    Image::new(
        ImageConfig {
            env: vec!["PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin".into()],
            entrypoint: vec!["/bin/sh".into()],
            cmd: Vec::new(),
            working_dir: "/var/task".into(),
            user: String::new(),
            exposed_ports: Vec::new(),
            labels,
        },
        vec![layer.finish()],
    )
}

/// `docker load` [`sandbox_image`] as [`SANDBOX_IMAGE`] and return that name.
pub async fn load_sandbox_image(docker: &bollard::Docker) -> String {
    use futures::StreamExt;
    let image = sandbox_image();
    let archive = Bytes::from(crate::archive::docker_archive(&[(
        &image,
        vec![SANDBOX_IMAGE.to_string()],
    )]));
    let options = bollard::query_parameters::ImportImageOptionsBuilder::new()
        .quiet(true)
        .build();
    let mut progress = docker.import_image(options, bollard::body_full(archive), None);
    while let Some(item) = progress.next().await {
        let info = item.unwrap_or_else(|e| panic!("loading {SANDBOX_IMAGE}: {e}"));
        if let Some(error) = info.error_detail.and_then(|d| d.message) {
            panic!("loading {SANDBOX_IMAGE}: {error}");
        }
    }
    SANDBOX_IMAGE.to_string()
}

/// cargo-lambda from PyPI (a binary wheel): `$FAAS_TEST_CARGO_LAMBDA`, or installed once into
/// `$FAAS_TEST_CARGO_LAMBDA_VENV` (default `<workspace>/target/cargo-lambda-venv`).
pub const CARGO_LAMBDA: PypiTool = PypiTool {
    requirement: "cargo-lambda",
    program: "cargo-lambda",
    program_env: "FAAS_TEST_CARGO_LAMBDA",
    venv_env: "FAAS_TEST_CARGO_LAMBDA_VENV",
    venv_name: "cargo-lambda-venv",
};

/// cargo-lambda's Runtime API emulator (`cargo-lambda lambda watch --only-lambda-apis`) on a
/// free 127.0.0.1 port: it serves the Runtime API under `/.rt` and invokes of function `_`.
/// Stopped on drop.
pub struct CargoLambda {
    child: Option<Child>,
    dir: tempfile::TempDir,
    port: u16,
}

impl std::fmt::Debug for CargoLambda {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CargoLambda")
            .field("port", &self.port)
            .finish()
    }
}

impl CargoLambda {
    /// Install when needed, start, and wait until the port accepts connections. Panics with
    /// its log when it cannot start.
    pub fn start() -> CargoLambda {
        let binary = CARGO_LAMBDA.program();
        let mut last_log = String::new();
        for _attempt in 0..5 {
            let dir = tempfile::Builder::new()
                .prefix("faas-cargo-lambda-")
                .tempdir()
                .expect("cargo-lambda tempdir");
            // `watch` wants a Cargo project, even when it does not build or run it.
            std::fs::write(
                dir.path().join("Cargo.toml"),
                "[package]\nname = \"faas-shim-peer\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            )
            .expect("Cargo.toml");
            std::fs::create_dir_all(dir.path().join("src")).expect("src");
            std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n").expect("main.rs");
            let port = free_port();
            let log = std::fs::File::create(dir.path().join("cargo-lambda.log")).expect("log");
            let child = Command::new(&binary)
                .args([
                    "lambda",
                    "watch",
                    "--only-lambda-apis",
                    "-A",
                    "127.0.0.1",
                    "-P",
                ])
                .arg(port.to_string())
                .current_dir(dir.path())
                .env_remove("AWS_LAMBDA_RUNTIME_API")
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("dup log"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
            let mut peer = CargoLambda {
                child: Some(child),
                dir,
                port,
            };
            match peer.wait_ready() {
                Ok(()) => return peer,
                Err(reason) => {
                    last_log = peer.log_tail(40);
                    if !last_log.contains("in use") {
                        panic!("cargo-lambda did not start: {reason}\n--- log ---\n{last_log}");
                    }
                }
            }
        }
        panic!("cargo-lambda did not start (ports kept colliding)\n{last_log}");
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let port = self.port;
        let what = format!("port {port}");
        wait_until_ready(
            &mut self.child,
            STARTUP,
            Duration::from_millis(50),
            &what,
            || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        )
    }

    /// `AWS_LAMBDA_RUNTIME_API` for a runtime talking to it: `http://127.0.0.1:PORT/.rt`.
    pub fn runtime_api(&self) -> String {
        format!("http://127.0.0.1:{}/.rt", self.port)
    }

    /// The invoke URL of its only function (`_`).
    pub fn invoke_url(&self) -> String {
        format!(
            "http://127.0.0.1:{}/2015-03-31/functions/{CARGO_LAMBDA_FUNCTION}/invocations",
            self.port
        )
    }

    /// The last `lines` lines of its log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(
            &std::fs::read_to_string(self.dir.path().join("cargo-lambda.log")).unwrap_or_default(),
            lines,
        )
    }
}

impl Drop for CargoLambda {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            stop_child(child, Duration::from_secs(5));
        }
    }
}
