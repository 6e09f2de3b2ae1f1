//! [`LambdaProvider`]: the OpenFaaS provider API over AWS Lambda (aws-sdk-lambda).
//!
//! - **deploy** packages the image into a `provided.al2023` zip ([`Packager`]), creates the
//!   function (handler `bootstrap`, the image's architecture, memory/timeout from limits and
//!   annotations, environment from `envVars`/`envProcess`/secrets, the configured execution
//!   role), waits until it is `Active`, and applies the replica count (below). Every limit
//!   Lambda would refuse (50 MB zip, 4 KB environment, memory/timeout ranges, tag space) is
//!   checked first and refused with a 400; a function that fails to become active is deleted.
//! - **state** lives in Lambda only ([`record`]): the whole spec in tags, the namespace in the
//!   description, so `get`/`list` are rebuilt from Lambda after a restart or on another host.
//! - **replicas ↔ reserved concurrency**: `scale(N)` reserves N concurrent executions
//!   (`PutFunctionConcurrency`); `scale(0)` reserves 0, so Lambda throttles every invoke and the
//!   status says 0/0 (invoking answers 503 "no endpoints", the gateway's cue to scale from zero).
//!   Label `com.openfaas.scale.min` sets the reservation at deploy (and raises it on update);
//!   without it there is no reservation (reported as 1 replica); an update that removes the
//!   label removes the reservation. `availableReplicas` = replicas while the function's state
//!   is `Active` (or `Inactive`, which Lambda re-activates on invoke), else 0.
//! - **invoke** sends an API Gateway v2 event ([`invoke`]) and maps the answer back; function
//!   errors are 500 (504 for timeouts) with the error message, throttling 429, payloads over
//!   6 MB 413, unknown functions 503 (the server's "no endpoints").
//! - **secrets** live in AWS Secrets Manager ([`crate::secrets`]).
//! - one namespace (`function_namespace`, default `openfaas-fn`); logs are not implemented
//!   (they are in CloudWatch).

pub mod config;
pub mod error;
pub mod invoke;
pub mod launch;
pub mod packager;
pub mod record;
pub mod settings;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::timeout::TimeoutConfig;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture, Environment, FunctionCode, FunctionConfiguration, LastUpdateStatus, PackageType,
    Runtime, State,
};
use chrono::{DateTime, Utc};
use faas_provider::types::LABEL_SCALE_MIN;
use faas_provider::{
    Body, Capabilities, FunctionDeployment, FunctionRef, FunctionStatus, Provider, ProviderError,
    ProviderInfo, Result, Secret,
};
use futures::StreamExt;

pub use config::{ConfigError, LambdaConfig};
pub use error::PROVIDER_NAME;
pub use invoke::{AwsInvoker, Deployed, Invoked, Invoker};
pub use packager::{ImagePackager, PackageRequest, Packaged, Packager};
pub use settings::Arch;

use crate::secrets::{SecretStore, SecretValues};
use error::{Subject, backend, from_sdk};

/// AWS's limit on a zip uploaded directly (`ZipFile`), bytes (50 MiB). moto accepts more; the
/// provider refuses bigger packages itself.
pub const MAX_ZIP_BYTES: u64 = 50 * 1024 * 1024;

/// The handler of every function (a custom runtime only sees it as `_HANDLER`).
pub const HANDLER: &str = "bootstrap";

/// Loads the AWS configuration: the SDK's usual sources (environment, profiles, web identity,
/// IMDS...), with the region and endpoint overrides of `config`.
pub async fn load_aws_config(config: &LambdaConfig) -> aws_config::SdkConfig {
    aws_config_loader(config).load().await
}

/// The loader [`load_aws_config`] uses (the SDK's usual sources, `config`'s region and endpoint
/// overrides), for callers that add to it (e.g. static credentials, [`launch::Launch`]).
pub fn aws_config_loader(config: &LambdaConfig) -> aws_config::ConfigLoader {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = &config.region {
        loader = loader.region(aws_sdk_lambda::config::Region::new(region.clone()));
    }
    if let Some(url) = &config.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader
}

