//! `/system/scale-function/{name}` on the wire: where the namespace comes from, an unknown
//! function, and scaling to zero and back.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{
    Cleanup, deploy_echo, deploy_echo_in, eventually, unique_name, wait_for_status,
};
use crate::outcome::Outcome;
use crate::raw::Raw;
use crate::target::Target;
use crate::{ensure_eq, skip};

use super::wire::{function_path, get, namespace_to_deploy_into, post_json};

/// Scaling an unknown function answers 404.
pub async fn http_scale_missing_answers_404(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let name = unique_name();
    let body = json!({"serviceName": name, "replicas": 1, "namespace": t.caps.default_namespace});
    post_json(
        &raw,
        Method::POST,
        &format!("/system/scale-function/{name}"),
        &body,
    )
    .await?
    .expect(&[404])?;
    Ok(())
}

/// Scale takes the name from the path and the namespace from the query (the gateway's
/// scale-from-zero call) or from the body (faas-cli); both apply.
pub async fn http_scale_takes_namespace_from_query_or_body(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    if t.caps.max_replicas.is_some_and(|m| m < 2) {
        skip!("max_replicas is below 2");
    }
    let cleanup = Cleanup::new(t);
    let namespace = namespace_to_deploy_into(t, &cleanup).await?;
    let function = deploy_echo_in(t, &cleanup, &unique_name(), &namespace).await?;
    let name = &function.name;
    post_json(
        &raw,
        Method::POST,
        &format!("/system/scale-function/{name}?namespace={namespace}"),
        &json!({"serviceName": name, "replicas": 2}),
    )
    .await?
    .expect(&[200, 202])?;
    wait_for_status(t, &function, "replicas == 2 (namespace in query)", |s| {
        s.replicas == 2
    })
    .await?;
    post_json(
        &raw,
        Method::POST,
        &format!("/system/scale-function/{name}"),
        &json!({"serviceName": name, "replicas": 1, "namespace": namespace}),
    )
    .await?
    .expect(&[200, 202])?;
    wait_for_status(t, &function, "replicas == 1 (namespace in body)", |s| {
        s.replicas == 1
    })
    .await?;
    Ok(())
}

/// Over the wire, the scale-from-zero contract the OpenFaaS gateway relies on: scale to 0
/// answers 200/202 and the status shows no replicas; invoking answers 503 — or, when the target
/// wakes functions from zero ([`Target::wakes_from_zero`]), answers 200 with the echo and the
/// status then shows at least one available replica; scale to 1 makes it answer again.
pub async fn http_scale_from_zero_contract(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    if !t.caps.scale_to_zero {
        skip!("scale_to_zero is not declared");
    }
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    let scale = format!(
        "/system/scale-function/{}?namespace={}",
        function.name, function.namespace
    );
    let to = |replicas: u64| json!({"serviceName": function.name, "replicas": replicas});
    post_json(&raw, Method::POST, &scale, &to(0))
        .await?
        .expect(&[200, 202])?;
    let path = function_path(&function);
    eventually(t.timeouts.ready, "status shows 0 replicas", || async {
        let value = get(&raw, &path)
            .await
            .map_err(|e| e.to_string())?
            .json()
            .map_err(|e| e.to_string())?;
        let count = |key: &str| value.get(key).and_then(Value::as_u64).unwrap_or(0);
        if count("replicas") == 0 && count("availableReplicas") == 0 {
            Ok(Some(()))
        } else {
            Err(value.to_string())
        }
    })
    .await?;
    let invoke = format!("/function/{}.{}", function.name, function.namespace);
    let at_zero = raw.send(raw.anonymous(Method::GET, &invoke)).await?;
    if t.wakes_from_zero {
        let echo = at_zero.echo(t)?;
        ensure_eq!(
            echo.method,
            "GET",
            "method echoed by the invocation at 0 replicas"
        );
        eventually(
            t.timeouts.ready,
            "availableReplicas >= 1 after the wake-up",
            || async {
                let value = get(&raw, &path)
                    .await
                    .map_err(|e| e.to_string())?
                    .json()
                    .map_err(|e| e.to_string())?;
                match value.get("availableReplicas").and_then(Value::as_u64) {
                    Some(n) if n >= 1 => Ok(Some(())),
                    _ => Err(value.to_string()),
                }
            },
        )
        .await?;
    } else {
        at_zero.expect(&[503])?;
    }
    post_json(&raw, Method::POST, &scale, &to(1))
        .await?
        .expect(&[200, 202])?;
    eventually(
        t.timeouts.ready,
        "availableReplicas > 0 after scaling from zero",
        || async {
            let value = get(&raw, &path)
                .await
                .map_err(|e| e.to_string())?
                .json()
                .map_err(|e| e.to_string())?;
            match value.get("availableReplicas").and_then(Value::as_u64) {
                Some(n) if n > 0 => Ok(Some(())),
                _ => Err(value.to_string()),
            }
        },
    )
    .await?;
    let echo = raw
        .send(raw.anonymous(Method::GET, &invoke))
        .await?
        .echo(t)?;
    ensure_eq!(echo.method, "GET", "method after scaling from zero");
    Ok(())
}
