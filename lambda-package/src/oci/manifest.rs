//! The registry's JSON: image manifests, indexes (and Docker manifest lists) and image
//! configs, as far as packaging reads them; index entries chosen by platform.

use serde::Deserialize;

use super::error::OciError;
use crate::arch::Architecture;

/// The manifest and index media types read (OCI, and Docker v2 schema 2).
pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub(crate) const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// A descriptor: the config, a layer, or an index entry.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescriptorJson {
    #[serde(default)]
    pub(crate) media_type: String,
    pub(crate) digest: String,
    pub(crate) size: i64,
    #[serde(default)]
    pub(crate) platform: Option<PlatformJson>,
    #[serde(default)]
    pub(crate) annotations: Option<std::collections::BTreeMap<String, String>>,
}

/// The platform of an index entry.
#[derive(Deserialize)]
pub(crate) struct PlatformJson {
    #[serde(default)]
    pub(crate) architecture: String,
    #[serde(default)]
    pub(crate) os: String,
    #[serde(default)]
    pub(crate) variant: Option<String>,
}

/// An image manifest (`config`, `layers`) or an index (`manifests`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ManifestJson {
    pub(crate) schema_version: i64,
    #[serde(default)]
    pub(crate) media_type: Option<String>,
    #[serde(default)]
    pub(crate) config: Option<DescriptorJson>,
    #[serde(default)]
    pub(crate) layers: Option<Vec<DescriptorJson>>,
    #[serde(default)]
    pub(crate) manifests: Option<Vec<DescriptorJson>>,
}

/// The image config: its platform and runtime part.
#[derive(Deserialize)]
pub(crate) struct ConfigJson {
    #[serde(default)]
    pub(crate) architecture: String,
    #[serde(default)]
    pub(crate) os: String,
    #[serde(default)]
    pub(crate) variant: Option<String>,
    #[serde(default)]
    pub(crate) config: Option<RuntimeJson>,
}

/// The runtime part of the image config (`Env`, `Entrypoint`, `Cmd`, `WorkingDir`).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RuntimeJson {
    #[serde(default)]
    pub(crate) env: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) cmd: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) working_dir: Option<String>,
}

/// A descriptor's size; negative sizes are refused.
pub(crate) fn descriptor_size(d: &DescriptorJson) -> Result<u64, OciError> {
    u64::try_from(d.size)
        .map_err(|_| OciError::InvalidImage(format!("negative size for {}", d.digest)))
}

/// The platform an index entry is for, when Lambda can run it.
pub(crate) fn entry_architecture(entry: &DescriptorJson) -> Option<Architecture> {
    let platform = entry.platform.as_ref()?;
    let attestation = entry
        .annotations
        .as_ref()
        .and_then(|a| a.get("vnd.docker.reference.type"))
        .is_some_and(|t| t == "attestation-manifest");
    if attestation || platform.os != "linux" {
        return None;
    }
    Architecture::from_oci(&platform.architecture, platform.variant.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_entries_are_filtered_by_platform() {
        let entry = |arch: &str, os: &str, variant: Option<&str>, attestation: bool| {
            let mut annotations = std::collections::BTreeMap::new();
            if attestation {
                annotations.insert(
                    "vnd.docker.reference.type".to_string(),
                    "attestation-manifest".to_string(),
                );
            }
            DescriptorJson {
                media_type: OCI_MANIFEST.into(),
                digest: "sha256:0".into(),
                size: 1,
                platform: Some(PlatformJson {
                    architecture: arch.into(),
                    os: os.into(),
                    variant: variant.map(str::to_string),
                }),
                annotations: Some(annotations),
            }
        };
        assert_eq!(
            entry_architecture(&entry("amd64", "linux", None, false)),
            Some(Architecture::X86_64)
        );
        assert_eq!(
            entry_architecture(&entry("arm64", "linux", Some("v8"), false)),
            Some(Architecture::Arm64)
        );
        assert_eq!(
            entry_architecture(&entry("arm", "linux", Some("v7"), false)),
            None
        );
        assert_eq!(
            entry_architecture(&entry("amd64", "windows", None, false)),
            None
        );
        assert_eq!(
            entry_architecture(&entry("unknown", "unknown", None, true)),
            None
        );
        assert_eq!(
            entry_architecture(&entry("amd64", "linux", None, true)),
            None
        );
    }
}
