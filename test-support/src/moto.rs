//! A real moto server (PyPI `moto[server,awslambda]`), the Lambda control plane of the Lambda
//! provider's tests, on a free 127.0.0.1 port per guard.
//!
//! moto is installed once into a venv under `<workspace>/target/moto-venv` (`python3 -m venv`,
//! then `pip install 'moto[server,awslambda]'`; concurrent test processes wait on a lock file);
//! `FAAS_TEST_MOTO_SERVER` names an existing `moto_server` instead. The server is configured with
//! `{"lambda":{"use_docker":false}}` before any function exists (invoke then echoes the payload)
//! and holds one IAM role for functions ([`Moto::role_arn`]). A server that cannot start is a
//! panic with its log tail.
//!
//! ```no_run
//! let moto = test_support::moto::Moto::start();
//! // AWS SDK clients: endpoint moto.url(), region moto.region(), any static credentials.
//! let role = moto.role_arn();
//! moto.reset(); // every resource gone, the role created again
//! ```

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::assets::tail;
use crate::net::free_port;
use crate::process::{stop_child, wait_until_ready};
use crate::pypi::PypiTool;

/// How long moto may take to answer after starting.
const STARTUP: Duration = Duration::from_secs(90);
/// The account moto uses by default.
pub const ACCOUNT_ID: &str = "123456789012";
/// The region the tests use.
pub const REGION: &str = "us-east-1";
/// The execution role every test function uses.
pub const ROLE_NAME: &str = "faas-lambda-execution";
/// Credentials moto accepts (it checks none).
pub const ACCESS_KEY: &str = "testing";
/// Secret of [`ACCESS_KEY`].
pub const SECRET_KEY: &str = "testing";

/// moto from PyPI: `$FAAS_TEST_MOTO_SERVER`, or installed once into `$FAAS_TEST_MOTO_VENV`
/// (default `<workspace>/target/moto-venv`).
pub const MOTO: PypiTool = PypiTool {
    requirement: "moto[server,awslambda]",
    program: "moto_server",
    program_env: "FAAS_TEST_MOTO_SERVER",
    venv_env: "FAAS_TEST_MOTO_VENV",
    venv_name: "moto-venv",
};

/// A running moto server; stopped on drop.
pub struct Moto {
    child: Option<Child>,
    dir: tempfile::TempDir,
    addr: SocketAddr,
}

impl std::fmt::Debug for Moto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Moto").field("addr", &self.addr).finish()
    }
}

impl Moto {
    /// Installs moto if needed, starts it on a free 127.0.0.1 port, switches Lambda to its
    /// docker-less backend and creates the execution role. Panics with the log when it cannot.
    pub fn start() -> Moto {
        let binary = MOTO.program();
        let mut last_log = String::new();
        for _attempt in 0..5 {
            let dir = tempfile::Builder::new()
                .prefix("faas-moto-")
                .tempdir()
                .expect("moto tempdir");
            let port = free_port();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let log = std::fs::File::create(dir.path().join("moto.log")).expect("moto log");
            let child = Command::new(&binary)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .current_dir(dir.path())
                .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
                .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
                .env("AWS_DEFAULT_REGION", REGION)
                .env("MOTO_ACCOUNT_ID", ACCOUNT_ID)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("dup log"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
            let mut moto = Moto {
                child: Some(child),
                dir,
                addr,
            };
            match moto.wait_ready() {
                Ok(()) => {
                    moto.create_role();
                    return moto;
                }
                Err(reason) => {
                    last_log = moto.log_tail(40);
                    if !last_log.contains("Address already in use") {
                        panic!("moto did not start: {reason}\n--- moto log ---\n{last_log}");
                    }
                }
            }
        }
        panic!("moto did not start (ports kept colliding)\n{last_log}");
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        // Lambda's docker-less mode must be chosen before any function exists.
        let addr = self.addr;
        wait_until_ready(
            &mut self.child,
            STARTUP,
            Duration::from_millis(100),
            "POST /moto-api/config",
            || {
                matches!(
                    http_request(
                        addr,
                        "POST",
                        "/moto-api/config",
                        &[("content-type", "application/json")],
                        br#"{"lambda":{"use_docker":false}}"#,
                    ),
                    Ok((200..=299, _))
                )
            },
        )
    }

    /// Creates [`ROLE_NAME`] through moto's IAM API (Lambda refuses a role that does not exist).
    fn create_role(&self) {
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let body: String = form_urlencoded_pairs(&[
            ("Action", "CreateRole"),
            ("Version", "2010-05-08"),
            ("RoleName", ROLE_NAME),
            ("AssumeRolePolicyDocument", policy),
        ]);
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20240101/{REGION}/iam/aws4_request, SignedHeaders=host, Signature=00"
        );
        match self.request(
            "POST",
            "/",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("authorization", &authorization),
            ],
            body.as_bytes(),
        ) {
            Ok((200..=299, _)) => {}
            Ok((status, body)) => panic!(
                "moto refused to create the IAM role ({status}): {}\n--- moto log ---\n{}",
                String::from_utf8_lossy(&body),
                self.log_tail(40)
            ),
            Err(e) => panic!(
                "moto did not answer CreateRole: {e}\n--- moto log ---\n{}",
                self.log_tail(40)
            ),
        }
    }

    /// Deletes every resource (the Lambda config survives) and creates the role again.
    pub fn reset(&self) {
        match self.request("POST", "/moto-api/reset", &[], b"") {
            Ok((200..=299, _)) => {}
            other => panic!(
                "moto reset failed: {other:?}\n--- moto log ---\n{}",
                self.log_tail(40)
            ),
        }
        self.create_role();
    }

    /// `http://127.0.0.1:PORT`, the endpoint of every AWS service moto emulates.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The region to use ([`REGION`]).
    pub fn region(&self) -> &'static str {
        REGION
    }

    /// ARN of the execution role created at start.
    pub fn role_arn(&self) -> String {
        format!("arn:aws:iam::{ACCOUNT_ID}:role/{ROLE_NAME}")
    }

    /// The environment an AWS SDK needs to reach this server: endpoint, region, credentials.
    pub fn aws_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.url()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
        ]
    }

    /// The last `lines` lines of moto's log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(
            &std::fs::read_to_string(self.dir.path().join("moto.log")).unwrap_or_default(),
            lines,
        )
    }

    /// One HTTP/1.1 request to moto: `(status, body)`.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        http_request(self.addr, method, path, headers, body)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            stop_child(child, Duration::from_secs(5));
        }
    }
}

/// One HTTP/1.1 request to moto at `addr`: `(status, body)`.
fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        addr,
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers in moto's answer"))?;
    let status_line = String::from_utf8_lossy(&response[..split]).to_string();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line: {status_line}")))?;
    Ok((status, response[split + 4..].to_vec()))
}

/// `application/x-www-form-urlencoded` of `pairs`.
fn form_urlencoded_pairs(pairs: &[(&str, &str)]) -> String {
    use faas_provider::encoding::percent_encode as encode;
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding() {
        assert_eq!(
            form_urlencoded_pairs(&[("a b", "{\"x\":1}"), ("k", "v")]),
            "a%20b=%7B%22x%22%3A1%7D&k=v"
        );
    }
}
