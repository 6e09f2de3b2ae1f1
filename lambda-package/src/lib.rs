//! OCI image ⇄ AWS Lambda zip packaging: an OCI image becomes a `provided.al2023` zip (pull,
//! flatten, zip with the static `bootstrap` shim of `lambda-shim`).

pub mod arch;
pub mod flatten;
pub mod import;
pub mod oci;
pub mod package;
pub use arch::Architecture;
pub use package::{
    BootstrapSource, ErrorClass, PackageError, PackageOptions, PackageSummary, RegistryCredentials,
    package_image,
};
