//! Registry credentials from a Docker `config.json`, the one parser the providers share.
//!
//! - `auths` entries, keyed by registry (`host[:port]`, `https://host/v1/`, ...): `auth`
//!   (base64 of `user:password`), or `username` + `password`, and `identitytoken` and
//!   `registrytoken`. Keys are compared by host: scheme and path dropped, case ignored, Docker
//!   Hub's aliases (`docker.io`, `index.docker.io`, `registry-1.docker.io`) folded into one.
//! - Credential helpers: `credHelpers` (per registry) and `credsStore` (for every registry), run
//!   as `docker-credential-<helper> get` with the registry on stdin. A `<token>` user name means
//!   the secret is an identity token; "credentials not found" means no credentials.
//! - Precedence: the registry's `credHelpers` entry, then its `auths` entry (one holding no
//!   credentials, as Docker Desktop writes, does not count), then `credsStore`.
//!
//! Errors name the file and the registry, never a secret.
//!
//! ```no_run
//! # async fn demo() -> Result<(), registry_auth::Error> {
//! let path = registry_auth::default_path().unwrap();
//! let registry = registry_auth::registry_of("ghcr.io/owner/image:1");
//! if let Some(credentials) = registry_auth::credentials_for(&path, &registry, None).await? {
//!     println!("user {:?} for {}", credentials.username, credentials.server);
//! }
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use tokio::io::AsyncWriteExt as _;

/// The registry Docker Hub images come from, as `config.json` and credential helpers name it.
pub const DOCKER_HUB: &str = "https://index.docker.io/v1/";

/// How long a credential helper may take (a hung helper would otherwise hold up every pull;
/// the helper is killed past it).
const HELPER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Longest helper output quoted in an error.
const MAX_QUOTED: usize = 300;

/// Credentials for one registry, as found in the config file or given by a helper. Which
/// fields are set depends on the source; callers map them to their client's type.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// User name (from `auth`, `username`, or a helper).
    pub username: Option<String>,
    /// Password or access token (from `auth`, `password`, or a helper).
    pub password: Option<String>,
    /// An OAuth refresh token (`identitytoken`, or a helper's `<token>` secret).
    pub identity_token: Option<String>,
    /// A bearer token sent to the registry as is (`registrytoken`).
    pub registry_token: Option<String>,
    /// The registry they are for: the `auths` key, or the name the helper was asked about.
    pub server: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |secret: &Option<String>| secret.as_ref().map(|_| "<redacted>");
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &redacted(&self.password))
            .field("identity_token", &redacted(&self.identity_token))
            .field("registry_token", &redacted(&self.registry_token))
            .field("server", &self.server)
            .finish()
    }
}

/// Why credentials could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The config file could not be read (see [`Error::is_missing_file`]).
    #[error("cannot read the Docker config {path}: {error}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// What reading it answered.
        error: std::io::Error,
    },
    /// The config file is not a Docker config (JSON of the expected shape).
    #[error("{path} is not a Docker config file: {reason}")]
    Parse {
        /// The config file.
        path: PathBuf,
        /// Where it went wrong (no content is quoted: it may hold secrets).
        reason: String,
    },
    /// The `auth` of an `auths` entry is not base64 of `user:password`.
    #[error("the auth of {registry} in {path} {reason}")]
    BadAuth {
        /// The `auths` key.
        registry: String,
        /// The config file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A credential helper could not be run, failed, or answered something unexpected.
    #[error(
        "credential helper docker-credential-{helper} (named in {path}) failed for {registry}: {reason}"
    )]
    Helper {
        /// The helper's name (`docker-credential-<helper>`).
        helper: String,
        /// The registry it was asked about.
        registry: String,
        /// The config file naming it.
        path: PathBuf,
        /// What happened.
        reason: String,
    },
}

impl Error {
    /// The config file does not exist (callers decide whether that means no credentials).
    pub fn is_missing_file(&self) -> bool {
        matches!(self, Error::Read { error, .. } if error.kind() == std::io::ErrorKind::NotFound)
    }
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
    #[serde(default)]
    registrytoken: Option<String>,
}

