//! The durable queue: a NATS JetStream stream (file storage, work-queue retention) and one
//! durable pull consumer that every federation instance shares, so each call is delivered to
//! one instance at a time, acknowledged only after it ran, and delivered again (to any
//! instance) when an instance dies or NATS restarts before the acknowledgement.
//!
//! Calls accepted together are stored together, several to a message ([`super::batch`]); the
//! message is acknowledged once every call in it is settled. A call to retry is published
//! again on its own, with its attempt number and the time it may run (headers
//! `Faas-Attempt`, `Faas-Not-Before`), before its place in the first message is settled: a
//! delivery that comes too early is negatively acknowledged (Nak) with the rest of its backoff
//! as the delay.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer, stream};
use async_trait::async_trait;
use futures::StreamExt;
use tokio::sync::{Mutex, MutexGuard, watch};

use super::batch::{self, Batcher};
use super::{AsyncCall, Delivery, Queue, QueueError, Settle};

/// The run a republished retry is (1 is the first run).
const ATTEMPT_HEADER: &str = "Faas-Attempt";
/// Before when (milliseconds since the Unix epoch) a republished retry may not run.
const NOT_BEFORE_HEADER: &str = "Faas-Not-Before";
/// Messages asked for in one pull. A message holds up to `publish_batch` calls, so this bounds
/// the calls waiting in this instance's buffer (their ack wait runs there) at 16 × 32 = 512
/// with the defaults, near the 200 single-call messages async-nats pulls by default.
const PULL_BATCH: usize = 16;

/// Names and limits of the stream and consumer (federation keys `nats_stream`,
/// `nats_subject`, `nats_durable`, `nats_ack_wait`, `nats_publish_batch`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JetStreamSettings {
    /// `nats://host:port` of a server with JetStream on (`nats_url`).
    pub url: String,
    /// Stream name (default `faas-federation-async`).
    pub stream: String,
    /// Subject calls are published on (default `faas-federation.async`).
    pub subject: String,
    /// Durable consumer shared by the instances (default `faas-federation-workers`).
    pub durable: String,
    /// How long a delivered call may go unacknowledged before it is delivered again (default
    /// 60 s; a running call keeps extending it).
    pub ack_wait: Duration,
    /// Most calls stored in one message when several are accepted while a publish is on its
    /// way (`nats_publish_batch`, default 32; 1 stores each call alone).
    pub publish_batch: usize,
}

impl JetStreamSettings {
    /// The defaults, for the server at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            stream: "faas-federation-async".into(),
            subject: "faas-federation.async".into(),
            durable: "faas-federation-workers".into(),
            ack_wait: Duration::from_secs(60),
            publish_batch: 32,
        }
    }
}

/// A [`Queue`] on NATS JetStream.
pub struct JetStreamQueue {
    /// Consumes: pulls deliveries and sends their acknowledgements.
    context: jetstream::Context,
    /// Publishes accepted calls (through `batcher`) and retries, on a connection of its own:
    /// on the consumer's connection a publish waits behind the deliveries and acks in the same
    /// socket buffers, which showed in the accept latency (faas-bench-async).
    publisher: jetstream::Context,
    /// None with `publish_batch` 1: each call is published alone, at once.
    batcher: Option<Batcher>,
    settings: JetStreamSettings,
    pulling: Mutex<Pulling>,
    /// True once [`Queue::close`] ran.
    closed: watch::Sender<bool>,
}

/// The pull subscription and the calls of the last message not yet handed out.
#[derive(Default)]
struct Pulling {
    messages: Option<consumer::pull::Stream>,
    ready: VecDeque<Delivery>,
}

impl Pulling {
    /// Drops the pull subscription (async-nats stops its pull requests) and the calls pulled
    /// but not handed out: JetStream delivers them again after their ack wait.
    fn stop(&mut self) {
        self.messages = None;
        self.ready.clear();
    }
}

/// [`Pulling`] while `next` holds it. Released after the queue was closed (`next` returned, or
/// the worker's task was aborted while waiting), it stops pulling: `close` cannot take the
/// lock while `next` holds it.
struct Held<'a> {
    pulling: MutexGuard<'a, Pulling>,
    closed: &'a watch::Sender<bool>,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if *self.closed.borrow() {
            self.pulling.stop();
        }
    }
}

impl std::fmt::Debug for JetStreamQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JetStreamQueue")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn nats(what: &str, error: impl std::fmt::Display) -> QueueError {
    QueueError::Nats(format!("{what}: {error}"))
}

