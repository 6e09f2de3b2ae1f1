//! Basic auth: which routes require the configured credentials and which stay open.

use reqwest::Method;
use serde_json::json;

use crate::harness::{Cleanup, deploy_echo, in_default, unique_name};
use crate::outcome::{Failure, Outcome};
use crate::raw::Raw;
use crate::target::Target;
use crate::{ensure, ensure_eq};

use super::wire::{deployment_json, get};

fn require_credentials(raw: &Raw) -> Result<(String, String), Failure> {
    raw.credentials()
        .cloned()
        .ok_or_else(|| Failure::skipped("the target has no credentials configured"))
}

/// With credentials configured, every `/system/*` route but the namespace list answers 401
/// (with `WWW-Authenticate: Basic`) to anonymous and wrong credentials, and does nothing.
pub async fn http_auth_required_on_system_routes(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let (user, _) = require_credentials(&raw)?;
    let cleanup = Cleanup::new(t);
    let name = unique_name();
    cleanup.function(&in_default(t, &name));
    let deployment = deployment_json(t, &name).to_string();
    let routes: Vec<(Method, String, Option<String>)> = vec![
        (Method::GET, "/system/functions".into(), None),
        (
            Method::POST,
            "/system/functions".into(),
            Some(deployment.clone()),
        ),
        (Method::PUT, "/system/functions".into(), Some(deployment)),
        (
            Method::DELETE,
            "/system/functions".into(),
            Some(json!({"functionName": name}).to_string()),
        ),
        (Method::GET, format!("/system/function/{name}"), None),
        (
            Method::POST,
            format!("/system/scale-function/{name}"),
            Some(json!({"serviceName": name, "replicas": 1}).to_string()),
        ),
        (Method::GET, "/system/info".into(), None),
        (Method::GET, "/system/secrets".into(), None),
        (
            Method::POST,
            "/system/secrets".into(),
            Some(json!({"name": name, "value": "v"}).to_string()),
        ),
        (Method::GET, format!("/system/logs?name={name}"), None),
    ];
    let mut failures = Vec::new();
    for (method, path, body) in &routes {
        for password in [None, Some("wrong-password")] {
            let mut builder = raw.anonymous(method.clone(), path);
            if let Some(password) = password {
                builder = builder.basic_auth(&user, Some(password));
            }
            if let Some(body) = body {
                builder = builder
                    .header("content-type", "application/json")
                    .body(body.clone());
            }
            let reply = raw.send(builder).await?;
            let label = if password.is_some() {
                "wrong password"
            } else {
                "no credentials"
            };
            if reply.status != 401 {
                failures.push(format!("{} with {label}: {}", reply.what, reply.status));
            } else if !reply
                .header("www-authenticate")
                .is_some_and(|v| v.to_ascii_lowercase().starts_with("basic"))
            {
                failures.push(format!(
                    "{} 401 without WWW-Authenticate: Basic",
                    reply.what
                ));
            }
        }
    }
    ensure!(failures.is_empty(), "expected 401: {}", failures.join("; "));
    get(&raw, "/system/info").await?.expect(&[200])?;
    get(&raw, &format!("/system/function/{name}"))
        .await?
        .expect(&[404])?;
    Ok(())
}

/// With credentials configured, `/function/*`, `/healthz` and `/system/namespaces` stay open.
pub async fn http_auth_not_required_on_open_routes(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    require_credentials(&raw)?;
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    raw.send(raw.anonymous(Method::GET, "/healthz"))
        .await?
        .expect(&[200])?;
    raw.send(raw.anonymous(Method::GET, "/system/namespaces"))
        .await?
        .expect(&[200])?;
    let reply = raw
        .send(raw.anonymous(
            Method::GET,
            &format!("/function/{}.{}", function.name, function.namespace),
        ))
        .await?;
    ensure_eq!(
        reply.echo(t)?.method,
        "GET",
        "method echoed to an anonymous caller"
    );
    Ok(())
}
