//! The conformance suite against provider-docker on a real engine, through the real server on
//! a loopback socket (so the raw-HTTP cases run too), invoking the `echo-request` test image.

mod common;

use std::sync::Arc;

use conformance_tests::{EchoFunction, HttpTarget, Target};
use faas_provider::server::serve;
use faas_provider::{Provider, ServerConfig};

async fn served_docker() -> Target {
    let p = common::provider().await;
    let provider: Arc<dyn Provider> = Arc::new(p.provider.clone());
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
    let echo = EchoFunction::watchdog(test_support::images::ECHO_REQUEST.local_reference(), "");
    Target::from_provider(provider, echo)
        .with_http(HttpTarget::new(url))
        .keep_alive(stop)
        .keep_alive(p)
}

conformance_tests::suite!(served_docker);
