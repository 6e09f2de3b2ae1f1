//! The federation's own settings beyond its backends: scaling, asynchronous invocations and
//! NATS (JetStream queue and subject triggers). Each has one name, used as a top-level key of
//! the TOML file, as an environment variable and as a `--flag` of the binary (flags over
//! environment over file); [`SETTINGS`] lists them.

use std::collections::BTreeMap;
use std::time::Duration;

use faas_provider::config::{parse_bool, parse_duration};

use super::timeouts::Timeouts;
use crate::lambda_api::{LambdaApiConfig, ZipImportConfig};
use crate::queue::{AsyncConfig, JetStreamSettings};
use crate::scaling::ScalingConfig;
use crate::triggers::TriggerConfig;

/// Every federation setting, by the name the file, the environment and the flags use.
pub const SETTINGS: &[&str] = &[
    "scale_from_zero",
    "scale_from_zero_timeout",
    "autoscale",
    "autoscale_interval",
    "autoscale_stable_window",
    "autoscale_panic_window",
    "scale_down_window",
    "idle_interval",
    "async_max_body_bytes",
    "async_queue_capacity",
    "async_max_inflight",
    "async_max_inflight_per_function",
    "max_retry_attempts",
    "initial_retry_wait",
    "max_retry_wait",
    "retry_http_codes",
    "async_call_timeout",
    "callback_timeout",
    "nats_url",
    "nats_stream",
    "nats_subject",
    "nats_durable",
    "nats_ack_wait",
    "nats_publish_batch",
    "nats_queue_group",
    "trigger_refresh_interval",
    "trigger_max_inflight",
    "lambda_api",
    "lambda_api_credentials",
    "lambda_api_region",
    "lambda_api_account",
    "lambda_api_max_payload_bytes",
    "lambda_api_max_event_payload_bytes",
    "lambda_api_invoke_timeout",
    "lambda_api_default_backend",
    "lambda_import_registry",
    "lambda_import_entrypoint",
    "lambda_import_insecure",
    "lambda_import_docker_config",
    "deploy_timeout",
    "upstream_timeout",
];

/// NATS: the durable queue and the subject triggers (both on when `nats_url` is set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsConfig {
    /// The JetStream queue (its `url` is `nats_url`).
    pub jetstream: JetStreamSettings,
    /// The subject triggers.
    pub triggers: TriggerConfig,
}

/// Scaling, async, NATS and Lambda API settings, with their defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Scale from zero, autoscaler, idler.
    pub scaling: ScalingConfig,
    /// Asynchronous invocations.
    pub async_calls: AsyncConfig,
    /// NATS, when `nats_url` is set (else the embedded queue and no triggers).
    pub nats: Option<NatsConfig>,
    /// The AWS Lambda API on the same listener (on by default; `lambda_api = false` removes
    /// it).
    pub lambda_api: Option<LambdaApiConfig>,
    /// `deploy_timeout` and `upstream_timeout` (each backend may override them).
    pub timeouts: Timeouts,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            scaling: ScalingConfig::default(),
            async_calls: AsyncConfig::default(),
            nats: None,
            lambda_api: Some(LambdaApiConfig::default()),
            timeouts: Timeouts::default(),
        }
    }
}

fn duration(key: &str, text: &str) -> Result<Duration, String> {
    let value = parse_duration(text).map_err(|e| {
        format!("{key}: {text:?} is not a duration (integer seconds or Go duration like 500ms, 30s, 1m): {e}")
    })?;
    if value.is_zero() {
        return Err(format!("{key} must be greater than zero"));
    }
    Ok(value)
}

fn boolean(key: &str, text: &str) -> Result<bool, String> {
    parse_bool(text).ok_or_else(|| format!("{key}: {text:?} is not true or false"))
}

fn count(key: &str, text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{key}: {text:?} is not a whole number above zero")),
    }
}

