//! The servers under test, each on 127.0.0.1 (a free port) of the server runtime, and what
//! serving another provider's router takes ([`serve_app`], [`server_config`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use faas_provider::{FunctionDeployment, FunctionRef, Provider, ServerConfig};
use http::header::{CONTENT_TYPE, HeaderValue};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use provider_memory::{EchoResponse, INSTANCE_HEADER, MemoryProvider};
use tokio::net::TcpListener;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// The function every target serves.
pub const FUNCTION: &str = "echo";
/// Its namespace.
pub const NAMESPACE: &str = "openfaas-fn";

/// A running server; stops when dropped.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    /// Whatever must live as long as the server (upstream servers).
    _keep: Vec<Server>,
}

impl Server {
    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn bind(server: &Handle) -> anyhow::Result<TcpListener> {
    server
        .spawn(async { TcpListener::bind("127.0.0.1:0").await })
        .await
        .context("the server runtime")?
        .context("binding 127.0.0.1:0")
}

/// The server configuration of every target: generous read and write timeouts.
pub fn server_config() -> ServerConfig {
    ServerConfig {
        read_timeout: std::time::Duration::from_secs(60),
        write_timeout: std::time::Duration::from_secs(60),
        ..ServerConfig::default()
    }
}

/// Serves an axum app (a provider's router) on the server runtime; `keep` lives as long as
/// the server (e.g. its upstream servers).
pub async fn serve_app(
    server: &Handle,
    app: axum::Router,
    keep: Vec<Server>,
) -> anyhow::Result<Server> {
    let listener = bind(server).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let config = server_config();
    server.spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(e) = faas_provider::server::serve_router(listener, app, &config, shutdown).await
        {
            eprintln!("faas-bench: server on {addr} failed: {e}");
        }
    });
    Ok(Server {
        addr,
        stop: Some(stop),
        _keep: keep,
    })
}

/// A memory provider with [`FUNCTION`] deployed in [`NAMESPACE`].
pub async fn memory_with_echo() -> anyhow::Result<Arc<MemoryProvider>> {
    let provider = Arc::new(MemoryProvider::new());
    let mut spec = FunctionDeployment::new(FUNCTION, "example/echo:bench");
    spec.namespace = NAMESPACE.to_string();
    provider
        .deploy(spec)
        .await
        .context("deploying the echo function")?;
    Ok(provider)
}

/// The memory provider (with `echo` deployed) behind the faas-provider server.
pub async fn memory(server: &Handle) -> anyhow::Result<Server> {
    let provider: Arc<dyn Provider> = memory_with_echo().await?;
    let app = faas_provider::server::router(provider, &server_config());
    serve_app(server, app, Vec::new()).await
}

/// A bare hyper server doing the memory provider's work for one function: read the request,
/// answer 200 with the same JSON echo ([`EchoResponse`]) and instance header. No routing table,
/// no provider trait, no state, no metrics: the floor the provider is compared with.
pub async fn bare_echo(server: &Handle) -> anyhow::Result<Server> {
    let listener = bind(server).await?;
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = oneshot::channel::<()>();
    server.spawn(async move {
        loop {
            let (stream, _) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(_) => continue,
                },
                _ = &mut stopped => return,
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(echo);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(Server {
        addr,
        stop: Some(stop),
        _keep: Vec::new(),
    })
}

async fn echo(request: http::Request<Incoming>) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let (mut parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    // `/function/<name>[.<ns>]/<rest>?<query>` → the function and the upstream `/rest?query`.
    let path = parts.uri.path();
    let after = path.strip_prefix("/function/").unwrap_or(path);
    let (qualified, rest) = match after.split_once('/') {
        Some((qualified, rest)) => (qualified, format!("/{rest}")),
        None => (after, "/".to_string()),
    };
    let function = FunctionRef::parse(qualified, NAMESPACE);
    let upstream = match parts.uri.query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest,
    };
    if let Ok(uri) = upstream.parse() {
        parts.uri = uri;
    }
    let echo = EchoResponse::new(&function, &parts, &body);
    let json = serde_json::to_vec(&echo).unwrap_or_default();
    let mut response = http::Response::new(Full::new(Bytes::from(json)));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(INSTANCE_HEADER, HeaderValue::from_static("echo-1"));
    Ok(response)
}
