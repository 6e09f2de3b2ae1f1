//! [`LambdaProvider`]: the OpenFaaS provider API over AWS Lambda (aws-sdk-lambda).
//!
//! - **deploy** packages the image into a `provided.al2023` zip ([`Packager`]), creates the
//!   function (handler `bootstrap`, the image's architecture, memory/timeout from limits and
//!   annotations, environment from `envVars`/`envProcess`/secrets, the configured execution
//!   role), waits until it is `Active`, and applies the replica count (below). Every limit
//!   Lambda would refuse (50 MB zip, 4 KB environment, memory/timeout ranges, tag space) is
//!   checked first and refused with a 400; a function that fails to become active is deleted.
//! - **state** lives in Lambda only ([`record`]): the whole spec in tags, the namespace in the
//!   description, so `get`/`list` are rebuilt from Lambda after a restart or on another host.
//! - **replicas ↔ reserved concurrency**: `scale(N)` reserves N concurrent executions
//!   (`PutFunctionConcurrency`); `scale(0)` reserves 0, so Lambda throttles every invoke and the
//!   status says 0/0 (invoking answers 503 "no endpoints", the gateway's cue to scale from zero).
//!   Label `com.openfaas.scale.min` sets the reservation at deploy (and raises it on update);
//!   without it there is no reservation (reported as 1 replica); an update that removes the
//!   label removes the reservation. `availableReplicas` = replicas while the function's state
//!   is `Active` (or `Inactive`, which Lambda re-activates on invoke), else 0.
//! - **invoke** sends an API Gateway v2 event ([`invoke`]) and maps the answer back; function
//!   errors are 500 (504 for timeouts) with the error message, throttling 429, payloads over
//!   6 MB 413, unknown functions 503 (the server's "no endpoints").
//! - **secrets** live in AWS Secrets Manager ([`secrets`]).
//! - one namespace (`function_namespace`, default `openfaas-fn`); logs are not implemented
//!   (they are in CloudWatch).
//!
//! Layout: `state` (the handle, what it holds, names and locks), `lookup` (reading functions
//! back from Lambda), `lifecycle` (deploy, update, delete, scale), `api` (the [`Provider`]
//! trait), `clients` (the AWS SDK clients), and the public modules below.
//!
//! [`Provider`]: faas_provider::Provider

mod api;
mod clients;
pub mod config;
pub mod error;
pub mod invoke;
mod lifecycle;
mod lookup;
pub mod packager;
pub mod record;
pub mod secrets;
pub mod settings;
mod state;

pub use clients::{
    aws_config_loader, invoke_client, lambda_client, load_aws_config, secrets_client,
};
pub use config::{ConfigError, LambdaConfig};
pub use error::PROVIDER_NAME;
pub use invoke::{AwsInvoker, Deployed, Invoked, Invoker};
pub use lifecycle::{HANDLER, MAX_ZIP_BYTES};
pub use packager::{ImagePackager, PackageRequest, Packaged, Packager};
pub use settings::Arch;
pub use state::{LambdaProvider, Parts};
