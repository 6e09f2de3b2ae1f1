//! Local mode: the same [`LambdaProvider`], but invocations run the packaged zip on this machine
//! in the project's Runtime API emulator ([`lambda_emulator::Emulator`]), as a child process or
//! in the Lambda-like Docker sandbox, so an image deployed "to Lambda" on a laptop answers for
//! real.
//!
//! Design: the control plane stays a Lambda API (moto, LocalStack or AWS itself): functions,
//! their spec (tags), configuration, reserved concurrency and secrets live there exactly as in
//! AWS mode, so `get`/`list`/`scale` behave the same. What local mode adds is a **code cache**
//! and one emulator per function:
//!
//! - after every successful deploy/update the uploaded zip is extracted into
//!   `<cache_dir>/<function>/<CodeSha256>/` and an emulator is (re)started with the function's
//!   timeout, memory and environment as Lambda holds them;
//! - the reserved concurrency is the emulator's concurrency limit (0 throttles, so a function
//!   scaled to zero answers 503 like on AWS; N caps concurrent invocations, over it → 429);
//! - after a restart of the provider, the first invoke of a function rebuilds its emulator from
//!   Lambda's configuration and the cached code of its current `CodeSha256`; code that is not
//!   in the cache (deployed by another host) answers 503 until the function is updated here;
//! - **warm pool**: at zero (reservation 0) a function keeps `com.openfaas.scale.warm`
//!   execution environments initialised (bootstrap started, init done, waiting on `GET /next`)
//!   and nothing else running, so the first invocation after a scale up pays no init; at most
//!   [`LocalOptions::warm_max`] over all functions. Deleting the function stops them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use faas_provider::{ProviderError, Result};
use lambda_emulator::{Emulator, EmulatorConfig, EmulatorError, Sandbox};

use crate::provider::error::{PROVIDER_NAME, Subject, from_sdk};
use crate::provider::{Deployed, Invoked, Invoker, LambdaConfig, LambdaProvider, Packager, Parts};

/// Local mode's settings.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// Where extracted function code is kept (`local_cache_dir`, default
    /// `$TMPDIR/faas-lambda-local`).
    pub cache_dir: PathBuf,
    /// Where `bootstrap` runs: a child process, or the Docker sandbox.
    pub sandbox: Sandbox,
    /// Time allowed for a function's init (Lambda: 10 s).
    pub init_timeout: Duration,
    /// `AWS_REGION` seen by functions.
    pub region: String,
    /// Standby environments kept in all, over every function at zero (default 8).
    pub warm_max: u32,
}

impl LocalOptions {
    /// Process sandbox, 10 s init, `us-east-1`, code cached under `cache_dir`.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        Self {
            cache_dir: cache_dir.into(),
            sandbox: Sandbox::Process,
            init_timeout: Duration::from_secs(10),
            region: "us-east-1".to_string(),
            warm_max: 8,
        }
    }
}

/// A running function.
struct Local {
    code_sha256: String,
    emulator: Arc<Emulator>,
    /// The reservation the emulator enforces.
    reserved: Option<u32>,
    /// Standby environments kept while at zero (`com.openfaas.scale.warm`).
    warm: u32,
    /// Standby environments kept now.
    standbys: u32,
}

/// Invocations through per-function emulators; see the module docs.
pub struct LocalInvoker {
    lambda: aws_sdk_lambda::Client,
    options: LocalOptions,
    functions: tokio::sync::Mutex<HashMap<String, Local>>,
}

impl std::fmt::Debug for LocalInvoker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalInvoker")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A directory name for a `CodeSha256` (base64: `/` and `+` are not for paths).
fn code_dir_name(code_sha256: &str) -> String {
    code_sha256
        .chars()
        .map(|c| match c {
            '/' => '_',
            '+' => '-',
            '=' => '.',
            c => c,
        })
        .collect()
}

fn emulator_error(function: &str, error: EmulatorError) -> ProviderError {
    match error {
        EmulatorError::PayloadTooLarge { .. } => {
            ProviderError::PayloadTooLarge(format!("{function}: {error}"))
        }
        EmulatorError::Throttled { .. } => ProviderError::Throttled(format!("{function}: {error}")),
        EmulatorError::Stopped => ProviderError::NotReady {
            name: function.to_string(),
        },
        EmulatorError::InvalidConfig(message) => {
            ProviderError::invalid(format!("{function} cannot run locally: {message}"))
        }
        other => ProviderError::backend(PROVIDER_NAME, other),
    }
}

