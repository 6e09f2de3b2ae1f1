//! A Docker Engine for tests: the user's (`DOCKER_HOST`) or a private `dockerd` started as root
//! on its own socket, data root and exec root.

use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder};

use crate::assets::tail;
use crate::process::{find_program, stop_child};

const STARTUP: Duration = Duration::from_secs(60);
const SHUTDOWN: Duration = Duration::from_secs(20);

/// A Docker Engine the tests may use. Get it with [`docker_engine`].
///
/// When this process started the daemon, dropping the last handle removes every container,
/// stops `dockerd` (SIGTERM, SIGKILL after 20 s), unmounts what it left mounted under its
/// directory (the `netns/default` bind mount) and deletes its data.
pub struct DockerEngine {
    host: String,
    daemon: Option<Daemon>,
}

struct Daemon {
    child: Child,
    dir: PathBuf,
}

impl std::fmt::Debug for DockerEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerEngine")
            .field("host", &self.host)
            .field("own_daemon", &self.daemon.is_some())
            .finish()
    }
}

/// The Docker Engine shared by everything in this process that holds a handle.
///
/// - `DOCKER_HOST` set: that daemon (never stopped, its containers never touched).
/// - Otherwise a private `dockerd` (needs root and Debian's docker.io): socket, data root and exec
///   root in a fresh `/tmp/faas-dockerd-*` directory, `--bridge=none --iptables=false`, so
///   containers use `network_mode: host` (each on its own 127.0.0.1 port).
///
/// Cost: starting takes about a second and stopping about 2.5 s. The daemon is shared while any
/// handle is alive (parallel `cargo test` threads share one); `cargo nextest` runs each test in
/// its own process, so each such test starts its own daemon. Panics with the daemon's log when it
/// cannot start.
pub fn docker_engine() -> Arc<DockerEngine> {
    static SHARED: Mutex<Weak<DockerEngine>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(engine) = shared.upgrade() {
        return engine;
    }
    let engine = Arc::new(DockerEngine::start());
    *shared = Arc::downgrade(&engine);
    engine
}

impl DockerEngine {
    fn start() -> DockerEngine {
        if let Ok(host) = std::env::var("DOCKER_HOST") {
            if !host.is_empty() {
                return DockerEngine { host, daemon: None };
            }
        }
        DockerEngine::start_private()
    }

