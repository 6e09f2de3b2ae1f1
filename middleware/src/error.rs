//! What can go wrong: a middleware that cannot be used at all ([`MiddlewareError`], found at
//! start), and one hook run that failed ([`HookError`], stops the call).

use std::fmt;
use std::path::PathBuf;

use crate::names::{Hook, LIST_ENV};

/// A listed middleware cannot be used: the function must not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MiddlewareError {
    /// A name in the list is refused.
    #[error("invalid middleware name {name:?} in {LIST_ENV}: {reason}")]
    InvalidName {
        /// The name as written.
        name: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// No file at the middleware's path.
    #[error("middleware {name:?} is missing: {} does not exist", path.display())]
    Missing {
        /// The middleware.
        name: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The file exists but cannot be run.
    #[error("middleware {name:?} is not executable: {} {reason}", path.display())]
    NotExecutable {
        /// The middleware.
        name: String,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl MiddlewareError {
    /// The middleware concerned.
    pub fn name(&self) -> &str {
        match self {
            MiddlewareError::InvalidName { name, .. }
            | MiddlewareError::Missing { name, .. }
            | MiddlewareError::NotExecutable { name, .. } => name,
        }
    }
}

/// How one hook run failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The executable could not be started.
    Spawn(String),
    /// It exited non-zero or was killed by a signal (`exit status 3`, `signal: SIGSEGV`).
    Exit(String),
    /// It exited 0 but its stdout is not one JSON value.
    InvalidJson(String),
    /// It was still running at the call's deadline and was killed (with its process group).
    Timeout,
    /// Reading its output or waiting for it failed.
    Io(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Spawn(e) => write!(f, "cannot start it: {e}"),
            Failure::Exit(how) => f.write_str(how),
            Failure::InvalidJson(e) => write!(f, "its output is not valid JSON: {e}"),
            Failure::Timeout => f.write_str("it outlived the call's remaining time and was killed"),
            Failure::Io(e) => write!(f, "i/o error: {e}"),
        }
    }
}

/// One hook failed: the call stops (the watchdog answers 502, the Lambda shim reports
/// `Middleware.Failed`). The message names the middleware and the hook and ends with the first
/// [`STDERR_LIMIT`](crate::STDERR_LIMIT) bytes of its stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookError {
    /// The middleware's name.
    pub middleware: String,
    /// Which hook.
    pub hook: Hook,
    /// What went wrong.
    pub failure: Failure,
    /// The start of its stderr (lossy UTF-8, at most `STDERR_LIMIT` bytes of it).
    pub stderr: String,
}

impl fmt::Display for HookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "middleware {:?} ({}) failed: {}",
            self.middleware, self.hook, self.failure
        )?;
        let stderr = self.stderr.trim_end();
        if !stderr.is_empty() {
            write!(f, "; stderr: {stderr}")?;
        }
        Ok(())
    }
}

impl std::error::Error for HookError {}
