//! `impl Provider for FederatedProvider`: each route of the OpenFaaS provider API mapped onto
//! the owner lookup ([`super::lookup`]), the merged answers and fan-outs ([`super::merge`]) and
//! the invocation path ([`super::invoke`]).

use std::collections::BTreeMap;

use async_trait::async_trait;
use futures::future::join_all;

use faas_provider::{
    Body, Capabilities, FunctionDeployment, FunctionNamespace, FunctionRef, FunctionStatus,
    LogRequest, LogStream, Provider, ProviderError, ProviderInfo, Result, Secret,
};

use super::federated::{FederatedProvider, ORCHESTRATION, PROVIDER_NAME, is_refusal};
use super::lookup::Located;
use super::merge::{no_repair, repair_with};
use crate::backends::Backend;
use crate::cache::BackendIndex;
use crate::fanout;
use crate::scaling::LABEL_MIN;

/// Refuses a replica count the owning backend does not accept, naming it.
fn check_replicas(backend: &Backend, function: &FunctionRef, replicas: u64) -> Result<()> {
    let caps = backend.capabilities();
    if replicas == 0 && !caps.scale_to_zero {
        return Err(ProviderError::invalid(format!(
            "{function}: replicas must be > 0: backend {} does not scale to zero",
            backend.name()
        )));
    }
    match caps.max_replicas {
        Some(max) if replicas > max => Err(ProviderError::invalid(format!(
            "{function}: {replicas} replicas is more than backend {} accepts (max_replicas {max})",
            backend.name()
        ))),
        _ => Ok(()),
    }
}

/// Refuses a deployment whose `com.openfaas.scale.min` is above what its backend accepts.
fn check_min_replicas(backend: &Backend, spec: &FunctionDeployment) -> Result<()> {
    let min = spec
        .labels
        .as_ref()
        .and_then(|labels| labels.get(LABEL_MIN))
        .and_then(|value| value.trim().parse::<u64>().ok());
    match (min, backend.capabilities().max_replicas) {
        (Some(min), Some(max)) if min > max => Err(ProviderError::invalid(format!(
            "{LABEL_MIN} is {min}: more than backend {} accepts (max_replicas {max})",
            backend.name()
        ))),
        _ => Ok(()),
    }
}

#[async_trait]
impl Provider for FederatedProvider {
    /// The default backend's capabilities (where un-annotated functions go).
    fn capabilities(&self) -> Capabilities {
        self.backends[self.default].capabilities()
    }

    /// The capabilities of the backend that owns `function` (the default backend's when the
    /// routing table does not know it yet), so scale to zero and `max_replicas` are judged by
    /// the function's own backend (no I/O).
    fn capabilities_of(&self, function: &FunctionRef) -> Capabilities {
        match self.table.get(function) {
            Some(index) => self.backends[index].capabilities(),
            None => self.default_backend().capabilities(),
        }
    }

    /// `faas-federation`, orchestration `federation (<backend>: <its orchestration>, ...)`
    /// (`unavailable` for a backend that cannot answer), sha of the commit built (`build.rs`).
    /// Never fails.
    async fn info(&self) -> Result<ProviderInfo> {
        let infos = join_all(
            self.backends
                .iter()
                .map(|b| self.call(b, "info", b.provider().info())),
        )
        .await;
        let parts: Vec<String> = self
            .names
            .iter()
            .zip(infos)
            .map(|(name, info)| match info {
                Ok(info) if !info.orchestration.is_empty() => {
                    format!("{name}: {}", info.orchestration)
                }
                Ok(_) => format!("{name}: unknown"),
                Err(_) => format!("{name}: unavailable"),
            })
            .collect();
        Ok(ProviderInfo::new(
            PROVIDER_NAME,
            format!("{ORCHESTRATION} ({})", parts.join(", ")),
            env!("CARGO_PKG_VERSION"),
        )
        .with_sha(env!("FAAS_BUILD_SHA")))
    }

    /// Always OK: the federation serves while backends are down (see `federation_backend_up`).
    async fn health(&self) -> Result<()> {
        Ok(())
    }

    async fn list(&self, namespace: &str) -> Result<Vec<FunctionStatus>> {
        let report = self.list_report(namespace).await?;
        self.left_out("list", &report.missing);
        Ok(report.functions)
    }

    async fn list_json(&self, namespace: &str) -> Result<Vec<u8>> {
        let (list, missing) = self.list_joined(namespace).await?;
        self.left_out("list", &missing);
        Ok(list)
    }

    async fn get(&self, function: &FunctionRef) -> Result<FunctionStatus> {
        self.with_owner(function, "get", |p| p.get(function)).await
    }

