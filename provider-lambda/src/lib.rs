//! OpenFaaS functions on AWS Lambda: the OpenFaaS provider API over aws-sdk-lambda, plus a
//! local mode. The zips come from the `lambda-package` crate (an OCI image becomes a
//! `provided.al2023` zip).

pub mod launch;
pub mod local;
pub mod provider;
pub use launch::SETTINGS;
pub use provider::secrets;
pub use provider::{LambdaConfig, LambdaProvider};
