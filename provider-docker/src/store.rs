//! The provider's own files under the state directory:
//!
//! - `secrets/<namespace>/<name>`: a secret's bytes, written atomically (temporary file +
//!   rename); bind-mounted read-only into replicas at `/var/openfaas/secrets/<name>`. Files are
//!   mode 0644 like faasd's, so a function running as any user (the OpenFaaS templates run as
//!   a non-root `app`) can read them; the directories are 0700, so on the host only the
//!   provider's user reaches them;
//! - `namespaces/<name>.json`: a namespace's labels and annotations. The default namespace
//!   always exists.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use faas_provider::error::ResourceKind;
use faas_provider::types::namespace_not_found;
use faas_provider::{DEFAULT_NAMESPACE, FunctionNamespace, ProviderError, Result};

use crate::error::internal;

/// Mode of a secret's file (its directory is 0700): readable by a function's non-root user.
const SECRET_FILE_MODE: u32 = 0o644;

/// Files of secrets and namespaces.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    root: PathBuf,
}

fn io_error(path: &Path, error: std::io::Error) -> ProviderError {
    internal(format!("{}: {error}", path.display()))
}

fn secret_not_found(name: &str) -> ProviderError {
    ProviderError::NotFound {
        kind: ResourceKind::Secret,
        name: name.to_string(),
    }
}

