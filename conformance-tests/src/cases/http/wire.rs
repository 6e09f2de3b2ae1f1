//! What the raw-HTTP cases share: paths, the deployment JSON, requests with a JSON body,
//! deploying over the wire, and a namespace to deploy into.

use faas_provider::FunctionRef;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Cleanup, create_namespace};
use crate::outcome::Failure;
use crate::raw::{Raw, Reply};
use crate::target::Target;

/// The status path of `function`, namespace in the query.
pub(super) fn function_path(function: &FunctionRef) -> String {
    format!(
        "/system/function/{}?namespace={}",
        function.name, function.namespace
    )
}

/// The deployment JSON of the echo function named `name`, in the default namespace.
pub(super) fn deployment_json(t: &Target, name: &str) -> Value {
    let mut body = json!({
        "service": name,
        "image": t.echo.image,
        "namespace": t.caps.default_namespace,
    });
    if !t.echo.env_process.is_empty() {
        body["envProcess"] = json!(t.echo.env_process);
    }
    body
}

/// Sends `body` as JSON with the configured credentials.
pub(super) async fn post_json(
    raw: &Raw,
    method: Method,
    path: &str,
    body: &Value,
) -> Result<Reply, Failure> {
    raw.send(raw.with_body(method, path, body.to_string()))
        .await
}

/// `GET path` with the configured credentials.
pub(super) async fn get(raw: &Raw, path: &str) -> Result<Reply, Failure> {
    raw.send(raw.request(Method::GET, path)).await
}

/// Deploys `function` with `POST /system/functions` and `body` (registered for cleanup first);
/// fails unless the answer is 200 or 202.
pub(super) async fn deploy_over_http(
    raw: &Raw,
    cleanup: &Cleanup,
    function: &FunctionRef,
    body: &Value,
) -> Result<(), Failure> {
    cleanup.function(function);
    post_json(raw, Method::POST, "/system/functions", body)
        .await?
        .expect(&[200, 202])?;
    Ok(())
}

/// A new namespace (registered for cleanup) when the target can create one, else the default.
pub(super) async fn namespace_to_deploy_into(
    t: &Target,
    cleanup: &Cleanup,
) -> Result<String, Failure> {
    if t.caps.namespace_mutation {
        create_namespace(t, cleanup).await
    } else {
        Ok(t.caps.default_namespace.clone())
    }
}
