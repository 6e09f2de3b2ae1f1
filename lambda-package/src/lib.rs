//! OCI image ⇄ AWS Lambda zip packaging: an OCI image becomes a `provided.al2023` zip (pull,
//! flatten, zip with the static `bootstrap` shim of `lambda-shim`).

pub mod flatten;
pub mod oci;
pub mod package;
pub use package::{
    Architecture, BootstrapSource, ErrorClass, PackageError, PackageOptions, PackageSummary,
    RegistryCredentials, package_image,
};
