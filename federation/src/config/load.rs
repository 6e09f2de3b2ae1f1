//! Where the configuration comes from: a TOML file, faas-federation's provider URLs, or
//! nothing (one memory backend), then overrides. [`ConfigSources`] is what the
//! `faas-federation` binary fills from its flags and environment; embedders fill it directly.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::error::{ConfigError, invalid};
use super::model::{BackendConfig, DEFAULT_HEALTH_INTERVAL, FederationConfig};

/// The sources of a [`FederationConfig`] and the overrides applied on top of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigSources {
    /// TOML file describing the backends. Without it (and without `providers`) the federation
    /// has one in-process memory backend named `local`.
    pub file: Option<PathBuf>,
    /// faas-federation compatibility: provider URLs (instead of a file); each backend is
    /// named after its URL's host. Blank entries are ignored.
    pub providers: Vec<String>,
    /// faas-federation compatibility: the default provider's URL (one of `providers`).
    pub default_provider: Option<String>,
    /// Backend for functions without the routing annotation (overrides the file).
    pub default_backend: Option<String>,
    /// How often backends are health-checked (overrides the file).
    pub health_interval: Option<Duration>,
    /// Settings of [`super::SETTINGS`] from the environment and flags (override the file).
    pub settings: BTreeMap<String, String>,
}

impl ConfigSources {
    /// The federation these sources describe, validated.
    pub fn load(&self) -> Result<FederationConfig, ConfigError> {
        let providers: Vec<String> = self
            .providers
            .iter()
            .filter(|p| !p.trim().is_empty())
            .cloned()
            .collect();
        let mut config = match (&self.file, providers.is_empty()) {
            (Some(_), false) => {
                return Err(invalid(
                    "give either a configuration file or `providers`, not both",
                ));
            }
            (Some(path), true) => FederationConfig::from_file(path)?,
            (None, false) => {
                FederationConfig::from_provider_urls(&providers, self.default_provider.as_deref())?
            }
            (None, true) => {
                if self.default_provider.is_some() {
                    return Err(invalid("default_provider needs `providers`"));
                }
                FederationConfig::default()
            }
        };
        if let Some(name) = &self.default_backend {
            config.default_backend = name.clone();
        }
        if let Some(interval) = self.health_interval {
            config.health_interval = interval;
        }
        config.settings.apply(&self.settings).map_err(invalid)?;
        config.validate()
    }
}

impl FederationConfig {
    /// faas-federation's environment: `providers` (provider base URLs) and `default_provider`
    /// (one of them). Each backend is named after its URL's host, which is what faas-federation
    /// compared the annotation with, so existing annotations keep working.
    pub fn from_provider_urls(
        providers: &[String],
        default_provider: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let mut backends = Vec::new();
        let mut default_backend = None;
        for url in providers.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
            let name = host_of(url)?;
            if default_provider
                .is_some_and(|d| d.trim().trim_end_matches('/') == url.trim_end_matches('/'))
            {
                default_backend = Some(name.clone());
            }
            backends.push(BackendConfig::http(name, url));
        }
        let default_backend = match (default_provider, default_backend) {
            (_, Some(name)) => name,
            (Some(url), None) => {
                return Err(invalid(format!(
                    "default_provider {url:?} is not one of the providers"
                )));
            }
            (None, None) => backends
                .first()
                .map(|b| b.name.clone())
                .ok_or_else(|| invalid("providers lists no URL"))?,
        };
        Self {
            backends,
            default_backend,
            health_interval: DEFAULT_HEALTH_INTERVAL,
            settings: Default::default(),
        }
        .validate()
    }
}

/// The host of a URL (port stripped), the name faas-federation gave a provider.
fn host_of(url: &str) -> Result<String, ConfigError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| {
            invalid(format!(
                "provider URL {url:?} must start with http:// or https://"
            ))
        })?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    if host.is_empty() {
        return Err(invalid(format!("provider URL {url:?} has no host")));
    }
    Ok(host.to_string())
}
