//! The federation's targets: `faas-federation`'s router over a remote and over an in-process
//! memory backend, served like the other targets (see [`bench::servers`]).

use std::sync::Arc;

use anyhow::Context;
use bench::servers::{Server, memory, memory_with_echo, serve_app, server_config};
use faas_provider::Provider;
use faas_provider::client::HttpProvider;
use federation::config::CapabilityOverrides;
use federation::{Backend, FederatedProvider};
use prometheus_client::registry::Registry;
use provider_memory::MemoryProvider;
use tokio::runtime::Handle;

/// The federation (`faas-federation`'s router) over a remote memory provider reached through
/// `HttpProvider` (the default backend, holding `echo`) and an idle in-process one.
pub async fn federation_over_memory(server: &Handle) -> anyhow::Result<Server> {
    let upstream = memory(server).await?;
    let remote = HttpProvider::new(&upstream.url()).context("the upstream URL")?;
    let overrides = CapabilityOverrides {
        scale_to_zero: Some(true),
        ..CapabilityOverrides::default()
    };
    let federation = FederatedProvider::new(
        vec![
            Backend::in_process("local", Arc::new(MemoryProvider::new())),
            Backend::remote("memory", remote, overrides),
        ],
        "memory",
    )
    .context("building the federation")?;
    let federation = Arc::new(federation);
    let report = {
        let federation = federation.clone();
        server
            .spawn(async move { federation.start().await })
            .await
            .context("starting the federation")?
    };
    anyhow::ensure!(
        report.unreachable.is_empty() && report.routes == 1,
        "the federation did not find the echo function upstream: {report:?}"
    );
    let mut registry = Registry::default();
    federation.register_metrics(&mut registry);
    let app = federation::router(federation, &server_config(), registry);
    serve_app(server, app, vec![upstream]).await
}

/// The federation over one in-process memory backend holding `echo` (no remote hop): the
/// federation layer's own cost.
pub async fn federation_in_process(server: &Handle) -> anyhow::Result<Server> {
    let memory: Arc<dyn Provider> = memory_with_echo().await?;
    let federation = FederatedProvider::new(vec![Backend::in_process("local", memory)], "local")
        .context("building the federation")?;
    let federation = Arc::new(federation);
    let report = federation.start().await;
    anyhow::ensure!(
        report.routes == 1,
        "the echo function is not routed: {report:?}"
    );
    let mut registry = Registry::default();
    federation.register_metrics(&mut registry);
    let app = federation::router(federation, &server_config(), registry);
    serve_app(server, app, Vec::new()).await
}
