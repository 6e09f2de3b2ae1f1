//! The launch description the packager writes at the zip root (`faas-launch.json`).

use serde::{Deserialize, Serialize};

/// The file name of the launch description at the task root.
pub const LAUNCH_SPEC_FILE: &str = "faas-launch.json";

/// The directory (relative to the task root) holding the flattened image.
pub const ROOTFS_DIR: &str = "rootfs";

/// How to run the packaged image: its config (Env, Entrypoint, Cmd, WorkingDir) and where its
/// flattened root filesystem lives inside the task directory.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct LaunchSpec {
    /// Directory of the flattened image, relative to the task root: [`ROOTFS_DIR`].
    pub rootfs: String,
    /// `"x86_64"` or `"arm64"` (Lambda's names).
    pub architecture: String,
    /// The image config `Env`, `K=V`, in order.
    pub env: Vec<String>,
    /// The image config `Entrypoint`.
    pub entrypoint: Vec<String>,
    /// The image config `Cmd`.
    pub cmd: Vec<String>,
    /// The image config `WorkingDir` (`""` means `/`).
    pub working_dir: String,
    /// The image reference that was packaged (informational).
    pub image: String,
    /// The manifest digest that was packaged (informational).
    pub image_digest: String,
}

impl LaunchSpec {
    /// The value of `name` in the image Env (the last definition wins, as in Docker).
    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    /// The image Env as `(name, value)` pairs, later definitions replacing earlier ones, in
    /// first-definition order. Entries without `=` are ignored.
    pub fn env_pairs(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for kv in &self.env {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            match pairs.iter_mut().find(|(name, _)| name == k) {
                Some(pair) => pair.1 = v.to_string(),
                None => pairs.push((k.to_string(), v.to_string())),
            }
        }
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_field_names_round_trip() {
        let spec = LaunchSpec {
            rootfs: ROOTFS_DIR.into(),
            architecture: "x86_64".into(),
            env: vec![
                "PATH=/bin".into(),
                "fprocess=cat".into(),
                "PATH=/usr/bin".into(),
            ],
            entrypoint: vec!["/fwatchdog".into()],
            cmd: vec![],
            working_dir: "/home/app".into(),
            image: "127.0.0.1:5000/fn/echo:latest".into(),
            image_digest: "sha256:00".into(),
        };
        let json = serde_json::to_value(&spec).unwrap();
        for key in [
            "rootfs",
            "architecture",
            "env",
            "entrypoint",
            "cmd",
            "working_dir",
            "image",
            "image_digest",
        ] {
            assert!(json.get(key).is_some(), "{key} missing in {json}");
        }
        let back: LaunchSpec = serde_json::from_value(json).unwrap();
        assert_eq!(back, spec);
        assert_eq!(spec.env_var("PATH"), Some("/usr/bin"));
        assert_eq!(spec.env_var("fprocess"), Some("cat"));
        assert_eq!(spec.env_var("nope"), None);
        assert_eq!(
            spec.env_pairs(),
            vec![
                ("PATH".to_string(), "/usr/bin".to_string()),
                ("fprocess".to_string(), "cat".to_string())
            ]
        );
    }
}