#[derive(Deserialize)]
struct HelperOutput {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json` (`None` when neither
/// variable is set).
pub fn default_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker").join("config.json"))
}

/// The registry of an image reference: the first path component when it looks like a host
/// (has `.` or `:`, or is `localhost`), else Docker Hub ([`DOCKER_HUB`]).
pub fn registry_of(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => first.to_string(),
        _ => DOCKER_HUB.to_string(),
    }
}

/// `https://Host:port/v1/` → `Host:port`.
fn host_of(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

/// The host an `auths`/`credHelpers` key or a registry name stands for: scheme and path
/// dropped, lower case, Docker Hub's aliases → `docker.io`.
fn normalize(key: &str) -> String {
    let host = host_of(key).to_ascii_lowercase();
    match host.as_str() {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        _ => host,
    }
}

/// The credentials for `registry` (a host, `host:port`, or a key such as [`DOCKER_HUB`]) from
/// the Docker config at `path`; a missing file means none. Helpers are looked up in
/// `helper_dir` when given, else on `PATH`.
pub async fn credentials_for(
    path: &Path,
    registry: &str,
    helper_dir: Option<&Path>,
) -> Result<Option<Credentials>, Error> {
    let config = match DockerConfig::load(path).await {
        Ok(config) => config,
        Err(e) if e.is_missing_file() => return Ok(None),
        Err(e) => return Err(e),
    };
    let config = match helper_dir {
        Some(dir) => config.with_helper_dir(dir),
        None => config,
    };
    config.credentials_for(registry).await
}

/// A parsed Docker config file.
#[derive(Debug)]
pub struct DockerConfig {
    path: PathBuf,
    file: ConfigFile,
    helper_dir: Option<PathBuf>,
}

impl DockerConfig {
    /// Read and parse the file at `path`. A missing file is an [`Error::Read`] for which
    /// [`Error::is_missing_file`] holds.
    pub async fn load(path: &Path) -> Result<DockerConfig, Error> {
        let text = tokio::fs::read_to_string(path)
            .await
            .map_err(|error| Error::Read {
                path: path.to_path_buf(),
                error,
            })?;
        DockerConfig::parse(path, &text)
    }

    /// Parse `text`, the content of the file at `path` (named in errors).
    pub fn parse(path: &Path, text: &str) -> Result<DockerConfig, Error> {
        let file = serde_json::from_str(text).map_err(|e| Error::Parse {
            path: path.to_path_buf(),
            reason: json_reason(&e),
        })?;
        Ok(DockerConfig {
            path: path.to_path_buf(),
            file,
            helper_dir: None,
        })
    }

    /// Look helpers up in `dir` instead of on `PATH`.
    pub fn with_helper_dir(mut self, dir: impl Into<PathBuf>) -> DockerConfig {
        self.helper_dir = Some(dir.into());
        self
    }

    /// The credentials for `registry` (a host, `host:port`, or a key such as [`DOCKER_HUB`]):
    /// its `credHelpers` helper, else its `auths` entry, else the `credsStore` helper.
    pub async fn credentials_for(&self, registry: &str) -> Result<Option<Credentials>, Error> {
        let wanted = normalize(registry);
        // What helpers are asked about: Docker Hub by its config key, others by host.
        let query = if wanted == "docker.io" {
            DOCKER_HUB
        } else {
            host_of(registry)
        };
        if let Some(helper) = self
            .file
            .cred_helpers
            .iter()
            .find(|(key, _)| normalize(key) == wanted)
            .map(|(_, helper)| helper)
        {
            return self.run_helper(helper, query).await;
        }
        if let Some((key, entry)) = self
            .file
            .auths
            .iter()
            .find(|(key, _)| normalize(key) == wanted)
            && let Some(credentials) = self.entry_credentials(key, entry)?
        {
            return Ok(Some(credentials));
        }
        match self.file.creds_store.as_deref() {
            Some(store) if !store.is_empty() => self.run_helper(store, query).await,
            _ => Ok(None),
        }
    }

    /// An `auths` entry's credentials; `None` when it holds none.
    fn entry_credentials(
        &self,
        key: &str,
        entry: &AuthEntry,
    ) -> Result<Option<Credentials>, Error> {
        let bad = |reason| Error::BadAuth {
            registry: key.to_string(),
            path: self.path.clone(),
            reason,
        };
        let (username, password) = match (&entry.auth, &entry.username) {
            (Some(auth), _) if !auth.is_empty() => {
                let decoded = STANDARD
                    .decode(auth.trim())
                    .map_err(|_| bad("is not base64 of user:password"))?;
                let decoded = String::from_utf8(decoded)
                    .map_err(|_| bad("is not base64 of UTF-8 user:password"))?;
                let (user, password) = decoded
                    .split_once(':')
                    .ok_or_else(|| bad("has no ':' between user and password"))?;
                (Some(user.to_string()), Some(password.to_string()))
            }
            (_, Some(user)) => (Some(user.clone()), entry.password.clone()),
            _ => (None, None),
        };
        let non_empty = |token: &Option<String>| token.clone().filter(|t| !t.is_empty());
        let credentials = Credentials {
            username,
            password,
            identity_token: non_empty(&entry.identitytoken),
            registry_token: non_empty(&entry.registrytoken),
            server: key.to_string(),
        };
        let empty = credentials.username.is_none()
            && credentials.identity_token.is_none()
            && credentials.registry_token.is_none();
        Ok((!empty).then_some(credentials))
    }

    /// `docker-credential-<helper> get`, `registry` on stdin.
    async fn run_helper(&self, helper: &str, registry: &str) -> Result<Option<Credentials>, Error> {
        let fail = |reason: String| Error::Helper {
            helper: helper.to_string(),
            registry: registry.to_string(),
            path: self.path.clone(),
            reason,
        };
        if helper.contains('/') {
            return Err(fail("a helper name cannot contain '/'".to_string()));
        }
        let program = format!("docker-credential-{helper}");
        let program = match &self.helper_dir {
            Some(dir) => dir.join(program),
            None => PathBuf::from(program),
        };
        let mut child = tokio::process::Command::new(&program)
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| fail(format!("cannot run {}: {e}", program.display())))?;
        if let Some(mut stdin) = child.stdin.take() {
            match stdin.write_all(registry.as_bytes()).await {
                // A helper may exit without reading: its answer still counts.
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    return Err(fail(format!("writing its stdin: {e}")));
                }
                _ => {}
            }
        }
        let output = tokio::time::timeout(HELPER_TIMEOUT, child.wait_with_output())
            .await
            .map_err(|_| fail(format!("no answer within {HELPER_TIMEOUT:?}")))?
            .map_err(|e| fail(e.to_string()))?;
        if !output.status.success() {
            let stdout = String::from_utf8_lossy(&output.stdout);
            // Helpers answer "credentials not found in native keychain" when they have none.
            if stdout.contains("credentials not found") {
                return Ok(None);
            }
            let stderr = String::from_utf8_lossy(&output.stderr);
            let said = format!("{} {}", stdout.trim(), stderr.trim());
            return Err(fail(format!("{}: {}", output.status, quote(said.trim()))));
        }
        let parsed: HelperOutput = serde_json::from_slice(&output.stdout).map_err(|e| {
            fail(format!(
                "its answer is not the credentials JSON: {}",
                json_reason(&e)
            ))
        })?;
        let credentials = if parsed.username == "<token>" {
            Credentials {
                identity_token: Some(parsed.secret),
                server: registry.to_string(),
                ..Credentials::default()
            }
        } else {
            Credentials {
                username: Some(parsed.username),
                password: Some(parsed.secret),
                server: registry.to_string(),
                ..Credentials::default()
            }
        };
        Ok(Some(credentials))
    }
}

/// Where JSON went wrong, without quoting it (serde's messages may quote values: secrets).
fn json_reason(e: &serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "unexpected value",
        serde_json::error::Category::Eof => "unexpected end",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

/// `text`, cut to [`MAX_QUOTED`] characters.
fn quote(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests;
