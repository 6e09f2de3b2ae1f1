//! Test doubles for checking the suite itself: wrappers around a real provider that break one
//! promise, so a test can show that the cases meant to catch it fail.

use std::sync::Arc;

use async_trait::async_trait;
use faas_provider::{
    Body, Capabilities, FunctionDeployment, FunctionNamespace, FunctionRef, FunctionStatus,
    LogRequest, LogStream, Provider, ProviderInfo, Result, Secret,
};

/// What [`DropSettings`] removes from every deployment before passing it on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// `envVars` are emptied.
    EnvVars,
    /// `secrets` are emptied (the secrets themselves still exist).
    Secrets,
}

/// A provider that silently drops part of every deployment (`deploy` and `update`) and passes
/// everything else to the real one: a backend that accepts settings and never applies them.
/// The runtime cases must fail against it; the status-echo cases alone would not notice when
/// the inner provider runs real code.
pub struct DropSettings {
    inner: Arc<dyn Provider>,
    dropped: Dropped,
}

impl DropSettings {
    /// Wraps `inner`, dropping `dropped`.
    pub fn new(inner: Arc<dyn Provider>, dropped: Dropped) -> Self {
        Self { inner, dropped }
    }

    fn strip(&self, mut spec: FunctionDeployment) -> FunctionDeployment {
        match self.dropped {
            Dropped::EnvVars => spec.env_vars.clear(),
            Dropped::Secrets => spec.secrets.clear(),
        }
        spec
    }
}

#[async_trait]
impl Provider for DropSettings {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn info(&self) -> Result<ProviderInfo> {
        self.inner.info().await
    }
    async fn health(&self) -> Result<()> {
        self.inner.health().await
    }
    async fn list(&self, namespace: &str) -> Result<Vec<FunctionStatus>> {
        self.inner.list(namespace).await
    }
    async fn get(&self, function: &FunctionRef) -> Result<FunctionStatus> {
        self.inner.get(function).await
    }
    async fn deploy(&self, spec: FunctionDeployment) -> Result<()> {
        self.inner.deploy(self.strip(spec)).await
    }
    async fn update(&self, spec: FunctionDeployment) -> Result<()> {
        self.inner.update(self.strip(spec)).await
    }
    async fn delete(&self, function: &FunctionRef) -> Result<()> {
        self.inner.delete(function).await
    }
    async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        self.inner.scale(function, replicas).await
    }
    async fn ready(&self, function: &FunctionRef) -> Result<bool> {
        self.inner.ready(function).await
    }
    async fn invoke(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        self.inner.invoke(function, request).await
    }
    async fn list_secrets(&self, namespace: &str) -> Result<Vec<Secret>> {
        self.inner.list_secrets(namespace).await
    }
    async fn create_secret(&self, secret: Secret) -> Result<()> {
        self.inner.create_secret(secret).await
    }
    async fn update_secret(&self, secret: Secret) -> Result<()> {
        self.inner.update_secret(secret).await
    }
    async fn delete_secret(&self, name: &str, namespace: &str) -> Result<()> {
        self.inner.delete_secret(name, namespace).await
    }
    async fn logs(&self, request: LogRequest) -> Result<LogStream> {
        self.inner.logs(request).await
    }
    async fn list_namespaces(&self) -> Result<Vec<String>> {
        self.inner.list_namespaces().await
    }
    async fn get_namespace(&self, name: &str) -> Result<FunctionNamespace> {
        self.inner.get_namespace(name).await
    }
    async fn create_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        self.inner.create_namespace(namespace).await
    }
    async fn update_namespace(&self, namespace: FunctionNamespace) -> Result<()> {
        self.inner.update_namespace(namespace).await
    }
    async fn delete_namespace(&self, name: &str) -> Result<()> {
        self.inner.delete_namespace(name).await
    }
}
