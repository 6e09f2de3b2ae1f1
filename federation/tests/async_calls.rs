//! `/async-function` with the embedded queue, over HTTP: 202 + X-Call-Id, the call runs once,
//! the callback gets the body and the queue-worker's four headers; retries on 503 up to the
//! limit then a failure callback; the per-function in-flight limit; 404, 413, 405 and 429.

#[path = "common/async_support.rs"]
mod async_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_support::{Functions, callback_receiver, serve, until};
use faas_provider::{Provider, ServerConfig};
use federation::queue::{AsyncConfig, EmbeddedQueue, Queue, QueueMetrics, Worker, accept};

const LONG: Duration = Duration::from_secs(20);

fn config() -> AsyncConfig {
    AsyncConfig {
        initial_retry_wait: Duration::from_millis(10),
        max_retry_wait: Duration::from_millis(40),
        max_retry_attempts: 3,
        ..AsyncConfig::default()
    }
}

/// The provider API plus the async routes, with a worker running; returns the base URL.
async fn start(functions: Arc<Functions>, config: AsyncConfig, capacity: usize) -> String {
    let provider: Arc<dyn Provider> = functions;
    let queue: Arc<dyn Queue> = Arc::new(EmbeddedQueue::new(capacity));
    let metrics = QueueMetrics::default();
    let worker = Arc::new(Worker::new(
        queue.clone(),
        provider.clone(),
        config.clone(),
        metrics.clone(),
    ));
    worker.spawn();
    let app = faas_provider::server::router(provider.clone(), &ServerConfig::default())
        .merge(accept::routes(provider, queue, config, metrics));
    serve(app).await
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[tokio::test]
async fn an_accepted_call_runs_and_its_result_is_posted_back() {
    let functions = Arc::new(Functions::default());
    functions.add("echo", &[]);
    let url = start(functions.clone(), config(), 100).await;
    let (callback, mut results) = callback_receiver().await;

    let response = client()
        .post(format!("{url}/async-function/echo/some/path?x=1"))
        .header("X-Callback-Url", &callback)
        .body("hello async")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let id = response.headers()["x-call-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(!id.is_empty());
    assert!(response.text().await.unwrap().is_empty());

    let result = tokio::time::timeout(LONG, results.recv())
        .await
        .expect("a callback")
        .unwrap();
    assert_eq!(&result.body[..], b"hello async");
    assert_eq!(result.headers["x-call-id"], id.as_str());
    assert_eq!(result.headers["x-function-status"], "200");
    assert_eq!(result.headers["x-function-name"], "echo");
    let seconds: f64 = result.headers["x-duration-seconds"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(seconds >= 0.0);
    // The function's own headers come along: the path and query reached it.
    assert_eq!(result.headers["x-echo-path"], "/some/path?x=1");
    assert_eq!(functions.runs_of(&id), 1);
}

#[tokio::test]
async fn the_callers_call_id_is_kept_and_calls_without_callback_still_run() {
    let functions = Arc::new(Functions::default());
    functions.add("echo", &[]);
    let url = start(functions.clone(), config(), 100).await;
    let response = client()
        .post(format!("{url}/async-function/echo.openfaas-fn"))
        .header("X-Call-Id", "my-call-7")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(response.headers()["x-call-id"], "my-call-7");
    until(LONG, "the call ran", || functions.runs_of("my-call-7") == 1).await;
}

#[tokio::test]
async fn a_503_is_retried_up_to_the_limit_then_reported_as_failed() {
    let functions = Arc::new(Functions::default());
    functions.add("flaky", &[]);
    functions.fail_first.store(u64::MAX, Ordering::SeqCst);
    let url = start(functions.clone(), config(), 100).await;
    let (callback, mut results) = callback_receiver().await;
    let response = client()
        .post(format!("{url}/async-function/flaky"))
        .header("X-Callback-Url", &callback)
        .body("again")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let id = response.headers()["x-call-id"]
        .to_str()
        .unwrap()
        .to_string();
    let result = tokio::time::timeout(LONG, results.recv())
        .await
        .expect("a failure callback")
        .unwrap();
    assert_eq!(result.headers["x-function-status"], "503");
    assert_eq!(functions.runs_of(&id), 3, "max_retry_attempts runs");
    // One callback only, after the last run.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(results.try_recv().is_err());
}

#[tokio::test]
async fn a_call_that_recovers_within_the_retries_succeeds() {
    let functions = Arc::new(Functions::default());
    functions.add("flaky", &[]);
    functions.fail_first.store(2, Ordering::SeqCst);
    let url = start(functions.clone(), config(), 100).await;
    let (callback, mut results) = callback_receiver().await;
    client()
        .post(format!("{url}/async-function/flaky"))
        .header("X-Callback-Url", &callback)
        .body("third time")
        .send()
        .await
        .unwrap();
    let result = tokio::time::timeout(LONG, results.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(result.headers["x-function-status"], "200");
    assert_eq!(&result.body[..], b"third time");
    assert_eq!(functions.total.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn calls_in_flight_per_function_are_limited() {
    let functions = Arc::new(Functions::default());
    functions.add("slow", &[]);
    *functions.delay.lock().unwrap() = Duration::from_millis(150);
    let config = AsyncConfig {
        max_inflight_per_function: 2,
        ..config()
    };
    let url = start(functions.clone(), config, 100).await;
    for _ in 0..8 {
        let response = client()
            .post(format!("{url}/async-function/slow"))
            .body("z")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
    }
    until(LONG, "8 calls ran", || {
        functions.total.load(Ordering::SeqCst) == 8
    })
    .await;
    assert_eq!(functions.most_running.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn bad_requests_are_refused_before_anything_is_queued() {
    let functions = Arc::new(Functions::default());
    functions.add("echo", &[]);
    let config = AsyncConfig {
        max_body_bytes: 1024,
        ..config()
    };
    let url = start(functions.clone(), config, 1).await;
    let client = client();

    let missing = client
        .post(format!("{url}/async-function/nobody"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("nobody"));

    let large = client
        .post(format!("{url}/async-function/echo"))
        .body(vec![b'a'; 1025])
        .send()
        .await
        .unwrap();
    assert_eq!(large.status(), 413);
    assert!(large.text().await.unwrap().contains("1024"));

    let get = client
        .get(format!("{url}/async-function/echo"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);

    let bad_callback = client
        .post(format!("{url}/async-function/echo"))
        .header("X-Callback-Url", "ftp://example")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_callback.status(), 400);

    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(functions.total.load(Ordering::SeqCst), 0, "nothing ran");
}

#[tokio::test]
async fn a_full_embedded_queue_answers_429() {
    let functions = Arc::new(Functions::default());
    functions.add("slow", &[]);
    *functions.delay.lock().unwrap() = Duration::from_secs(2);
    let config = AsyncConfig {
        max_inflight: 1,
        ..config()
    };
    let url = start(functions.clone(), config, 1).await;
    let client = client();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = client
            .post(format!("{url}/async-function/slow"))
            .body("z")
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    // One running (taken from the queue), one waiting in it, then the queue is full.
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(statuses[0], 202);
}
