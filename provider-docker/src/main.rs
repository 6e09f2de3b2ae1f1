//! `provider-docker`: serves [`provider_docker::DockerProvider`] over the OpenFaaS provider API.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use faas_provider::ServerConfig;
use faas_provider::server::{serve, shutdown_signal};
use provider_docker::{DockerConfig, DockerProvider, Networking, config::parse_port_range};
use tracing_subscriber::EnvFilter;

/// The OpenFaaS provider for a Docker Engine. Other settings come from the OpenFaaS variables
/// (`read_timeout`, `write_timeout`, `basic_auth`, `secret_mount_path`) and the provider's own
/// (`scope`, `image_pull_policy`, `docker_config`, `startup_timeout`, `health_interval`,
/// `stop_timeout`, `max_replicas`, `pull_timeout`, `function_bind`).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// TCP port of the provider API.
    #[arg(long, env = "port", default_value_t = 8080)]
    port: u16,
    /// Address of the provider API (use 0.0.0.0 to serve other hosts).
    #[arg(long, env = "bind", default_value = "127.0.0.1")]
    bind: IpAddr,
    /// The Docker Engine (default: the local socket).
    #[arg(long, env = "DOCKER_HOST")]
    docker_host: Option<String>,
    /// Directory of secrets and namespaces (on the engine's host).
    #[arg(long, env = "state_dir", default_value = provider_docker::config::DEFAULT_STATE_DIR)]
    state_dir: PathBuf,
    /// A Docker network for replicas (default: host networking, one port per replica).
    #[arg(long, env = "docker_network")]
    network: Option<String>,
    /// Host ports handed to replicas under host networking, FIRST-LAST.
    #[arg(long, env = "port_range", value_parser = parse_port_range)]
    port_range: Option<(u16, u16)>,
}

/// The provider as shipped: mimalloc (see federation/src/main.rs for the measurement).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let mut server = ServerConfig::from_env().context("reading the provider configuration")?;
    server.port = args.port;
    server.bind = args.bind;
    let mut docker = DockerConfig::from_env().context("reading the Docker configuration")?;
    docker.docker_host = args.docker_host.or(docker.docker_host);
    docker.state_dir = args.state_dir;
    if let Some(network) = args.network.filter(|n| n != "host") {
        docker.networking = Networking::Network(network);
    }
    if let (Some(range), Networking::Host { ports, .. }) = (args.port_range, &mut docker.networking)
    {
        *ports = range;
    }

    let provider = DockerProvider::connect(docker)
        .await
        .context("connecting to the Docker Engine")?;
    let addr = server.socket_addr();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(address = %listener.local_addr()?, config = ?provider.config(), "faas-docker provider listening");
    serve(listener, Arc::new(provider), &server, shutdown_signal())
        .await
        .context("serving the provider API")
}