/// The control-plane Lambda client: bounded retries and per-call timeout from `config`.
pub fn lambda_client(sdk: &aws_config::SdkConfig, config: &LambdaConfig) -> aws_sdk_lambda::Client {
    let conf = aws_sdk_lambda::config::Builder::from(sdk)
        .retry_config(RetryConfig::standard().with_max_attempts(config.max_attempts))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_timeout(config.call_timeout)
                .build(),
        )
        .build();
    aws_sdk_lambda::Client::from_conf(conf)
}

/// The Lambda client for invocations: `invoke_max_attempts` attempts (default 1), no overall
/// timeout (the server bounds invocations by its read/write timeouts).
pub fn invoke_client(sdk: &aws_config::SdkConfig, config: &LambdaConfig) -> aws_sdk_lambda::Client {
    let conf = aws_sdk_lambda::config::Builder::from(sdk)
        .retry_config(RetryConfig::standard().with_max_attempts(config.invoke_max_attempts))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .build(),
        )
        .build();
    aws_sdk_lambda::Client::from_conf(conf)
}

/// The Secrets Manager client (same bounds as the control plane).
pub fn secrets_client(
    sdk: &aws_config::SdkConfig,
    config: &LambdaConfig,
) -> aws_sdk_secretsmanager::Client {
    let conf = aws_sdk_secretsmanager::config::Builder::from(sdk)
        .retry_config(
            aws_sdk_secretsmanager::config::retry::RetryConfig::standard()
                .with_max_attempts(config.max_attempts),
        )
        .timeout_config(
            aws_sdk_secretsmanager::config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_timeout(config.call_timeout)
                .build(),
        )
        .build();
    aws_sdk_secretsmanager::Client::from_conf(conf)
}

/// An OpenFaaS provider on AWS Lambda. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct LambdaProvider {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for LambdaProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaProvider")
            .field("config", &self.inner.config)
            .field("orchestration", &self.inner.orchestration)
            .finish_non_exhaustive()
    }
}

struct Inner {
    config: LambdaConfig,
    lambda: aws_sdk_lambda::Client,
    invoker: Arc<dyn Invoker>,
    packager: Arc<dyn Packager>,
    secrets: SecretStore,
    orchestration: &'static str,
    /// One lock per function: mutations of a function are serialized (in this process).
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Invocations that reached each function (by Lambda name), since this process started
    /// or the function was deployed: Lambda keeps no such count (CloudWatch has it, delayed).
    invocations: Mutex<HashMap<String, u64>>,
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
                locks: Mutex::new(HashMap::new()),
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

/// A function as read from Lambda.
struct View {
    spec: FunctionDeployment,
    created: DateTime<Utc>,
    configuration: FunctionConfiguration,
    tags: HashMap<String, String>,
    reserved: Option<u32>,
}

/// What deploy and update have prepared before touching Lambda.
struct Prepared {
    settings: settings::Settings,
    env: BTreeMap<String, String>,
    tags: BTreeMap<String, String>,
}

impl Inner {
    fn lambda_name(&self, name: &str) -> String {
        format!("{}{name}", self.config.function_prefix)
    }

    async fn lock(&self, name: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = self
            .locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(name.to_string())
            .or_default()
            .clone();
        lock.lock_owned().await
    }

    fn check_namespace(&self, namespace: &str) -> Result<()> {
        if namespace.is_empty() || namespace == self.config.namespace {
            Ok(())
        } else {
            Err(ProviderError::invalid(format!(
                "namespace {namespace} not valid: this provider serves only {}",
                self.config.namespace
            )))
        }
    }

    fn function_ref(&self, spec: &FunctionDeployment) -> FunctionRef {
        FunctionRef::new(spec.service.clone(), self.config.namespace.clone())
    }

