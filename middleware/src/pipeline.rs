//! The configured middlewares of one function and the two passes over them.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use tokio::process::Command;
use tokio::time::Instant;

use crate::error::{HookError, MiddlewareError};
use crate::names::{Hook, validate_name};
use crate::process;

/// One middleware: its name, the file checked at start, and how to run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Middleware {
    /// The name as listed in `SLSMIDDLEWARES`.
    pub name: String,
    /// The executable file (checked by [`Middleware::check`]).
    pub path: PathBuf,
    /// The command: program and leading arguments; the hook name is appended at each run.
    /// [`Middleware::new`] sets `[path]`; an embedder that must run it through a loader or a
    /// relocated `#!` interpreter (the Lambda shim) sets its own.
    pub argv: Vec<String>,
    /// The `argv[0]` the process sees (`None`: `argv[0]`).
    pub argv0: Option<String>,
}

impl Middleware {
    /// The executable at `path`, run directly.
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        Middleware {
            name: name.into(),
            argv: vec![path.to_string_lossy().into_owned()],
            path,
            argv0: None,
        }
    }

    /// The file exists (symlinks followed), is a regular file, and has an execute bit.
    pub fn check(&self) -> Result<(), MiddlewareError> {
        let not_executable = |reason: &str| MiddlewareError::NotExecutable {
            name: self.name.clone(),
            path: self.path.clone(),
            reason: reason.to_string(),
        };
        let meta = match std::fs::metadata(&self.path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(MiddlewareError::Missing {
                    name: self.name.clone(),
                    path: self.path.clone(),
                });
            }
            Err(e) => return Err(not_executable(&format!("cannot be read: {e}"))),
        };
        if !meta.is_file() {
            return Err(not_executable("is not a regular file"));
        }
        if meta.permissions().mode() & 0o111 == 0 {
            return Err(not_executable("has no execute permission"));
        }
        Ok(())
    }
}

/// The middlewares of one function, in list order, with the environment and working directory
/// their processes get (by default the caller's own).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use middleware::{DEFAULT_DIR, Pipeline, parse_names};
///
/// let names = parse_names("auth,cloudevents")?;
/// let pipeline = Pipeline::in_dir(DEFAULT_DIR.as_ref(), &names)?;
/// pipeline.check()?; // at start: each one exists and is executable
/// let deadline = Some(tokio::time::Instant::now() + std::time::Duration::from_secs(30));
/// let event = pipeline.before(r#"{"body":"hi"}"#.into(), deadline).await?;
/// // ... run the function with `event`, producing `response` ...
/// # let response = event;
/// let response = pipeline.after(response, deadline).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pipeline {
    middlewares: Vec<Middleware>,
    env: Option<Vec<(String, String)>>,
    working_dir: Option<PathBuf>,
}

impl Pipeline {
    /// These middlewares, in `before` order.
    pub fn new(middlewares: Vec<Middleware>) -> Self {
        Pipeline {
            middlewares,
            env: None,
            working_dir: None,
        }
    }

    /// Each name as the executable `dir/NAME` (names checked with
    /// [`validate_name`](crate::validate_name); the files are not looked at yet).
    pub fn in_dir(dir: &Path, names: &[String]) -> Result<Self, MiddlewareError> {
        let middlewares = names
            .iter()
            .map(|name| {
                validate_name(name)?;
                Ok(Middleware::new(name.clone(), dir.join(name)))
            })
            .collect::<Result<_, MiddlewareError>>()?;
        Ok(Pipeline::new(middlewares))
    }

    /// Run the hooks with exactly this environment (`None`: inherit the caller's).
    pub fn with_env(mut self, env: Option<Vec<(String, String)>>) -> Self {
        self.env = env;
        self
    }

    /// Run the hooks in this directory (`None`: the caller's).
    pub fn with_working_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.working_dir = dir;
        self
    }

    /// The middlewares, in `before` order.
    pub fn middlewares(&self) -> &[Middleware] {
        &self.middlewares
    }

    /// Whether there is no middleware.
    pub fn is_empty(&self) -> bool {
        self.middlewares.is_empty()
    }

    /// The names, in `before` order, joined with `,` (for logs).
    pub fn describe(&self) -> String {
        let names: Vec<&str> = self.middlewares.iter().map(|m| m.name.as_str()).collect();
        names.join(",")
    }

    /// Check every middleware ([`Middleware::check`]); the first failure names it.
    pub fn check(&self) -> Result<(), MiddlewareError> {
        self.middlewares.iter().try_for_each(Middleware::check)
    }

    /// `NAME before` for each middleware in list order, each one's stdout the next one's stdin;
    /// the last stdout is the event the function gets.
    pub async fn before(
        &self,
        event: Bytes,
        deadline: Option<Instant>,
    ) -> Result<Bytes, HookError> {
        let mut event = event;
        for middleware in &self.middlewares {
            event = self.run(middleware, Hook::Before, event, deadline).await?;
        }
        Ok(event)
    }

    /// `NAME after` for each middleware in reverse list order (the first listed sees the
    /// response last, so it wraps the others like an onion).
    pub async fn after(
        &self,
        response: Bytes,
        deadline: Option<Instant>,
    ) -> Result<Bytes, HookError> {
        let mut response = response;
        for middleware in self.middlewares.iter().rev() {
            response = self
                .run(middleware, Hook::After, response, deadline)
                .await?;
        }
        Ok(response)
    }

    /// Run one hook of one middleware: `input` on stdin; its stdout when it exits 0 with one
    /// JSON value. Past `deadline` the process (and its process group) is killed.
    pub async fn run(
        &self,
        middleware: &Middleware,
        hook: Hook,
        input: Bytes,
        deadline: Option<Instant>,
    ) -> Result<Bytes, HookError> {
        let program = middleware
            .argv
            .first()
            .map_or_else(|| middleware.path.clone(), PathBuf::from);
        let mut command = Command::new(program);
        command
            .args(middleware.argv.iter().skip(1))
            .arg(hook.as_str());
        if let Some(argv0) = &middleware.argv0 {
            command.arg0(argv0);
        }
        if let Some(env) = &self.env {
            command.env_clear();
            command.envs(env.iter().map(|(k, v)| (k, v)));
        }
        if let Some(dir) = &self.working_dir {
            command.current_dir(dir);
        }
        process::run(command, &middleware.name, hook, input, deadline).await
    }
}