    async fn deploy(&self, spec: FunctionDeployment) -> Result<()> {
        let target = self.pick(&spec)?;
        let function = FunctionRef::new(spec.service.clone(), spec.namespace.clone());
        let _guard = self.locks.lock(function.clone()).await;
        match self.locate(&function).await {
            Located::Found(owner) => {
                let backend = &self.backends[owner];
                match self
                    .call(backend, "get", backend.provider().get(&function))
                    .await
                {
                    Ok(_) => {
                        tracing::debug!(%function, owner = %self.names[owner], "deploy refused: exists");
                        return Err(ProviderError::function_exists(&function));
                    }
                    Err(e) if e.is_not_found() => self.table.evict(&function, owner),
                    Err(e) => return Err(e),
                }
            }
            Located::Absent => {}
            Located::Unknown(backends) => {
                let names: Vec<&str> = backends.iter().map(|i| self.names[*i].as_str()).collect();
                tracing::warn!(%function, unreachable = ?names, "deploying without knowing whether these backends hold a function of that name");
            }
        }
        let backend = &self.backends[target];
        check_min_replicas(backend, &spec)?;
        let provider = backend.provider().clone();
        self.write(backend, "deploy", &function, async move {
            provider.deploy(spec).await
        })
        .await?;
        self.table.insert(function.clone(), target);
        tracing::info!(%function, backend = backend.name(), "deployed");
        Ok(())
    }

    async fn update(&self, spec: FunctionDeployment) -> Result<()> {
        let target = self.pick(&spec)?;
        let function = FunctionRef::new(spec.service.clone(), spec.namespace.clone());
        let _guard = self.locks.lock(function.clone()).await;
        let owner = self.resolve(&function).await?;
        check_min_replicas(&self.backends[target], &spec)?;
        if owner == target {
            let backend = &self.backends[owner];
            let provider = backend.provider().clone();
            let result = self
                .write(backend, "update", &function, async move {
                    provider.update(spec).await
                })
                .await;
            if matches!(&result, Err(e) if e.is_not_found()) {
                self.table.evict(&function, owner);
            }
            return result;
        }

        // A move: deploy on the new backend first; the old copy stays if that fails.
        let new = &self.backends[target];
        let old = &self.backends[owner];
        let provider = new.provider().clone();
        let first = spec.clone();
        match self
            .write(new, "deploy", &function, async move {
                provider.deploy(first).await
            })
            .await
        {
            Ok(()) => {}
            // A copy left there by an interrupted move: replace its spec.
            Err(e) if fanout::already_exists(&e) => {
                let provider = new.provider().clone();
                self.write(new, "update", &function, async move {
                    provider.update(spec).await
                })
                .await?;
            }
            Err(e) => {
                tracing::warn!(%function, from = old.name(), to = new.name(), error = %e, "move failed: the function stays where it was");
                return Err(e);
            }
        }
        self.table.insert(function.clone(), target);
        let provider = old.provider().clone();
        let moved = function.clone();
        match self
            .write(old, "delete", &function, async move {
                provider.delete(&moved).await
            })
            .await
        {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => tracing::warn!(%function, backend = old.name(), error = %e,
                "moved, but the old copy could not be deleted; routes prefer the annotated backend"),
        }
        tracing::info!(%function, from = old.name(), to = new.name(), "moved");
        Ok(())
    }

    async fn delete(&self, function: &FunctionRef) -> Result<()> {
        let _guard = self.locks.lock(function.clone()).await;
        self.with_owner_write(function, "delete", |backend| {
            let (provider, function) = (backend.provider().clone(), function.clone());
            Ok(Box::pin(async move { provider.delete(&function).await }))
        })
        .await?;
        self.table.remove(function);
        Ok(())
    }

