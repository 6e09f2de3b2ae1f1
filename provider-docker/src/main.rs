//! `provider-docker`: serves [`provider_docker::DockerProvider`] over the OpenFaaS provider API.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use faas_provider::ServerConfig;
use faas_provider::server::{serve, shutdown_signal};
use provider_docker::{DockerConfig, DockerProvider};

/// The OpenFaaS provider for a Docker Engine. Other settings come from the OpenFaaS variables
/// (`read_timeout`, `write_timeout`, `basic_auth`, `secret_mount_path`) and the provider's own
/// (`scope`, `image_pull_policy`, `docker_config`, `startup_timeout`, `health_interval`,
/// `stop_timeout`, `max_replicas`, `pull_timeout`, `function_bind`, `warm_default`, `warm_max`:
/// every key of `provider_docker::SETTINGS`, by its name). The flags below override their
/// variables.
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
    /// Directory of secrets and namespaces (on the engine's host) [default: /var/lib/faas-docker].
    #[arg(long, env = "state_dir")]
    state_dir: Option<String>,
    /// A Docker network for replicas (default: host networking, one port per replica).
    #[arg(long, env = "docker_network")]
    network: Option<String>,
    /// Host ports handed to replicas under host networking, FIRST-LAST.
    #[arg(long, env = "port_range")]
    port_range: Option<String>,
}

impl Args {
    /// The settings table: the environment's ([`provider_docker::config::env_settings`]), then
    /// the flags.
    fn settings(&self) -> std::collections::BTreeMap<String, String> {
        let mut settings = provider_docker::config::env_settings();
        for (key, flag) in [
            ("docker_host", &self.docker_host),
            ("state_dir", &self.state_dir),
            ("docker_network", &self.network),
            ("port_range", &self.port_range),
        ] {
            if let Some(value) = flag {
                settings.insert(key.to_string(), value.clone());
            }
        }
        settings
    }
}

/// The provider as shipped: mimalloc (see federation/src/main.rs for the measurement).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    faas_provider::server::init_logging().context("setting up logging")?;

    let mut server = ServerConfig::from_env().context("reading the provider configuration")?;
    server.port = args.port;
    server.bind = args.bind;
    // Relative paths stay relative to the working directory.
    let docker = DockerConfig::from_settings(&args.settings(), Path::new(""))
        .context("reading the Docker configuration")?;

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
