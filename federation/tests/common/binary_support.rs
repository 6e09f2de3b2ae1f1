//! The `faas-federation` binary for the tests that run it: started on a given port with a
//! clean environment plus the variables a test sets, waited for until `/healthz` answers 200,
//! and killed when its handle drops.

#![allow(dead_code, unreachable_pub)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Variables a test's environment could hold that would change what the binary runs.
const CLEARED: [&str; 10] = [
    "federation_config",
    "default_backend",
    "providers",
    "default_provider",
    "basic_auth",
    "bind",
    "read_timeout",
    "write_timeout",
    "access_log",
    "LOG_FORMAT",
];

/// `faas-federation` without the variables of [`CLEARED`] (the test's own environment could
/// hold them).
pub fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_faas-federation"));
    for variable in CLEARED {
        command.env_remove(variable);
    }
    command
}

/// A running `faas-federation`; killed when dropped.
pub struct Running(pub Child);

impl Running {
    /// SIGKILL, then reap.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// Starts `faas-federation` on `port` with `env` set, once `/healthz` answers 200.
pub async fn start(port: u16, env: &[(&str, String)]) -> Running {
    start_with_stderr(port, env, Stdio::inherit()).await
}

/// [`start`] with the binary's stderr (its log) going to `stderr`; `RUST_LOG` is `warn`
/// unless `env` sets it.
pub async fn start_with_stderr(port: u16, env: &[(&str, String)], stderr: Stdio) -> Running {
    let mut command = command();
    command.env("RUST_LOG", "warn");
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = Running(
        command
            .env("port", port.to_string())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("faas-federation starts"),
    );
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = http
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
        {
            assert_eq!(response.status(), 200);
            return child;
        }
        if let Some(status) = child.0.try_wait().unwrap() {
            panic!("faas-federation exited early: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "faas-federation did not answer /healthz in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
