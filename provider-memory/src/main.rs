//! `provider-memory`: serves [`provider_memory::MemoryProvider`] over the OpenFaaS provider API.

use std::net::IpAddr;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use faas_provider::ServerConfig;
use faas_provider::server::{serve, shutdown_signal};
use provider_memory::MemoryProvider;

/// The in-memory OpenFaaS provider. Other settings come from the OpenFaaS environment variables
/// `read_timeout`, `write_timeout`, `basic_auth` and `secret_mount_path`.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// TCP port to listen on.
    #[arg(long, env = "port", default_value_t = 8080)]
    port: u16,
    /// Address to bind (use 0.0.0.0 to serve other hosts).
    #[arg(long, env = "bind", default_value = "127.0.0.1")]
    bind: IpAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    faas_provider::server::init_logging().context("setting up logging")?;

    let mut config = ServerConfig::from_env().context("reading the provider configuration")?;
    config.port = args.port;
    config.bind = args.bind;

    let addr = config.socket_addr();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(address = %listener.local_addr()?, "faas-memory provider listening");

    serve(
        listener,
        Arc::new(MemoryProvider::new()),
        &config,
        shutdown_signal(),
    )
    .await
    .context("serving the provider API")
}
