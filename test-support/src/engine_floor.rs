//! Containers of the test image run straight on the engine, without any provider: the
//! engine's own floor that the warm-pool benchmarks (provider-docker's `benches/warm.rs`,
//! faas-bench's `faas-bench-wake`) set a wake beside. Each is the [`images::ECHO`] watchdog
//! (`fprocess=cat`) with host networking on a free `127.0.0.1` port.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::bail;
use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::images;

/// One watchdog container on the engine.
#[derive(Debug, Clone)]
pub struct Watchdog {
    /// Container id.
    pub id: String,
    /// Where its watchdog listens.
    pub addr: SocketAddr,
}

/// Creates (does not start) a watchdog container named `name` with `labels` (what its
/// creator removes it by).
pub async fn create(
    docker: &Docker,
    name: &str,
    labels: HashMap<String, String>,
) -> anyhow::Result<Watchdog> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let body = ContainerCreateBody {
        image: Some(images::ECHO.local_reference()),
        env: Some(vec![
            format!("port={port}"),
            "bind_address=127.0.0.1".into(),
            "fprocess=cat".into(),
        ]),
        labels: Some(labels),
        host_config: Some(HostConfig {
            network_mode: Some("host".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let options = CreateContainerOptionsBuilder::default().name(name).build();
    let id = docker.create_container(Some(options), body).await?.id;
    Ok(Watchdog {
        id,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    })
}

/// A watchdog container started, healthy, then paused: what a warm standby is to the engine.
pub async fn paused(
    docker: &Docker,
    name: &str,
    labels: HashMap<String, String>,
) -> anyhow::Result<Watchdog> {
    let watchdog = create(docker, name, labels).await?;
    docker.start_container(&watchdog.id, None).await?;
    until_healthy(watchdog.addr).await?;
    docker.pause_container(&watchdog.id).await?;
    Ok(watchdog)
}

/// One `GET /_/health` on a fresh connection: true on a 200.
pub async fn health(addr: SocketAddr) -> bool {
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        stream
            .write_all(b"GET /_/health HTTP/1.1\r\nHost: watchdog\r\nConnection: close\r\n\r\n")
            .await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        std::io::Result::Ok(head.starts_with(b"HTTP/1.1 200"))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), attempt).await,
        Ok(Ok(true))
    )
}

/// Polls `/_/health` until a 200 (every millisecond, at most 30 s).
pub async fn until_healthy(addr: SocketAddr) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !health(addr).await {
        if Instant::now() > deadline {
            bail!("{addr}: /_/health never answered 200");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

/// Removes a container (forced; one already gone is fine).
pub async fn remove(docker: &Docker, id: &str) {
    let options = RemoveContainerOptionsBuilder::default().force(true).build();
    let _ = docker.remove_container(id, Some(options)).await;
}
