//! The OpenFaaS provider API on [`LambdaProvider`]: each call checks the namespace and maps onto
//! the lookups and lifecycle operations; invocations go through the invoker and are counted.

use std::sync::PoisonError;

use async_trait::async_trait;
use faas_provider::{
    Body, Capabilities, FunctionDeployment, FunctionRef, FunctionStatus, Provider, ProviderError,
    ProviderInfo, Result, Secret,
};

use super::error::{self, PROVIDER_NAME, Subject, from_sdk};
use super::invoke;
use super::state::{Inner, LambdaProvider};

impl Inner {
    /// Invokes through the invoker, counting the invocations that ran; a throttled function
    /// reserved at 0 is scaled to zero ("no endpoints"), any other is busy (429).
    async fn invoke(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        if function.namespace != self.config.namespace {
            return Err(ProviderError::function_not_found(function));
        }
        let lambda_name = self.lambda_name(&function.name);
        let qualified = function.to_string();
        let (payload, head) = invoke::request_payload(request).await?;
        match self.invoker.invoke(&lambda_name, &qualified, payload).await {
            Ok(invoked) => {
                // It ran (its answer may still be an error of its own).
                *self
                    .invocations
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(lambda_name)
                    .or_default() += 1;
                Ok(invoke::response(invoked, head))
            }
            Err(ProviderError::Throttled(reason)) => {
                // Scaled to zero (reserved 0) is "no endpoints" in the gateway's contract, so
                // that scale-from-zero kicks in; a busy function is 429.
                match self.reserved(&lambda_name, &qualified).await {
                    Ok(Some(0)) => Err(ProviderError::NotReady { name: qualified }),
                    _ => Err(ProviderError::Throttled(reason)),
                }
            }
            Err(other) => Err(other),
        }
    }
}

#[async_trait]
impl Provider for LambdaProvider {
    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::default();
        caps.default_namespace = self.inner.config.namespace.clone();
        caps.scale_to_zero = true;
        caps.secrets = true;
        caps.logs = false;
        caps.namespace_mutation = false;
        caps.max_replicas = None;
        caps
    }

    async fn info(&self) -> Result<ProviderInfo> {
        Ok(ProviderInfo::new(
            PROVIDER_NAME,
            self.inner.orchestration,
            env!("CARGO_PKG_VERSION"),
        )
        .with_sha(env!("FAAS_BUILD_SHA")))
    }

    async fn health(&self) -> Result<()> {
        self.inner
            .lambda
            .list_functions()
            .max_items(1)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| match from_sdk(e, Subject::Function("health")) {
                ProviderError::Backend { source, .. } => error::unavailable(source.to_string()),
                other => other,
            })
    }

    async fn list(&self, namespace: &str) -> Result<Vec<FunctionStatus>> {
        self.inner.list(namespace).await
    }

    async fn get(&self, function: &FunctionRef) -> Result<FunctionStatus> {
        self.inner.check_namespace(&function.namespace)?;
        match self.inner.view(function).await? {
            Some(view) => Ok(self.inner.status(&view)),
            None => Err(ProviderError::function_not_found(function)),
        }
    }

    async fn deploy(&self, spec: FunctionDeployment) -> Result<()> {
        self.inner.deploy(spec).await
    }

    async fn update(&self, spec: FunctionDeployment) -> Result<()> {
        self.inner.update(spec).await
    }

    async fn delete(&self, function: &FunctionRef) -> Result<()> {
        self.inner.delete(function).await
    }

    async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        self.inner.scale(function, replicas).await
    }

    async fn invoke(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        self.inner.invoke(function, request).await
    }

    async fn list_secrets(&self, namespace: &str) -> Result<Vec<Secret>> {
        self.inner.check_namespace(namespace)?;
        self.inner.secrets.list(&self.inner.config.namespace).await
    }

    async fn create_secret(&self, secret: Secret) -> Result<()> {
        self.inner.check_namespace(&secret.namespace)?;
        self.inner
            .secrets
            .create(&secret, &self.inner.config.namespace)
            .await
    }

    async fn update_secret(&self, secret: Secret) -> Result<()> {
        self.inner.check_namespace(&secret.namespace)?;
        self.inner
            .secrets
            .update(&secret, &self.inner.config.namespace)
            .await
    }

    async fn delete_secret(&self, name: &str, namespace: &str) -> Result<()> {
        self.inner.check_namespace(namespace)?;
        self.inner
            .secrets
            .delete(name, &self.inner.config.namespace)
            .await
    }

    async fn list_namespaces(&self) -> Result<Vec<String>> {
        Ok(vec![self.inner.config.namespace.clone()])
    }
}
