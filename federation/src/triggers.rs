//! Subject triggers, as OpenFaaS connectors bind functions to topics: a function annotated
//! `topic: a,b` (comma-separated NATS subjects, wildcards allowed) is invoked for every message
//! on those subjects, through the same provider as any invocation (routing and scale from zero
//! apply). The body is the message payload, the headers the message's NATS headers plus
//! `X-Topic` (the subject the message came on). When the message has a reply subject, each bound
//! function's answer is published there, with `X-Function-Status` and `X-Function-Name`
//! headers.
//!
//! Every subscription is in one queue group, so several federation instances share each
//! message. Bindings are recomputed from the functions' annotations every
//! [`TriggerConfig::refresh_interval`] and at once after [`Triggers::changed`] (called after
//! every deploy, update and delete), so they follow deploys, updates, moves and deletes without
//! a restart. A failing function is logged and counted; the subscriber carries on.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use faas_provider::{Body, FunctionRef, Provider};
use futures::StreamExt;
use http::{HeaderName, HeaderValue};
use http_body_util::BodyExt;
use tokio::sync::{Notify, Semaphore, watch};

use crate::queue::QueueMetrics;

/// The annotation listing a function's subjects (OpenFaaS connector convention).
pub const TOPIC_ANNOTATION: &str = "topic";
/// Reply header carrying the function's status code.
pub const STATUS_HEADER: &str = "X-Function-Status";
/// Reply header naming the function that answered.
pub const NAME_HEADER: &str = "X-Function-Name";
/// Request header naming the subject the message came on (as OpenFaaS connectors send it).
pub const TOPIC_HEADER: &str = "X-Topic";
/// Largest function answer published as a reply.
const REPLY_LIMIT: usize = 8 * 1024 * 1024;

/// Settings of the triggers (federation keys `nats_queue_group`, `trigger_refresh_interval`,
/// `trigger_max_inflight`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TriggerConfig {
    /// Queue group of every subscription (default `faas-federation`).
    pub queue_group: String,
    /// How often bindings are recomputed from the functions (default 10 s).
    pub refresh_interval: Duration,
    /// Invocations from messages running at once (default 256); further messages wait.
    pub max_inflight: usize,
}

impl Default for TriggerConfig {
    fn default() -> Self {
        Self {
            queue_group: "faas-federation".into(),
            refresh_interval: Duration::from_secs(10),
            max_inflight: 256,
        }
    }
}

struct Binding {
    functions: Arc<RwLock<Vec<FunctionRef>>>,
    task: tokio::task::JoinHandle<()>,
}

/// The subject subscriptions; see the module docs.
pub struct Triggers {
    client: async_nats::Client,
    provider: Arc<dyn Provider>,
    config: TriggerConfig,
    bindings: tokio::sync::Mutex<HashMap<String, Binding>>,
    changed: Notify,
    metrics: QueueMetrics,
    inflight: Arc<Semaphore>,
    /// True once [`Triggers::stop`] ran.
    stopped: watch::Sender<bool>,
}

impl std::fmt::Debug for Triggers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Triggers")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The subjects of a `topic` annotation value.
pub fn subjects(annotation: &str) -> impl Iterator<Item = &str> {
    annotation
        .split(',')
        .map(str::trim)
        .filter(|subject| !subject.is_empty())
}

impl Triggers {
    /// Triggers over `client`, invoking through `provider`.
    pub fn new(
        client: async_nats::Client,
        provider: Arc<dyn Provider>,
        config: TriggerConfig,
        metrics: QueueMetrics,
    ) -> Arc<Self> {
        Arc::new(Self {
            inflight: Arc::new(Semaphore::new(config.max_inflight.max(1))),
            client,
            provider,
            config,
            bindings: tokio::sync::Mutex::new(HashMap::new()),
            changed: Notify::new(),
            metrics,
            stopped: watch::Sender::new(false),
        })
    }

    /// Unsubscribes from every subject and binds none from now on (the `Runtime` stopped);
    /// messages already taken still run. With the routes still served, deploys no longer bind.
    pub fn stop(&self) {
        self.stopped.send_replace(true);
        if let Ok(mut bindings) = self.bindings.try_lock() {
            for (_, binding) in bindings.drain() {
                binding.task.abort();
            }
        }
    }

    /// Asks for the bindings to be recomputed now (after a deploy, update or delete).
    pub fn changed(&self) {
        self.changed.notify_one();
    }

