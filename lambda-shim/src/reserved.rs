//! The provider's reserved variables, handled at init before the function starts (see
//! `provider-lambda/README.md`, "Secrets"):
//!
//! - [`SECRETS_ENV`] (`OPENFAAS_SECRETS`) = JSON `{"<name>": "<standard base64 value>"}`: each
//!   secret is written to `<dir>/<name>` (directory 0700, files 0400, each through a temporary
//!   file renamed into place), where `<dir>` is [`SECRETS_DIR_ENV`] (`OPENFAAS_SECRETS_DIR`,
//!   from the function's environment, else the image Env) or [`DEFAULT_SECRETS_DIR`]
//!   (`/tmp/openfaas/secrets`: Lambda's only writable place is `/tmp`). The function's
//!   environment gets `secret_mount_path=<dir>` (the OpenFaaS SDK convention) unless the image
//!   or the deployment sets it.
//! - [`EXTRA_ENV`] (`OPENFAAS_ENV`) = JSON `{"<name>": "<value>"}`: variables whose names Lambda
//!   refuses (`my-var`, `A`). They are added to the function's environment after the image Env
//!   (deployment values win, as in OpenFaaS); a name Lambda's environment also sets directly
//!   keeps Lambda's value.
//!
//! Both variables are removed from the function's environment. Everything is validated before
//! anything is written; a malformed variable is an init error naming the problem. Secret values
//! never appear in errors or `Debug` output (names only).
//!
//! Secrets of earlier deployments are not removed: on Lambda `/tmp` belongs to one execution
//! environment, which an update replaces.

use std::fs::{DirBuilder, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

use crate::spec::LaunchSpec;

/// The variable carrying the function's secrets.
pub const SECRETS_ENV: &str = "OPENFAAS_SECRETS";
/// The variable carrying variables whose names Lambda refuses.
pub const EXTRA_ENV: &str = "OPENFAAS_ENV";
/// Overrides the directory the secrets are written to.
pub const SECRETS_DIR_ENV: &str = "OPENFAAS_SECRETS_DIR";
/// Where secrets are written by default.
pub const DEFAULT_SECRETS_DIR: &str = "/tmp/openfaas/secrets";
/// The variable the OpenFaaS SDKs read the secrets directory from.
pub const SECRET_MOUNT_PATH_ENV: &str = "secret_mount_path";

/// Longest secret name (a file name).
const MAX_NAME_BYTES: usize = 255;

/// Why the reserved variables cannot be applied (reported to `/runtime/init/error`). Never
/// holds a secret value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReservedError {
    /// The variable is not JSON. Only the position is kept: parser messages may quote input.
    #[error("{variable} is not valid JSON ({kind} at line {line}, column {column})")]
    Json {
        /// Which variable.
        variable: &'static str,
        /// `syntax error` or `unexpected end`.
        kind: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The variable is JSON but not an object.
    #[error("{variable} must be a JSON object of strings")]
    NotAnObject {
        /// Which variable.
        variable: &'static str,
    },
    /// A member is not a string.
    #[error("{variable}: the value of {name:?} is not a string")]
    NotAString {
        /// Which variable.
        variable: &'static str,
        /// The member's name.
        name: String,
    },
    /// A secret name that cannot be a file name in the secrets directory.
    #[error(
        "{SECRETS_ENV}: invalid secret name {name:?} (letters, digits, '.', '_' and '-'; not '.' or '..'; at most 255 bytes)"
    )]
    SecretName {
        /// The name.
        name: String,
    },
    /// A secret value is not standard base64.
    #[error("{SECRETS_ENV}: the value of secret {name:?} is not standard base64")]
    Base64 {
        /// The secret's name.
        name: String,
    },
    /// An [`EXTRA_ENV`] name no process environment can hold, or a reserved one.
    #[error("{EXTRA_ENV}: {name:?} {problem}")]
    EnvName {
        /// The name.
        name: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// An [`EXTRA_ENV`] value with a NUL byte.
    #[error("{EXTRA_ENV}: the value of {name:?} contains a NUL character")]
    EnvValue {
        /// The variable's name.
        name: String,
    },
    /// [`SECRETS_DIR_ENV`] is not an absolute path.
    #[error("{SECRETS_DIR_ENV} must be an absolute path, not {0:?}")]
    RelativeDir(String),
    /// The secrets directory cannot be created or made private.
    #[error("cannot prepare the secrets directory {dir}: {source}")]
    Dir {
        /// The directory.
        dir: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The secrets directory path is a symlink or not a directory.
    #[error("the secrets directory {dir} {problem}")]
    UnsafeDir {
        /// The directory.
        dir: PathBuf,
        /// What is wrong.
        problem: &'static str,
    },
    /// Writing one secret failed.
    #[error("cannot write secret {name:?} to {dir}: {source}")]
    Write {
        /// The secret's name.
        name: String,
        /// The directory.
        dir: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

impl ReservedError {
    /// The Lambda `errorType` reported for this failure.
    pub fn error_type(&self) -> &'static str {
        "Runtime.InitError"
    }
}

/// Whether `name` may be a secret: `[A-Za-z0-9._-]+`, not `.` or `..`, at most 255 bytes (so
/// never a path, only a file name).
pub fn is_valid_secret_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Decoded secrets, in name order. `Debug` shows names only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets(Vec<(String, Vec<u8>)>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, _)| (k, "<redacted>")))
            .finish()
    }
}

