//! The conformance suite against provider-docker on a real engine, through the real server on
//! a loopback socket (so the raw-HTTP cases run too), invoking the `echo-request` test image.
//! Docker runs code, so the runtime cases run too (the same image with `envProcess` `sh`); the
//! `drop_*` tests show they fail against a backend that drops env vars or secrets.

mod common;

use std::sync::Arc;

use conformance_tests::doubles::{DropSettings, Dropped};
use conformance_tests::{CASES, EchoFunction, HttpTarget, ShellFunction, Status, Target, run_case};
use faas_provider::server::serve;
use faas_provider::{Provider, ServerConfig};

/// The target over `wrap(docker provider)`, served on a loopback socket.
async fn served_with(wrap: impl FnOnce(Arc<dyn Provider>) -> Arc<dyn Provider>) -> Target {
    let p = common::provider().await;
    let provider = wrap(Arc::new(p.provider.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let url = format!("http://{}", listener.local_addr().expect("local address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = provider.clone();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        serve(listener, served, &ServerConfig::default(), shutdown)
            .await
            .expect("the provider server failed");
    });
    let image = test_support::images::ECHO_REQUEST.local_reference();
    let echo = EchoFunction::watchdog(image.clone(), "");
    Target::from_provider(provider, echo)
        .with_shell(ShellFunction::sh(image))
        .with_http(HttpTarget::new(url))
        .keep_alive(stop)
        .keep_alive(p)
}

async fn served_docker() -> Target {
    served_with(|provider| provider).await
}

conformance_tests::suite!(served_docker);

/// Runs `name` against Docker behind a provider dropping `dropped`; returns the report.
async fn against_dropping(dropped: Dropped, name: &str) -> conformance_tests::CaseReport {
    let target = served_with(|inner| Arc::new(DropSettings::new(inner, dropped))).await;
    let case = CASES
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no case {name}"));
    run_case(&target.with_strict(true), case).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_env_vars_fails_the_env_case() {
    let report = against_dropping(Dropped::EnvVars, "runtime_env_vars_reach_the_function").await;
    assert_eq!(report.status, Status::Fail, "{report:?}");
    assert!(report.reason.contains("is not set inside"), "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_secrets_fails_the_secret_case() {
    let report = against_dropping(
        Dropped::Secrets,
        "runtime_secret_file_is_mounted_and_updated",
    )
    .await;
    assert_eq!(report.status, Status::Fail, "{report:?}");
    assert!(report.reason.contains("no readable file"), "{report:?}");
}
