//! Deploy, update, delete and scale: everything Lambda would refuse is checked first, the image
//! is packaged, Lambda is told and waited for until the function settles, the reservation
//! follows the replicas, and the invoker learns of the new code.

use std::collections::BTreeMap;
use std::sync::PoisonError;
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture, Environment, FunctionCode, LastUpdateStatus, PackageType, Runtime, State,
};
use chrono::{DateTime, Utc};
use faas_provider::types::LABEL_SCALE_MIN;
use faas_provider::{FunctionDeployment, FunctionRef, ProviderError, Result};

use super::error::{Subject, backend, from_sdk};
use super::invoke::Deployed;
use super::packager::{PackageRequest, Packaged};
use super::record;
use super::secrets::SecretValues;
use super::settings;
use super::state::Inner;

/// AWS's limit on a zip uploaded directly (`ZipFile`), bytes (50 MiB). moto accepts more; the
/// provider refuses bigger packages itself.
pub const MAX_ZIP_BYTES: u64 = 50 * 1024 * 1024;

/// The handler of every function (a custom runtime only sees it as `_HANDLER`).
pub const HANDLER: &str = "bootstrap";

/// What deploy and update have prepared before touching Lambda.
struct Prepared {
    settings: settings::Settings,
    env: BTreeMap<String, String>,
    tags: BTreeMap<String, String>,
}

impl Inner {
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

    pub(super) async fn deploy(&self, mut spec: FunctionDeployment) -> Result<()> {
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
        self.invoker
            .keep_warm(&lambda_name, prepared.settings.warm)
            .await;
        tracing::info!(function = %qualified, image = %spec.image, architecture = packaged.architecture.as_lambda_str(),
            zipped_bytes = packaged.zipped_bytes, "deployed");
        Ok(())
    }

    pub(super) async fn update(&self, mut spec: FunctionDeployment) -> Result<()> {
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
        self.invoker
            .keep_warm(&lambda_name, prepared.settings.warm)
            .await;
        tracing::info!(function = %qualified, image = %spec.image, "updated");
        Ok(())
    }

    pub(super) async fn delete(&self, function: &FunctionRef) -> Result<()> {
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

    pub(super) async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        self.check_namespace(&function.namespace)?;
        let lambda_name = self.lambda_name(&function.name);
        let _lock = self.lock(&lambda_name).await;
        let Some(view) = self.view(function).await? else {
            return Err(ProviderError::function_not_found(function));
        };
        let reserved = u32::try_from(replicas).map_err(|_| {
            ProviderError::invalid(format!(
                "{replicas} replicas is more than Lambda can reserve"
            ))
        })?;
        self.set_reserved(&lambda_name, &function.to_string(), Some(reserved))
            .await?;
        let warm = settings::warm_standbys(&view.spec).unwrap_or(0);
        self.invoker.keep_warm(&lambda_name, warm).await;
        tracing::info!(%function, replicas, "scaled (reserved concurrency)");
        Ok(())
    }
}
