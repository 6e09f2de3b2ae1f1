//! The real AWS CLI v2 (`/usr/bin/aws`, Debian's `awscli`) as a client of the federation's
//! Lambda API: `aws lambda ARGS --endpoint-url URL --no-cli-pager --output json`, in a
//! throwaway `HOME` (no profile, config or metadata lookups), one attempt, signing with the
//! given credentials in `us-east-1`.

#![allow(dead_code, unreachable_pub)]

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

/// Where the CLI is.
pub const AWS: &str = "/usr/bin/aws";

/// How the CLI signs and waits.
#[derive(Clone, Debug)]
pub struct AwsCli {
    /// `--endpoint-url`.
    pub url: String,
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret: String,
    /// `--cli-read-timeout`.
    pub read_timeout: Duration,
}

impl AwsCli {
    /// The CLI against `url`, signing as `access_key` / `secret`, waiting up to 30 s per read.
    pub fn new(url: &str, access_key: &str, secret: &str) -> Self {
        Self {
            url: url.to_string(),
            access_key: access_key.to_string(),
            secret: secret.to_string(),
            read_timeout: Duration::from_secs(30),
        }
    }

    /// The same, waiting up to `read_timeout` per read (an import builds and pushes an image).
    pub fn with_read_timeout(mut self, read_timeout: Duration) -> Self {
        self.read_timeout = read_timeout;
        self
    }

    /// Runs `aws lambda ARGS` (blocking) and returns what it did, whatever it was.
    pub fn run(&self, args: &[&str]) -> Output {
        let home = tempfile::tempdir().unwrap();
        Command::new(AWS)
            .arg("lambda")
            .args(args)
            .args([
                "--endpoint-url",
                &self.url,
                "--no-cli-pager",
                "--output",
                "json",
            ])
            .args([
                "--cli-read-timeout",
                &self.read_timeout.as_secs().to_string(),
            ])
            .env_remove("AWS_PROFILE")
            .env("HOME", home.path())
            .env("AWS_CONFIG_FILE", home.path().join("config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                home.path().join("credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_ACCESS_KEY_ID", &self.access_key)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {AWS} (apt-get install awscli): {e}"))
    }

    /// `aws lambda ARGS` on a blocking thread; it must succeed. Its JSON output (`null` when
    /// empty).
    pub async fn json(&self, args: &[&str]) -> Value {
        let cli = self.clone();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let output = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            cli.run(&args)
        })
        .await
        .unwrap();
        assert!(
            output.status.success(),
            "aws lambda failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if output.stdout.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(&output.stdout).unwrap()
        }
    }
}