impl JetStreamQueue {
    /// Connects to `settings.url` and creates the stream and the durable consumer when they do
    /// not exist yet (an existing stream and consumer, with what they hold, are used as they
    /// are).
    pub async fn connect(settings: JetStreamSettings) -> Result<Self, QueueError> {
        let connect = || async {
            async_nats::connect(&settings.url)
                .await
                .map_err(|error| nats(&format!("connecting to {}", settings.url), error))
        };
        let consumer = connect().await?;
        let publisher = connect().await?;
        Self::with_clients(consumer, publisher, settings).await
    }

    /// Same, over existing connections: `consumer` pulls and acknowledges, `publisher`
    /// publishes accepted calls (the same client for both works, at some cost in accept
    /// latency under load).
    pub async fn with_clients(
        consumer: async_nats::Client,
        publisher: async_nats::Client,
        settings: JetStreamSettings,
    ) -> Result<Self, QueueError> {
        // A message holds calls up to the server's payload limit (a larger call goes alone
        // and is refused as before).
        let max_bytes = match publisher.server_info().max_payload {
            0 => 1024 * 1024,
            limit => limit,
        };
        let publisher = jetstream::new(publisher);
        let batcher = (settings.publish_batch > 1).then(|| {
            Batcher::spawn(
                publisher.clone(),
                settings.subject.clone(),
                settings.publish_batch,
                max_bytes,
            )
        });
        let queue = Self {
            context: jetstream::new(consumer),
            publisher,
            batcher,
            settings,
            pulling: Mutex::new(Pulling::default()),
            closed: watch::Sender::new(false),
        };
        queue.consumer().await?;
        Ok(queue)
    }

    async fn consumer(&self) -> Result<consumer::PullConsumer, QueueError> {
        let settings = &self.settings;
        let stream = self
            .context
            .get_or_create_stream(stream::Config {
                name: settings.stream.clone(),
                subjects: vec![settings.subject.clone()],
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::WorkQueue,
                ..Default::default()
            })
            .await
            .map_err(|error| nats(&format!("stream {}", settings.stream), error))?;
        stream
            .get_or_create_consumer(
                &settings.durable,
                consumer::pull::Config {
                    durable_name: Some(settings.durable.clone()),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: settings.ack_wait,
                    ..Default::default()
                },
            )
            .await
            .map_err(|error| nats(&format!("consumer {}", settings.durable), error))
    }
}

