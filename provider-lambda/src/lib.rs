//! OpenFaaS functions on AWS Lambda.
//!
//! Packaging (an OCI image becomes a `provided.al2023` zip): pull, flatten, zip.
//! The provider (the OpenFaaS provider API over aws-sdk-lambda, plus a local mode).

// Packaging (helper A): OCI pull, flattening, zip.
pub mod flatten;
pub mod oci;
pub mod package;
pub use package::{
    Architecture, BootstrapSource, ErrorClass, PackageError, PackageOptions, PackageSummary,
    RegistryCredentials, package_image,
};

// Provider (helper C): the OpenFaaS provider API over Lambda, secrets, local mode.
pub mod local;
pub mod provider;
pub mod secrets;
pub use provider::launch::SETTINGS;
pub use provider::{LambdaConfig, LambdaProvider};