impl Store {
    /// Opens (creating) the state directory; `root` is made absolute, because secrets are
    /// bind-mounted from it.
    pub(crate) fn open(root: &Path) -> std::io::Result<Self> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)?;
        let root = root.canonicalize()?;
        for dir in ["secrets", "namespaces"] {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(root.join(dir))?;
        }
        Ok(Self { root })
    }

    fn secrets_dir(&self, namespace: &str) -> PathBuf {
        self.root.join("secrets").join(namespace)
    }

    /// Where a secret's file is (it may not exist).
    pub(crate) fn secret_path(&self, namespace: &str, name: &str) -> PathBuf {
        self.secrets_dir(namespace).join(name)
    }

    /// True when the secret exists.
    pub(crate) fn secret_exists(&self, namespace: &str, name: &str) -> bool {
        self.secret_path(namespace, name).is_file()
    }

    /// Secret names of a namespace, sorted.
    pub(crate) fn list_secrets(&self, namespace: &str) -> Result<Vec<String>> {
        let dir = self.secrets_dir(namespace);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(&dir, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            // Temporary files of in-progress writes start with '.', which names cannot.
            if !name.starts_with('.') && entry.path().is_file() {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    /// Writes a secret; `create` refuses an existing one, otherwise it must exist.
    pub(crate) fn write_secret(
        &self,
        namespace: &str,
        name: &str,
        value: &[u8],
        create: bool,
    ) -> Result<()> {
        let dir = self.secrets_dir(namespace);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| io_error(&dir, e))?;
        let path = dir.join(name);
        let exists = path.is_file();
        if create && exists {
            return Err(ProviderError::AlreadyExists {
                kind: ResourceKind::Secret,
                name: name.to_string(),
            });
        }
        if !create && !exists {
            return Err(secret_not_found(name));
        }
        let temp = dir.join(format!(".{name}.{}", uuid::Uuid::new_v4().simple()));
        let written = (|| {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(SECRET_FILE_MODE)
                .open(&temp)?;
            // Whatever the umask.
            file.set_permissions(std::fs::Permissions::from_mode(SECRET_FILE_MODE))?;
            file.write_all(value)?;
            file.sync_all()?;
            if create {
                // Fails if a concurrent create won the race.
                std::fs::hard_link(&temp, &path)?;
                std::fs::remove_file(&temp)
            } else {
                std::fs::rename(&temp, &path)
            }
        })();
        match written {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    Err(ProviderError::AlreadyExists {
                        kind: ResourceKind::Secret,
                        name: name.to_string(),
                    })
                } else {
                    Err(io_error(&path, e))
                }
            }
        }
    }

    /// Deletes a secret.
    pub(crate) fn delete_secret(&self, namespace: &str, name: &str) -> Result<()> {
        let path = self.secret_path(namespace, name);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(secret_not_found(name)),
            Err(e) => Err(io_error(&path, e)),
        }
    }

    fn namespace_path(&self, name: &str) -> PathBuf {
        self.root.join("namespaces").join(format!("{name}.json"))
    }

    /// A namespace; the default one always exists.
    pub(crate) fn namespace(&self, name: &str) -> Result<Option<FunctionNamespace>> {
        let path = self.namespace_path(name);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| internal(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok((name == DEFAULT_NAMESPACE).then(|| FunctionNamespace::new(DEFAULT_NAMESPACE)))
            }
            Err(e) => Err(io_error(&path, e)),
        }
    }

    /// Fails with 400 `namespace ... not valid` unless the namespace exists.
    pub(crate) fn require_namespace(&self, name: &str) -> Result<()> {
        match self.namespace(name)? {
            Some(_) => Ok(()),
            None => Err(ProviderError::invalid(format!(
                "namespace {name} not valid: create it first (POST /system/namespace/{name})"
            ))),
        }
    }

    /// Every namespace, the default first.
    pub(crate) fn list_namespaces(&self) -> Result<Vec<String>> {
        let dir = self.root.join("namespaces");
        let mut names = vec![DEFAULT_NAMESPACE.to_string()];
        let entries = std::fs::read_dir(&dir).map_err(|e| io_error(&dir, e))?;
        let mut others = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&dir, e))?;
            let file = entry.file_name().to_string_lossy().into_owned();
            if let Some(name) = file.strip_suffix(".json")
                && !name.starts_with('.')
                && name != DEFAULT_NAMESPACE
            {
                others.push(name.to_string());
            }
        }
        others.sort();
        names.extend(others);
        Ok(names)
    }

    /// Writes a namespace (create refuses an existing one; update needs one).
    pub(crate) fn write_namespace(
        &self,
        namespace: &FunctionNamespace,
        create: bool,
    ) -> Result<()> {
        let exists = self.namespace(&namespace.name)?.is_some();
        if create && exists {
            return Err(ProviderError::AlreadyExists {
                kind: ResourceKind::Namespace,
                name: namespace.name.clone(),
            });
        }
        if !create && !exists {
            return Err(namespace_not_found(&namespace.name));
        }
        let path = self.namespace_path(&namespace.name);
        let json = serde_json::to_vec_pretty(namespace).map_err(internal)?;
        let temp = path.with_file_name(format!(
            ".{}.{}",
            namespace.name,
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&temp, json)
            .and_then(|()| std::fs::rename(&temp, &path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&temp);
                io_error(&path, e)
            })
    }

    /// Deletes a namespace's file and its secrets.
    pub(crate) fn delete_namespace(&self, name: &str) -> Result<()> {
        let path = self.namespace_path(name);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(namespace_not_found(name));
            }
            Err(e) => return Err(io_error(&path, e)),
        }
        let secrets = self.secrets_dir(name);
        match std::fs::remove_dir_all(&secrets) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(&secrets, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn secrets_are_files_in_private_directories() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state")).unwrap();
        store.write_secret("ns", "key", b"v1", true).unwrap();
        assert!(matches!(
            store.write_secret("ns", "key", b"v2", true),
            Err(ProviderError::AlreadyExists { .. })
        ));
        let path = store.secret_path("ns", "key");
        assert!(path.is_absolute());
        assert_eq!(std::fs::read(&path).unwrap(), b"v1");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);

        store.write_secret("ns", "key", b"v2", false).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"v2");
        assert!(matches!(
            store.write_secret("ns", "other", b"x", false),
            Err(ProviderError::NotFound { .. })
        ));
        assert_eq!(store.list_secrets("ns").unwrap(), ["key"]);
        assert!(store.list_secrets("empty").unwrap().is_empty());
        store.delete_secret("ns", "key").unwrap();
        assert!(store.delete_secret("ns", "key").unwrap_err().is_not_found());
    }

    #[test]
    fn namespaces() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.list_namespaces().unwrap(), [DEFAULT_NAMESPACE]);
        store.require_namespace(DEFAULT_NAMESPACE).unwrap();
        assert!(matches!(
            store.require_namespace("dev"),
            Err(ProviderError::InvalidRequest(_))
        ));
        let dev = FunctionNamespace::new("dev");
        store.write_namespace(&dev, true).unwrap();
        assert!(store.write_namespace(&dev, true).is_err());
        store.write_secret("dev", "s", b"x", true).unwrap();
        assert_eq!(store.list_namespaces().unwrap(), [DEFAULT_NAMESPACE, "dev"]);
        assert_eq!(store.namespace("dev").unwrap(), Some(dev.clone()));
        store.delete_namespace("dev").unwrap();
        assert!(!store.secret_exists("dev", "s"));
        assert!(store.delete_namespace("dev").unwrap_err().is_not_found());
        assert!(
            store
                .write_namespace(&dev, false)
                .unwrap_err()
                .is_not_found()
        );
    }
}