impl Settings {
    /// Applies the settings of `table` (name → text, as an environment variable holds it).
    /// Unknown names are refused with the list of known ones.
    pub fn apply(&mut self, table: &BTreeMap<String, String>) -> Result<(), String> {
        let nats_url = table.get("nats_url").map(|url| url.trim().to_string());
        if let Some(url) = nats_url.filter(|url| !url.is_empty()) {
            let nats = self.nats.get_or_insert_with(|| NatsConfig {
                jetstream: JetStreamSettings::new(url.clone()),
                triggers: TriggerConfig::default(),
            });
            nats.jetstream.url = url;
        }
        if let Some(on) = table.get("lambda_api") {
            if boolean("lambda_api", on)? {
                self.lambda_api.get_or_insert_with(LambdaApiConfig::default);
            } else {
                self.lambda_api = None;
            }
        }
        if let Some(registry) = table.get("lambda_import_registry") {
            let registry = registry.trim().trim_end_matches('/');
            if registry.is_empty() {
                return Err("lambda_import_registry is empty".into());
            }
            self.lambda_api("lambda_import_registry")?
                .zip_import
                .get_or_insert_with(|| ZipImportConfig::new(registry))
                .registry = registry.to_string();
        }
        for (key, text) in table {
            self.set(key, text.trim())?;
        }
        if self.async_calls.max_retry_wait < self.async_calls.initial_retry_wait {
            return Err("max_retry_wait is below initial_retry_wait".into());
        }
        Ok(())
    }

    fn lambda_api(&mut self, key: &str) -> Result<&mut LambdaApiConfig, String> {
        self.lambda_api
            .as_mut()
            .ok_or_else(|| format!("{key} needs the Lambda API on (lambda_api = true)"))
    }

    fn zip_import(&mut self, key: &str) -> Result<&mut ZipImportConfig, String> {
        self.lambda_api(key)?
            .zip_import
            .as_mut()
            .ok_or_else(|| format!("{key} needs lambda_import_registry"))
    }

    fn nats(&mut self, key: &str) -> Result<&mut NatsConfig, String> {
        self.nats
            .as_mut()
            .ok_or_else(|| format!("{key} needs nats_url"))
    }

