//! Real servers on 127.0.0.1 for the federation's tests: a remote memory provider that can be
//! killed (its runtime dropped, every socket closed at once, like a crashed process) and
//! restarted on the same port with the same state, and the federation itself.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use faas_provider::client::HttpProvider;
use faas_provider::{FunctionDeployment, Provider, ServerConfig};
use federation::config::CapabilityOverrides;
use federation::{Backend, FederatedProvider, GATEWAY_ANNOTATION};
use prometheus_client::registry::Registry;
use provider_memory::MemoryProvider;
use tokio::sync::oneshot;

pub const NS: &str = "openfaas-fn";

/// A [`MemoryProvider`] served over HTTP on its own runtime.
pub struct RemoteMemory {
    pub provider: Arc<MemoryProvider>,
    pub addr: SocketAddr,
    config: ServerConfig,
    runtime: Option<tokio::runtime::Runtime>,
}

impl RemoteMemory {
    /// Serves a new memory provider on 127.0.0.1 (a free port).
    pub async fn start() -> Self {
        Self::start_with(ServerConfig::default()).await
    }

    /// Same, with `config` (e.g. basic auth); its port is ignored.
    pub async fn start_with(config: ServerConfig) -> Self {
        let mut remote = Self {
            provider: Arc::new(MemoryProvider::new()),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            config,
            runtime: None,
        };
        remote.serve().await;
        remote
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Kills the server: its runtime is shut down, dropping every task and closing every
    /// socket (listener and connections) at once, like a crashed process. Returns once that
    /// is done.
    pub async fn kill(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            tokio::task::spawn_blocking(move || runtime.shutdown_timeout(Duration::from_secs(10)))
                .await
                .expect("the remote runtime shut down");
        }
    }

    /// Serves the same provider again on the same port.
    pub async fn restart(&mut self) {
        assert!(self.runtime.is_none(), "restart of a running server");
        self.serve().await;
    }

    async fn serve(&mut self) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the remote provider");
        let (bound_tx, bound_rx) = oneshot::channel();
        let provider: Arc<dyn Provider> = self.provider.clone();
        let config = self.config.clone();
        let want = self.addr;
        runtime.spawn(async move {
            // The port may still be held by sockets of the killed server for a moment: retry,
            // bounded. SO_REUSEADDR lets TIME_WAIT leftovers not block the bind.
            let mut attempts = 0;
            let listener = loop {
                let socket = tokio::net::TcpSocket::new_v4().expect("socket");
                socket.set_reuseaddr(true).expect("SO_REUSEADDR");
                match socket.bind(want).and_then(|()| socket.listen(1024)) {
                    Ok(listener) => break listener,
                    Err(e) if attempts < 100 => {
                        attempts += 1;
                        let _ = e;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Err(e) => {
                        let _ = bound_tx.send(Err(e));
                        return;
                    }
                }
            };
            let addr = listener.local_addr().expect("local addr");
            let _ = bound_tx.send(Ok(addr));
            let app = faas_provider::server::router(provider, &config);
            let _ = faas_provider::server::serve_router(
                listener,
                app,
                &config,
                std::future::pending::<()>(),
            )
            .await;
        });
        let addr = bound_rx
            .await
            .expect("the remote server task ended before binding")
            .unwrap_or_else(|e| panic!("cannot bind the remote provider on {want}: {e}"));
        self.addr = addr;
        self.runtime = Some(runtime);
    }
}

impl Drop for RemoteMemory {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// An [`HttpProvider`] backend named `name` for `remote`, with short timeouts and the memory
/// provider's full capabilities (scale to zero cannot be probed, so it is stated).
pub fn remote_backend(name: &str, url: &str) -> Backend {
    let client = HttpProvider::new(url)
        .expect("a valid URL")
        .with_timeout(Duration::from_secs(10))
        .with_invoke_timeout(Duration::from_secs(10));
    let overrides = CapabilityOverrides {
        scale_to_zero: Some(true),
        ..CapabilityOverrides::default()
    };
    Backend::remote(name, client, overrides).with_timeout(Duration::from_secs(10))
}

/// A started federation: `local` (in-process) + `remote` (over HTTP), default `default`.
pub async fn federation(
    local: Arc<MemoryProvider>,
    remote_url: &str,
    default: &str,
) -> Arc<FederatedProvider> {
    let federation = FederatedProvider::new(
        vec![
            Backend::in_process("local", local),
            remote_backend("remote", remote_url),
        ],
        default,
    )
    .expect("a valid federation");
    federation.start().await;
    Arc::new(federation)
}

/// The federation served on 127.0.0.1 (free port) with the `faas-federation` router.
pub struct Served {
    pub url: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Served {
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn serve(federation: Arc<FederatedProvider>) -> Served {
    serve_with(federation, ServerConfig::default()).await
}

pub async fn serve_with(federation: Arc<FederatedProvider>, config: ServerConfig) -> Served {
    let mut registry = Registry::default();
    federation.register_metrics(&mut registry);
    serve_provider(federation, config, registry).await
}

/// Serves any provider (e.g. a scaler over a federation) with the federation's router.
pub async fn serve_provider(
    provider: Arc<dyn Provider>,
    config: ServerConfig,
    registry: Registry,
) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    let app = federation::router(provider, &config, registry);
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = rx.await;
        };
        if let Err(e) = faas_provider::server::serve_router(listener, app, &config, shutdown).await
        {
            panic!("federation server failed: {e}");
        }
    });
    Served {
        url,
        shutdown: Some(tx),
        task: Some(task),
    }
}

/// A deployment of `name` in the default namespace, routed to `backend` when given.
pub fn spec(name: &str, backend: Option<&str>) -> FunctionDeployment {
    let mut spec = FunctionDeployment::new(name, "example/echo:1");
    spec.namespace = NS.to_string();
    if let Some(backend) = backend {
        spec.annotations = Some(
            [(GATEWAY_ANNOTATION.to_string(), backend.to_string())]
                .into_iter()
                .collect(),
        );
    }
    spec
}

/// A reqwest client that never uses a proxy.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a client")
}

/// A temporary directory holding `basic-auth-user` / `basic-auth-password`.
pub fn auth_dir(user: &str, password: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("basic-auth-user"), user).unwrap();
    std::fs::write(dir.path().join("basic-auth-password"), password).unwrap();
    let path = dir.path().to_path_buf();
    (dir, path)
}

/// The federation as `faas-federation` runs it ([`federation::Runtime`], its router, the
/// default server configuration, `serve_router`) over `config`; its URL and the runtime.
pub async fn serve_runtime(
    config: &federation::config::FederationConfig,
) -> (String, federation::Runtime) {
    let mut registry = Registry::default();
    let runtime = federation::Runtime::start(config, &mut registry)
        .await
        .unwrap();
    let app = runtime.router(&ServerConfig::default(), registry);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let server = ServerConfig::default();
        faas_provider::server::serve_router(listener, app, &server, std::future::pending()).await
    });
    (url, runtime)
}

/// [`spec`] routed to `backend` with `labels`.
pub fn labelled(name: &str, backend: &str, labels: &[(&str, &str)]) -> FunctionDeployment {
    let mut spec = spec(name, Some(backend));
    spec.labels = Some(
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    spec
}