impl LocalInvoker {
    /// An invoker reading function configuration through `lambda` (the control plane).
    pub fn new(lambda: aws_sdk_lambda::Client, options: LocalOptions) -> Self {
        Self {
            lambda,
            options,
            functions: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    fn function_dir(&self, lambda_name: &str) -> PathBuf {
        self.options.cache_dir.join(lambda_name)
    }

    async fn start(
        &self,
        lambda_name: &str,
        task_dir: &Path,
        timeout: Duration,
        memory_mb: u32,
        env: Vec<(String, String)>,
        reserved: Option<u32>,
    ) -> Result<Emulator> {
        let mut config = EmulatorConfig::new(lambda_name, task_dir);
        config.timeout = timeout;
        config.memory_mb = memory_mb;
        config.env = env;
        config.sandbox = self.options.sandbox.clone();
        config.max_concurrency = reserved;
        config.init_timeout = self.options.init_timeout;
        config.region = self.options.region.clone();
        Emulator::start(config)
            .await
            .map_err(|e| emulator_error(lambda_name, e))
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

    /// The emulator of `lambda_name`, rebuilt from Lambda and the code cache when this process
    /// has none yet.
    async fn emulator(&self, lambda_name: &str, function: &str) -> Result<Arc<Emulator>> {
        let mut functions = self.functions.lock().await;
        if let Some(local) = functions.get(lambda_name) {
            return Ok(local.emulator.clone());
        }
        let configuration = self
            .lambda
            .get_function_configuration()
            .function_name(lambda_name)
            .send()
            .await
            .map_err(|e| from_sdk(e, Subject::Function(function)))?;
        let code_sha256 = configuration.code_sha256().unwrap_or_default().to_string();
        let task_dir = self
            .function_dir(lambda_name)
            .join(code_dir_name(&code_sha256));
        if !task_dir.join("bootstrap").is_file() {
            return Err(ProviderError::NotReady {
                name: function.to_string(),
            });
        }
        let env: Vec<(String, String)> = configuration
            .environment()
            .and_then(|e| e.variables())
            .map(|vars| vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let reserved = self.reserved(lambda_name, function).await?;
        let emulator = Arc::new(
            self.start(
                lambda_name,
                &task_dir,
                Duration::from_secs(configuration.timeout().unwrap_or(3).max(1) as u64),
                configuration.memory_size().unwrap_or(128).max(128) as u32,
                env,
                reserved,
            )
            .await?,
        );
        functions.insert(
            lambda_name.to_string(),
            Local {
                code_sha256,
                emulator: emulator.clone(),
                reserved,
                warm: 0,
                standbys: 0,
            },
        );
        Ok(emulator)
    }
}

async fn stop(emulator: Arc<Emulator>) {
    // In-flight invocations hold clones; the last one out stops it.
    if let Ok(emulator) = Arc::try_unwrap(emulator) {
        emulator.stop().await;
    }
}

#[async_trait]
impl Invoker for LocalInvoker {
    async fn invoke(&self, lambda_name: &str, function: &str, payload: Bytes) -> Result<Invoked> {
        let emulator = self.emulator(lambda_name, function).await?;
        match emulator.invoke(payload).await {
            Ok(result) => Ok(Invoked {
                payload: result.payload,
                function_error: result.function_error,
            }),
            // Lambda reports a failed init as a function error of the invoke.
            Err(EmulatorError::InitFailed {
                error_type,
                message,
            }) => Ok(Invoked {
                payload: Bytes::from(
                    serde_json::json!({"errorType": error_type, "errorMessage": message})
                        .to_string(),
                ),
                function_error: Some("Unhandled".to_string()),
            }),
            Err(error) => Err(emulator_error(function, error)),
        }
    }

    async fn deployed(&self, deployed: Deployed<'_>) -> Result<()> {
        let name = deployed.lambda_name;
        let dir = self.function_dir(name);
        let task_dir = dir.join(code_dir_name(deployed.code_sha256));
        if !task_dir.join("bootstrap").is_file() {
            let staging = dir.join(format!(".extract-{}", uuid::Uuid::new_v4().simple()));
            let (zip, target) = (deployed.zip.to_path_buf(), staging.clone());
            tokio::task::spawn_blocking(move || {
                std::fs::create_dir_all(&target)?;
                lambda_emulator::extract_zip(&zip, &target).map_err(std::io::Error::other)
            })
            .await
            .map_err(|e| ProviderError::backend(PROVIDER_NAME, e))?
            .map_err(|e| ProviderError::backend(PROVIDER_NAME, e))?;
            let _ = tokio::fs::remove_dir_all(&task_dir).await;
            tokio::fs::rename(&staging, &task_dir)
                .await
                .map_err(|e| ProviderError::backend(PROVIDER_NAME, e))?;
        }
        let mut functions = self.functions.lock().await;
        let (reserved, warm) = match functions.get(name) {
            Some(local) => (local.reserved, local.warm),
            None => (self.reserved(name, name).await?, 0),
        };
        let env: Vec<(String, String)> = deployed
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let emulator = self
            .start(
                name,
                &task_dir,
                deployed.timeout,
                deployed.memory_mb,
                env,
                reserved,
            )
            .await?;
        let old = functions.insert(
            name.to_string(),
            Local {
                code_sha256: deployed.code_sha256.to_string(),
                emulator: Arc::new(emulator),
                reserved,
                warm,
                standbys: 0,
            },
        );
        drop(functions);
        if let Some(old) = old {
            if old.code_sha256 != deployed.code_sha256 {
                let _ = tokio::fs::remove_dir_all(dir.join(code_dir_name(&old.code_sha256))).await;
            }
            stop(old.emulator).await;
        }
        Ok(())
    }

    async fn removed(&self, lambda_name: &str) {
        let old = self.functions.lock().await.remove(lambda_name);
        if let Some(old) = old {
            stop(old.emulator).await;
        }
        let _ = tokio::fs::remove_dir_all(self.function_dir(lambda_name)).await;
    }

    async fn scaled(&self, lambda_name: &str, reserved: Option<u32>) {
        if let Some(local) = self.functions.lock().await.get_mut(lambda_name) {
            local.emulator.set_concurrency(reserved);
            local.reserved = reserved;
        }
    }

    async fn keep_warm(&self, lambda_name: &str, standbys: u32) {
        // A provider restarted since the deploy has no emulator yet: one at zero with a pool
        // gets it now (one that is not at zero starts on its first invoke, as before).
        if standbys > 0 && !self.functions.lock().await.contains_key(lambda_name) {
            match self.reserved(lambda_name, lambda_name).await {
                Ok(Some(0)) => {
                    if let Err(error) = self.emulator(lambda_name, lambda_name).await {
                        tracing::warn!(function = lambda_name, %error, "warm pool: no emulator");
                        return;
                    }
                }
                Ok(_) => return,
                Err(error) => {
                    tracing::warn!(function = lambda_name, %error, "warm pool: reservation unknown");
                    return;
                }
            }
        }
        let (emulator, target) = {
            let mut functions = self.functions.lock().await;
            let elsewhere: u32 = functions
                .iter()
                .filter(|(name, _)| name.as_str() != lambda_name)
                .map(|(_, local)| local.standbys)
                .sum();
            let Some(local) = functions.get_mut(lambda_name) else {
                return;
            };
            local.warm = standbys;
            // Above zero nothing is kept aside: invocations use (and keep) what is there.
            if local.reserved != Some(0) {
                local.standbys = 0;
                return;
            }
            let target = standbys.min(self.options.warm_max.saturating_sub(elsewhere));
            if target < standbys {
                tracing::warn!(
                    function = lambda_name,
                    wanted = standbys,
                    kept = target,
                    warm_max = self.options.warm_max,
                    "warm pool cut by the provider-wide cap (warm_max)"
                );
            }
            local.standbys = target;
            (local.emulator.clone(), target)
        };
        match emulator.keep_warm(target as usize).await {
            Ok(ready) => tracing::info!(function = lambda_name, standbys = ready, "warm pool kept"),
            Err(error) => {
                tracing::warn!(function = lambda_name, %error, "warm pool: an environment did not initialise")
            }
        }
    }
}

impl LambdaProvider {
    /// A provider in local mode: the control plane and secrets at the AWS endpoint `sdk` names
    /// (typically moto), invocations in local emulators ([`LocalInvoker`]).
    pub fn local(
        config: LambdaConfig,
        sdk: &aws_config::SdkConfig,
        packager: Arc<dyn Packager>,
        options: LocalOptions,
    ) -> Self {
        let lambda = crate::provider::lambda_client(sdk, &config);
        let parts = Parts {
            lambda: lambda.clone(),
            secrets: crate::provider::secrets_client(sdk, &config),
            invoker: Arc::new(LocalInvoker::new(lambda, options)),
            packager,
            orchestration: "lambda-local",
        };
        Self::from_parts(config, parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_hashes_become_directory_names() {
        assert_eq!(code_dir_name("ab/c+d=="), "ab_c-d..");
    }
}