impl Secrets {
    /// Parse and validate the value of [`SECRETS_ENV`].
    pub fn parse(value: &str) -> Result<Self, ReservedError> {
        let mut out = Vec::new();
        for (name, value) in string_object(SECRETS_ENV, value)? {
            if !is_valid_secret_name(&name) {
                return Err(ReservedError::SecretName { name });
            }
            match BASE64.decode(value.as_bytes()) {
                Ok(bytes) => out.push((name, bytes)),
                Err(_) => return Err(ReservedError::Base64 { name }),
            }
        }
        Ok(Secrets(out))
    }

    /// The names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// The decoded value of `name`.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_slice())
    }

    /// Write every secret to `dir/<name>`: the directory is created (0700) if needed, must not
    /// be a symlink and is made 0700 (which fails unless it is ours); each file is written as
    /// a temporary file (0600, then 0400) renamed over `<name>`.
    pub fn write_to(&self, dir: &Path) -> Result<(), ReservedError> {
        let dir_error = |source| ReservedError::Dir {
            dir: dir.to_path_buf(),
            source,
        };
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(dir_error)?;
        let meta = std::fs::symlink_metadata(dir).map_err(dir_error)?;
        if meta.file_type().is_symlink() {
            return Err(ReservedError::UnsafeDir {
                dir: dir.to_path_buf(),
                problem: "is a symbolic link",
            });
        }
        if !meta.is_dir() {
            return Err(ReservedError::UnsafeDir {
                dir: dir.to_path_buf(),
                problem: "is not a directory",
            });
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(dir_error)?;
        for (name, value) in &self.0 {
            write_atomically(dir, name, value).map_err(|source| ReservedError::Write {
                name: name.clone(),
                dir: dir.to_path_buf(),
                source,
            })?;
        }
        Ok(())
    }
}

