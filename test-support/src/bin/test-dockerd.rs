//! `test-dockerd`: one private Docker Engine for a whole test run.
//!
//! Starts `dockerd` exactly as the tests would (test-support's [`DockerEngine`]: own socket,
//! data root and exec root under `/tmp/faas-dockerd-*`, no bridge, no iptables), prints
//! `DOCKER_HOST=unix:///…` on stdout once it answers `/_ping`, and stays up until SIGTERM or
//! SIGINT; then removes every container, stops the daemon and deletes its data.
//! `scripts/test` runs it and exports `DOCKER_HOST`, so the test processes (nextest runs one
//! per test) share it instead of each starting its own.

use std::io::Write;

use test_support::DockerEngine;
use tokio::signal::unix::{SignalKind, signal};

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let engine = DockerEngine::start_private();
    runtime.block_on(async {
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        println!("DOCKER_HOST={}", engine.host());
        std::io::stdout().flush()?;
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        anyhow::Ok(())
    })?;
    eprintln!("test-dockerd: stopping {}", engine.host());
    drop(engine);
    Ok(())
}
