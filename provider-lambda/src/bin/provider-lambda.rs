//! `provider-lambda`: serves [`provider_lambda::LambdaProvider`] over the OpenFaaS provider API.
//!
//! Configuration: the OpenFaaS variables (`port`, `bind`, `read_timeout`, `write_timeout`,
//! `basic_auth`, `secret_mount_path`), the provider's own (`lambda_execution_role`,
//! `bootstrap_path`, `function_namespace`, ... see `LambdaConfig`), and AWS's usual sources
//! (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials, profiles). `--local` runs functions on this
//! machine in the Runtime API emulator (the control plane stays at the AWS endpoint, e.g. moto).

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use faas_provider::ServerConfig;
use faas_provider::server::{serve, shutdown_signal};
use provider_lambda::LambdaConfig;
use provider_lambda::provider::launch::{Launch, LocalMode};
use tracing_subscriber::EnvFilter;

/// The OpenFaaS provider for AWS Lambda.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// TCP port of the provider API.
    #[arg(long, env = "port", default_value_t = 8080)]
    port: u16,
    /// Address of the provider API (use 0.0.0.0 to serve other hosts).
    #[arg(long, env = "bind", default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Execution role ARN of every function.
    #[arg(long, env = "lambda_execution_role")]
    role: Option<String>,
    /// The static bootstrap shim (for both architectures; see also bootstrap_x86_64/_arm64).
    #[arg(long, env = "bootstrap_path")]
    bootstrap: Option<PathBuf>,
    /// Run functions locally in the Runtime API emulator instead of Lambda's Invoke.
    #[arg(long, env = "local")]
    local: bool,
    /// Local mode: where extracted function code is cached.
    #[arg(long, env = "local_cache_dir")]
    local_cache_dir: Option<PathBuf>,
    /// Local mode: run functions in a Docker container of this (busybox-only) image instead of
    /// as child processes (Docker from DOCKER_HOST or the local socket).
    #[arg(long, env = "local_sandbox_image")]
    local_sandbox_image: Option<String>,
}

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
    let config = LambdaConfig::from_lookup(|name| match name {
        "lambda_execution_role" => args.role.clone(),
        "bootstrap_path" => args.bootstrap.as_ref().map(|p| p.display().to_string()),
        other => std::env::var(other).ok(),
    })
    .context("reading the Lambda configuration")?;
    let launch = Launch {
        local: args.local.then_some(LocalMode {
            cache_dir: args.local_cache_dir,
            sandbox_image: args.local_sandbox_image,
        }),
        ..Launch::new(config)
    };
    let provider = launch.build().await?;

    let addr = server.socket_addr();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(address = %listener.local_addr()?, local = args.local, config = ?provider.config(), "faas-lambda provider listening");
    serve(listener, Arc::new(provider), &server, shutdown_signal())
        .await
        .context("serving the provider API")
}