    fn set(&mut self, key: &str, text: &str) -> Result<(), String> {
        let scaling = &mut self.scaling;
        let calls = &mut self.async_calls;
        match key {
            "scale_from_zero" => scaling.scale_from_zero = boolean(key, text)?,
            "scale_from_zero_timeout" => scaling.scale_from_zero_timeout = duration(key, text)?,
            "autoscale" => scaling.autoscale = boolean(key, text)?,
            "autoscale_interval" => scaling.interval = duration(key, text)?,
            "autoscale_stable_window" => scaling.windows.stable = duration(key, text)?,
            "autoscale_panic_window" => scaling.windows.panic = duration(key, text)?,
            "scale_down_window" => scaling.windows.scale_down = duration(key, text)?,
            "idle_interval" => scaling.idle_interval = duration(key, text)?,
            "async_max_body_bytes" => calls.max_body_bytes = count(key, text)?,
            "async_queue_capacity" => calls.queue_capacity = count(key, text)?,
            "async_max_inflight" => calls.max_inflight = count(key, text)?,
            "async_max_inflight_per_function" => {
                calls.max_inflight_per_function = count(key, text)?;
            }
            "max_retry_attempts" => {
                calls.max_retry_attempts = u32::try_from(count(key, text)?)
                    .map_err(|_| format!("{key}: {text:?} is too large"))?;
            }
            "initial_retry_wait" => calls.initial_retry_wait = duration(key, text)?,
            "max_retry_wait" => calls.max_retry_wait = duration(key, text)?,
            "retry_http_codes" => {
                calls.retry_http_codes = text
                    .split(',')
                    .map(str::trim)
                    .filter(|code| !code.is_empty())
                    .map(|code| match code.parse::<u16>() {
                        Ok(n) if (100..=599).contains(&n) => Ok(n),
                        _ => Err(format!("{key}: {code:?} is not an HTTP status code")),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "async_call_timeout" => calls.call_timeout = duration(key, text)?,
            "callback_timeout" => calls.callback_timeout = duration(key, text)?,
            "nats_url" => {}
            "nats_stream" => self.nats(key)?.jetstream.stream = text.to_string(),
            "nats_subject" => self.nats(key)?.jetstream.subject = text.to_string(),
            "nats_durable" => self.nats(key)?.jetstream.durable = text.to_string(),
            "nats_ack_wait" => self.nats(key)?.jetstream.ack_wait = duration(key, text)?,
            "nats_publish_batch" => self.nats(key)?.jetstream.publish_batch = count(key, text)?,
            "nats_queue_group" => self.nats(key)?.triggers.queue_group = text.to_string(),
            "trigger_refresh_interval" => {
                self.nats(key)?.triggers.refresh_interval = duration(key, text)?;
            }
            "trigger_max_inflight" => self.nats(key)?.triggers.max_inflight = count(key, text)?,
            "lambda_api" => {}
            "lambda_api_credentials" => {
                self.lambda_api(key)?.credentials = text
                    .split(',')
                    .map(str::trim)
                    .filter(|pair| !pair.is_empty())
                    .map(|pair| match pair.split_once(':') {
                        Some((id, secret)) if !id.is_empty() && !secret.is_empty() => {
                            Ok((id.to_string(), secret.to_string()))
                        }
                        _ => Err(format!(
                            "{key}: expected ACCESS_KEY_ID:SECRET pairs separated by commas"
                        )),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "lambda_api_region" => self.lambda_api(key)?.region = text.to_string(),
            "lambda_api_account" => self.lambda_api(key)?.account = text.to_string(),
            "lambda_api_max_payload_bytes" => {
                self.lambda_api(key)?.max_payload_bytes = count(key, text)?;
            }
            "lambda_api_max_event_payload_bytes" => {
                self.lambda_api(key)?.max_event_payload_bytes = count(key, text)?;
            }
            "lambda_api_invoke_timeout" => {
                self.lambda_api(key)?.invoke_timeout = duration(key, text)?;
            }
            "lambda_api_default_backend" => {
                self.lambda_api(key)?.default_backend = Some(text.to_string());
            }
            "lambda_import_registry" => {}
            "lambda_import_entrypoint" => {
                self.zip_import(key)?.entrypoint = Some(text.into());
            }
            "lambda_import_insecure" => self.zip_import(key)?.insecure = boolean(key, text)?,
            "lambda_import_docker_config" => {
                self.zip_import(key)?.docker_config = Some(text.into());
            }
            "deploy_timeout" => self.timeouts.deploy = duration(key, text)?,
            "upstream_timeout" => self.timeouts.upstream = duration(key, text)?,
            other => {
                return Err(format!(
                    "unknown setting {other:?} (known: default_backend, health_interval, backends, {})",
                    SETTINGS.join(", ")
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_setting_is_read() {
        let mut settings = Settings::default();
        let pairs: Vec<(&str, &str)> = vec![
            ("scale_from_zero", "false"),
            ("scale_from_zero_timeout", "5s"),
            ("autoscale", "false"),
            ("autoscale_interval", "100ms"),
            ("autoscale_stable_window", "10s"),
            ("autoscale_panic_window", "1s"),
            ("scale_down_window", "20s"),
            ("idle_interval", "3"),
            ("async_max_body_bytes", "1024"),
            ("async_queue_capacity", "7"),
            ("async_max_inflight", "8"),
            ("async_max_inflight_per_function", "2"),
            ("max_retry_attempts", "4"),
            ("initial_retry_wait", "1s"),
            ("max_retry_wait", "9s"),
            ("retry_http_codes", "429, 503"),
            ("async_call_timeout", "2m"),
            ("callback_timeout", "4s"),
            ("nats_url", "nats://127.0.0.1:4222"),
            ("nats_stream", "s"),
            ("nats_subject", "s.calls"),
            ("nats_durable", "d"),
            ("nats_ack_wait", "45s"),
            ("nats_publish_batch", "3"),
            ("nats_queue_group", "g"),
            ("trigger_refresh_interval", "2s"),
            ("trigger_max_inflight", "5"),
            ("lambda_api", "true"),
            ("lambda_api_credentials", "AKID:s3cret, AKID2:other"),
            ("lambda_api_region", "eu-west-1"),
            ("lambda_api_account", "123456789012"),
            ("lambda_api_max_payload_bytes", "1000"),
            ("lambda_api_max_event_payload_bytes", "500"),
            ("lambda_api_invoke_timeout", "30s"),
            ("lambda_api_default_backend", "edge"),
            ("lambda_import_registry", "127.0.0.1:5000/lambda/"),
            ("lambda_import_entrypoint", "/opt/faas-lambda-entrypoint"),
            ("lambda_import_insecure", "true"),
            ("lambda_import_docker_config", "/etc/faas/config.json"),
            ("deploy_timeout", "15m"),
            ("upstream_timeout", "2m"),
        ];
        assert_eq!(pairs.len(), SETTINGS.len(), "every setting is exercised");
        settings.apply(&table(&pairs)).unwrap();
        let scaling = &settings.scaling;
        assert!(!scaling.scale_from_zero && !scaling.autoscale);
        assert_eq!(scaling.scale_from_zero_timeout, Duration::from_secs(5));
        assert_eq!(scaling.interval, Duration::from_millis(100));
        assert_eq!(scaling.windows.stable, Duration::from_secs(10));
        assert_eq!(scaling.windows.panic, Duration::from_secs(1));
        assert_eq!(scaling.windows.scale_down, Duration::from_secs(20));
        assert_eq!(scaling.idle_interval, Duration::from_secs(3));
        let calls = &settings.async_calls;
        assert_eq!(calls.max_body_bytes, 1024);
        assert_eq!(calls.queue_capacity, 7);
        assert_eq!(calls.max_inflight, 8);
        assert_eq!(calls.max_inflight_per_function, 2);
        assert_eq!(calls.max_retry_attempts, 4);
        assert_eq!(calls.retry_http_codes, [429, 503]);
        assert_eq!(calls.call_timeout, Duration::from_secs(120));
        let lambda = settings.lambda_api.clone().unwrap();
        assert_eq!(
            lambda.credentials,
            [
                ("AKID".to_string(), "s3cret".to_string()),
                ("AKID2".to_string(), "other".to_string())
            ]
        );
        assert_eq!(
            (lambda.region.as_str(), lambda.account.as_str()),
            ("eu-west-1", "123456789012")
        );
        assert_eq!(
            (lambda.max_payload_bytes, lambda.max_event_payload_bytes),
            (1000, 500)
        );
        assert_eq!(lambda.invoke_timeout, Duration::from_secs(30));
        assert_eq!(lambda.default_backend.as_deref(), Some("edge"));
        assert_eq!(
            lambda.zip_import,
            Some(ZipImportConfig {
                registry: "127.0.0.1:5000/lambda".into(),
                entrypoint: Some("/opt/faas-lambda-entrypoint".into()),
                insecure: true,
                docker_config: Some("/etc/faas/config.json".into()),
            })
        );
        assert_eq!(settings.timeouts.deploy, Duration::from_secs(900));
        assert_eq!(settings.timeouts.upstream, Duration::from_secs(120));
        let nats = settings.nats.unwrap();
        assert_eq!(nats.jetstream.url, "nats://127.0.0.1:4222");
        assert_eq!(
            (
                nats.jetstream.stream.as_str(),
                nats.jetstream.subject.as_str()
            ),
            ("s", "s.calls")
        );
        assert_eq!(nats.jetstream.ack_wait, Duration::from_secs(45));
        assert_eq!(nats.jetstream.publish_batch, 3);
        assert_eq!(nats.triggers.queue_group, "g");
        assert_eq!(nats.triggers.max_inflight, 5);
    }

    #[test]
    fn defaults_and_clear_errors() {
        let mut settings = Settings::default();
        settings.apply(&BTreeMap::new()).unwrap();
        assert!(settings.scaling.scale_from_zero);
        assert!(settings.nats.is_none());
        assert_eq!(settings.lambda_api.as_ref().unwrap().zip_import, None);
        for (pairs, needle) in [
            (vec![("autoscale_interval", "soon")], "not a duration"),
            (vec![("scale_down_window", "0s")], "greater than zero"),
            (vec![("scale_from_zero", "perhaps")], "true or false"),
            (vec![("retry_http_codes", "429,abc")], "HTTP status"),
            (vec![("nats_stream", "x")], "needs nats_url"),
            (vec![("async_max_inflight", "0")], "above zero"),
            (vec![("scale_form_zero", "true")], "known: default_backend"),
            (
                vec![("lambda_api_credentials", "nocolon")],
                "ACCESS_KEY_ID:SECRET",
            ),
            (
                vec![("lambda_api", "false"), ("lambda_api_region", "x")],
                "lambda_api = true",
            ),
            (
                vec![("lambda_import_insecure", "true")],
                "needs lambda_import_registry",
            ),
            (
                vec![("initial_retry_wait", "10s"), ("max_retry_wait", "1s")],
                "below",
            ),
        ] {
            let error = Settings::default().apply(&table(&pairs)).unwrap_err();
            assert!(error.contains(needle), "{pairs:?}: {error}");
        }
    }
}
