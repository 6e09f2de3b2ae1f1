//! The durable queue: a NATS JetStream stream (file storage, work-queue retention) and one
//! durable pull consumer that every federation instance shares, so each call is delivered to
//! one instance at a time, acknowledged only after it ran, and delivered again (to any
//! instance) when an instance dies or NATS restarts before the acknowledgement.

use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer, stream};
use async_trait::async_trait;
use futures::StreamExt;
use tokio::sync::Mutex;

use super::{AsyncCall, Delivery, Queue, QueueError, Settle};

/// Names and limits of the stream and consumer (federation keys `nats_stream`,
/// `nats_subject`, `nats_durable`, `nats_ack_wait`).
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
        }
    }
}

/// A [`Queue`] on NATS JetStream.
pub struct JetStreamQueue {
    /// Consumes: pulls deliveries and sends their acknowledgements.
    context: jetstream::Context,
    /// Publishes accepted calls, on a connection of its own: on the consumer's connection a
    /// publish waits behind the deliveries and acks in the same socket buffers, which showed
    /// in the accept latency (faas-bench-async).
    publisher: jetstream::Context,
    settings: JetStreamSettings,
    messages: Mutex<Option<consumer::pull::Stream>>,
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
        let queue = Self {
            context: jetstream::new(consumer),
            publisher: jetstream::new(publisher),
            settings,
            messages: Mutex::new(None),
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
        // Both awaits: the call is accepted only once JetStream has stored it.
        self.publisher
            .publish(self.settings.subject.clone(), call.to_json().into())
            .await
            .map_err(|error| nats("publishing a call", error))?
            .await
            .map_err(|error| nats("storing a call", error))?;
        Ok(())
    }

    async fn next(&self) -> Result<Delivery, QueueError> {
        let mut messages = self.messages.lock().await;
        loop {
            if messages.is_none() {
                match self.consumer().await {
                    Ok(consumer) => match consumer.messages().await {
                        Ok(stream) => *messages = Some(stream),
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
            let Some(stream) = messages.as_mut() else {
                continue;
            };
            match stream.next().await {
                Some(Ok(message)) => {
                    let attempt = message
                        .info()
                        .map(|info| u32::try_from(info.delivered).unwrap_or(u32::MAX))
                        .unwrap_or(1)
                        .max(1);
                    let call = AsyncCall::from_json(&message.payload);
                    return Ok(Delivery::new(
                        call,
                        attempt,
                        Box::new(JetStreamSettle { message }),
                    ));
                }
                Some(Err(error)) => {
                    // Heartbeats missed (NATS restarting) and the like: pull afresh.
                    tracing::warn!(%error, "JetStream pull interrupted; pulling again");
                    *messages = None;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                None => *messages = None,
            }
        }
    }
}

struct JetStreamSettle {
    message: jetstream::Message,
}

impl JetStreamSettle {
    async fn ack(&self, kind: AckKind) {
        if let Err(error) = self.message.ack_with(kind).await {
            // The call is delivered again after the ack wait: at least once.
            tracing::warn!(%error, "JetStream: acknowledgement failed");
        }
    }
}

#[async_trait]
impl Settle for JetStreamSettle {
    async fn done(self: Box<Self>) {
        // A plain ack (not waiting for the server's confirmation: a double ack halved the
        // end-to-end rate in faas-bench-async). An ack lost on the way means the call is
        // delivered again after the ack wait: at least once either way.
        self.ack(AckKind::Ack).await;
    }

    async fn retry(self: Box<Self>, wait: Duration, _attempt: u32, call: Option<AsyncCall>) {
        if call.is_none() {
            self.ack(AckKind::Term).await;
            return;
        }
        self.ack(AckKind::Nak(Some(wait))).await;
    }

    async fn in_progress(&self) {
        self.ack(AckKind::Progress).await;
    }
}
