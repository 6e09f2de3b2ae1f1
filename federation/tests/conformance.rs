//! The conformance suite against the federation over two memory backends: `local` (in-process)
//! and `remote` (a MemoryProvider served on 127.0.0.1 and reached through HttpProvider).
//!
//! - `default_local`: un-annotated functions (what the cases deploy) live in-process;
//! - `default_remote`: they live on the remote backend, so every case crosses the wire twice;
//! - `scaled`: `default_local` behind the scaler, as the binary serves it (a call at zero
//!   replicas wakes the function: `wakes_from_zero`).
//!
//! Both serve the federation on a real socket too, enabling the raw-HTTP cases. `suite!` runs
//! strict. The memory backends run no code, so the runtime cases are skipped by their gate.
//!
//! `binary_passes_strict_with_junit` runs the `faas-conformance` command line (its library form)
//! against the real `faas-federation` binary with no configuration, as the README runs it.

#[path = "common/binary_support.rs"]
mod binary_support;
mod common;

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use conformance_tests::{CASES, EchoFunction, HttpTarget, Target};
use provider_memory::MemoryProvider;

async fn target(default: &str) -> Target {
    let remote = common::RemoteMemory::start().await;
    let federation =
        common::federation(Arc::new(MemoryProvider::new()), &remote.url(), default).await;
    let served = common::serve(federation.clone()).await;
    Target::from_provider(federation, EchoFunction::memory())
        .with_http(HttpTarget::new(served.url.clone()))
        .keep_alive(served)
        .keep_alive(remote)
}

async fn default_local() -> Target {
    target("local").await
}

/// The federation as `faas-federation` serves it: the scaler in front, so a function at zero
/// replicas is woken by its next invocation.
async fn scaled() -> Target {
    use federation::scaling::{Scaler, ScalingConfig};
    let remote = common::RemoteMemory::start().await;
    let federation =
        common::federation(Arc::new(MemoryProvider::new()), &remote.url(), "local").await;
    let scaler: Arc<dyn faas_provider::Provider> = Arc::new(Scaler::new(
        federation.clone(),
        ScalingConfig {
            scale_from_zero_timeout: Duration::from_secs(20),
            ..ScalingConfig::default()
        },
    ));
    let served = common::serve_provider(
        scaler.clone(),
        faas_provider::ServerConfig::default(),
        prometheus_client::registry::Registry::default(),
    )
    .await;
    Target::from_provider(scaler, EchoFunction::memory())
        .with_http(HttpTarget::new(served.url.clone()))
        .with_wakes_from_zero(true)
        .keep_alive(served)
        .keep_alive(remote)
}

mod scaled {
    conformance_tests::suite!(super::scaled);
}

async fn default_remote() -> Target {
    target("remote").await
}

mod default_local {
    conformance_tests::suite!(super::default_local);
}

mod default_remote {
    conformance_tests::suite!(super::default_remote);
}

/// `faas-federation` with no configuration on a free port, once it answers `/healthz`.
async fn start_binary() -> (binary_support::Running, String) {
    let port = binary_support::free_port();
    let child = binary_support::start(port, &[]).await;
    (child, format!("http://127.0.0.1:{port}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_passes_strict_with_junit() {
    let (_federation, url) = start_binary().await;
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("out.xml");
    let args = conformance_tests::cli::Args::try_parse_from([
        "faas-conformance",
        "--strict",
        "--junit",
        junit.to_str().unwrap(),
        "--url",
        &url,
    ])
    .expect("arguments");
    let mut out = Vec::new();
    let report = conformance_tests::cli::run(&args, &mut out)
        .await
        .expect("the run")
        .expect("a report");
    let out = String::from_utf8_lossy(&out);
    assert_eq!(report.failed, 0, "{out}");
    assert_eq!(report.passed + report.skipped, CASES.len(), "{out}");
    assert!(report.passed >= 60, "{out}");
    let xml = std::fs::read_to_string(&junit).expect("the JUnit file");
    assert!(xml.starts_with("<?xml "), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), CASES.len(), "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 0, "{xml}");
    assert_eq!(xml.matches("<skipped ").count(), report.skipped, "{xml}");
}
