//! The `faas-federation` binary with `nats_url`: 1,000 async calls accepted, then the process
//! is killed (SIGKILL, mid-work) and restarted, and nats-server is restarted too; every
//! accepted call runs at least once, counted by the function itself (a remote backend served
//! by this test, which outlives both).

#[path = "common/async_support.rs"]
mod async_support;

use std::sync::Arc;
use std::time::Duration;

use async_support::{Functions, serve, until};
use faas_provider::{Provider, ServerConfig};
use test_support::nats::NatsServer;

#[path = "common/binary_support.rs"]
mod binary_support;

use binary_support::{Running, free_port};

/// Starts `faas-federation` on `port` over the remote backend at `backend`, with NATS.
async fn start(port: u16, backend: &str, nats: &NatsServer) -> Running {
    binary_support::start(
        port,
        &[
            ("providers", backend.to_string()),
            ("nats_url", nats.url()),
            ("nats_ack_wait", "2s".to_string()),
            ("initial_retry_wait", "100ms".to_string()),
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_calls_survive_a_killed_federation_process_and_a_nats_restart() {
    let mut nats = NatsServer::start();
    let functions = Arc::new(Functions::default());
    functions.add("counter", &[]);
    // Calls wait until the restart: the first instance dies with calls in flight and many
    // more queued, so the test cannot pass by running everything before the kill.
    functions
        .held
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let provider: Arc<dyn Provider> = functions.clone();
    let backend = serve(faas_provider::server::router(
        provider,
        &ServerConfig::default(),
    ))
    .await;

    let port = free_port();
    let mut federation = start(port, &backend, &nats).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut ids = Vec::new();
    for batch in 0..125 {
        let sends = (0..8).map(|i| {
            let http = http.clone();
            async move {
                let response = http
                    .post(format!("http://127.0.0.1:{port}/async-function/counter"))
                    .body(format!("call {batch}-{i}"))
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                let id = response.headers().get("x-call-id").cloned();
                assert_eq!(status, 202, "{}", response.text().await.unwrap_or_default());
                id.unwrap().to_str().unwrap().to_string()
            }
        });
        ids.extend(futures::future::join_all(sends).await);
    }
    assert_eq!(ids.len(), 1000);
    federation.kill();
    let ran_before = functions.distinct_calls();
    assert!(
        ran_before < 1000,
        "the kill came after everything ran ({ran_before})"
    );

    nats.restart();
    functions
        .held
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let _federation = start(port, &backend, &nats).await;
    until(Duration::from_secs(180), "every accepted call ran", || {
        ids.iter().all(|id| functions.runs_of(id) >= 1)
    })
    .await;
    eprintln!(
        "ran before the kill: {ran_before}; runs in all: {} for 1000 calls",
        functions.total.load(std::sync::atomic::Ordering::SeqCst)
    );
}
