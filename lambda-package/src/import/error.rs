//! Why importing a zip failed, and whose fault it is.

use std::path::PathBuf;

/// Why [`super::import_zip`] (or one of its steps) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The bytes are not a readable zip.
    #[error("the function zip cannot be read: {0}")]
    Zip(String),
    /// An entry's name or kind cannot be placed under `/var/task`.
    #[error("zip entry {name:?} is refused: {reason}")]
    UnsafeEntry {
        /// The entry's name as stored.
        name: String,
        /// Why.
        reason: String,
    },
    /// No `bootstrap` at the top of the zip.
    #[error(
        "the zip has no bootstrap at its top level: a provided.al2023 / provided.al2 function \
         needs an executable named bootstrap"
    )]
    NoBootstrap,
    /// More bytes unzipped than allowed.
    #[error("the zip unzips to more than {limit} bytes (Lambda's limit is 262144000)")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// The entrypoint binary cannot be used.
    #[error("the entrypoint {path}: {message}")]
    Entrypoint {
        /// Its path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The image reference cannot be used.
    #[error("image reference {reference:?}: {message}")]
    Reference {
        /// The reference.
        reference: String,
        /// What is wrong.
        message: String,
    },
    /// The registry refused or could not be reached.
    #[error("pushing to the registry: {0}")]
    Registry(String),
}

impl ImportError {
    /// True when the zip itself is at fault (a 4xx for whoever sent it); false when the
    /// importer's setup (entrypoint, reference, registry) is.
    pub fn is_caller_error(&self) -> bool {
        matches!(
            self,
            ImportError::Zip(_)
                | ImportError::UnsafeEntry { .. }
                | ImportError::NoBootstrap
                | ImportError::TooLarge { .. }
        )
    }
}
