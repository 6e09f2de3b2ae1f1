//! The seam between the provider and packaging: an image reference becomes a Lambda zip.
//! Production uses [`ImagePackager`] (the crate's own `package_image`); tests of the control
//! plane may pass any other [`Packager`].

use std::path::Path;

use async_trait::async_trait;
use faas_provider::Result;

use super::settings::Arch;

/// What the provider asks of a packager.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PackageRequest {
    /// The architecture to package for (`None` = the image's own, amd64 first in an index).
    pub architecture: Option<Arch>,
}

/// What came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packaged {
    /// Size of the zip, bytes.
    pub zipped_bytes: u64,
    /// The architecture the zip runs on.
    pub architecture: Arch,
    /// The manifest digest of the image packaged (informational).
    pub image_digest: String,
}

/// Turns an image into a Lambda zip at `out_zip`. Errors are the caller's fault (image missing,
/// refused, invalid, too big: `InvalidRequest`) or the registry's (`Unavailable`).
#[async_trait]
pub trait Packager: Send + Sync + 'static {
    /// Packages `image` into `out_zip`.
    async fn package(
        &self,
        image: &str,
        request: &PackageRequest,
        out_zip: &Path,
    ) -> Result<Packaged>;
}