    /// Checked against the owning backend's capabilities (scale to zero, `max_replicas`),
    /// whichever path asks (the scale route, the scaler, the Lambda API's concurrency).
    async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        self.with_owner_write(function, "scale", |backend| {
            check_replicas(backend, function, replicas)?;
            let (provider, function) = (backend.provider().clone(), function.clone());
            Ok(Box::pin(async move {
                provider.scale(&function, replicas).await
            }))
        })
        .await
    }

    async fn ready(&self, function: &FunctionRef) -> Result<bool> {
        self.with_owner(function, "ready", |p| p.ready(function))
            .await
    }

    async fn invoke(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        self.invoke_on_owner(function, request).await
    }

    async fn list_secrets(&self, namespace: &str) -> Result<Vec<Secret>> {
        let targets = self.supporting("secrets", |c| c.secrets)?;
        let results = join_all(targets.iter().map(|i| {
            let b = &self.backends[*i];
            self.call(b, "list_secrets", b.provider().list_secrets(namespace))
        }))
        .await;
        let mut union = BTreeMap::new();
        let mut missing = Vec::new();
        let mut refusal = None;
        let mut answered = false;
        for (i, result) in targets.iter().zip(results) {
            match result {
                Ok(secrets) => {
                    answered = true;
                    for secret in secrets {
                        union
                            .entry(secret.name.clone())
                            .or_insert_with(|| secret.without_value());
                    }
                }
                Err(e) if is_refusal(&e) => {
                    refusal.get_or_insert(e);
                }
                Err(e) => missing.push((self.names[*i].clone(), e)),
            }
        }
        if !answered {
            return Err(match (refusal, missing.is_empty()) {
                (Some(refusal), true) => refusal,
                _ => missing
                    .into_iter()
                    .next()
                    .map(|(_, e)| e)
                    .unwrap_or_else(|| ProviderError::unsupported("secrets", PROVIDER_NAME)),
            });
        }
        let missing: Vec<(String, String)> = missing
            .into_iter()
            .map(|(n, e)| (n, e.to_string()))
            .collect();
        self.left_out("list_secrets", &missing);
        Ok(union.into_values().collect())
    }

    async fn create_secret(&self, secret: Secret) -> Result<()> {
        let targets = self.supporting("secrets", |c| c.secrets)?;
        let secret = &secret;
        self.mutate(
            targets,
            "create_secret",
            fanout::already_exists,
            |p| p.create_secret(secret.clone()),
            repair_with("update_secret", |p| p.update_secret(secret.clone())),
        )
        .await
    }

    async fn update_secret(&self, secret: Secret) -> Result<()> {
        let targets = self.supporting("secrets", |c| c.secrets)?;
        let secret = &secret;
        self.mutate(
            targets,
            "update_secret",
            fanout::not_found,
            |p| p.update_secret(secret.clone()),
            repair_with("create_secret", |p| p.create_secret(secret.clone())),
        )
        .await
    }

    async fn delete_secret(&self, name: &str, namespace: &str) -> Result<()> {
        let targets = self.supporting("secrets", |c| c.secrets)?;
        self.mutate(
            targets,
            "delete_secret",
            fanout::not_found,
            |p| p.delete_secret(name, namespace),
            no_repair(),
        )
        .await
    }

    async fn logs(&self, request: LogRequest) -> Result<LogStream> {
        let function = request.function.clone();
        let request = &request;
        self.with_owner(&function, "logs", |p| p.logs(request.clone()))
            .await
    }

    async fn list_namespaces(&self) -> Result<Vec<String>> {
        let mut order: Vec<BackendIndex> = vec![self.default];
        order.extend((0..self.backends.len()).filter(|i| *i != self.default));
        let results = join_all(order.iter().map(|i| {
            let b = &self.backends[*i];
            self.call(b, "list_namespaces", b.provider().list_namespaces())
        }))
        .await;
        let mut union: Vec<String> = Vec::new();
        let mut missing = Vec::new();
        let mut first_error = None;
        let mut answered = false;
        for (i, result) in order.iter().zip(results) {
            match result {
                Ok(namespaces) => {
                    answered = true;
                    for ns in namespaces {
                        if !union.contains(&ns) {
                            union.push(ns);
                        }
                    }
                }
                Err(e) => {
                    missing.push((self.names[*i].clone(), e.to_string()));
                    first_error.get_or_insert(e);
                }
            }
        }
        if !answered && let Some(error) = first_error {
            return Err(error);
        }
        self.left_out("list_namespaces", &missing);
        Ok(union)
    }

    async fn get_namespace(&self, name: &str) -> Result<FunctionNamespace> {
        let mut order: Vec<BackendIndex> = vec![self.default];
        order.extend((0..self.backends.len()).filter(|i| *i != self.default));
        let results = join_all(order.iter().map(|i| {
            let b = &self.backends[*i];
            self.call(b, "get_namespace", b.provider().get_namespace(name))
        }))
        .await;
        let mut not_found = None;
        let mut unsupported = None;
        let mut failures = Vec::new();
        for (i, result) in order.iter().zip(results) {
            match result {
                Ok(namespace) => {
                    let missing: Vec<(String, String)> = failures
                        .iter()
                        .map(|(n, e): &(String, ProviderError)| (n.clone(), e.to_string()))
                        .collect();
                    self.left_out("get_namespace", &missing);
                    return Ok(namespace);
                }
                Err(e) if e.is_not_found() => {
                    not_found.get_or_insert(e);
                }
                Err(e) if e.is_unsupported() => {
                    unsupported.get_or_insert(e);
                }
                Err(e) => failures.push((self.names[*i].clone(), e)),
            }
        }
        // Nobody has it: 404 only if every backend that could have it said so.
        if let Some((_, error)) = failures.into_iter().next() {
            return Err(error);
        }
        Err(not_found
            .or(unsupported)
            .unwrap_or_else(|| ProviderError::unsupported("namespaces", PROVIDER_NAME)))
    }

    async fn create_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        let targets = self.supporting("namespaces", |c| c.namespace_mutation)?;
        let namespace = &namespace;
        self.mutate(
            targets,
            "create_namespace",
            fanout::already_exists,
            |p| p.create_namespace(namespace.clone()),
            no_repair(),
        )
        .await
    }

    async fn update_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        let targets = self.supporting("namespaces", |c| c.namespace_mutation)?;
        let namespace = &namespace;
        self.mutate(
            targets,
            "update_namespace",
            fanout::not_found,
            |p| p.update_namespace(namespace.clone()),
            repair_with("create_namespace", |p| {
                p.create_namespace(namespace.clone())
            }),
        )
        .await
    }

    async fn delete_namespace(&self, name: &str) -> Result<()> {
        let targets = self.supporting("namespaces", |c| c.namespace_mutation)?;
        self.mutate(
            targets,
            "delete_namespace",
            fanout::not_found,
            |p| p.delete_namespace(name),
            no_repair(),
        )
        .await
    }
}
