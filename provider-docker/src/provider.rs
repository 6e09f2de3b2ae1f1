//! [`DockerProvider`]: the handle (connect, accessors) and its [`Provider`] implementation,
//! which normalizes names and namespaces and hands each call to [`Inner`]'s operations.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use bollard::Docker;
use faas_provider::sync::KeyedLocks;
use faas_provider::types::name::validate_secret_name;
use faas_provider::types::{namespace_not_found, namespace_or_default, validate_namespace_body};
use faas_provider::{
    Body, Capabilities, DEFAULT_NAMESPACE, FunctionDeployment, FunctionNamespace, FunctionRef,
    FunctionStatus, LogRequest, LogStream, Provider, ProviderError, ProviderInfo, Result, Secret,
};
use futures::future::join_all;

use crate::config::{ConfigError, DockerConfig};
use crate::engine::{self, Engine};
use crate::error::{self, PROVIDER_NAME};
use crate::labels::{self, FunctionView};
use crate::logs;
use crate::readiness::spawn_health_checks;
use crate::routes::Routes;
use crate::shared::Inner;
use crate::store::Store;

/// An OpenFaaS provider over a Docker Engine. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct DockerProvider {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for DockerProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerProvider")
            .field("config", &self.inner.engine.config)
            .finish_non_exhaustive()
    }
}

impl DockerProvider {
    /// Connects to the engine (negotiating its API version), reads what constraints are checked
    /// against, opens the state directory and starts the background health checks.
    pub async fn connect(config: DockerConfig) -> std::result::Result<Self, ConfigError> {
        let host = config
            .docker_host
            .clone()
            .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string());
        let engine_error = |reason: String| ConfigError::Engine {
            host: host.clone(),
            reason,
        };
        let docker = Docker::connect_with_host(&host).map_err(|e| engine_error(e.to_string()))?;
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| engine_error(e.to_string()))?;
        let facts = engine::engine_facts(&docker)
            .await
            .map_err(|e| engine_error(e.to_string()))?;
        let store = Store::open(&config.state_dir).map_err(|source| ConfigError::StateDir {
            path: config.state_dir.clone(),
            source,
        })?;
        let interval = config.health_interval;
        let inner = Arc::new(Inner {
            engine: Engine::new(docker, config, facts, store),
            routes: Routes::default(),
            locks: KeyedLocks::default(),
            pool_lock: tokio::sync::Mutex::new(()),
            recent: Default::default(),
        });
        spawn_health_checks(Arc::downgrade(&inner), interval);
        Ok(Self { inner })
    }

    /// The configuration in use.
    pub fn config(&self) -> &DockerConfig {
        &self.inner.engine.config
    }

    /// The engine client (for embedders and tests that inspect containers).
    pub fn docker(&self) -> &Docker {
        &self.inner.engine.docker
    }

    /// Re-reads every function of this scope from the engine and re-checks replica health (what
    /// the background task does every `health_interval`).
    pub async fn refresh(&self) -> Result<()> {
        self.inner.refresh_all().await
    }
}

