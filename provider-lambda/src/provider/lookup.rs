//! Reading functions back from Lambda, the only place their state lives: one function (its
//! spec from the tags, its configuration and reservation), its OpenFaaS status, and the list of
//! this provider's functions.

use std::collections::HashMap;
use std::sync::PoisonError;

use aws_sdk_lambda::types::{FunctionConfiguration, State};
use chrono::{DateTime, Utc};
use faas_provider::{FunctionDeployment, FunctionRef, FunctionStatus, ProviderError, Result};
use futures::StreamExt;

use super::error::{Subject, backend, from_sdk};
use super::record;
use super::state::Inner;

/// A function as read from Lambda.
pub(super) struct View {
    pub(super) spec: FunctionDeployment,
    pub(super) created: DateTime<Utc>,
    pub(super) configuration: FunctionConfiguration,
    pub(super) tags: HashMap<String, String>,
    pub(super) reserved: Option<u32>,
}

impl Inner {
    /// The function as stored, `None` when absent or not this provider's (in this namespace).
    pub(super) async fn view(&self, function: &FunctionRef) -> Result<Option<View>> {
        let name = self.lambda_name(&function.name);
        let qualified = function.to_string();
        let output = match self.lambda.get_function().function_name(&name).send().await {
            Ok(output) => output,
            Err(e) => {
                return match from_sdk(e, Subject::Function(&qualified)) {
                    ProviderError::NotFound { .. } => Ok(None),
                    other => Err(other),
                };
            }
        };
        let Some(configuration) = output.configuration().cloned() else {
            return Err(backend(format!(
                "GetFunction {name} returned no configuration"
            )));
        };
        let ours = configuration
            .description()
            .and_then(record::namespace_of_description)
            == Some(function.namespace.as_str());
        if !ours {
            return Ok(None);
        }
        let tags = output.tags().cloned().unwrap_or_default();
        let (spec, created) =
            record::from_tags(&tags).map_err(|e| backend(format!("function {qualified}: {e}")))?;
        // moto leaves a reservation of 0 out of GetFunction: ask when absent.
        let reserved = match output
            .concurrency()
            .and_then(|c| c.reserved_concurrent_executions())
        {
            Some(n) => Some(n.max(0) as u32),
            None => self.reserved(&name, &qualified).await?,
        };
        Ok(Some(View {
            spec,
            created,
            configuration,
            tags,
            reserved,
        }))
    }

    pub(super) async fn reserved(&self, lambda_name: &str, function: &str) -> Result<Option<u32>> {
        let output = self
            .lambda
            .get_function_concurrency()
            .function_name(lambda_name)
            .send()
            .await
            .map_err(|e| from_sdk(e, Subject::Function(function)))?;
        Ok(output
            .reserved_concurrent_executions()
            .map(|n| n.max(0) as u32))
    }

    pub(super) fn status(&self, view: &View) -> FunctionStatus {
        let mut status = FunctionStatus::from_deployment(&view.spec, view.created);
        status.namespace = self.config.namespace.clone();
        let lambda_name = self.lambda_name(&view.spec.service);
        status.invocation_count = self
            .invocations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&lambda_name)
            .copied()
            .unwrap_or(0) as f64;
        status.replicas = view.reserved.map(u64::from).unwrap_or(1);
        let serving = matches!(
            view.configuration.state(),
            None | Some(State::Active) | Some(State::Inactive)
        );
        status.available_replicas = if serving { status.replicas } else { 0 };
        status
    }

    pub(super) async fn list(&self, namespace: &str) -> Result<Vec<FunctionStatus>> {
        self.check_namespace(namespace)?;
        let mut names = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .lambda
                .list_functions()
                .max_items(50)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| from_sdk(e, Subject::Function(namespace)))?;
            for configuration in page.functions() {
                let ns = configuration
                    .description()
                    .and_then(record::namespace_of_description);
                if ns != Some(self.config.namespace.as_str()) {
                    continue;
                }
                if let Some(name) = configuration
                    .function_name()
                    .and_then(|n| n.strip_prefix(&self.config.function_prefix))
                {
                    names.push(name.to_string());
                }
            }
            match page.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_string()),
                _ => break,
            }
        }
        let namespace = self.config.namespace.clone();
        let views: Vec<Result<Option<View>>> = futures::stream::iter(names)
            .map(|name| {
                let function = FunctionRef::new(name, namespace.clone());
                async move { self.view(&function).await }
            })
            .buffered(8)
            .collect()
            .await;
        let mut statuses = Vec::new();
        for view in views {
            // A function deleted meanwhile is simply not listed.
            if let Some(view) = view? {
                statuses.push(self.status(&view));
            }
        }
        Ok(statuses)
    }
}
