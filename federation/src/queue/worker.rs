//! The worker: takes calls from a [`Queue`], runs each through the provider's invoke path, and
//! retries, reports (callback) and settles it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use faas_provider::{FunctionRef, Provider, ProviderError};
use http::{HeaderMap, HeaderValue, header};
use http_body_util::BodyExt;
use tokio::sync::Semaphore;

use super::{AsyncCall, AsyncConfig, Delivery, Queue, QueueError, QueueMetrics};

/// Largest function answer kept for the callback; a larger one is reported as a 502.
const RESPONSE_LIMIT: usize = 32 * 1024 * 1024;

/// What one run of a call produced.
struct Outcome {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Outcome {
    fn failed(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            headers: HeaderMap::new(),
            body: Bytes::from(message.into()),
        }
    }
}

/// Runs queued calls; see the module docs of [`super`].
pub struct Worker {
    queue: Arc<dyn Queue>,
    provider: Arc<dyn Provider>,
    config: AsyncConfig,
    client: reqwest::Client,
    metrics: QueueMetrics,
    total: Arc<Semaphore>,
    per_function: Mutex<HashMap<FunctionRef, Arc<Semaphore>>>,
    /// How often a waiting or running call tells the queue it is alive.
    progress_every: Duration,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("queue", &self.queue.kind())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker running calls from `queue` through `provider`.
    pub fn new(
        queue: Arc<dyn Queue>,
        provider: Arc<dyn Provider>,
        config: AsyncConfig,
        metrics: QueueMetrics,
    ) -> Self {
        let client = reqwest::Client::builder()
            .timeout(config.callback_timeout)
            .build()
            .expect("the TLS backend initialises");
        Self {
            total: Arc::new(Semaphore::new(config.max_inflight.max(1))),
            queue,
            provider,
            config,
            client,
            metrics,
            per_function: Mutex::new(HashMap::new()),
            progress_every: Duration::from_secs(15),
        }
    }

    /// Sends "in progress" to the queue this often while a call waits or runs (JetStream
    /// delivers an unacknowledged call again after its ack wait: keep this well below it).
    pub fn with_progress_every(mut self, every: Duration) -> Self {
        self.progress_every = every.max(Duration::from_millis(10));
        self
    }

    /// Runs the worker until the queue closes.
    pub fn spawn(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                let permit = self
                    .total
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("the worker's semaphore is never closed");
                match self.queue.next().await {
                    Ok(delivery) => {
                        let worker = self.clone();
                        tokio::spawn(async move {
                            worker.run(delivery).await;
                            drop(permit);
                        });
                    }
                    Err(QueueError::Closed) => return,
                    Err(error) => {
                        tracing::warn!(%error, "async worker: queue unavailable");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        })
    }

    fn limit(&self, function: &FunctionRef) -> Arc<Semaphore> {
        self.per_function
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(function.clone())
            .or_insert_with(|| {
                Arc::new(Semaphore::new(self.config.max_inflight_per_function.max(1)))
            })
            .clone()
    }

    /// Awaits `work`, telling the queue every `progress_every` that the call is alive.
    async fn alive<T>(&self, delivery: &Delivery, work: impl Future<Output = T>) -> T {
        tokio::pin!(work);
        loop {
            tokio::select! {
                done = &mut work => return done,
                () = tokio::time::sleep(self.progress_every) => delivery.in_progress().await,
            }
        }
    }

    async fn run(&self, delivery: Delivery) {
        let call = match &delivery.call {
            Ok(call) => call,
            Err(reason) => {
                tracing::error!(%reason, "async worker: unreadable call removed from the queue");
                delivery.done().await;
                return;
            }
        };
        let function = call.function();
        let label: Arc<str> = Arc::from(function.to_string());
        let limit = self.limit(&function);
        let slot = self
            .alive(&delivery, limit.acquire_owned())
            .await
            .expect("per-function semaphores are never closed");
        self.metrics.running(&label, 1);
        let began = Instant::now();
        let outcome = self.alive(&delivery, self.invoke(call)).await;
        let elapsed = began.elapsed();
        self.metrics.running(&label, -1);
        drop(slot);

        let retryable = self.config.retry_http_codes.contains(&outcome.status);
        if retryable && delivery.attempt < self.config.max_retry_attempts {
            let wait = self.config.backoff(delivery.attempt);
            tracing::info!(call_id = %call.id, function = %function, status = outcome.status, attempt = delivery.attempt, wait_ms = wait.as_millis() as u64, "async call retried");
            self.metrics.call(&label, "retried");
            delivery.retry(wait).await;
            return;
        }
        if let Some(url) = &call.callback_url {
            self.callback(url, call, &outcome, elapsed).await;
        }
        let result = if outcome.status < 400 {
            "completed"
        } else {
            "failed"
        };
        tracing::info!(call_id = %call.id, function = %function, status = outcome.status, attempt = delivery.attempt, result, "async call finished");
        self.metrics.call(&label, result);
        delivery.done().await;
    }

    async fn invoke(&self, call: &AsyncCall) -> Outcome {
        let request = match call.to_request() {
            Ok(request) => request,
            Err(reason) => return Outcome::failed(400, reason),
        };
        let function = call.function();
        let run = async {
            let response = self.provider.invoke(&function, request).await?;
            let (parts, body) = response.into_parts();
            let body = http_body_util::Limited::new(body, RESPONSE_LIMIT)
                .collect()
                .await
                .map_err(|error| ProviderError::Unreachable {
                    name: function.to_string(),
                    source: error,
                })?
                .to_bytes();
            Ok::<_, ProviderError>(Outcome {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
            })
        };
        match tokio::time::timeout(self.config.call_timeout, run).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(error)) => Outcome::failed(status_of(&error), error.to_string()),
            Err(_) => Outcome::failed(
                504,
                format!(
                    "{function} did not answer within {:?}",
                    self.config.call_timeout
                ),
            ),
        }
    }

    async fn callback(&self, url: &str, call: &AsyncCall, outcome: &Outcome, elapsed: Duration) {
        let mut headers = outcome.headers.clone();
        faas_provider::headers::strip_hop_by_hop(&mut headers);
        headers.remove(header::CONTENT_LENGTH);
        let mut set = |name: &'static str, value: String| {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        };
        set("x-call-id", call.id.clone());
        set("x-function-status", outcome.status.to_string());
        set("x-function-name", call.name.clone());
        set(
            "x-duration-seconds",
            format!("{:.6}", elapsed.as_secs_f64()),
        );
        let sent = self
            .client
            .post(url)
            .headers(headers)
            .body(outcome.body.clone())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {}
            Ok(response) => {
                tracing::warn!(call_id = %call.id, url, status = response.status().as_u16(), "async callback refused");
            }
            Err(error) => {
                tracing::warn!(call_id = %call.id, url, error = %faas_provider::error::chain(&error), "async callback failed");
            }
        }
    }
}

/// The status a failed run is reported with: as the invoke route answers, except that a
/// function that is gone is a 404 (not retried) rather than "no endpoints".
fn status_of(error: &ProviderError) -> u16 {
    match error {
        ProviderError::NotFound { .. } => 404,
        ProviderError::NotReady { .. } => 503,
        other => faas_provider::server::status_of(other).as_u16(),
    }
}
