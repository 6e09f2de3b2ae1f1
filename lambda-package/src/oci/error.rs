//! Why a pull failed: the registry's answers (oci-client's errors) sorted into what the caller
//! can act on.

use oci_client::Reference;
use oci_client::errors::{OciDistributionError, OciErrorCode};

/// Why talking to the registry, or reading what it sent, failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OciError {
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
    /// The image uses something this client does not handle (schema 1, a layer media type, an
    /// architecture Lambda does not run, no matching platform in an index).
    #[error("unsupported image: {0}")]
    Unsupported(String),
}

/// An oci-client error while pulling `image`, sorted: refusals, missing images, bad names,
/// unavailability (429, 5xx, I/O) and protocol errors.
pub(crate) fn from_distribution(e: OciDistributionError, image: &Reference) -> OciError {
    let reference = image.whole();
    let unreachable = |message: String| unreachable(image, message);
    match e {
        OciDistributionError::UnauthorizedError { url } => OciError::AuthRefused {
            reference,
            message: format!("401 Unauthorized from {url}"),
        },
        OciDistributionError::AuthenticationFailure(message) => {
            OciError::AuthRefused { reference, message }
        }
        OciDistributionError::RegistryError { envelope, .. } => {
            let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
            let message = envelope
                .errors
                .iter()
                .map(|e| format!("{:?}: {}", e.code, e.message))
                .collect::<Vec<_>>()
                .join("; ");
            let any = |wanted: &[OciErrorCode]| codes.iter().any(|c| wanted.contains(c));
            if any(&[OciErrorCode::Unauthorized, OciErrorCode::Denied]) {
                OciError::AuthRefused { reference, message }
            } else if any(&[
                OciErrorCode::ManifestUnknown,
                OciErrorCode::NameUnknown,
                OciErrorCode::BlobUnknown,
                OciErrorCode::NotFound,
            ]) {
                OciError::NotFound { reference, message }
            } else if any(&[OciErrorCode::NameInvalid, OciErrorCode::TagInvalid]) {
                OciError::BadReference { reference, message }
            } else if any(&[OciErrorCode::Toomanyrequests]) {
                unreachable(message)
            } else {
                OciError::Registry { reference, message }
            }
        }
        OciDistributionError::ServerError { code, url, message } => {
            let message = format!("{code} from {url}: {}", message.trim());
            match code {
                401 | 403 => OciError::AuthRefused { reference, message },
                404 => OciError::NotFound { reference, message },
                429 | 500..=599 => unreachable(message),
                _ => OciError::Registry { reference, message },
            }
        }
        OciDistributionError::ImageManifestNotFoundError(message) => {
            OciError::NotFound { reference, message }
        }
        OciDistributionError::DigestError(e) => OciError::BlobMismatch {
            digest: image.digest().unwrap_or("manifest").to_string(),
            message: e.to_string(),
        },
        OciDistributionError::RequestError(e) => unreachable(e.to_string()),
        OciDistributionError::IoError(e) => unreachable(e.to_string()),
        OciDistributionError::ManifestParsingError(m)
        | OciDistributionError::VersionedParsingError(m) => OciError::InvalidImage(m),
        OciDistributionError::UnsupportedMediaTypeError(m) => {
            OciError::Unsupported(format!("media type {m}"))
        }
        OciDistributionError::UnsupportedSchemaVersionError(v) => {
            OciError::Unsupported(format!("manifest schema version {v}"))
        }
        other => OciError::Registry {
            reference,
            message: other.to_string(),
        },
    }
}

/// `image`'s registry cannot be reached or is failing.
pub(crate) fn unreachable(image: &Reference, message: String) -> OciError {
    OciError::Unreachable {
        registry: image.resolve_registry().to_string(),
        message,
    }
}