/// `dir/.<name>~<pid>` (`~` is never in a secret name, so it cannot clobber one) → `dir/<name>`.
fn write_atomically(dir: &Path, name: &str, value: &[u8]) -> io::Result<()> {
    let temp = dir.join(format!(".{name}~{}", std::process::id()));
    let target = dir.join(name);
    // A leftover of an earlier attempt by this same pid (a restart in the same sandbox).
    match std::fs::remove_file(&temp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(value)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o400))?;
        drop(file);
        std::fs::rename(&temp, &target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Parse and validate the value of [`EXTRA_ENV`] (name order).
pub fn parse_extra_env(value: &str) -> Result<Vec<(String, String)>, ReservedError> {
    let pairs = string_object(EXTRA_ENV, value)?;
    for (name, value) in &pairs {
        let problem = if name.is_empty() {
            Some("is empty")
        } else if name.contains(['=', '\0']) {
            Some("cannot be an environment variable name")
        } else if name == SECRETS_ENV || name == EXTRA_ENV {
            Some("is reserved")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(ReservedError::EnvName {
                name: name.clone(),
                problem,
            });
        }
        if value.contains('\0') {
            return Err(ReservedError::EnvValue { name: name.clone() });
        }
    }
    Ok(pairs)
}

/// A JSON object whose members are all strings, without quoting any input in errors.
fn string_object(
    variable: &'static str,
    text: &str,
) -> Result<Vec<(String, String)>, ReservedError> {
    let value: Value = serde_json::from_str(text).map_err(|e| ReservedError::Json {
        variable,
        kind: if e.is_eof() {
            "unexpected end"
        } else {
            "syntax error"
        },
        line: e.line(),
        column: e.column(),
    })?;
    let Value::Object(map) = value else {
        return Err(ReservedError::NotAnObject { variable });
    };
    map.into_iter()
        .map(|(name, value)| match value {
            Value::String(s) => Ok((name, s)),
            _ => Err(ReservedError::NotAString { variable, name }),
        })
        .collect()
}

/// Apply the reserved variables of `lambda_env` (the bootstrap's environment) for the image
/// `spec`: write the secrets, and return the environment [`crate::launch::prepare`] should
/// see (both variables removed, [`EXTRA_ENV`]'s pairs and `secret_mount_path` added).
/// Nothing is written unless both variables are valid.
pub fn apply(
    spec: &LaunchSpec,
    lambda_env: &[(String, String)],
) -> Result<Vec<(String, String)>, ReservedError> {
    let find = |name: &str| {
        lambda_env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let secrets = find(SECRETS_ENV).map(Secrets::parse).transpose()?;
    let extra = find(EXTRA_ENV).map(parse_extra_env).transpose()?;
    let mut env: Vec<(String, String)> = lambda_env
        .iter()
        .filter(|(k, _)| k != SECRETS_ENV && k != EXTRA_ENV)
        .cloned()
        .collect();
    if let Some(secrets) = secrets {
        let dir = find(SECRETS_DIR_ENV)
            .or_else(|| spec.env_var(SECRETS_DIR_ENV))
            .filter(|d| !d.is_empty())
            .unwrap_or(DEFAULT_SECRETS_DIR);
        if !dir.starts_with('/') {
            return Err(ReservedError::RelativeDir(dir.to_string()));
        }
        secrets.write_to(Path::new(dir))?;
        let set = |name: &str| {
            find(name).is_some()
                || spec.env_var(name).is_some()
                || extra
                    .as_ref()
                    .is_some_and(|e| e.iter().any(|(k, _)| k == name))
        };
        if !set(SECRET_MOUNT_PATH_ENV) {
            env.push((SECRET_MOUNT_PATH_ENV.to_string(), dir.to_string()));
        }
    }
    for (name, value) in extra.into_iter().flatten() {
        // Lambda's own value wins over a smuggled one (the provider never sends such names).
        if !env.iter().any(|(k, _)| *k == name) {
            env.push((name, value));
        }
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt as _;

    fn spec(env: &[&str]) -> LaunchSpec {
        LaunchSpec {
            env: env.iter().map(|s| s.to_string()).collect(),
            ..LaunchSpec::default()
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn lookup<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    const VALUE: &[u8] = b"s3cr3t-\x00\xff-value";

    fn secrets_json(list: &[(&str, &[u8])]) -> String {
        let map: serde_json::Map<String, Value> = list
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(BASE64.encode(v))))
            .collect();
        Value::Object(map).to_string()
    }

    #[test]
    fn secret_names() {
        for good in ["a", "api-key", "A.b_c-9", ".hidden", "a..b", "..."] {
            assert!(is_valid_secret_name(good), "{good}");
        }
        let long = "a".repeat(256);
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "../x",
            "/abs",
            "a b",
            "é",
            "a~",
            "a\0",
            long.as_str(),
        ] {
            assert!(!is_valid_secret_name(bad), "{bad:?}");
        }
        assert!(is_valid_secret_name(&"a".repeat(255)));
    }

    #[test]
    fn secrets_parse_and_never_show_values() {
        let s = Secrets::parse(&secrets_json(&[("b", VALUE), ("a", b"")])).unwrap();
        assert_eq!(s.names().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(s.get("b"), Some(VALUE));
        assert_eq!(s.get("a"), Some(b"".as_ref()));
        assert_eq!(
            format!("{s:?}"),
            r#"{"a": "<redacted>", "b": "<redacted>"}"#
        );
        assert_eq!(Secrets::parse("{}").unwrap(), Secrets::default());

        // Every error names the problem without the value.
        let secret = "TOPSECRETVALUE";
        let cases: Vec<(String, &str)> = vec![
            (format!(r#"{{"k": "{secret}"#), "unexpected end"),
            (format!(r#"{{"k": {secret}}}"#), "syntax error"),
            (format!(r#"["{secret}"]"#), "must be a JSON object"),
            (format!(r#""{secret}""#), "must be a JSON object"),
            (r#"{"k": 5}"#.to_string(), r#"value of "k" is not a string"#),
            (
                format!(r#"{{"k": "{secret}!"}}"#),
                r#"secret "k" is not standard base64"#,
            ),
            (
                format!(r#"{{"../k": "{}"}}"#, BASE64.encode(secret)),
                r#"invalid secret name "../k""#,
            ),
            (
                format!(r#"{{"..": "{}"}}"#, BASE64.encode(secret)),
                r#"invalid secret name "..""#,
            ),
        ];
        for (input, expected) in cases {
            let e = Secrets::parse(&input).unwrap_err();
            let text = e.to_string();
            assert!(text.contains(expected), "{input}: {text}");
            assert!(text.contains(SECRETS_ENV), "{text}");
            assert!(!text.contains(secret), "{text}");
            assert!(!format!("{e:?}").contains(secret), "{e:?}");
            assert_eq!(e.error_type(), "Runtime.InitError");
        }
    }

    #[test]
    fn secrets_are_written_private_and_atomically() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("openfaas/secrets");
        let s = Secrets::parse(&secrets_json(&[("api-key", VALUE), ("empty", b"")])).unwrap();
        s.write_to(&dir).unwrap();
        assert_eq!(std::fs::read(dir.join("api-key")).unwrap(), VALUE);
        assert_eq!(std::fs::read(dir.join("empty")).unwrap(), b"");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o7777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("api-key")), 0o400);
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["api-key", "empty"], "no temporary file is left");

        // Again (a restart in the same sandbox): the read-only files are replaced, an existing
        // directory with loose permissions is made private.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        Secrets::parse(&secrets_json(&[("api-key", b"new")]))
            .unwrap()
            .write_to(&dir)
            .unwrap();
        assert_eq!(std::fs::read(dir.join("api-key")).unwrap(), b"new");
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn unsafe_directories_are_refused() {
        let base = tempfile::tempdir().unwrap();
        let s = Secrets::parse(&secrets_json(&[("k", VALUE)])).unwrap();
        let real = base.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let link = base.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = s.write_to(&link).unwrap_err();
        assert!(matches!(e, ReservedError::UnsafeDir { .. }), "{e}");
        assert!(!real.join("k").exists());

        let file = base.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert!(s.write_to(&file).is_err());

        // A directory where the secret's name is taken by a directory: the write fails, naming
        // the secret, and leaves no temporary file.
        let dir = base.path().join("dir");
        std::fs::create_dir_all(dir.join("k/inner")).unwrap();
        let e = s.write_to(&dir).unwrap_err();
        assert!(
            matches!(&e, ReservedError::Write { name, .. } if name == "k"),
            "{e}"
        );
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn extra_env_parses_and_refuses_impossible_names() {
        assert_eq!(
            parse_extra_env(r#"{"my-var": "v 1", "A": ""}"#).unwrap(),
            pairs(&[("A", ""), ("my-var", "v 1")])
        );
        for (input, expected) in [
            (r#"{"": "v"}"#, "is empty"),
            (r#"{"a=b": "v"}"#, "cannot be an environment variable name"),
            (
                r#"{"a\u0000": "v"}"#,
                "cannot be an environment variable name",
            ),
            (r#"{"OPENFAAS_SECRETS": "{}"}"#, "is reserved"),
            (r#"{"x": "a\u0000b"}"#, "contains a NUL"),
            (r#"{"x": ["v"]}"#, "is not a string"),
            (r#"{"x": "#, "unexpected end"),
            ("null", "must be a JSON object"),
        ] {
            let text = parse_extra_env(input).unwrap_err().to_string();
            assert!(text.contains(expected), "{input}: {text}");
            assert!(text.contains(EXTRA_ENV), "{text}");
        }
    }

    #[test]
    fn apply_builds_the_function_environment() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("s");
        let lambda = pairs(&[
            ("AWS_LAMBDA_FUNCTION_NAME", "fn"),
            (SECRETS_ENV, &secrets_json(&[("api-key", VALUE)])),
            (
                EXTRA_ENV,
                r#"{"my-var": "from deployment", "AWS_LAMBDA_FUNCTION_NAME": "x"}"#,
            ),
            (SECRETS_DIR_ENV, dir.to_str().unwrap()),
        ]);
        let env = apply(&spec(&["my-var=from image"]), &lambda).unwrap();
        assert_eq!(std::fs::read(dir.join("api-key")).unwrap(), VALUE);
        assert_eq!(lookup(&env, SECRETS_ENV), None);
        assert_eq!(lookup(&env, EXTRA_ENV), None);
        assert_eq!(lookup(&env, "my-var"), Some("from deployment"));
        assert_eq!(lookup(&env, "AWS_LAMBDA_FUNCTION_NAME"), Some("fn"));
        assert_eq!(lookup(&env, SECRET_MOUNT_PATH_ENV), dir.to_str());

        // The image's secret_mount_path and secrets dir are kept.
        let image_dir = base.path().join("image-dir");
        let image_dir_var = format!("{SECRETS_DIR_ENV}={}", image_dir.display());
        let lambda = pairs(&[(SECRETS_ENV, &secrets_json(&[("k", b"v")]))]);
        let env = apply(
            &spec(&["secret_mount_path=/var/openfaas/secrets", &image_dir_var]),
            &lambda,
        )
        .unwrap();
        assert_eq!(
            lookup(&env, SECRET_MOUNT_PATH_ENV),
            None,
            "the image's stays"
        );
        assert_eq!(std::fs::read(image_dir.join("k")).unwrap(), b"v");

        // Without the variables nothing changes and nothing is written.
        let plain = pairs(&[("A_B", "1")]);
        assert_eq!(apply(&spec(&[]), &plain).unwrap(), plain);

        // A malformed variable writes nothing, even when the other one is fine.
        let untouched = base.path().join("untouched");
        let lambda = pairs(&[
            (SECRETS_ENV, &secrets_json(&[("k", b"v")])),
            (EXTRA_ENV, "{"),
            (SECRETS_DIR_ENV, untouched.to_str().unwrap()),
        ]);
        assert!(matches!(
            apply(&spec(&[]), &lambda),
            Err(ReservedError::Json { .. })
        ));
        assert!(!untouched.exists());
        let lambda = pairs(&[(SECRETS_ENV, "{}"), (SECRETS_DIR_ENV, "relative/dir")]);
        assert!(matches!(
            apply(&spec(&[]), &lambda),
            Err(ReservedError::RelativeDir(_))
        ));
    }
}
