//! What to run and how: [`EmulatorConfig`], its validation, and the environment a runtime
//! process gets.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::EmulatorError;
use crate::invoke_result::LATEST;
use crate::sandbox::{CONTAINER_TASK_ROOT, Sandbox};

/// Variables Lambda reserves: a function's own environment cannot set them (the provider
/// checks deployments against this list too).
pub const RESERVED_VARIABLES: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_XRAY_CONTEXT_MISSING",
    "AWS_XRAY_DAEMON_ADDRESS",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// What to run and how.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The function name (`[A-Za-z0-9_-]`, ≤ 64), as used in the invoke path.
    pub function_name: String,
    /// The extracted zip: holds `bootstrap`.
    pub task_dir: PathBuf,
    /// Function timeout (1 s – 900 s in Lambda; any non-zero value here).
    pub timeout: Duration,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (and the container memory limit), 128–10240.
    pub memory_mb: u32,
    /// The function's own environment variables (reserved names are refused).
    pub env: Vec<(String, String)>,
    /// Where `bootstrap` runs.
    pub sandbox: Sandbox,
    /// At most this many concurrent invocations (`None`: unlimited; `Some(0)`: throttle all).
    pub max_concurrency: Option<u32>,
    /// Time allowed from start to the runtime's first `GET /next`.
    pub init_timeout: Duration,
    /// Where the invoke front end listens (default `127.0.0.1:0`).
    pub bind: SocketAddr,
    /// `AWS_REGION` and the region in ARNs.
    pub region: String,
    /// The account id in ARNs.
    pub account_id: String,
    /// `_HANDLER`: the function's `Handler` setting, which a custom runtime's bootstrap reads
    /// to find its handler (default `bootstrap`).
    pub handler: String,
}

impl EmulatorConfig {
    /// Defaults: timeout 3 s, 128 MB, process sandbox, no concurrency limit, init 10 s,
    /// `127.0.0.1:0`, `us-east-1`, account `000000000000`, handler `bootstrap`.
    pub fn new(function_name: impl Into<String>, task_dir: impl Into<PathBuf>) -> Self {
        EmulatorConfig {
            function_name: function_name.into(),
            task_dir: task_dir.into(),
            timeout: Duration::from_secs(3),
            memory_mb: 128,
            env: Vec::new(),
            sandbox: Sandbox::Process,
            max_concurrency: None,
            init_timeout: Duration::from_secs(10),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            region: "us-east-1".to_string(),
            account_id: "000000000000".to_string(),
            handler: "bootstrap".to_string(),
        }
    }

    /// The function ARN.
    pub fn function_arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account_id, self.function_name
        )
    }

    pub(crate) fn validate(&self) -> Result<(), EmulatorError> {
        let bad = |m: String| Err(EmulatorError::InvalidConfig(m));
        let name = &self.function_name;
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return bad(format!(
                "function name {name:?} must be 1-64 characters of [A-Za-z0-9_-]"
            ));
        }
        if self.timeout.is_zero() {
            return bad("the timeout must be positive".into());
        }
        if !(128..=10_240).contains(&self.memory_mb) {
            return bad(format!(
                "memory {} MB is outside 128-10240 MB",
                self.memory_mb
            ));
        }
        for (key, _) in &self.env {
            if RESERVED_VARIABLES.contains(&key.as_str()) {
                return bad(format!("{key} is a reserved Lambda variable"));
            }
            if key.is_empty() || key.contains('=') || key.contains('\0') {
                return bad(format!("invalid variable name {key:?}"));
            }
        }
        let bootstrap = self.task_dir.join("bootstrap");
        if !bootstrap.is_file() {
            return bad(format!(
                "{} does not exist: the task dir must hold the function's bootstrap",
                bootstrap.display()
            ));
        }
        Ok(())
    }

    /// `LAMBDA_TASK_ROOT` as the runtime sees it.
    fn task_root(&self) -> String {
        match self.sandbox {
            Sandbox::Process => self.task_dir.display().to_string(),
            Sandbox::Docker(_) => CONTAINER_TASK_ROOT.to_string(),
        }
    }

    /// The environment a runtime process gets: the variables Lambda defines for a custom runtime
    /// (the Lambda Developer Guide's "defined runtime environment variables"), plus the
    /// function's own.
    pub(crate) fn lambda_env(&self, api: SocketAddr) -> Vec<(String, String)> {
        let task_root = self.task_root();
        let runtime_dir = "/var/runtime";
        let stream = format!(
            "{}/[{LATEST}]{}",
            civil_date(),
            uuid::Uuid::new_v4().simple()
        );
        let mut env: Vec<(String, String)> = [
            ("AWS_LAMBDA_RUNTIME_API", api.to_string()),
            ("_HANDLER", self.handler.clone()),
            ("LAMBDA_TASK_ROOT", task_root.clone()),
            ("LAMBDA_RUNTIME_DIR", runtime_dir.to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", self.function_name.clone()),
            ("AWS_LAMBDA_FUNCTION_VERSION", LATEST.to_string()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", self.memory_mb.to_string()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", self.function_name),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", stream),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_string()),
            ("AWS_REGION", self.region.clone()),
            ("AWS_DEFAULT_REGION", self.region.clone()),
            ("TZ", ":UTC".to_string()),
            ("LANG", "en_US.UTF-8".to_string()),
            (
                "PATH",
                "/usr/local/bin:/usr/bin/:/bin:/opt/bin".to_string(),
            ),
            (
                "LD_LIBRARY_PATH",
                format!(
                    "/lib64:/usr/lib64:{runtime_dir}:{runtime_dir}/lib:{task_root}:{task_root}/lib:/opt/lib"
                ),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (key, value) in &self.env {
            match env.iter_mut().find(|(k, _)| k == key) {
                Some(pair) => pair.1 = value.clone(),
                None => env.push((key.clone(), value.clone())),
            }
        }
        env
    }
}

/// `YYYY/MM/DD` (UTC) for log stream names.
fn civil_date() -> String {
    chrono::Utc::now().format("%Y/%m/%d").to_string()
}
