//! The entrypoint of a Lambda zip imported as an OCI image (see `lambda_emulator::entrypoint`):
//! serves the function on `port` (8080) and runs `/var/task/bootstrap` against its own
//! Runtime API.
//!
//! ```text
//! port=8080 max_inflight=1 exec_timeout=30s faas-lambda-entrypoint [--task-dir /var/task]
//! curl -d '{"k":1}' -H 'X-Faas-Lambda-Invoke: 1' http://127.0.0.1:8080/   # a Lambda Invoke
//! curl -d 'hello' http://127.0.0.1:8080/some/path                         # an HTTP call
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use clap::Parser;
use lambda_emulator::entrypoint::{self, EntrypointSettings};
use lambda_emulator::{Emulator, EmulatorConfig};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Serve a Lambda function (a provided.al2023 bootstrap) as an OpenFaaS function"
)]
struct Args {
    /// The function's files (holding `bootstrap`).
    #[arg(long, default_value = "/var/task")]
    task_dir: PathBuf,
    /// The function name the runtime sees (`AWS_LAMBDA_FUNCTION_NAME`).
    #[arg(long, env = "lambda_function_name", default_value = "function")]
    name: String,
    /// Address to listen on (the port comes from `port`), as the watchdog's `bind_address`.
    #[arg(long, env = "bind_address", default_value = "0.0.0.0")]
    bind: std::net::IpAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let settings =
        EntrypointSettings::from_lookup(|key| std::env::var(key).ok()).map_err(|e| anyhow!(e))?;
    let mut cfg = EmulatorConfig::new(args.name.clone(), args.task_dir.clone());
    cfg.timeout = settings.timeout;
    cfg.handler = settings.handler.clone();
    cfg.max_concurrency = u32::try_from(settings.max_inflight).ok();
    cfg.env =
        entrypoint::function_env(std::env::vars().filter(|(key, _)| key != "lambda_function_name"));
    let emulator = Arc::new(Emulator::start(cfg).await?);
    let app = entrypoint::router(emulator, settings.max_inflight);
    let addr = SocketAddr::new(args.bind, settings.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    eprintln!(
        "faas-lambda-entrypoint: serving {} on {addr} (max_inflight {}, timeout {:?})",
        args.task_dir.display(),
        settings.max_inflight,
        settings.timeout
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(stopped())
        .await
        .context("serving")?;
    Ok(())
}

/// Ctrl-C or SIGTERM (as PID 1 of a container, a signal without a handler is ignored).
async fn stopped() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
