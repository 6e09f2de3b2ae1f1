//! The image config and OCI manifest of an imported function.

use serde_json::json;
use sha2::{Digest, Sha256};

use super::layout::{ENTRYPOINT_PATH, Layer, TASK_ROOT};
use crate::arch::Architecture;

/// The OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// The OCI image config media type.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// The gzip layer media type.
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// The port the entrypoint listens on unless `port` says otherwise (the watchdog's).
pub const DEFAULT_PORT: u16 = 8080;

/// How the function's container runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeSettings {
    /// `User` (default `993:993`, a non-root user as Lambda's `sbx_user`).
    pub user: String,
    /// Extra `Env` (`K=V`) after the defaults.
    pub env: Vec<String>,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        Self {
            user: "993:993".to_string(),
            env: Vec::new(),
        }
    }
}

pub(super) fn digest_of(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// The config JSON: Entrypoint, Env, User, ExposedPorts, WorkingDir, the layers' diff ids.
pub(super) fn config(arch: Architecture, layers: &[&Layer], settings: &RuntimeSettings) -> Vec<u8> {
    let mut env = vec![
        "PATH=/usr/local/bin:/usr/bin:/bin:/opt/bin".to_string(),
        format!("LAMBDA_TASK_ROOT={TASK_ROOT}"),
        "LAMBDA_RUNTIME_DIR=/var/runtime".to_string(),
    ];
    env.extend(settings.env.iter().cloned());
    let diff_ids: Vec<&str> = layers.iter().map(|l| l.diff_id.as_str()).collect();
    let config = json!({
        "architecture": arch.oci_str(),
        "os": "linux",
        "config": {
            "Entrypoint": [ENTRYPOINT_PATH],
            "Env": env,
            "User": settings.user,
            "WorkingDir": TASK_ROOT,
            "ExposedPorts": { format!("{DEFAULT_PORT}/tcp"): {} },
            "Labels": { "com.openfaas.lambda.imported": "true" },
        },
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
        "history": [
            { "created_by": "faas-lambda import: entrypoint" },
            { "created_by": "faas-lambda import: function zip" },
        ],
    });
    serde_json::to_vec(&config).expect("a JSON value serialises")
}

/// The OCI manifest for `config` and `layers`.
pub(super) fn manifest(config: &[u8], layers: &[&Layer]) -> Vec<u8> {
    let layers: Vec<serde_json::Value> = layers
        .iter()
        .map(|layer| {
            json!({
                "mediaType": OCI_LAYER_GZIP,
                "digest": layer.digest,
                "size": layer.data.len(),
            })
        })
        .collect();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": { "mediaType": OCI_CONFIG, "digest": digest_of(config), "size": config.len() },
        "layers": layers,
    });
    serde_json::to_vec(&manifest).expect("a JSON value serialises")
}