    /// Start a private `dockerd` whatever `DOCKER_HOST` says (the `test-dockerd` binary uses
    /// this to give one daemon to a whole test run). Stopped and cleaned on drop; panics with
    /// the daemon's log when it cannot start.
    pub fn start_private() -> DockerEngine {
        let euid = std::fs::metadata("/proc/self")
            .map(|m| m.uid())
            .unwrap_or(u32::MAX);
        assert_eq!(
            euid, 0,
            "starting a private dockerd needs root; or set DOCKER_HOST to a daemon of yours"
        );
        let dockerd = find_program("FAAS_TEST_DOCKERD", "dockerd", "apt-get install docker.io");
        reap_stale_dirs();
        // Short paths: unix socket paths are limited to 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("faas-dockerd-")
            .tempdir_in("/tmp")
            .expect("dockerd tempdir")
            .keep();
        for sub in ["root", "exec"] {
            std::fs::create_dir_all(dir.join(sub)).expect("dockerd dirs");
        }
        std::fs::write(dir.join("daemon.json"), "{}\n").expect("daemon.json");
        std::fs::write(dir.join("owner.pid"), std::process::id().to_string()).expect("owner");
        let socket = dir.join("docker.sock");
        let log = std::fs::File::create(dir.join("dockerd.log")).expect("dockerd log");
        let child = Command::new(&dockerd)
            .arg("--host")
            .arg(format!("unix://{}", socket.display()))
            .arg("--data-root")
            .arg(dir.join("root"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--pidfile")
            .arg(dir.join("dockerd.pid"))
            .arg("--config-file")
            .arg(dir.join("daemon.json"))
            .args([
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--ip-masq=false",
                "--userland-proxy=false",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", dockerd.display()));
        let mut engine = DockerEngine {
            host: format!("unix://{}", socket.display()),
            daemon: Some(Daemon { child, dir }),
        };
        let deadline = Instant::now() + STARTUP;
        loop {
            let daemon = engine.daemon.as_mut().expect("own daemon");
            if let Some(status) = daemon.child.try_wait().ok().flatten() {
                let log = engine.log_tail(40);
                panic!("dockerd exited with {status} while starting\n--- dockerd log ---\n{log}");
            }
            if ping(&socket) {
                return engine;
            }
            if Instant::now() > deadline {
                let log = engine.log_tail(40);
                panic!(
                    "dockerd did not answer /_ping within {STARTUP:?}\n--- dockerd log ---\n{log}"
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The `DOCKER_HOST` value for this engine (`unix:///tmp/faas-dockerd-…/docker.sock`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether this process started (and will stop) the daemon.
    pub fn is_private(&self) -> bool {
        self.daemon.is_some()
    }

    /// A bollard client with the API version negotiated (Debian's dockerd 20.10 speaks 1.41 only).
    /// Panics when the daemon does not answer.
    pub async fn client(&self) -> Docker {
        let docker = Docker::connect_with_host(&self.host)
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", self.host));
        docker.negotiate_version().await.unwrap_or_else(|e| {
            panic!(
                "{}: version negotiation failed: {e}\n{}",
                self.host,
                self.log_tail(20)
            )
        })
    }

    /// The last `lines` lines of the private daemon's log (empty for `DOCKER_HOST`).
    pub fn log_tail(&self, lines: usize) -> String {
        match &self.daemon {
            Some(d) => tail(
                &std::fs::read_to_string(d.dir.join("dockerd.log")).unwrap_or_default(),
                lines,
            ),
            None => String::new(),
        }
    }
}

impl Drop for DockerEngine {
    fn drop(&mut self) {
        let Some(daemon) = self.daemon.take() else {
            return;
        };
        // Remove containers through the API, from a thread with its own runtime (this drop may
        // run inside a test's runtime, where blocking on another future is not allowed).
        let host = self.host.clone();
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async move {
                let docker = Docker::connect_with_host(&host)
                    .ok()?
                    .negotiate_version()
                    .await
                    .ok()?;
                let all = ListContainersOptionsBuilder::new().all(true).build();
                let containers = docker.list_containers(Some(all)).await.ok()?;
                for container in containers {
                    if let Some(id) = container.id {
                        let options = RemoveContainerOptionsBuilder::new()
                            .force(true)
                            .v(true)
                            .build();
                        if let Err(e) = docker.remove_container(&id, Some(options)).await {
                            eprintln!("test-support: cannot remove container {id}: {e}");
                        }
                    }
                }
                Some(())
            })
        });
        let _ = cleanup.join();
        stop_child(daemon.child, SHUTDOWN);
        unmount_under(&daemon.dir);
        if let Err(e) = std::fs::remove_dir_all(&daemon.dir) {
            eprintln!(
                "test-support: cannot remove {}: {e} (something is still mounted?)",
                daemon.dir.display()
            );
        }
    }
}

/// Remove what killed test processes left behind: `/tmp/faas-dockerd-*` directories older than a
/// minute whose owner process and dockerd are both gone (nothing running is touched).
fn reap_stale_dirs() {
    let Ok(entries) = std::fs::read_dir("/tmp") else {
        return;
    };
    for entry in entries.flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .starts_with("faas-dockerd-")
        {
            continue;
        }
        let dir = entry.path();
        let young = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_none_or(|age| age < Duration::from_secs(60));
        let alive = |file: &str| {
            std::fs::read_to_string(dir.join(file))
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok())
                .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists())
        };
        if young || alive("owner.pid") || alive("dockerd.pid") {
            continue;
        }
        unmount_under(&dir);
        if std::fs::remove_dir_all(&dir).is_ok() {
            eprintln!("test-support: removed stale {}", dir.display());
        }
    }
}

/// `GET /_ping` over the unix socket answers `OK`.
fn ping(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream
        .write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200")
}

/// Lazily unmount every mount point below `dir`, deepest first.
fn unmount_under(dir: &Path) {
    let Ok(mountinfo) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let prefix = dir.to_string_lossy().into_owned();
    let mut points: Vec<String> = mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(unescape_mount_path)
        .filter(|p| p.starts_with(&prefix))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for point in points {
        let status = Command::new("umount").arg("-l").arg(&point).status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("test-support: cannot unmount {point}");
        }
    }
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_mount_path(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = (bytes[i] == b'\\' && i + 3 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 4]).ok())
            .flatten()
            .and_then(|digits| u8::from_str_radix(digits, 8).ok());
        if let Some(v) = octal {
            out.push(v);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every container (any state) carrying the label `key=value`.
pub async fn labelled_containers(
    docker: &Docker,
    key: &str,
    value: &str,
) -> Vec<bollard::models::ContainerSummary> {
    let filters =
        std::collections::HashMap::from([("label".to_string(), vec![format!("{key}={value}")])]);
    docker
        .list_containers(Some(
            ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .expect("list containers")
}

/// Removes (forced) every container carrying the label `key=value`, from a thread with its own
/// runtime, and returns when done: for `Drop` impls, which cannot await and may run while the
/// test's runtime shuts down.
pub fn remove_labelled_blocking(docker: &Docker, key: &str, value: &str) {
    let (docker, key, value) = (docker.clone(), key.to_string(), value.to_string());
    let _ = std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async {
            for container in labelled_containers(&docker, &key, &value).await {
                if let Some(id) = container.id {
                    let options = RemoveContainerOptionsBuilder::default().force(true).build();
                    let _ = docker.remove_container(&id, Some(options)).await;
                }
            }
        });
    })
    .join();
}

#[cfg(test)]
mod tests {
    #[test]
    fn mountinfo_unescaping() {
        assert_eq!(super::unescape_mount_path("/a\\040b"), "/a b");
        assert_eq!(super::unescape_mount_path("/plain"), "/plain");
        assert_eq!(super::unescape_mount_path("/end\\04"), "/end\\04");
    }
}
