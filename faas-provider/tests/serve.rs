//! The server on a real socket (`server::serve`): what only a connection shows.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use async_trait::async_trait;
use faas_provider::{
    Body, Capabilities, FunctionDeployment, FunctionRef, FunctionStatus, Provider, ProviderError,
    ProviderInfo, Result, ServerConfig,
};

/// One function, `hello`, that answers `hello` without reading the request body.
struct Hello;

#[async_trait]
impl Provider for Hello {
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    async fn info(&self) -> Result<ProviderInfo> {
        Ok(ProviderInfo::new("hello", "test", "0"))
    }
    async fn list(&self, _namespace: &str) -> Result<Vec<FunctionStatus>> {
        Ok(vec![])
    }
    async fn get(&self, function: &FunctionRef) -> Result<FunctionStatus> {
        if function.name != "hello" {
            return Err(ProviderError::function_not_found(function));
        }
        let spec = FunctionDeployment::new("hello", "example/hello:1");
        Ok(FunctionStatus::from_deployment(&spec, chrono::Utc::now()))
    }
    async fn deploy(&self, _spec: FunctionDeployment) -> Result<()> {
        Ok(())
    }
    async fn update(&self, _spec: FunctionDeployment) -> Result<()> {
        Ok(())
    }
    async fn delete(&self, _function: &FunctionRef) -> Result<()> {
        Ok(())
    }
    async fn scale(&self, _function: &FunctionRef, _replicas: u64) -> Result<()> {
        Ok(())
    }
    async fn invoke(
        &self,
        function: &FunctionRef,
        _request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        self.get(function).await?;
        Ok(http::Response::new(Body::from("hello")))
    }
}

/// Serves [`Hello`] on a free 127.0.0.1 port with `config`.
async fn start(config: ServerConfig) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        faas_provider::server::serve(listener, Arc::new(Hello), &config, std::future::pending())
            .await
            .expect("serve");
    });
    addr
}

const BIG: usize = 20 * 1024 * 1024;

/// Writes a request with a `BIG` body completely, then reads the answer, as Python's
/// `http.client` does; the status line, or the I/O error that cut the exchange.
fn write_all_then_read(addr: SocketAddr, method: &str, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {BIG}\r\n\r\n"
    );
    stream.write_all(head.as_bytes())?;
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..BIG / chunk.len() {
        stream.write_all(&chunk)?;
    }
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..n]);
    }
    let text = String::from_utf8_lossy(&answer);
    Ok(text.lines().next().unwrap_or_default().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_writing_a_too_large_body_before_reading_gets_the_413() {
    let config = ServerConfig {
        max_body_bytes: 1024,
        ..ServerConfig::default()
    };
    let addr = start(config).await;
    for (method, path, status) in [
        ("POST", "/system/functions", "413"),
        ("PUT", "/system/functions", "413"),
        ("POST", "/function/missing", "503"),
    ] {
        let answer = tokio::task::spawn_blocking(move || write_all_then_read(addr, method, path))
            .await
            .unwrap();
        let line = answer.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        assert!(line.starts_with(&format!("HTTP/1.1 {status}")), "{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_http_client_reads_the_413_of_a_too_large_deploy() {
    let config = ServerConfig {
        max_body_bytes: 1024,
        ..ServerConfig::default()
    };
    let addr = start(config).await;
    let script = format!(
        "import http.client\n\
         c = http.client.HTTPConnection('127.0.0.1', {port}, timeout=30)\n\
         c.request('POST', '/system/functions', body=b' ' * {BIG})\n\
         r = c.getresponse()\n\
         print(r.status, r.read().decode())\n",
        port = addr.port()
    );
    let output = tokio::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .await
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.starts_with("413 "),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("larger than 1024 bytes"), "{stdout}");
}
