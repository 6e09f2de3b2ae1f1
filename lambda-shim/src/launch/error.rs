//! Why a packaged function cannot be launched, and the Lambda error type of each reason.

use std::io;
use std::path::PathBuf;

use middleware::MiddlewareError;
use watchdog::ConfigError;

use crate::elf::ElfError;

/// Why the function cannot be launched (reported to `/runtime/init/error`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    /// `faas-launch.json` is missing or unreadable.
    #[error("cannot read {path}: {source}")]
    ReadSpec {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// `faas-launch.json` is not a launch spec.
    #[error("invalid {path}: {source}")]
    ParseSpec {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The watchdog variables are invalid (or `fprocess` is missing).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No `fprocess` and no Entrypoint/Cmd.
    #[error("the image has no fprocess, Entrypoint or Cmd: nothing to run")]
    NoProgram,
    /// The program is not in the image.
    #[error("{name:?} is not an executable file in the image (searched {searched})")]
    NotFound {
        /// The program as written.
        name: String,
        /// Where it was looked for.
        searched: String,
    },
    /// The program exists but cannot be launched.
    #[error("cannot launch {path}: {source}")]
    Format {
        /// The file in the rootfs.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: ElfError,
    },
    /// The program is built for another CPU.
    #[error("{path} is built for ELF machine {found}, this runtime runs on {host}")]
    WrongArchitecture {
        /// The file in the rootfs.
        path: PathBuf,
        /// Its `e_machine`.
        found: u16,
        /// This host's architecture.
        host: &'static str,
    },
    /// The dynamic loader named by `PT_INTERP` is not in the image.
    #[error("the loader {interpreter} of {program} is not in the image")]
    MissingLoader {
        /// The loader path in the image.
        interpreter: String,
        /// The program needing it.
        program: String,
    },
    /// `WorkingDir` does not exist in the image.
    #[error("the working directory {0:?} does not exist in the image")]
    WorkingDir(String),
    /// `#!` interpreters nest too deeply.
    #[error("too many nested #! interpreters for {0:?}")]
    TooDeep(String),
    /// A listed middleware is missing from the image or not executable.
    #[error(transparent)]
    Middleware(#[from] MiddlewareError),
    /// Resolving a path in the rootfs failed.
    #[error("cannot resolve {path:?} in the rootfs: {source}")]
    Resolve {
        /// The image path.
        path: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

impl LaunchError {
    /// The Lambda `errorType` reported for this failure.
    pub fn error_type(&self) -> &'static str {
        match self {
            LaunchError::WorkingDir(_) => "Runtime.InvalidWorkingDir",
            LaunchError::NoProgram
            | LaunchError::NotFound { .. }
            | LaunchError::Format { .. }
            | LaunchError::WrongArchitecture { .. }
            | LaunchError::MissingLoader { .. }
            | LaunchError::TooDeep(_) => "Runtime.InvalidEntrypoint",
            _ => "Runtime.InitError",
        }
    }
}