    /// Recomputes the bindings until the returned task is aborted.
    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let triggers = self.clone();
        tokio::spawn(async move {
            loop {
                triggers.refresh().await;
                tokio::select! {
                    () = triggers.changed.notified() => {}
                    () = tokio::time::sleep(triggers.config.refresh_interval) => {}
                }
            }
        })
    }

    /// Subject → functions bound now.
    pub async fn bound(&self) -> BTreeMap<String, Vec<FunctionRef>> {
        self.bindings
            .lock()
            .await
            .iter()
            .map(|(subject, binding)| {
                let functions = binding
                    .functions
                    .read()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone();
                (subject.clone(), functions)
            })
            .collect()
    }

    /// The bindings the functions' annotations ask for, or `None` when the functions could not
    /// be listed (the current bindings are then kept).
    async fn wanted(&self) -> Option<BTreeMap<String, BTreeSet<FunctionRef>>> {
        let namespaces = self.provider.list_namespaces().await.ok()?;
        let mut wanted: BTreeMap<String, BTreeSet<FunctionRef>> = BTreeMap::new();
        for namespace in namespaces {
            let functions = self.provider.list(&namespace).await.ok()?;
            for status in functions {
                let Some(topics) = status
                    .annotations
                    .as_ref()
                    .and_then(|annotations| annotations.get(TOPIC_ANNOTATION))
                else {
                    continue;
                };
                for subject in subjects(topics) {
                    wanted
                        .entry(subject.to_string())
                        .or_default()
                        .insert(FunctionRef::new(status.name.clone(), namespace.clone()));
                }
            }
        }
        Some(wanted)
    }

    /// Brings the subscriptions in line with the functions' annotations.
    pub async fn refresh(&self) {
        if *self.stopped.borrow() {
            return;
        }
        let Some(wanted) = self.wanted().await else {
            tracing::debug!("triggers: functions unavailable; bindings kept");
            return;
        };
        let mut bindings = self.bindings.lock().await;
        bindings.retain(|subject, binding| {
            let keep = wanted.contains_key(subject);
            if !keep {
                binding.task.abort();
                tracing::info!(subject, "trigger unbound");
            }
            keep
        });
        for (subject, functions) in wanted {
            let functions: Vec<FunctionRef> = functions.into_iter().collect();
            if let Some(binding) = bindings.get(&subject) {
                let mut current = binding
                    .functions
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if *current != functions {
                    tracing::info!(subject, ?functions, "trigger rebound");
                    *current = functions;
                }
                continue;
            }
            let subscriber = match self
                .client
                .queue_subscribe(subject.clone(), self.config.queue_group.clone())
                .await
            {
                Ok(subscriber) => subscriber,
                Err(error) => {
                    tracing::warn!(subject, %error, "trigger: cannot subscribe");
                    continue;
                }
            };
            tracing::info!(subject, ?functions, "trigger bound");
            let functions = Arc::new(RwLock::new(functions));
            // A binding made while `stop` runs (it could not take the lock) ends at once.
            let task = tokio::spawn(serve(
                subscriber,
                Arc::from(subject.as_str()),
                functions.clone(),
                Dispatch {
                    client: self.client.clone(),
                    provider: self.provider.clone(),
                    metrics: self.metrics.clone(),
                    inflight: self.inflight.clone(),
                },
                self.stopped.subscribe(),
            ));
            bindings.insert(subject, Binding { functions, task });
        }
    }
}

impl Drop for Triggers {
    fn drop(&mut self) {
        for binding in self.bindings.get_mut().values() {
            binding.task.abort();
        }
    }
}

#[derive(Clone)]
struct Dispatch {
    client: async_nats::Client,
    provider: Arc<dyn Provider>,
    metrics: QueueMetrics,
    inflight: Arc<Semaphore>,
}

async fn serve(
    mut subscriber: async_nats::Subscriber,
    subject: Arc<str>,
    functions: Arc<RwLock<Vec<FunctionRef>>>,
    dispatch: Dispatch,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let message = tokio::select! {
            biased;
            _ = stopped.wait_for(|stopped| *stopped) => return,
            message = subscriber.next() => message,
        };
        let Some(message) = message else { return };
        let Ok(permit) = dispatch.inflight.clone().acquire_owned().await else {
            return;
        };
        let targets = functions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let dispatch = dispatch.clone();
        let subject = subject.clone();
        tokio::spawn(async move {
            for function in targets {
                dispatch.deliver(&subject, &function, &message).await;
            }
            drop(permit);
        });
    }
}

impl Dispatch {
    async fn deliver(
        &self,
        binding: &Arc<str>,
        function: &FunctionRef,
        message: &async_nats::Message,
    ) {
        let mut request = http::Request::builder()
            .method("POST")
            .uri("/")
            .body(Body::from(message.payload.clone()))
            .expect("a static request is valid");
        let headers = request.headers_mut();
        if let Some(nats_headers) = &message.headers {
            for (name, values) in nats_headers.iter() {
                let Ok(name) = HeaderName::from_bytes(name.to_string().as_bytes()) else {
                    continue;
                };
                for value in values {
                    if let Ok(value) = HeaderValue::from_str(value.as_str()) {
                        headers.append(name.clone(), value);
                    }
                }
            }
        }
        if let Ok(topic) = HeaderValue::from_str(message.subject.as_str()) {
            headers.insert(TOPIC_HEADER, topic);
        }
        let (status, body) = match self.provider.invoke(function, request).await {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = http_body_util::Limited::new(response.into_body(), REPLY_LIMIT)
                    .collect()
                    .await
                    .map(|collected| collected.to_bytes());
                match body {
                    Ok(body) => (status, body),
                    Err(error) => (502, Bytes::from(format!("reading the answer: {error}"))),
                }
            }
            Err(error) => (
                faas_provider::server::status_of(&error).as_u16(),
                Bytes::from(error.to_string()),
            ),
        };
        if status >= 400 {
            tracing::warn!(subject = %message.subject, function = %function, status, "trigger: function failed");
            self.metrics.message(binding, "failed");
        } else {
            self.metrics.message(binding, "invoked");
        }
        if let Some(reply) = &message.reply {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(STATUS_HEADER, status.to_string().as_str());
            headers.insert(NAME_HEADER, function.name.as_str());
            if let Err(error) = self
                .client
                .publish_with_headers(reply.clone(), headers, body)
                .await
            {
                tracing::warn!(%reply, %error, "trigger: reply not sent");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::subjects;

    #[test]
    fn topics_are_comma_separated_and_trimmed() {
        let list: Vec<&str> = subjects(" orders.* , audit,,  a.>").collect();
        assert_eq!(list, ["orders.*", "audit", "a.>"]);
        assert_eq!(subjects("").count(), 0);
    }
}
