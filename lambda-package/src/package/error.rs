//! Why packaging failed, and whose fault that is.

use std::path::PathBuf;

use crate::flatten::FlattenError;
use crate::oci::OciError;

/// Who should act on a [`PackageError`]; a provider maps it to an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The request named something wrong: a missing or malformed image, bad credentials,
    /// an image too big or hostile for Lambda (4xx).
    Caller,
    /// The registry could not be reached or is failing (503; retry later).
    Unavailable,
    /// This side's fault: configuration (bootstrap binary), local disk (5xx).
    Internal,
}

/// Why [`crate::package::package_image`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackageError {
    /// The image reference does not parse.
    #[error("invalid image reference {reference:?}: {message}")]
    BadReference {
        /// The reference as given.
        reference: String,
        /// Why.
        message: String,
    },
    /// The registry has no such image (repository, tag or digest).
    #[error("image {reference} not found: {message}")]
    NotFound {
        /// The reference.
        reference: String,
        /// The registry's words.
        message: String,
    },
    /// The registry refused the credentials, or wants some and none were given.
    #[error("registry refused access to {reference}: {message}")]
    AuthRefused {
        /// The reference.
        reference: String,
        /// The registry's words.
        message: String,
    },
    /// The credentials could not be read (e.g. a malformed Docker config file).
    #[error("registry credentials: {0}")]
    Credentials(String),
    /// The registry cannot be reached, timed out, or answered 5xx/429.
    #[error("registry {registry} unavailable: {message}")]
    Unreachable {
        /// `host:port`.
        registry: String,
        /// What happened.
        message: String,
    },
    /// The registry answered something the distribution protocol does not allow.
    #[error("registry protocol error for {reference}: {message}")]
    Registry {
        /// The reference.
        reference: String,
        /// What happened.
        message: String,
    },
    /// A manifest or blob does not match the digest or size its descriptor promised.
    #[error("blob {digest} does not match its descriptor: {message}")]
    BlobMismatch {
        /// The descriptor's digest.
        digest: String,
        /// Size or digest, expected and seen.
        message: String,
    },
    /// The image is malformed (manifest or config JSON, digests).
    #[error("invalid image: {0}")]
    InvalidImage(String),
    /// The image uses something this packager does not handle (schema 1, a layer media type,
    /// an architecture Lambda does not run, no matching platform in an index).
    #[error("unsupported image: {0}")]
    Unsupported(String),
    /// A layer could not be applied: hostile or malformed content, or a cap exceeded.
    #[error("layer {index} ({digest}): {source}")]
    Layer {
        /// 0-based position in the manifest.
        index: usize,
        /// Its digest.
        digest: String,
        /// Why.
        #[source]
        source: FlattenError,
    },
    /// A layer image (`--layer`, [`PackageOptions::layer_images`](super::PackageOptions)) could
    /// not be resolved, pulled or applied; `source` says why, as for the function image.
    #[error("layer image {reference}: {source}")]
    LayerImage {
        /// The layer image's reference, as given.
        reference: String,
        /// Why.
        #[source]
        source: Box<PackageError>,
    },
    /// The package exceeds a cap (unzipped or zipped size).
    #[error("too big for Lambda: {0}")]
    TooBig(String),
    /// The bootstrap binary is missing, unreadable, or does not fit the image.
    #[error("bootstrap {path}: {message}")]
    Bootstrap {
        /// Where it was looked for.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Local I/O (work directory, output file).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl PackageError {
    /// Whose fault it is.
    pub fn class(&self) -> ErrorClass {
        match self {
            PackageError::BadReference { .. }
            | PackageError::NotFound { .. }
            | PackageError::AuthRefused { .. }
            | PackageError::Credentials(_)
            | PackageError::BlobMismatch { .. }
            | PackageError::InvalidImage(_)
            | PackageError::Unsupported(_)
            | PackageError::TooBig(_) => ErrorClass::Caller,
            PackageError::Layer { source, .. } => match source {
                FlattenError::Spool(_) => ErrorClass::Internal,
                _ => ErrorClass::Caller,
            },
            PackageError::LayerImage { source, .. } => source.class(),
            PackageError::Unreachable { .. } | PackageError::Registry { .. } => {
                ErrorClass::Unavailable
            }
            PackageError::Bootstrap { .. } | PackageError::Io { .. } => ErrorClass::Internal,
        }
    }

    /// The request's fault (4xx).
    pub fn is_caller_error(&self) -> bool {
        self.class() == ErrorClass::Caller
    }

    /// The registry is unavailable (503).
    pub fn is_unavailable(&self) -> bool {
        self.class() == ErrorClass::Unavailable
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> PackageError {
        PackageError::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<OciError> for PackageError {
    /// Each registry failure as the packaging failure of the same name.
    fn from(e: OciError) -> PackageError {
        match e {
            OciError::BadReference { reference, message } => {
                PackageError::BadReference { reference, message }
            }
            OciError::NotFound { reference, message } => {
                PackageError::NotFound { reference, message }
            }
            OciError::AuthRefused { reference, message } => {
                PackageError::AuthRefused { reference, message }
            }
            OciError::Credentials(message) => PackageError::Credentials(message),
            OciError::Unreachable { registry, message } => {
                PackageError::Unreachable { registry, message }
            }
            OciError::Registry { reference, message } => {
                PackageError::Registry { reference, message }
            }
            OciError::BlobMismatch { digest, message } => {
                PackageError::BlobMismatch { digest, message }
            }
            OciError::InvalidImage(message) => PackageError::InvalidImage(message),
            OciError::Unsupported(message) => PackageError::Unsupported(message),
        }
    }
}
