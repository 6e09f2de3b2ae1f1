//! [`LambdaProvider`], the cheap-to-clone handle, and what it holds: the configuration, the
//! clients, the invoker and packager, the secret store, one lock per function and the
//! invocation counts; with the small helpers every operation uses (names, locks, namespace).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use faas_provider::sync::{KeyedGuard, KeyedLocks};
use faas_provider::{FunctionDeployment, FunctionRef, ProviderError, Result};

use super::clients::{invoke_client, lambda_client, secrets_client};
use super::config::LambdaConfig;
use super::invoke::{AwsInvoker, Invoker};
use super::packager::Packager;
use super::secrets::SecretStore;

/// An OpenFaaS provider on AWS Lambda. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct LambdaProvider {
    pub(super) inner: Arc<Inner>,
}

impl std::fmt::Debug for LambdaProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaProvider")
            .field("config", &self.inner.config)
            .field("orchestration", &self.inner.orchestration)
            .finish_non_exhaustive()
    }
}

/// What every clone of a [`LambdaProvider`] shares.
pub(super) struct Inner {
    pub(super) config: LambdaConfig,
    pub(super) lambda: aws_sdk_lambda::Client,
    pub(super) invoker: Arc<dyn Invoker>,
    pub(super) packager: Arc<dyn Packager>,
    pub(super) secrets: SecretStore,
    pub(super) orchestration: &'static str,
    /// One lock per function: mutations of a function are serialized (in this process; idle
    /// keys are forgotten).
    pub(super) locks: KeyedLocks<String>,
    /// Invocations that reached each function (by Lambda name), since this process started
    /// or the function was deployed: Lambda keeps no such count (CloudWatch has it, delayed).
    pub(super) invocations: Mutex<HashMap<String, u64>>,
}

/// What the provider needs besides its configuration.
pub struct Parts {
    /// The control-plane client ([`lambda_client`]).
    pub lambda: aws_sdk_lambda::Client,
    /// Secrets Manager ([`secrets_client`]).
    pub secrets: aws_sdk_secretsmanager::Client,
    /// Where invocations go ([`AwsInvoker`] or local mode's).
    pub invoker: Arc<dyn Invoker>,
    /// How images become zips.
    pub packager: Arc<dyn Packager>,
    /// Reported in `/system/info` (`lambda`, or `lambda-local`).
    pub orchestration: &'static str,
}

impl LambdaProvider {
    /// A provider from its parts (tests and local mode compose it this way).
    pub fn from_parts(config: LambdaConfig, parts: Parts) -> Self {
        let secrets = SecretStore::new(parts.secrets, config.secrets_prefix.clone());
        Self {
            inner: Arc::new(Inner {
                config,
                lambda: parts.lambda,
                invoker: parts.invoker,
                packager: parts.packager,
                secrets,
                orchestration: parts.orchestration,
                locks: KeyedLocks::default(),
                invocations: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// A provider on AWS (or whatever endpoint the AWS configuration names), invoking through
    /// Lambda's `Invoke` API.
    pub fn aws(
        config: LambdaConfig,
        sdk: &aws_config::SdkConfig,
        packager: Arc<dyn Packager>,
    ) -> Self {
        let parts = Parts {
            lambda: lambda_client(sdk, &config),
            secrets: secrets_client(sdk, &config),
            invoker: Arc::new(AwsInvoker::new(invoke_client(sdk, &config))),
            packager,
            orchestration: "lambda",
        };
        Self::from_parts(config, parts)
    }

    /// The configuration in use.
    pub fn config(&self) -> &LambdaConfig {
        &self.inner.config
    }

    /// The control-plane client (for embedders and tests that inspect Lambda).
    pub fn lambda(&self) -> &aws_sdk_lambda::Client {
        &self.inner.lambda
    }

    /// The Lambda function name of OpenFaaS function `name`.
    pub fn lambda_name(&self, name: &str) -> String {
        self.inner.lambda_name(name)
    }
}

impl Inner {
    pub(super) fn lambda_name(&self, name: &str) -> String {
        format!("{}{name}", self.config.function_prefix)
    }

    pub(super) async fn lock(&self, name: &str) -> KeyedGuard<'_, String> {
        self.locks.lock(name.to_string()).await
    }

    pub(super) fn check_namespace(&self, namespace: &str) -> Result<()> {
        if namespace.is_empty() || namespace == self.config.namespace {
            Ok(())
        } else {
            Err(ProviderError::invalid(format!(
                "namespace {namespace} not valid: this provider serves only {}",
                self.config.namespace
            )))
        }
    }

    pub(super) fn function_ref(&self, spec: &FunctionDeployment) -> FunctionRef {
        FunctionRef::new(spec.service.clone(), self.config.namespace.clone())
    }
}
