//! The OpenFaaS wire types, exact to the byte of Go's `encoding/json` output.
//!
//! Decode request bodies with [`GoJson::from_go_json`] to get Go's input rules (case-insensitive
//! keys, `null` as zero value, unknown keys ignored); encode with `serde_json` as usual.

mod function;
pub mod gojson;
mod info;
pub(crate) mod keyscan;
mod logs;
pub mod name;
mod namespace;
mod requests;
mod secret;

pub use function::{
    FunctionDeployment, FunctionResources, FunctionStatus, FunctionUsage, LABEL_FAAS_FUNCTION,
    LABEL_SCALE_MAX, LABEL_SCALE_MIN, StringMap,
};
pub use gojson::GoJson;
pub use info::{ProviderInfo, VersionInfo};
pub use logs::LogMessage;
pub use namespace::{
    DEFAULT_NAMESPACE, FunctionNamespace, LABEL_OPENFAAS_NAMESPACE, namespace_not_found,
    namespace_or_default, validate_namespace_body,
};
pub use requests::{DeleteFunctionRequest, ScaleServiceRequest};
pub use secret::Secret;
