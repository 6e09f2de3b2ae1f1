//! The JetStream queue against a real `nats-server -js` (test-support): 1,000 accepted calls
//! survive a killed federation and a restarted NATS server (every one runs at least once), and
//! two federation instances on one stream run every call once. At the queue's level: calls
//! accepted together share one stored message, acknowledged only once all of them settled, and
//! a retried call comes back alone with its next attempt number, not before its backoff. A
//! stopped `Runtime` whose routes are still served takes no more work.

#[path = "common/async_support.rs"]
mod async_support;
mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_support::{Functions, until, until_async};
use faas_provider::{Provider, ServerConfig};
use federation::queue::{
    AsyncCall, AsyncConfig, Delivery, JetStreamQueue, JetStreamSettings, Queue, QueueMetrics,
    Worker, accept,
};
use test_support::nats::NatsServer;

/// One federation instance (provider API + async routes + worker) on its own runtime, so it
/// can be killed like a crashed process: every task and socket goes at once.
struct Instance {
    runtime: Option<tokio::runtime::Runtime>,
    url: String,
}

impl Instance {
    fn start(functions: Arc<Functions>, settings: JetStreamSettings) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let url = runtime.block_on(async move {
            let provider: Arc<dyn Provider> = functions;
            let queue: Arc<dyn Queue> = Arc::new(
                JetStreamQueue::connect(settings)
                    .await
                    .expect("JetStream queue"),
            );
            let config = AsyncConfig {
                initial_retry_wait: Duration::from_millis(50),
                ..AsyncConfig::default()
            };
            let metrics = QueueMetrics::default();
            let worker = Arc::new(
                Worker::new(
                    queue.clone(),
                    provider.clone(),
                    config.clone(),
                    metrics.clone(),
                )
                .with_progress_every(Duration::from_millis(500)),
            );
            worker.spawn();
            let app = faas_provider::server::router(provider.clone(), &ServerConfig::default())
                .merge(accept::routes(provider, queue, config, metrics));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            url
        });
        Self {
            runtime: Some(runtime),
            url,
        }
    }

    fn kill(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// How long a wait for work to happen may take.
const LONG: Duration = Duration::from_secs(20);

fn settings(nats: &NatsServer) -> JetStreamSettings {
    JetStreamSettings {
        ack_wait: Duration::from_secs(2),
        ..JetStreamSettings::new(nats.url())
    }
}

/// Posts `count` async calls to `urls` in turn, 8 at a time; returns the accepted call ids.
async fn accept_calls(urls: &[String], count: usize) -> Vec<String> {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut ids = Vec::with_capacity(count);
    for batch in (0..count).collect::<Vec<_>>().chunks(8) {
        let sends = batch.iter().map(|i| {
            let url = format!("{}/async-function/counter", urls[i % urls.len()]);
            let client = client.clone();
            async move {
                let response = client
                    .post(url)
                    .body(format!("call {i}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 202);
                response.headers()["x-call-id"]
                    .to_str()
                    .unwrap()
                    .to_string()
            }
        });
        ids.extend(futures::future::join_all(sends).await);
    }
    ids
}

#[test]
fn accepted_calls_survive_a_killed_federation_and_a_nats_restart() {
    let mut nats = NatsServer::start();
    let functions = Arc::new(Functions::default());
    functions.add("counter", &[]);
    // Calls wait until the restart: the first instance dies with calls in flight and many
    // more queued, so the test cannot pass by running everything before the kill.
    functions
        .held
        .store(true, std::sync::atomic::Ordering::SeqCst);

    let mut first = Instance::start(functions.clone(), settings(&nats));
    let client_runtime = tokio::runtime::Runtime::new().unwrap();
    let ids = client_runtime.block_on(accept_calls(std::slice::from_ref(&first.url), 1000));
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 1000);
    first.kill();
    let ran_before = functions.distinct_calls();
    assert!(
        ran_before < 1000,
        "the kill came too late to test anything ({ran_before} ran)"
    );

    nats.restart();
    functions
        .held
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let _second = Instance::start(functions.clone(), settings(&nats));
    client_runtime.block_on(until(
        Duration::from_secs(120),
        "every accepted call ran",
        || ids.iter().all(|id| functions.runs_of(id) >= 1),
    ));
    let lost: Vec<&String> = ids.iter().filter(|id| functions.runs_of(id) == 0).collect();
    assert!(lost.is_empty(), "{} calls lost", lost.len());
}

#[test]
fn two_instances_on_one_stream_run_every_call_once() {
    let nats = NatsServer::start();
    let functions = Arc::new(Functions::default());
    functions.add("counter", &[]);
    *functions.delay.lock().unwrap() = Duration::from_millis(2);
    let settings = JetStreamSettings {
        ack_wait: Duration::from_secs(30),
        ..JetStreamSettings::new(nats.url())
    };
    let a = Instance::start(functions.clone(), settings.clone());
    let b = Instance::start(functions.clone(), settings);
    let client_runtime = tokio::runtime::Runtime::new().unwrap();
    let ids = client_runtime.block_on(accept_calls(&[a.url.clone(), b.url.clone()], 300));
    client_runtime.block_on(until(Duration::from_secs(60), "all 300 ran", || {
        functions.distinct_calls() == 300
    }));
    // Settled: nothing more arrives.
    std::thread::sleep(Duration::from_millis(500));
    let twice: Vec<&String> = ids.iter().filter(|id| functions.runs_of(id) != 1).collect();
    assert!(
        twice.is_empty(),
        "{} calls did not run exactly once",
        twice.len()
    );
}

fn call(id: &str) -> AsyncCall {
    AsyncCall {
        id: id.into(),
        name: "counter".into(),
        namespace: "openfaas-fn".into(),
        method: "POST".into(),
        path: "/".into(),
        query: None,
        headers: Vec::new(),
        body: id.as_bytes().to_vec(),
        callback_url: None,
        accepted_ms: AsyncCall::now_ms(),
    }
}

/// (messages ever stored, messages held now) in the queue's stream.
async fn stream_state(nats: &NatsServer) -> (u64, u64) {
    let client = async_nats::connect(nats.url()).await.unwrap();
    let context = async_nats::jetstream::new(client);
    let name = JetStreamSettings::new(nats.url()).stream;
    let mut stream = context.get_stream(name).await.unwrap();
    let state = stream.info().await.unwrap().state.clone();
    (state.last_sequence, state.messages)
}

/// Waits until the stream holds `held` messages (acks are not confirmed, so they land a little
/// after `done` returns).
async fn until_held(nats: &NatsServer, held: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, now) = stream_state(nats).await;
        if now == held {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stream holds {now} messages, not {held}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn take(queue: &JetStreamQueue, count: usize) -> Vec<Delivery> {
    let mut deliveries = Vec::with_capacity(count);
    for _ in 0..count {
        deliveries.push(queue.next().await.unwrap());
    }
    deliveries
}

fn ids(deliveries: &[Delivery]) -> Vec<String> {
    deliveries
        .iter()
        .map(|delivery| delivery.call.as_ref().unwrap().id.clone())
        .collect()
}

// A current-thread runtime: the 20 enqueues are all waiting before the publishing task runs,
// so the messages they make are known (8 + 8 + 4).
#[tokio::test]
async fn calls_accepted_together_share_a_message_acked_once_all_of_them_settled() {
    let nats = NatsServer::start();
    let settings = JetStreamSettings {
        ack_wait: Duration::from_secs(2),
        publish_batch: 8,
        ..JetStreamSettings::new(nats.url())
    };
    let queue = JetStreamQueue::connect(settings.clone()).await.unwrap();
    let calls: Vec<AsyncCall> = (0..20).map(|i| call(&format!("c{i}"))).collect();
    for stored in futures::future::join_all(calls.iter().map(|call| queue.enqueue(call))).await {
        stored.unwrap();
    }
    assert_eq!(stream_state(&nats).await, (3, 3), "20 calls in 3 messages");

    let mut deliveries = take(&queue, 20).await;
    let expected: Vec<String> = (0..20).map(|i| format!("c{i}")).collect();
    assert_eq!(ids(&deliveries), expected);
    assert!(deliveries.iter().all(|delivery| delivery.attempt == 1));
    // Every call but c7 (of the first message, c0..c7) settles: the other two messages go.
    let unsettled = deliveries.remove(7);
    for delivery in deliveries {
        delivery.done().await;
    }
    until_held(&nats, 1).await;

    // The instance dies with c7 unsettled: its whole message is delivered again, to another.
    drop(unsettled);
    drop(queue);
    let queue = JetStreamQueue::connect(settings).await.unwrap();
    let again = take(&queue, 8).await;
    assert_eq!(ids(&again), expected[..8]);
    assert!(again.iter().all(|delivery| delivery.attempt >= 2));
    for delivery in again {
        delivery.done().await;
    }
    until_held(&nats, 0).await;
}

#[tokio::test]
async fn a_retried_call_comes_back_alone_with_its_next_attempt_after_its_backoff() {
    let nats = NatsServer::start();
    let settings = JetStreamSettings {
        ack_wait: Duration::from_secs(30),
        ..JetStreamSettings::new(nats.url())
    };
    let queue = JetStreamQueue::connect(settings).await.unwrap();
    let calls: Vec<AsyncCall> = ["a", "b", "c"].into_iter().map(call).collect();
    for stored in futures::future::join_all(calls.iter().map(|call| queue.enqueue(call))).await {
        stored.unwrap();
    }
    assert_eq!(stream_state(&nats).await, (1, 1), "3 calls in one message");
    let mut deliveries = take(&queue, 3).await;
    let b = deliveries.remove(1);
    let retried_at = AsyncCall::now_ms();
    b.retry(Duration::from_millis(300)).await;
    for delivery in deliveries {
        delivery.done().await;
    }

    let again = queue.next().await.unwrap();
    assert_eq!(again.call.as_ref().unwrap().id, "b");
    assert_eq!(again.attempt, 2);
    assert!(
        AsyncCall::now_ms() >= retried_at + 300,
        "a retry never runs before its backoff"
    );
    again.retry(Duration::from_millis(50)).await;
    let third = queue.next().await.unwrap();
    assert_eq!(third.call.as_ref().unwrap().id, "b");
    assert_eq!(third.attempt, 3);
    third.done().await;
    until_held(&nats, 0).await;
    // The first message and the two retries, each alone.
    assert_eq!(stream_state(&nats).await.0, 3);
}

/// A federation whose `Runtime` was dropped while its routes are still served (an embedder
/// restarting it inside one process) takes no more work: an accept answers 503, its pull
/// subscription goes (so another instance runs every new call now, not after the 60 s ack wait
/// of calls the old one would pull and never run), and its triggers unsubscribe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_runtime_leaves_new_calls_and_messages_to_the_running_instances() {
    use faas_provider::FunctionRef;
    use federation::FederationConfig;
    use federation::config::NatsConfig;
    use federation::triggers::TriggerConfig;

    let nats = NatsServer::start();
    let mut config = FederationConfig::default();
    config.settings.nats = Some(NatsConfig {
        jetstream: JetStreamSettings {
            ack_wait: Duration::from_secs(60),
            ..JetStreamSettings::new(nats.url())
        },
        triggers: TriggerConfig::default(),
    });
    let client = common::client();
    let echo = FunctionRef::new("echo", common::NS);
    let deploy = |url: String| {
        let client = client.clone();
        async move {
            let mut spec = common::spec("echo", None);
            spec.annotations = Some([("topic".to_string(), "orders".to_string())].into());
            let response = client
                .post(format!("{url}/system/functions"))
                .json(&spec)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 202);
        }
    };
    let accept = |url: String| {
        let client = client.clone();
        async move {
            client
                .post(format!("{url}/async-function/echo"))
                .body("call")
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let runs = |runtime: &federation::Runtime| {
        let provider = runtime.provider();
        let echo = echo.clone();
        async move { provider.get(&echo).await.unwrap().invocation_count as u64 }
    };
    let nats_client = async_nats::connect(nats.url()).await.unwrap();

    // The old instance works: it pulls (one call ran) and answers on its subject.
    let (old_url, old) = common::serve_runtime(&config).await;
    deploy(old_url.clone()).await;
    assert_eq!(accept(old_url.clone()).await, 202);
    until_async(LONG, "the old instance runs a call", || async {
        runs(&old).await >= 1
    })
    .await;
    let reply = nats_client.request("orders", "ping".into()).await.unwrap();
    let status = reply
        .headers
        .as_ref()
        .and_then(|headers| headers.get("X-Function-Status"));
    assert_eq!(status.map(|status| status.as_str()), Some("200"));

    drop(old);
    assert_eq!(
        accept(old_url.clone()).await,
        503,
        "a stopped queue refuses calls"
    );
    until_async(
        LONG,
        "no responder left on the stopped instance's subject",
        || async {
            matches!(
                nats_client.request("orders", "ping".into()).await,
                Err(error) if error.kind() == async_nats::client::RequestErrorKind::NoResponders
            )
        },
    )
    .await;

    // Every call accepted by the new instance runs there, well within the ack wait.
    let (new_url, new) = common::serve_runtime(&config).await;
    deploy(new_url.clone()).await;
    for _ in 0..20 {
        assert_eq!(accept(new_url.clone()).await, 202);
    }
    until_async(
        LONG,
        "all 20 calls run on the new instance (the stopped one must not pull them)",
        || async { runs(&new).await >= 20 },
    )
    .await;
}
