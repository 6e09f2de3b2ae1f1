//! Asynchronous invocations, as OpenFaaS's gateway and queue-worker run them:
//!
//! - [`accept`]: `POST /async-function/{name}[.namespace][/path]` checks that the function
//!   exists (404), bounds the body (413 before queuing), stores the call and answers
//!   `202 Accepted` with `X-Call-Id` at once;
//! - a [`Queue`] keeps accepted calls: [`EmbeddedQueue`] (in-process and bounded; what is pending
//!   is lost if the process dies) by default, [`JetStreamQueue`] (a durable NATS JetStream stream
//!   and consumer: calls survive restarts of the federation and of NATS, and several federation
//!   instances share the work) when `nats_url` is set;
//! - the [`Worker`] runs each call later through the provider the synchronous calls go through
//!   (so routing and scale from zero apply), with a per-function limit on calls in flight,
//!   retries with exponential backoff for the configured status codes, and POSTs the result to
//!   the call's `X-Callback-Url` with the queue-worker's headers (`X-Call-Id`,
//!   `X-Function-Status`, `X-Function-Name`, `X-Duration-Seconds`).
//!
//! A call is acknowledged to the queue only after it ran (or failed for the last time), so
//! with JetStream every accepted call runs at least once.

pub mod accept;
mod batch;
mod call;
mod embedded;
mod jetstream;
mod metrics;
mod worker;

use std::time::Duration;

use async_trait::async_trait;

pub use call::{AsyncCall, Header};
pub use embedded::EmbeddedQueue;
pub use jetstream::{JetStreamQueue, JetStreamSettings};
pub use metrics::QueueMetrics;
pub use worker::Worker;

/// Settings of asynchronous invocation (federation keys of the same names; the retry ones are
/// the OpenFaaS queue-worker's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsyncConfig {
    /// Largest request body accepted for a call (`async_max_body_bytes`, default 512 KiB: a
    /// stored call, in base64, must fit NATS's default 1 MiB message size).
    pub max_body_bytes: usize,
    /// Calls the embedded queue holds before answering 429 (`async_queue_capacity`, 10,000).
    pub queue_capacity: usize,
    /// Calls run at once by this instance (`async_max_inflight`, default 256).
    pub max_inflight: usize,
    /// Calls of one function run at once by this instance
    /// (`async_max_inflight_per_function`, default 16).
    pub max_inflight_per_function: usize,
    /// Runs of one call before it fails for good (`max_retry_attempts`, default 10).
    pub max_retry_attempts: u32,
    /// Wait before the first retry (`initial_retry_wait`, default 10 s); doubled each time.
    pub initial_retry_wait: Duration,
    /// Longest wait between retries (`max_retry_wait`, default 120 s).
    pub max_retry_wait: Duration,
    /// Function answers that are retried (`retry_http_codes`, default 429,502,503,504).
    pub retry_http_codes: Vec<u16>,
    /// Longest run of one call (`async_call_timeout`, default 60 s, the gateway's
    /// `upstream_timeout`); past it the call counts as a 504.
    pub call_timeout: Duration,
    /// Longest callback POST (`callback_timeout`, default 10 s).
    pub callback_timeout: Duration,
}

impl Default for AsyncConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 512 * 1024,
            queue_capacity: 10_000,
            max_inflight: 256,
            max_inflight_per_function: 16,
            max_retry_attempts: 10,
            initial_retry_wait: Duration::from_secs(10),
            max_retry_wait: Duration::from_secs(120),
            retry_http_codes: vec![429, 502, 503, 504],
            call_timeout: Duration::from_secs(60),
            callback_timeout: Duration::from_secs(10),
        }
    }
}

impl AsyncConfig {
    /// The wait before run number `attempt + 1` (attempt 1 is the first run):
    /// `initial × 2^(attempt−1)`, at most `max_retry_wait`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_retry_wait
            .saturating_mul(factor)
            .min(self.max_retry_wait)
    }
}

/// Why a queue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The embedded queue holds `capacity` calls already.
    #[error("the async queue is full ({capacity} calls pending)")]
    Full {
        /// The queue's bound.
        capacity: usize,
    },
    /// The queue was shut down.
    #[error("the async queue is closed")]
    Closed,
    /// NATS or JetStream refused or could not be reached.
    #[error("NATS JetStream: {0}")]
    Nats(String),
}

/// Where accepted calls wait. `enqueue` returning `Ok` means the call is kept (in memory for
/// the embedded queue, persisted by JetStream for [`JetStreamQueue`]).
#[async_trait]
pub trait Queue: Send + Sync + 'static {
    /// `embedded` or `jetstream`.
    fn kind(&self) -> &'static str;
    /// Keeps `call` for a worker.
    async fn enqueue(&self, call: &AsyncCall) -> Result<(), QueueError>;
    /// Waits for the next call to run.
    async fn next(&self) -> Result<Delivery, QueueError>;
    /// Shuts the queue for this instance (its `Runtime` stopped): `enqueue` and `next` answer
    /// [`QueueError::Closed`] from now on, a waiting `next` returns, and JetStream's pull
    /// subscription goes, so calls this instance has not started are delivered to the other
    /// instances (those it had pulled, after their ack wait). Deliveries already handed out
    /// can still be settled.
    fn close(&self);
}

/// A call handed to a worker, settled exactly once with [`Delivery::done`] or
/// [`Delivery::retry`] (dropped unsettled, the queue delivers it again: JetStream after its
/// ack wait; the embedded queue never, so the worker always settles).
pub struct Delivery {
    /// The call, or why its stored form could not be read (such a message is dropped from the
    /// queue and counted as failed).
    pub call: Result<AsyncCall, String>,
    /// 1 for the first run, 2 for the first retry, …
    pub attempt: u32,
    settle: Box<dyn Settle>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("call", &self.call)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    fn new(call: Result<AsyncCall, String>, attempt: u32, settle: Box<dyn Settle>) -> Self {
        Self {
            call,
            attempt,
            settle,
        }
    }

    /// The call ran (or failed for the last time): the queue forgets it.
    pub async fn done(self) {
        self.settle.done().await;
    }

    /// The call is run again after `wait`.
    pub async fn retry(self, wait: Duration) {
        self.settle.retry(wait, self.attempt, self.call.ok()).await;
    }

    /// Tells the queue the call is still being worked on (JetStream: resets its ack wait).
    pub async fn in_progress(&self) {
        self.settle.in_progress().await;
    }
}

/// How a queue settles one delivery.
#[async_trait]
trait Settle: Send + Sync {
    async fn done(self: Box<Self>);
    async fn retry(self: Box<Self>, wait: Duration, attempt: u32, call: Option<AsyncCall>);
    async fn in_progress(&self);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let config = AsyncConfig {
            initial_retry_wait: Duration::from_secs(10),
            max_retry_wait: Duration::from_secs(120),
            ..AsyncConfig::default()
        };
        let waits: Vec<u64> = (1..=6).map(|a| config.backoff(a).as_secs()).collect();
        assert_eq!(waits, [10, 20, 40, 80, 120, 120]);
        assert_eq!(config.backoff(u32::MAX), Duration::from_secs(120));
    }
}
