//! The running federation, put together as `faas-federation` runs it (and as tests and
//! embedders can): the backends behind a [`FederatedProvider`], the [`Scaler`] in front of it
//! (scale from zero, autoscaler, idler), the async queue and its worker, the NATS subject
//! triggers when `nats_url` is set, and the router serving all of it (the OpenFaaS API, the
//! async routes and the AWS Lambda API).

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use faas_provider::{Provider, ServerConfig};
use http::Method;
use prometheus_client::registry::Registry;

use crate::config::{ConfigError, FederationConfig};
use crate::provider::FederatedProvider;
use crate::queue::{
    EmbeddedQueue, JetStreamQueue, Queue, QueueError, QueueMetrics, Worker, accept,
};
use crate::scaling::Scaler;
use crate::triggers::Triggers;

/// Why the federation could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// A backend could not be built.
    #[error("building the backends: {0}")]
    Backends(#[from] ConfigError),
    /// The JetStream queue could not be set up.
    #[error("setting up the async queue: {0}")]
    Queue(#[from] QueueError),
    /// NATS could not be reached for the triggers.
    #[error("connecting to NATS at {url} for the subject triggers: {reason}")]
    Nats {
        /// `nats_url`.
        url: String,
        /// What the client said.
        reason: String,
    },
}

/// A started federation; it stops taking work when it is dropped (see its `Drop`).
pub struct Runtime {
    /// The backends, routed by annotation.
    pub federation: Arc<FederatedProvider>,
    /// The scaler in front of them: the provider every route and the worker use.
    pub scaler: Arc<Scaler>,
    /// Where async calls wait.
    pub queue: Arc<dyn Queue>,
    /// Subject triggers, when NATS is configured.
    pub triggers: Option<Arc<Triggers>>,
    config: FederationConfig,
    queue_metrics: QueueMetrics,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("federation", &self.federation)
            .field("queue", &self.queue.kind())
            .field("triggers", &self.triggers.is_some())
            .finish_non_exhaustive()
    }
}

impl Drop for Runtime {
    /// Stops the background tasks, closes the queue and unbinds the triggers, so that nothing
    /// of this instance takes work any more even while its routes are still served (an
    /// accept then answers 503): calls and messages already taken run to the end.
    fn drop(&mut self) {
        self.queue.close();
        if let Some(triggers) = &self.triggers {
            triggers.stop();
        }
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Runtime {
    /// Builds the backends, rebuilds the routing table from them, and starts the health
    /// monitor, the scaler's loop, the async worker and (with `nats_url`) the triggers. Every
    /// metric is registered into `registry`.
    pub async fn start(
        config: &FederationConfig,
        registry: &mut Registry,
    ) -> Result<Self, StartError> {
        let federation = Arc::new(FederatedProvider::from_config(config).await?);
        federation.register_metrics(registry);
        federation.start().await;
        let mut tasks = vec![federation.spawn_monitor(config.health_interval)];

        let scaler = Arc::new(Scaler::new(
            federation.clone(),
            config.settings.scaling.clone(),
        ));
        scaler.register_metrics(registry);
        tasks.push(scaler.spawn());
        let top: Arc<dyn Provider> = scaler.clone();

        let queue_metrics = QueueMetrics::default();
        queue_metrics.register(registry);
        let queue: Arc<dyn Queue> = match &config.settings.nats {
            Some(nats) => Arc::new(JetStreamQueue::connect(nats.jetstream.clone()).await?),
            None => Arc::new(EmbeddedQueue::new(
                config.settings.async_calls.queue_capacity,
            )),
        };
        let worker = Arc::new(Worker::new(
            queue.clone(),
            top.clone(),
            config.settings.async_calls.clone(),
            queue_metrics.clone(),
        ));
        tasks.push(worker.spawn());

        let triggers = match &config.settings.nats {
            Some(nats) => {
                let client = async_nats::connect(&nats.jetstream.url)
                    .await
                    .map_err(|error| StartError::Nats {
                        url: nats.jetstream.url.clone(),
                        reason: error.to_string(),
                    })?;
                let triggers = Triggers::new(
                    client,
                    top.clone(),
                    nats.triggers.clone(),
                    queue_metrics.clone(),
                );
                tasks.push(triggers.spawn());
                Some(triggers)
            }
            None => None,
        };
        Ok(Self {
            federation,
            scaler,
            queue,
            triggers,
            config: config.clone(),
            queue_metrics,
            tasks,
        })
    }

    /// The provider the routes serve: the scaler over the federation.
    pub fn provider(&self) -> Arc<dyn Provider> {
        self.scaler.clone()
    }

    /// Every route: the OpenFaaS provider API over [`Runtime::provider`] (with `/metrics`
    /// exporting `registry`), `/async-function/...`, the missing-backends header, and a hook
    /// that refreshes the trigger bindings after every deploy, update and delete. Invocations
    /// are bounded by the invocation deadline (`upstream_timeout`, or a backend's
    /// `invoke_timeout`), not by `server`'s `read_timeout`/`write_timeout`.
    pub fn router(&self, server: &ServerConfig, registry: Registry) -> Router {
        let async_routes = accept::routes(
            self.provider(),
            self.queue.clone(),
            self.config.settings.async_calls.clone(),
            self.queue_metrics.clone(),
        );
        // The federation bounds each invocation by its backend's deadline and names the backend
        // when it cuts one; the server's own bound is the longest of them, never shorter.
        let server = ServerConfig {
            invoke_timeout: Some(self.federation.invoke_bound()),
            ..server.clone()
        };
        let mut router =
            crate::server::router(self.provider(), &server, registry).merge(async_routes);
        if let Some(lambda_api) = &self.config.settings.lambda_api {
            let mut lambda_api = lambda_api.clone();
            lambda_api.lambda_backends = self
                .config
                .backends
                .iter()
                .filter(|backend| backend.spec.kind() == "lambda")
                .map(|backend| backend.name.clone())
                .collect();
            lambda_api.federation_default_backend = Some(self.config.default_backend.clone());
            router = router.merge(crate::lambda_api::routes(
                self.provider(),
                self.queue.clone(),
                lambda_api,
            ));
        }
        if let Some(triggers) = &self.triggers {
            let triggers = triggers.clone();
            router = router.layer(axum::middleware::from_fn(move |request, next| {
                let triggers = triggers.clone();
                async move { refresh_after_change(triggers, request, next).await }
            }));
        }
        router
    }
}

/// After a successful deploy, update or delete, the trigger bindings are recomputed at once.
async fn refresh_after_change(triggers: Arc<Triggers>, request: Request, next: Next) -> Response {
    let changes = request.uri().path() == "/system/functions"
        && [Method::POST, Method::PUT, Method::DELETE].contains(request.method());
    let response = next.run(request).await;
    if changes && response.status().is_success() {
        triggers.changed();
    }
    response
}
