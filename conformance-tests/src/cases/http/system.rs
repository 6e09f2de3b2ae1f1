//! The other routes: `/healthz`, `/system/info`, `/system/namespaces`,
//! `/system/namespace/{name}`, and unknown paths.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Cleanup, unique_name};
use crate::outcome::Outcome;
use crate::raw::Raw;
use crate::target::Target;
use crate::{ensure, ensure_eq, fail, skip};

use super::wire::{get, post_json};

/// `/healthz` answers 200 to GET and HEAD.
pub async fn http_healthz_answers_200(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    raw.send(raw.request(Method::GET, "/healthz"))
        .await?
        .expect(&[200])?;
    raw.send(raw.request(Method::HEAD, "/healthz"))
        .await?
        .expect(&[200])?;
    Ok(())
}

/// Unknown paths answer 404.
pub async fn http_unknown_route_answers_404(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    for path in ["/nope", "/system/nope", "/system/function/", "/function"] {
        get(&raw, path).await?.expect(&[404])?;
    }
    Ok(())
}

/// `/system/info` is JSON with non-empty `provider`, `orchestration`, `version.sha` and
/// `version.release`.
pub async fn http_info_json_shape(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let reply = get(&raw, "/system/info").await?;
    reply
        .expect(&[200])?
        .expect_content_type("application/json")?;
    let info = reply.json()?;
    for pointer in [
        "/provider",
        "/orchestration",
        "/version/sha",
        "/version/release",
    ] {
        ensure!(
            info.pointer(pointer)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty()),
            "info{pointer} is missing or empty: {info}"
        );
    }
    Ok(())
}

/// `/system/namespaces` is a JSON array of strings containing the default namespace.
pub async fn http_namespaces_list_is_array_with_default(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let reply = get(&raw, "/system/namespaces").await?;
    reply
        .expect(&[200])?
        .expect_content_type("application/json")?;
    let list = reply.json()?;
    let Some(items) = list.as_array() else {
        fail!("namespace list is not an array: {list}");
    };
    ensure!(
        items.iter().all(Value::is_string),
        "namespace list holds non-strings: {list}"
    );
    ensure!(
        items.contains(&json!(t.caps.default_namespace)),
        "namespace list lacks {}: {list}",
        t.caps.default_namespace
    );
    Ok(())
}

/// Namespace statuses: create 201 (200/202 accepted), duplicate 409, get 200, update 202 (200),
/// missing 404 on get/update/delete, delete 202 (200), no `openfaas` label or name mismatch 400.
pub async fn http_namespace_statuses(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    if !t.caps.namespace_mutation {
        skip!("namespace mutation is not supported");
    }
    let cleanup = Cleanup::new(t);
    let name = unique_name();
    cleanup.namespace(&name);
    let path = format!("/system/namespace/{name}");
    let body = json!({"name": name, "labels": {"openfaas": "1"}});
    post_json(&raw, Method::POST, &path, &body)
        .await?
        .expect(&[201, 200, 202])?;
    post_json(&raw, Method::POST, &path, &body)
        .await?
        .expect_client_error_with_message(&[409])?;
    let got = get(&raw, &path).await?;
    ensure_eq!(
        got.expect(&[200])?.json()?["name"],
        json!(name),
        "name of the namespace"
    );
    let updated = json!({"name": name, "labels": {"openfaas": "1", "team": "conf"}});
    post_json(&raw, Method::PUT, &path, &updated)
        .await?
        .expect(&[202, 200])?;

    let missing = unique_name();
    cleanup.namespace(&missing);
    let missing_path = format!("/system/namespace/{missing}");
    get(&raw, &missing_path).await?.expect(&[404])?;
    post_json(
        &raw,
        Method::PUT,
        &missing_path,
        &json!({"name": missing, "labels": {"openfaas": "1"}}),
    )
    .await?
    .expect(&[404])?;
    raw.send(raw.request(Method::DELETE, &missing_path))
        .await?
        .expect(&[404])?;
    post_json(
        &raw,
        Method::POST,
        &missing_path,
        &json!({"name": missing, "labels": {}}),
    )
    .await?
    .expect_client_error_with_message(&[400])?;
    post_json(
        &raw,
        Method::POST,
        &missing_path,
        &json!({"name": "other-name", "labels": {"openfaas": "1"}}),
    )
    .await?
    .expect_client_error_with_message(&[400])?;

    raw.send(raw.request(Method::DELETE, &path))
        .await?
        .expect(&[202, 200])?;
    get(&raw, &path).await?.expect(&[404])?;
    Ok(())
}