#[async_trait]
impl Queue for JetStreamQueue {
    fn kind(&self) -> &'static str {
        "jetstream"
    }

    async fn enqueue(&self, call: &AsyncCall) -> Result<(), QueueError> {
        if *self.closed.borrow() {
            return Err(QueueError::Closed);
        }
        // Both return once the PubAck came: the call is accepted only once JetStream stored it.
        if let Some(batcher) = &self.batcher {
            return batcher.publish(call).await;
        }
        self.publisher
            .publish(self.settings.subject.clone(), call.to_json().into())
            .await
            .map_err(|error| nats("publishing a call", error))?
            .await
            .map_err(|error| nats("storing a call", error))?;
        Ok(())
    }

    async fn next(&self) -> Result<Delivery, QueueError> {
        let mut closed = self.closed.subscribe();
        let mut held = Held {
            pulling: self.pulling.lock().await,
            closed: &self.closed,
        };
        let pulling = &mut *held.pulling;
        loop {
            if *closed.borrow() {
                return Err(QueueError::Closed);
            }
            if let Some(delivery) = pulling.ready.pop_front() {
                return Ok(delivery);
            }
            if pulling.messages.is_none() {
                match self.consumer().await {
                    Ok(consumer) => match consumer
                        .stream()
                        .max_messages_per_batch(PULL_BATCH)
                        .messages()
                        .await
                    {
                        Ok(stream) => pulling.messages = Some(stream),
                        Err(error) => {
                            tracing::warn!(%error, "JetStream: cannot pull; retrying in 1s");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            continue;
                        }
                    },
                    Err(error) => {
                        tracing::warn!(%error, "JetStream unavailable; retrying in 1s");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                }
            }
            let Some(stream) = pulling.messages.as_mut() else {
                continue;
            };
            let next = tokio::select! {
                biased;
                _ = closed.wait_for(|closed| *closed) => continue,
                next = stream.next() => next,
            };
            match next {
                Some(Ok(message)) => {
                    let deliveries = self.unpack(message).await;
                    pulling.ready.extend(deliveries);
                }
                Some(Err(error)) => {
                    // Heartbeats missed (NATS restarting) and the like: pull afresh.
                    tracing::warn!(%error, "JetStream pull interrupted; pulling again");
                    pulling.messages = None;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                None => pulling.messages = None,
            }
        }
    }

    fn close(&self) {
        self.closed.send_replace(true);
        if let Ok(mut pulling) = self.pulling.try_lock() {
            pulling.stop();
        }
    }
}

impl JetStreamQueue {
    /// The calls of one message, sharing its acknowledgement; none when it is a retry that came
    /// before its time (sent back with the rest of its wait).
    async fn unpack(&self, message: jetstream::Message) -> Vec<Delivery> {
        let header = |name: &str| {
            message
                .headers
                .as_ref()
                .and_then(|headers| headers.get(name))
                .and_then(|value| value.as_str().parse::<u64>().ok())
        };
        if let Some(not_before) = header(NOT_BEFORE_HEADER) {
            let now = AsyncCall::now_ms();
            if not_before > now {
                let wait = Duration::from_millis(not_before - now);
                if let Err(error) = message.ack_with(AckKind::Nak(Some(wait))).await {
                    // Delivered again after the ack wait instead.
                    tracing::warn!(%error, "JetStream: cannot postpone a retry");
                }
                return Vec::new();
            }
        }
        // A republished retry carries its run number; otherwise the deliveries count the runs.
        let attempt = match header(ATTEMPT_HEADER) {
            Some(attempt) => attempt,
            None => message
                .info()
                .map_or(1, |info| info.delivered.max(0) as u64),
        };
        let attempt = u32::try_from(attempt).unwrap_or(u32::MAX).max(1);
        let calls = batch::decode(&message.payload);
        let shared = Arc::new(Shared {
            unsettled: AtomicUsize::new(calls.len()),
            message,
            publisher: self.publisher.clone(),
            subject: self.settings.subject.clone(),
        });
        calls
            .into_iter()
            .map(|call| {
                let settle = JetStreamSettle {
                    shared: shared.clone(),
                };
                Delivery::new(call, attempt, Box::new(settle))
            })
            .collect()
    }
}

/// One stored message and how many of its calls are not settled yet.
struct Shared {
    message: jetstream::Message,
    unsettled: AtomicUsize,
    publisher: jetstream::Context,
    subject: String,
}

impl Shared {
    async fn ack(&self, kind: AckKind) {
        if let Err(error) = self.message.ack_with(kind).await {
            // The message is delivered again after the ack wait: at least once.
            tracing::warn!(%error, "JetStream: acknowledgement failed");
        }
    }

    /// One call of the message is settled; the last one acknowledges it (a plain ack, not
    /// waiting for the server's confirmation: a double ack halved the end-to-end rate in
    /// faas-bench-async; an ack lost on the way means the calls run again after the ack wait,
    /// at least once either way).
    async fn settled(&self) {
        if self.unsettled.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.ack(AckKind::Ack).await;
        }
    }
}

struct JetStreamSettle {
    shared: Arc<Shared>,
}

#[async_trait]
impl Settle for JetStreamSettle {
    async fn done(self: Box<Self>) {
        self.shared.settled().await;
    }

    async fn retry(self: Box<Self>, wait: Duration, attempt: u32, call: Option<AsyncCall>) {
        let Some(call) = call else {
            self.shared.settled().await;
            return;
        };
        // Stored again on its own before its place here is settled: if that fails, the whole
        // message is delivered again after the ack wait (at least once).
        let not_before =
            AsyncCall::now_ms().saturating_add(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            ATTEMPT_HEADER,
            attempt.saturating_add(1).to_string().as_str(),
        );
        headers.insert(NOT_BEFORE_HEADER, not_before.to_string().as_str());
        let shared = &self.shared;
        let stored = match shared
            .publisher
            .publish_with_headers(shared.subject.clone(), headers, call.to_json().into())
            .await
        {
            Ok(ack) => ack.await.map(|_| ()).map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match stored {
            Ok(()) => shared.settled().await,
            Err(error) => {
                tracing::warn!(call_id = %call.id, %error, "JetStream: a retry could not be stored; its message runs again after the ack wait");
            }
        }
    }

    async fn in_progress(&self) {
        self.shared.ack(AckKind::Progress).await;
    }
}
