//! The pieces of `faas-bench-scale` (issue 18, item 4): servers run as child processes of the
//! benchmark (the benchmark's own binary, started with `--serve`), so each one's resident
//! memory is its own, and the client work that measures them.
//!
//! - [`Child`]: a provider-memory server or a federation (`faas-federation`'s runtime and
//!   router, over an in-process memory backend or over remote backends) in a child process on
//!   127.0.0.1, with its RSS read from `/proc/<pid>/status`.
//! - [`deploy_all`]: `POST /system/functions` of many functions over a few connections, timed.
//! - [`list_p50`]: repeated `GET /system/functions`, the answer checked once, the median time.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use faas_provider::{FunctionStatus, ServerConfig};
use federation::{BackendConfig, FederationConfig, GATEWAY_ANNOTATION, Runtime};
use prometheus_client::registry::Registry;
use provider_memory::MemoryProvider;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// What a child process serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Serve {
    /// `provider-memory`: a [`MemoryProvider`] behind the faas-provider server.
    Memory,
    /// `faas-federation` with no configuration: one in-process memory backend.
    FederationInProcess,
    /// `faas-federation` over remote backends `b0`, `b1`, ... (the first is the default).
    FederationRemote(Vec<String>),
}

impl Serve {
    /// The `--serve` arguments selecting it.
    pub fn args(&self) -> Vec<String> {
        match self {
            Self::Memory => vec!["--serve".into(), "memory".into()],
            Self::FederationInProcess => vec!["--serve".into(), "federation".into()],
            Self::FederationRemote(urls) => {
                let mut args = vec!["--serve".into(), "federation".into()];
                for url in urls {
                    args.push("--remote".into());
                    args.push(url.clone());
                }
                args
            }
        }
    }

    /// The name of remote backend `i` ([`Serve::FederationRemote`]).
    pub fn backend_name(i: usize) -> String {
        format!("b{i}")
    }
}

/// The line a child prints once it listens.
const LISTENING: &str = "listening ";

/// Runs the server `serve` asks for on 127.0.0.1 (a free port), prints
/// `listening http://addr`, and serves until its standard input closes (the parent ended).
pub async fn run_child(serve: Serve) -> anyhow::Result<()> {
    // Log as the binaries do (formatting every line costs what it costs them), to stderr,
    // which the parent discards.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .init();
    let server = ServerConfig::default();
    let (app, _runtime) = match serve {
        Serve::Memory => {
            let app = faas_provider::server::router(Arc::new(MemoryProvider::new()), &server);
            (app, None)
        }
        Serve::FederationInProcess | Serve::FederationRemote(_) => {
            let mut config = FederationConfig::default();
            if let Serve::FederationRemote(urls) = &serve {
                config.backends = urls
                    .iter()
                    .enumerate()
                    .map(|(i, url)| BackendConfig::http(Serve::backend_name(i), url))
                    .collect();
                config.default_backend = Serve::backend_name(0);
            }
            let mut registry = Registry::default();
            let runtime = Runtime::start(&config, &mut registry)
                .await
                .context("starting the federation")?;
            (runtime.router(&server, registry), Some(runtime))
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("{LISTENING}http://{}", listener.local_addr()?);
    let (gone, parent_gone) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        let _ = gone.send(());
    });
    let parent_gone = async {
        let _ = parent_gone.await;
    };
    faas_provider::server::serve_router(listener, app, &server, parent_gone).await?;
    Ok(())
}

/// A server in a child process; killed when dropped.
pub struct Child {
    /// `http://127.0.0.1:port`.
    pub url: String,
    process: tokio::process::Child,
}