#[async_trait]
impl Provider for DockerProvider {
    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::full();
        caps.max_replicas = Some(self.inner.engine.config.max_replicas);
        caps
    }

    async fn info(&self) -> Result<ProviderInfo> {
        Ok(
            ProviderInfo::new(PROVIDER_NAME, "docker", env!("CARGO_PKG_VERSION"))
                .with_sha(env!("FAAS_BUILD_SHA")),
        )
    }

    async fn health(&self) -> Result<()> {
        self.inner
            .engine
            .docker
            .ping()
            .await
            .map(|_| ())
            .map_err(|e| error::unavailable(&e))
    }

    async fn list(&self, namespace: &str) -> Result<Vec<FunctionStatus>> {
        let namespace = namespace_or_default(namespace);
        self.inner.engine.store.require_namespace(namespace)?;
        let inner = &self.inner;
        let known = inner.routes.functions();
        let epochs: HashMap<FunctionRef, u64> = known
            .iter()
            .map(|f| (f.clone(), inner.routes.epoch(f)))
            .collect();
        let records = inner.engine.records(Some(namespace), None).await?;
        let views = FunctionView::group(records);
        let statuses = join_all(views.values().map(|view| async {
            let epoch = epochs
                .get(&view.function)
                .copied()
                .unwrap_or_else(|| inner.routes.epoch(&view.function));
            let observed = inner.observe(view, epoch).await;
            inner.status(view, &observed)
        }))
        .await;
        Ok(statuses)
    }

    async fn get(&self, function: &FunctionRef) -> Result<FunctionStatus> {
        let function = function.or_default_namespace();
        self.inner
            .engine
            .store
            .require_namespace(&function.namespace)?;
        match self.inner.refresh_function(&function).await? {
            Some((view, observed)) => Ok(self.inner.status(&view, &observed)),
            None => Err(ProviderError::function_not_found(&function)),
        }
    }

    async fn deploy(&self, spec: FunctionDeployment) -> Result<()> {
        self.inner.deploy(spec).await
    }

    async fn update(&self, spec: FunctionDeployment) -> Result<()> {
        self.inner.update(spec).await
    }

    async fn delete(&self, function: &FunctionRef) -> Result<()> {
        let function = function.or_default_namespace();
        self.inner
            .engine
            .store
            .require_namespace(&function.namespace)?;
        self.inner.delete(&function).await
    }

    async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        let function = function.or_default_namespace();
        self.inner
            .engine
            .store
            .require_namespace(&function.namespace)?;
        self.inner.scale(&function, replicas).await
    }

    /// True at once when a replica is routed (it passed `/_/health`: what a scale from zero
    /// just did), without asking the engine; otherwise what [`Provider::get`] finds.
    async fn ready(&self, function: &FunctionRef) -> Result<bool> {
        let function = function.or_default_namespace();
        if self.inner.routes.has_ready(&function) {
            return Ok(true);
        }
        Ok(self.get(&function).await?.available_replicas > 0)
    }

    async fn invoke(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        self.inner
            .invoke(&function.or_default_namespace(), request)
            .await
    }

    async fn list_secrets(&self, namespace: &str) -> Result<Vec<Secret>> {
        let namespace = namespace_or_default(namespace);
        let store = &self.inner.engine.store;
        store.require_namespace(namespace)?;
        Ok(store
            .list_secrets(namespace)?
            .into_iter()
            .map(|name| Secret::new(name, namespace, String::new()))
            .collect())
    }

    async fn create_secret(&self, secret: Secret) -> Result<()> {
        validate_secret_name(&secret.name)?;
        let namespace = namespace_or_default(&secret.namespace);
        let store = &self.inner.engine.store;
        store.require_namespace(namespace)?;
        store.write_secret(namespace, &secret.name, secret.bytes(), true)
    }

    async fn update_secret(&self, secret: Secret) -> Result<()> {
        validate_secret_name(&secret.name)?;
        let namespace = namespace_or_default(&secret.namespace);
        let store = &self.inner.engine.store;
        store.require_namespace(namespace)?;
        store.write_secret(namespace, &secret.name, secret.bytes(), false)
    }

    async fn delete_secret(&self, name: &str, namespace: &str) -> Result<()> {
        validate_secret_name(name)?;
        let namespace = namespace_or_default(namespace);
        let store = &self.inner.engine.store;
        store.require_namespace(namespace)?;
        // Replicas that mount it keep their copy, as with faasd; new replicas need it back.
        store.delete_secret(namespace, name)
    }

    async fn logs(&self, request: LogRequest) -> Result<LogStream> {
        let function = request.function.or_default_namespace();
        self.inner
            .engine
            .store
            .require_namespace(&function.namespace)?;
        let engine = &self.inner.engine;
        // Opened first: a replica started while the containers are listed is not missed.
        let watch = request.follow.then(|| {
            let filters = labels::filters(
                &engine.config.scope,
                Some(&function.namespace),
                Some(&function.name),
            );
            logs::watch(&engine.docker, filters)
        });
        let records = engine
            .records(Some(&function.namespace), Some(&function.name))
            .await?;
        if records.is_empty() {
            return Err(ProviderError::function_not_found(&function));
        }
        Ok(logs::stream(&engine.docker, &records, request, watch).await)
    }

    async fn list_namespaces(&self) -> Result<Vec<String>> {
        self.inner.engine.store.list_namespaces()
    }

    async fn get_namespace(&self, name: &str) -> Result<FunctionNamespace> {
        self.inner
            .engine
            .store
            .namespace(name)?
            .ok_or_else(|| namespace_not_found(name))
    }

    async fn create_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        validate_namespace_body(&namespace)?;
        self.inner.engine.store.write_namespace(&namespace, true)
    }

    async fn update_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        validate_namespace_body(&namespace)?;
        self.inner.engine.store.write_namespace(&namespace, false)
    }

    async fn delete_namespace(&self, name: &str) -> Result<()> {
        if name == DEFAULT_NAMESPACE {
            return Err(ProviderError::invalid(format!(
                "the default namespace {DEFAULT_NAMESPACE} cannot be deleted"
            )));
        }
        let store = &self.inner.engine.store;
        if store.namespace(name)?.is_none() {
            return Err(namespace_not_found(name));
        }
        let records = self.inner.engine.records(Some(name), None).await?;
        let views = FunctionView::group(records);
        if !views.is_empty() {
            let names: Vec<&str> = views.keys().map(|f| f.name.as_str()).collect();
            return Err(ProviderError::invalid(format!(
                "namespace {name} still holds {} function(s) ({}): delete them first",
                names.len(),
                names.join(", ")
            )));
        }
        store.delete_namespace(name)
    }
}
