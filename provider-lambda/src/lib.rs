//! OpenFaaS functions on AWS Lambda.
//!
//! Packaging (an OCI image becomes a `provided.al2023` zip): pull, flatten, zip.
//! The provider (the OpenFaaS provider API over aws-sdk-lambda, plus a local mode).
