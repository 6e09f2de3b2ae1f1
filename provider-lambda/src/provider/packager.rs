//! The seam between the provider and packaging: an image reference becomes a Lambda zip.
//! Production uses [`ImagePackager`] (`lambda_package::package_image`); tests of the control
//! plane may pass any other [`Packager`].

use std::path::Path;

use async_trait::async_trait;
use faas_provider::{ProviderError, Result};
use lambda_package::{
    Architecture, BootstrapSource, ErrorClass, PackageOptions, RegistryCredentials, package_image,
};

use super::config::LambdaConfig;
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

/// The production packager: [`lambda_package::package_image`] (pull, flatten, zip with the shim).
#[derive(Debug, Clone)]
pub struct ImagePackager {
    options: PackageOptions,
}

impl ImagePackager {
    /// A packager with `options` (the request's architecture overrides theirs).
    pub fn new(options: PackageOptions) -> Self {
        Self { options }
    }

    /// Options from the provider's configuration: Docker `config.json` credentials (the
    /// configured file, else the default places), plain-HTTP registries, the shim per arch.
    pub fn from_config(config: &LambdaConfig) -> Self {
        Self::new(PackageOptions {
            credentials: RegistryCredentials::DockerConfig(config.docker_config.clone()),
            insecure_registries: config.insecure_registries.clone(),
            bootstrap: BootstrapSource::PerArch {
                x86_64: config.bootstrap_x86_64.clone(),
                arm64: config.bootstrap_arm64.clone(),
            },
            ..PackageOptions::default()
        })
    }
}

fn to_package_arch(arch: Arch) -> Architecture {
    match arch {
        Arch::X86_64 => Architecture::X86_64,
        Arch::Arm64 => Architecture::Arm64,
    }
}

#[async_trait]
impl Packager for ImagePackager {
    async fn package(
        &self,
        image: &str,
        request: &PackageRequest,
        out_zip: &Path,
    ) -> Result<Packaged> {
        let mut options = self.options.clone();
        if let Some(arch) = request.architecture {
            options.architecture = Some(to_package_arch(arch));
        }
        let result = package_image(image, &options, out_zip).await;
        match result {
            Ok(summary) => Ok(Packaged {
                zipped_bytes: summary.zipped_bytes,
                architecture: match summary.architecture {
                    Architecture::X86_64 => Arch::X86_64,
                    Architecture::Arm64 => Arch::Arm64,
                },
                image_digest: summary.image_digest,
            }),
            Err(error) => Err(match error.class() {
                ErrorClass::Caller => {
                    ProviderError::invalid(format!("unable to package image {image}: {error}"))
                }
                ErrorClass::Unavailable => ProviderError::Unavailable {
                    backend: "registry".to_string(),
                    reason: format!("{image}: {error}"),
                },
                _ => ProviderError::backend(super::error::PROVIDER_NAME, error),
            }),
        }
    }
}
