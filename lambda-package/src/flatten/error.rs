//! Why a layer could not be applied.

use std::io;

/// Why a layer could not be applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlattenError {
    /// The layer tries to escape the root or otherwise abuse the unpacker.
    #[error("hostile layer content: {0}")]
    Hostile(String),
    /// Not a valid layer (bad tar, bad compression, unsupported entry).
    #[error("malformed layer: {0}")]
    Malformed(String),
    /// A cap in [`Limits`](super::Limits) was exceeded.
    #[error("too big: {0}")]
    Limit(String),
    /// Reading the layer stream failed (decompression errors included).
    #[error("reading the layer: {0}")]
    Read(#[source] io::Error),
    /// Writing or reading the local spool file failed.
    #[error("spool file: {0}")]
    Spool(#[source] io::Error),
}
