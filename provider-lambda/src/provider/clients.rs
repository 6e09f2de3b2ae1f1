//! The AWS configuration and the SDK clients the provider talks through: the control plane
//! (bounded retries and call timeout), invocations (their own attempts, no overall timeout) and
//! Secrets Manager.

use std::time::Duration;

use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::timeout::TimeoutConfig;

use super::config::LambdaConfig;

/// Loads the AWS configuration: the SDK's usual sources (environment, profiles, web identity,
/// IMDS...), with the region and endpoint overrides of `config`.
pub async fn load_aws_config(config: &LambdaConfig) -> aws_config::SdkConfig {
    aws_config_loader(config).load().await
}

/// The loader [`load_aws_config`] uses (the SDK's usual sources, `config`'s region and endpoint
/// overrides), for callers that add to it (e.g. static credentials, [`Launch`](super::launch::Launch)).
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
