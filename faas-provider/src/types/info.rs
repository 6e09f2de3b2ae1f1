//! `GET /system/info`.

use serde::{Deserialize, Serialize};

use super::gojson::{GoJson, null_default};

/// The provider's identity, as the gateway and the certifier read it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderInfo {
    /// Provider name, e.g. `faas-memory`.
    #[serde(rename = "provider", default, deserialize_with = "null_default")]
    pub name: String,
    /// Version; `null` when unknown (never, for this project's providers).
    #[serde(default)]
    pub version: Option<VersionInfo>,
    /// Orchestration kind, e.g. `memory`, `docker`, `lambda`.
    #[serde(default, deserialize_with = "null_default")]
    pub orchestration: String,
}

/// Release and commit of a component.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// Commit message (optional).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub commit_message: String,
    /// Commit SHA.
    #[serde(default, deserialize_with = "null_default")]
    pub sha: String,
    /// Release version.
    #[serde(default, deserialize_with = "null_default")]
    pub release: String,
}

impl ProviderInfo {
    /// Info for a provider built from this workspace: release = crate version, sha from the
    /// `FAAS_BUILD_SHA` build-time variable when set, else `unknown` (never empty: the certifier checks).
    pub fn new(
        name: impl Into<String>,
        orchestration: impl Into<String>,
        release: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            orchestration: orchestration.into(),
            version: Some(VersionInfo {
                commit_message: String::new(),
                sha: option_env!("FAAS_BUILD_SHA")
                    .unwrap_or("unknown")
                    .to_string(),
                release: release.into(),
            }),
        }
    }
}

impl ProviderInfo {
    /// The same info with `sha` as the commit (e.g. set by a build script, as the
    /// `faas-federation` binary's is); an empty `sha` changes nothing.
    pub fn with_sha(mut self, sha: &str) -> Self {
        if let Some(version) = self.version.as_mut().filter(|_| !sha.is_empty()) {
            version.sha = sha.to_string();
        }
        self
    }
}

impl GoJson for ProviderInfo {
    const KEYS: &'static [&'static str] = &["provider", "version", "orchestration"];

    const NESTED: &'static [(&'static str, &'static [&'static str])] =
        &[("version", &["commit_message", "sha", "release"])];
}
