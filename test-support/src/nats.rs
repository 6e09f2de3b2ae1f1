//! A real NATS server with JetStream (Debian's `nats-server`) on 127.0.0.1, per guard: a free
//! port, a file store in a temporary directory, stopped on drop. [`NatsServer::restart`] stops
//! it and starts it again on the same port and store, as a crash-and-restart test needs.
//!
//! The server runs with `GOMAXPROCS=1` unless the environment sets `GOMAXPROCS`: on this
//! 2-core machine, shared with the federation and a load generator, Go's scheduler handing
//! goroutines from one OS thread to another took about a third of nats-server's CPU per
//! message (faas-bench-async: 28–32 µs of server CPU per call with one thread, 42–44 µs with
//! two). Nothing about storage changes: the file store and its durability are the same.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::assets::tail;
use crate::net::free_port;
use crate::process::{find_program, stop_child, wait_until_ready};

/// How long the server may take to accept connections.
const STARTUP: Duration = Duration::from_secs(30);

/// A running `nats-server -js`; stopped (and its store deleted) on drop.
///
/// ```no_run
/// let nats = test_support::nats::NatsServer::start();
/// let url = nats.url(); // nats://127.0.0.1:PORT
/// ```
pub struct NatsServer {
    child: Option<Child>,
    dir: tempfile::TempDir,
    addr: SocketAddr,
}

impl NatsServer {
    /// Starts a server with JetStream on a free 127.0.0.1 port. Panics (with its log) when it
    /// cannot start, or when `nats-server` is missing.
    pub fn start() -> Self {
        let mut dir = tempfile::Builder::new()
            .prefix("faas-nats-")
            .tempdir()
            .expect("nats tempdir");
        let mut last_log = String::new();
        for _attempt in 0..5 {
            let mut server = Self {
                child: None,
                addr: SocketAddr::from(([127, 0, 0, 1], free_port())),
                dir,
            };
            match server.launch() {
                Ok(()) => return server,
                Err(reason) => {
                    last_log = server.log_tail(40);
                    if !last_log.contains("address already in use") {
                        panic!("nats-server did not start: {reason}\n--- log ---\n{last_log}");
                    }
                    dir = server.take_dir();
                }
            }
        }
        panic!("nats-server did not start (ports kept colliding)\n{last_log}");
    }

    fn take_dir(mut self) -> tempfile::TempDir {
        if let Some(child) = self.child.take() {
            stop_child(child, Duration::from_secs(5));
        }
        let placeholder = tempfile::tempdir().expect("tempdir");
        std::mem::replace(&mut self.dir, placeholder)
    }

    fn launch(&mut self) -> Result<(), String> {
        let binary = find_program(
            "FAAS_TEST_NATS_SERVER",
            "nats-server",
            "apt-get install nats-server",
        );
        let store = self.dir.path().join("store");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("nats log");
        let child = Command::new(&binary)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.addr.port().to_string(),
                "-js",
            ])
            .arg("-sd")
            .arg(&store)
            .env(
                "GOMAXPROCS",
                std::env::var("GOMAXPROCS").unwrap_or_else(|_| "1".to_string()),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        self.child = Some(child);
        let addr = self.addr;
        let log_path = self.log_path();
        wait_until_ready(
            &mut self.child,
            STARTUP,
            Duration::from_millis(20),
            "a TCP connection and JetStream",
            || {
                TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
                    && std::fs::read_to_string(&log_path)
                        .is_ok_and(|log| log.matches("Server is ready").count() > 0)
            },
        )
    }

    fn log_path(&self) -> std::path::PathBuf {
        self.dir.path().join("nats.log")
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://{}", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The JetStream store directory.
    pub fn store(&self) -> &Path {
        self.dir.path()
    }

    /// Stops the server (SIGTERM, as an operator's restart does) and starts it again on the
    /// same port and store. Panics when it does not come back.
    pub fn restart(&mut self) {
        self.stop();
        // The previous run's "Server is ready" lines must not count for the new one.
        let _ = std::fs::write(self.log_path(), "");
        if let Err(reason) = self.launch() {
            panic!(
                "nats-server did not restart: {reason}\n--- log ---\n{}",
                self.log_tail(40)
            );
        }
    }

    /// Stops the server, keeping its store (see [`NatsServer::restart`]).
    pub fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            stop_child(child, Duration::from_secs(10));
        }
    }

    /// The last `lines` lines of the server's log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(
            &std::fs::read_to_string(self.log_path()).unwrap_or_default(),
            lines,
        )
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}
