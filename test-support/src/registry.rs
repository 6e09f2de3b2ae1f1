//! A real OCI registry (Debian's `docker-registry`, distribution 2.8) on 127.0.0.1, per guard.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use oci_client::secrets::RegistryAuth;

use crate::assets::tail;
use crate::net::free_port;
use crate::process::{find_program, stop_child, wait_until_ready};

/// How long a service may take to start before the test fails.
const STARTUP: Duration = Duration::from_secs(60);

/// A running registry; stopped (and its storage deleted) on drop.
///
/// ```no_run
/// let registry = test_support::Registry::start();
/// let reference = test_support::images::ECHO.reference(&registry.host());
/// // push with test_support::push::push_image(..), pull with `docker pull {reference}`...
/// ```
pub struct Registry {
    child: Option<Child>,
    dir: tempfile::TempDir,
    addr: SocketAddr,
    credentials: Option<(String, String)>,
}

impl Registry {
    /// Start an anonymous registry on a free 127.0.0.1 port. Panics (with the registry's log)
    /// when it cannot start.
    pub fn start() -> Registry {
        Self::launch(None)
    }

    /// Start a registry that requires HTTP basic auth (htpasswd file made with `htpasswd -Bbn`,
    /// from Debian's apache2-utils).
    pub fn start_with_basic_auth(user: &str, password: &str) -> Registry {
        Self::launch(Some((user.to_string(), password.to_string())))
    }

    fn launch(credentials: Option<(String, String)>) -> Registry {
        let binary = find_program(
            "FAAS_TEST_DOCKER_REGISTRY",
            "docker-registry",
            "apt-get install docker-registry",
        );
        let htpasswd = credentials.as_ref().map(|(user, password)| {
            let tool = find_program(
                "FAAS_TEST_HTPASSWD",
                "htpasswd",
                "apt-get install apache2-utils",
            );
            let out = Command::new(tool)
                .args(["-Bbn", user, password])
                .output()
                .expect("run htpasswd");
            assert!(out.status.success(), "htpasswd failed: {out:?}");
            out.stdout
        });
        let mut last_log = String::new();
        for _attempt in 0..5 {
            let dir = tempfile::Builder::new()
                .prefix("faas-registry-")
                .tempdir()
                .expect("registry tempdir");
            let auth = match &htpasswd {
                Some(content) => {
                    let file = dir.path().join("htpasswd");
                    std::fs::write(&file, content).expect("write htpasswd");
                    format!(
                        "auth:\n  htpasswd:\n    realm: basic-realm\n    path: {}\n",
                        file.display()
                    )
                }
                None => String::new(),
            };
            let port = free_port();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let config = dir.path().join("config.yml");
            std::fs::write(
                &config,
                format!(
                    "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\n\
                     storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
                     http:\n  addr: {addr}\n  secret: faas-test-support\n{auth}",
                    dir.path().join("data").display()
                ),
            )
            .expect("write registry config");
            let log = std::fs::File::create(dir.path().join("registry.log")).expect("registry log");
            let child = Command::new(&binary)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("dup log"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
            let mut registry = Registry {
                child: Some(child),
                dir,
                addr,
                credentials: credentials.clone(),
            };
            match registry.wait_ready() {
                Ok(()) => return registry,
                Err(reason) => {
                    last_log = registry.log_tail(40);
                    if !last_log.contains("address already in use") {
                        panic!(
                            "the registry did not start: {reason}\n--- registry log ---\n{last_log}"
                        );
                    }
                    // Someone took the port between probing and binding: try another one.
                }
            }
        }
        panic!("the registry did not start (ports kept colliding)\n{last_log}");
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let addr = self.addr;
        // 401 is the expected answer of an auth-protected registry.
        wait_until_ready(
            &mut self.child,
            STARTUP,
            Duration::from_millis(50),
            "GET /v2/",
            || matches!(http_status(addr, "/v2/"), Some(200 | 401)),
        )
    }

    /// `127.0.0.1:PORT`, the registry part of image references.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// User and password when started with basic auth.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// oci-client credentials for this registry.
    pub fn auth(&self) -> RegistryAuth {
        match &self.credentials {
            Some((u, p)) => RegistryAuth::Basic(u.clone(), p.clone()),
            None => RegistryAuth::Anonymous,
        }
    }

    /// Storage and config directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The last `lines` lines of the registry's log.
    pub fn log_tail(&self, lines: usize) -> String {
        let log: PathBuf = self.dir.path().join("registry.log");
        tail(&std::fs::read_to_string(log).unwrap_or_default(), lines)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            stop_child(child, Duration::from_secs(5));
        }
    }
}

/// The status code of `GET path` over plain HTTP/1.1, or `None` when nothing answers.
pub(crate) fn http_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).ok()?;
    let line = std::str::from_utf8(&head[..n]).ok()?;
    line.split_whitespace().nth(1)?.parse().ok()
}