impl Child {
    /// Starts `serve` in a child process of this executable and waits until it listens.
    pub async fn start(serve: &Serve) -> anyhow::Result<Child> {
        let exe = std::env::current_exe().context("this executable")?;
        let mut process = Command::new(exe)
            .args(serve.args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting a child server")?;
        let stdout = process.stdout.take().context("the child's stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .context("the child server did not start within 30 s")??
            .context("the child server exited before listening")?;
        let url = line
            .strip_prefix(LISTENING)
            .with_context(|| format!("unexpected first line of the child: {line}"))?
            .to_string();
        Ok(Child { url, process })
    }

    /// Its resident set size in bytes (`VmRSS` of `/proc/<pid>/status`).
    pub fn rss(&self) -> anyhow::Result<u64> {
        let pid = self.process.id().context("the child has exited")?;
        rss_of(pid)
    }
}

/// `VmRSS` of process `pid`, in bytes.
pub fn rss_of(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS line")?;
    Ok(kib * 1024)
}

/// An HTTP client for the measurements (no proxy, enough idle connections).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(64)
        .build()
        .expect("a client")
}

/// The name of function `i` of a run with `prefix`.
pub fn function_name(prefix: &str, i: usize) -> String {
    format!("{prefix}-{i:05}")
}

/// The deployment body of function `i`: an image, a label and, with `backends`, the routing
/// annotation spreading functions round-robin over that many remote backends.
fn deployment(prefix: &str, i: usize, backends: usize) -> serde_json::Value {
    let mut body = serde_json::json!({
        "service": function_name(prefix, i),
        "image": "example/echo:1",
        "labels": {"team": "bench"},
    });
    if backends > 0 {
        body["annotations"] =
            serde_json::json!({ GATEWAY_ANNOTATION: Serve::backend_name(i % backends) });
    }
    body
}

/// Deploys functions `prefix-00000 ..` (`count` of them) through `url` over `concurrency`
/// connections, spread over `backends` remote backends by annotation (0: no annotation);
/// returns the elapsed time. Any answer but 2xx fails.
pub async fn deploy_all(
    client: &reqwest::Client,
    url: &str,
    prefix: &str,
    count: usize,
    concurrency: usize,
    backends: usize,
) -> anyhow::Result<Duration> {
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..count)
            .map(|i| serde_json::to_vec(&deployment(prefix, i, backends)))
            .collect::<Result<_, _>>()?,
    );
    let next = Arc::new(AtomicUsize::new(0));
    let endpoint = format!("{url}/system/functions");
    let began = Instant::now();
    let workers = (0..concurrency).map(|_| {
        let (client, endpoint, next, bodies) = (
            client.clone(),
            endpoint.clone(),
            next.clone(),
            bodies.clone(),
        );
        tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else {
                    return Ok::<_, anyhow::Error>(());
                };
                let response = client
                    .post(&endpoint)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await?;
                let status = response.status();
                let text = response.text().await?;
                anyhow::ensure!(status.is_success(), "deploy {i}: {status} {text}");
            }
        })
    });
    for worker in futures::future::join_all(workers).await {
        worker??;
    }
    Ok(began.elapsed())
}

/// The median time of `rounds` `GET /system/functions` of `url` (after two warm-up rounds),
/// whose answer must hold exactly `expected` functions (checked on the first answer, outside
/// the timing).
pub async fn list_p50(
    client: &reqwest::Client,
    url: &str,
    expected: usize,
    rounds: usize,
) -> anyhow::Result<Duration> {
    let endpoint = format!("{url}/system/functions");
    let mut times = Vec::with_capacity(rounds);
    for round in 0..rounds + 2 {
        let began = Instant::now();
        let response = client.get(&endpoint).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        let elapsed = began.elapsed();
        anyhow::ensure!(status.is_success(), "list of {url}: {status}");
        if round == 0 {
            let functions: Vec<FunctionStatus> =
                serde_json::from_slice(&body).context("the list is not a JSON list")?;
            anyhow::ensure!(
                functions.len() == expected,
                "{url} listed {} functions, not {expected}",
                functions.len()
            );
        }
        if round >= 2 {
            times.push(elapsed);
        }
    }
    times.sort();
    Ok(times[times.len() / 2])
}