    /// Checks everything Lambda would refuse and computes settings, environment and tags.
    async fn prepare(
        &self,
        spec: &mut FunctionDeployment,
        created: DateTime<Utc>,
    ) -> Result<Prepared> {
        self.check_namespace(&spec.namespace)?;
        spec.namespace = self.config.namespace.clone();
        faas_provider::types::name::validate_service(&spec.service)?;
        if spec.image.trim().is_empty() {
            return Err(ProviderError::invalid(
                "validation failed: image: is required",
            ));
        }
        let lambda_name = self.lambda_name(&spec.service);
        if lambda_name.len() > 64 {
            return Err(ProviderError::invalid(format!(
                "the Lambda function name {lambda_name:?} is longer than Lambda's 64 characters"
            )));
        }
        let settings = settings::settings(
            spec,
            self.config.default_memory_mb,
            self.config.default_timeout,
        )?;
        let values: SecretValues = self.secrets.values(&spec.namespace, &spec.secrets).await?;
        let env = settings::environment(spec, values.to_env_value())?;
        let tags = record::tags(spec, created)?;
        Ok(Prepared {
            settings,
            env,
            tags,
        })
    }

    /// Packages `spec.image` into `dir/function.zip`, refusing zips over [`MAX_ZIP_BYTES`].
    async fn package(
        &self,
        spec: &FunctionDeployment,
        settings: &settings::Settings,
        dir: &std::path::Path,
    ) -> Result<(std::path::PathBuf, Packaged, Vec<u8>)> {
        let zip = dir.join("function.zip");
        let request = PackageRequest {
            architecture: settings.architecture,
        };
        let packaged = self.packager.package(&spec.image, &request, &zip).await?;
        let size = tokio::fs::metadata(&zip).await.map_err(backend)?.len();
        if size > MAX_ZIP_BYTES {
            return Err(ProviderError::invalid(format!(
                "the packaged function is {size} bytes zipped; Lambda accepts at most {MAX_ZIP_BYTES} bytes for a direct upload"
            )));
        }
        let bytes = tokio::fs::read(&zip).await.map_err(backend)?;
        Ok((zip, packaged, bytes))
    }

