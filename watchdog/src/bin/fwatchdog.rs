//! `fwatchdog`: the OpenFaaS function watchdog. Configured by environment variables (see the
//! `watchdog` crate docs); SIGTERM or SIGINT start a graceful shutdown.

use anyhow::Context;
use tokio::signal::unix::{SignalKind, signal};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = watchdog::WatchdogConfig::from_env().context("invalid watchdog configuration")?;
    let address = (config.bind_address, config.port);
    let mut sigterm = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut sigint = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let watchdog = watchdog::Watchdog::new(config)?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {}:{}", address.0, address.1))?;
    eprintln!(
        "Watchdog mode: {}, fprocess: {:?}",
        watchdog.config().mode,
        watchdog.config().fprocess.join(" ")
    );
    eprintln!("Listening on {}", listener.local_addr()?);
    let shutdown = async move {
        tokio::select! {
            _ = sigterm.recv() => {}
            _ = sigint.recv() => {}
        }
    };
    watchdog::serve(listener, watchdog, shutdown).await?;
    Ok(())
}
