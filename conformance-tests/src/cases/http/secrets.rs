//! `/system/secrets` on the wire: the list carries no values, and the status codes.

use reqwest::Method;
use serde_json::json;

use crate::harness::{Cleanup, unique_name};
use crate::outcome::Outcome;
use crate::raw::Raw;
use crate::target::Target;
use crate::{ensure, fail, skip};

use super::wire::{get, post_json};

/// The secret list carries names only, never `value` or `rawValue`.
pub async fn http_secrets_list_has_no_values(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    if !t.caps.secrets {
        skip!("secrets are not supported");
    }
    let cleanup = Cleanup::new(t);
    let namespace = &t.caps.default_namespace;
    let (text, bytes) = (unique_name(), unique_name());
    cleanup.secret(&text, namespace);
    cleanup.secret(&bytes, namespace);
    post_json(
        &raw,
        Method::POST,
        "/system/secrets",
        &json!({"name": text, "namespace": namespace, "value": "plain"}),
    )
    .await?
    .expect(&[200, 201, 202])?;
    post_json(
        &raw,
        Method::POST,
        "/system/secrets",
        &json!({"name": bytes, "namespace": namespace, "rawValue": "/wD+"}),
    )
    .await?
    .expect(&[200, 201, 202])?;
    let list = get(&raw, &format!("/system/secrets?namespace={namespace}")).await?;
    list.expect(&[200])?
        .expect_content_type("application/json")?;
    let list = list.json()?;
    let Some(entries) = list.as_array() else {
        fail!("secret list is not an array: {list}");
    };
    for entry in entries {
        for key in ["value", "rawValue"] {
            ensure!(
                entry
                    .get(key)
                    .is_none_or(|v| v.is_null() || v == &json!("")),
                "secret list entry carries {key}: {entry}"
            );
        }
    }
    for name in [&text, &bytes] {
        ensure!(
            entries.iter().any(|e| e["name"] == json!(name)),
            "secret {name} not listed: {list}"
        );
    }
    Ok(())
}

/// Secret statuses: create 200/201/202, duplicate 409, update 200/202, update missing 404,
/// delete 200/202 (never 204), delete missing 404.
pub async fn http_secret_statuses(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    if !t.caps.secrets {
        skip!("secrets are not supported");
    }
    let cleanup = Cleanup::new(t);
    let namespace = &t.caps.default_namespace;
    let name = unique_name();
    cleanup.secret(&name, namespace);
    let secret = json!({"name": name, "namespace": namespace, "value": "one"});
    post_json(&raw, Method::POST, "/system/secrets", &secret)
        .await?
        .expect(&[200, 201, 202])?;
    post_json(&raw, Method::POST, "/system/secrets", &secret)
        .await?
        .expect_client_error_with_message(&[409])?;
    post_json(
        &raw,
        Method::PUT,
        "/system/secrets",
        &json!({"name": name, "namespace": namespace, "value": "two"}),
    )
    .await?
    .expect(&[200, 202])?;
    let missing = json!({"name": unique_name(), "namespace": namespace, "value": "x"});
    post_json(&raw, Method::PUT, "/system/secrets", &missing)
        .await?
        .expect(&[404])?;
    post_json(
        &raw,
        Method::DELETE,
        "/system/secrets",
        &json!({"name": name, "namespace": namespace}),
    )
    .await?
    .expect(&[200, 202])?;
    post_json(
        &raw,
        Method::DELETE,
        "/system/secrets",
        &json!({"name": name, "namespace": namespace}),
    )
    .await?
    .expect(&[404])?;
    Ok(())
}