    /// The function as stored, `None` when absent or not this provider's (in this namespace).
    async fn view(&self, function: &FunctionRef) -> Result<Option<View>> {
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

    async fn reserved(&self, lambda_name: &str, function: &str) -> Result<Option<u32>> {
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

    fn status(&self, view: &View) -> FunctionStatus {
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

    /// Polls until the function is `Active` and its last update `Successful`, at most
    /// `ready_timeout` (moto never reports `Pending`; AWS does for seconds to minutes).
    async fn wait_settled(&self, lambda_name: &str, function: &str) -> Result<String> {
        let deadline = tokio::time::Instant::now() + self.config.ready_timeout;
        let mut pause = Duration::from_millis(100);
        loop {
            let configuration = self
                .lambda
                .get_function_configuration()
                .function_name(lambda_name)
                .send()
                .await
                .map_err(|e| from_sdk(e, Subject::Function(function)))?;
            let state = configuration.state().cloned();
            let update = configuration.last_update_status().cloned();
            match (&state, &update) {
                (Some(State::Failed), _) => {
                    return Err(ProviderError::invalid(format!(
                        "Lambda could not activate {function}: {}: {}",
                        configuration
                            .state_reason_code()
                            .map(|c| c.as_str())
                            .unwrap_or("Failed"),
                        configuration.state_reason().unwrap_or("no reason given")
                    )));
                }
                (_, Some(LastUpdateStatus::Failed)) => {
                    return Err(ProviderError::invalid(format!(
                        "Lambda could not update {function}: {}: {}",
                        configuration
                            .last_update_status_reason_code()
                            .map(|c| c.as_str())
                            .unwrap_or("Failed"),
                        configuration
                            .last_update_status_reason()
                            .unwrap_or("no reason given")
                    )));
                }
                (Some(State::Pending), _) | (_, Some(LastUpdateStatus::InProgress)) => {}
                _ => return Ok(configuration.code_sha256().unwrap_or_default().to_string()),
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ProviderError::Timeout(format!(
                    "{function} is not active after {:?} (state {state:?}, last update {update:?})",
                    self.config.ready_timeout
                )));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    /// Sets (`Some`) or removes (`None`) the reservation, and tells the invoker.
    async fn set_reserved(
        &self,
        lambda_name: &str,
        function: &str,
        reserved: Option<u32>,
    ) -> Result<()> {
        match reserved {
            Some(n) => {
                let n = i32::try_from(n).map_err(|_| {
                    ProviderError::invalid(format!("{n} replicas is more than Lambda can reserve"))
                })?;
                self.lambda
                    .put_function_concurrency()
                    .function_name(lambda_name)
                    .reserved_concurrent_executions(n)
                    .send()
                    .await
                    .map_err(|e| from_sdk(e, Subject::Function(function)))?;
            }
            None => {
                self.lambda
                    .delete_function_concurrency()
                    .function_name(lambda_name)
                    .send()
                    .await
                    .map_err(|e| from_sdk(e, Subject::Function(function)))?;
            }
        }
        self.invoker.scaled(lambda_name, reserved).await;
        Ok(())
    }

    async fn tell_invoker(
        &self,
        lambda_name: &str,
        zip: &std::path::Path,
        code_sha256: &str,
        prepared: &Prepared,
    ) -> Result<()> {
        self.invoker
            .deployed(Deployed {
                lambda_name,
                zip,
                code_sha256,
                timeout: prepared.settings.timeout,
                memory_mb: prepared.settings.memory_mb,
                env: &prepared.env,
            })
            .await
    }

    async fn deploy(&self, mut spec: FunctionDeployment) -> Result<()> {
        let created = Utc::now();
        let prepared = self.prepare(&mut spec, created).await?;
        let function = self.function_ref(&spec);
        let qualified = function.to_string();
        let lambda_name = self.lambda_name(&spec.service);
        let _lock = self.lock(&lambda_name).await;
        match self
            .lambda
            .get_function()
            .function_name(&lambda_name)
            .send()
            .await
        {
            Ok(_) => return Err(ProviderError::function_exists(&function)),
            Err(e) => match from_sdk(e, Subject::Function(&qualified)) {
                ProviderError::NotFound { .. } => {}
                other => return Err(other),
            },
        }
        let dir = tempfile::tempdir().map_err(backend)?;
        let (zip, packaged, bytes) = self.package(&spec, &prepared.settings, dir.path()).await?;
        let mut create = self
            .lambda
            .create_function()
            .function_name(&lambda_name)
            .role(&self.config.role_arn)
            .runtime(Runtime::Providedal2023)
            .handler(HANDLER)
            .package_type(PackageType::Zip)
            .architectures(Architecture::from(packaged.architecture.as_lambda_str()))
            .code(FunctionCode::builder().zip_file(Blob::new(bytes)).build())
            .description(record::description(&spec.namespace, &spec.image))
            .timeout(prepared.settings.timeout.as_secs() as i32)
            .memory_size(prepared.settings.memory_mb as i32)
            .environment(
                Environment::builder()
                    .set_variables(Some(prepared.env.clone().into_iter().collect()))
                    .build(),
            );
        for (key, value) in &prepared.tags {
            create = create.tags(key, value);
        }
        create
            .send()
            .await
            .map_err(|e| match from_sdk(e, Subject::Function(&qualified)) {
                // Lambda's "Function already exist" is a conflict.
                ProviderError::NotReady { .. } => ProviderError::function_exists(&function),
                other => other,
            })?;
        let finish = async {
            let settled = self.wait_settled(&lambda_name, &qualified).await?;
            if spec.label(LABEL_SCALE_MIN).is_some() {
                self.set_reserved(&lambda_name, &qualified, Some(spec.min_replicas() as u32))
                    .await?;
            }
            self.tell_invoker(&lambda_name, &zip, &settled, &prepared)
                .await
        };
        if let Err(error) = finish.await {
            // Leave nothing behind.
            let _ = self
                .lambda
                .delete_function()
                .function_name(&lambda_name)
                .send()
                .await;
            self.invoker.removed(&lambda_name).await;
            return Err(error);
        }
        tracing::info!(function = %qualified, image = %spec.image, architecture = packaged.architecture.as_lambda_str(),
            zipped_bytes = packaged.zipped_bytes, "deployed");
        Ok(())
    }

    async fn update(&self, mut spec: FunctionDeployment) -> Result<()> {
        self.check_namespace(&spec.namespace)?;
        let function = self.function_ref(&spec);
        let qualified = function.to_string();
        let lambda_name = self.lambda_name(&spec.service);
        let _lock = self.lock(&lambda_name).await;
        let old = self
            .view(&function)
            .await?
            .ok_or_else(|| ProviderError::function_not_found(&function))?;
        let prepared = self.prepare(&mut spec, old.created).await?;
        let dir = tempfile::tempdir().map_err(backend)?;
        let (zip, packaged, bytes) = self.package(&spec, &prepared.settings, dir.path()).await?;
        self.lambda
            .update_function_code()
            .function_name(&lambda_name)
            .zip_file(Blob::new(bytes))
            .architectures(Architecture::from(packaged.architecture.as_lambda_str()))
            .send()
            .await
            .map_err(|e| from_sdk(e, Subject::Function(&qualified)))?;
        self.wait_settled(&lambda_name, &qualified).await?;
        self.lambda
            .update_function_configuration()
            .function_name(&lambda_name)
            .role(&self.config.role_arn)
            .runtime(Runtime::Providedal2023)
            .handler(HANDLER)
            .description(record::description(&spec.namespace, &spec.image))
            .timeout(prepared.settings.timeout.as_secs() as i32)
            .memory_size(prepared.settings.memory_mb as i32)
            .environment(
                Environment::builder()
                    .set_variables(Some(prepared.env.clone().into_iter().collect()))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| from_sdk(e, Subject::Function(&qualified)))?;
        let settled = self.wait_settled(&lambda_name, &qualified).await?;
        let arn = old
            .configuration
            .function_arn()
            .map(str::to_string)
            .ok_or_else(|| backend(format!("{qualified} has no ARN")))?;
        let stale = record::stale_keys(&old.tags, &prepared.tags);
        if !stale.is_empty() {
            self.lambda
                .untag_resource()
                .resource(&arn)
                .set_tag_keys(Some(stale))
                .send()
                .await
                .map_err(|e| from_sdk(e, Subject::Function(&qualified)))?;
        }
        self.lambda
            .tag_resource()
            .resource(&arn)
            .set_tags(Some(prepared.tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| from_sdk(e, Subject::Function(&qualified)))?;
        let reserved = match (spec.label(LABEL_SCALE_MIN), old.spec.label(LABEL_SCALE_MIN)) {
            (Some(_), _) => Some(Some(
                (spec.min_replicas() as u32).max(old.reserved.unwrap_or(0)),
            )),
            (None, Some(_)) => Some(None),
            (None, None) => None,
        };
        if let Some(reserved) = reserved
            && reserved != old.reserved
        {
            self.set_reserved(&lambda_name, &qualified, reserved)
                .await?;
        }
        self.tell_invoker(&lambda_name, &zip, &settled, &prepared)
            .await?;
        tracing::info!(function = %qualified, image = %spec.image, "updated");
        Ok(())
    }

    async fn delete(&self, function: &FunctionRef) -> Result<()> {
        self.check_namespace(&function.namespace)?;
        let lambda_name = self.lambda_name(&function.name);
        let _lock = self.lock(&lambda_name).await;
        if self.view(function).await?.is_none() {
            return Err(ProviderError::function_not_found(function));
        }
        self.lambda
            .delete_function()
            .function_name(&lambda_name)
            .send()
            .await
            .map_err(|e| from_sdk(e, Subject::Function(&function.to_string())))?;
        self.invoker.removed(&lambda_name).await;
        self.invocations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&lambda_name);
        tracing::info!(%function, "deleted");
        Ok(())
    }

    async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        self.check_namespace(&function.namespace)?;
        let lambda_name = self.lambda_name(&function.name);
        let _lock = self.lock(&lambda_name).await;
        if self.view(function).await?.is_none() {
            return Err(ProviderError::function_not_found(function));
        }
        let reserved = u32::try_from(replicas).map_err(|_| {
            ProviderError::invalid(format!(
                "{replicas} replicas is more than Lambda can reserve"
            ))
        })?;
        self.set_reserved(&lambda_name, &function.to_string(), Some(reserved))
            .await?;
        tracing::info!(%function, replicas, "scaled (reserved concurrency)");
        Ok(())
    }

    async fn list(&self, namespace: &str) -> Result<Vec<FunctionStatus>> {
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
        ))
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
