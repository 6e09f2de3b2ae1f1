//! The function routes on the wire: `POST`/`PUT`/`DELETE /system/functions`, the status and
//! the list, their status codes and JSON shapes.

use reqwest::Method;
use serde_json::json;

use crate::harness::{
    Cleanup, create_namespace, deploy, deploy_echo_in, echo_spec, in_default, unique_name,
};
use crate::outcome::Outcome;
use crate::raw::Raw;
use crate::target::Target;
use crate::{ensure, ensure_eq, fail};

use super::wire::{
    deploy_over_http, deployment_json, function_path, get, namespace_to_deploy_into, post_json,
};

/// `POST /system/functions` answers 200 or 202; the function's status is then JSON with its name
/// and image.
pub async fn http_deploy_answers_200_or_202(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let function = in_default(t, &unique_name());
    deploy_over_http(
        &raw,
        &cleanup,
        &function,
        &deployment_json(t, &function.name),
    )
    .await?;
    let status = get(&raw, &function_path(&function)).await?;
    status
        .expect(&[200])?
        .expect_content_type("application/json")?;
    let value = status.json()?;
    ensure_eq!(
        value["name"],
        json!(function.name),
        "name in the status JSON"
    );
    ensure_eq!(
        value["image"],
        json!(t.echo.image),
        "image in the status JSON"
    );
    Ok(())
}

/// A deployment without `namespace` lands in the default namespace, found without `?namespace=`.
pub async fn http_deploy_without_namespace_uses_default(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let function = in_default(t, &unique_name());
    let mut body = deployment_json(t, &function.name);
    body.as_object_mut().map(|o| o.remove("namespace"));
    deploy_over_http(&raw, &cleanup, &function, &body).await?;
    let status = get(&raw, &format!("/system/function/{}", function.name)).await?;
    let value = status.expect(&[200])?.json()?;
    if let Some(namespace) = value.get("namespace") {
        ensure_eq!(
            namespace,
            &json!(t.caps.default_namespace),
            "namespace of a function deployed without one"
        );
    }
    let list = get(&raw, "/system/functions").await?;
    let list = list.expect(&[200])?.json()?;
    let names: Vec<&str> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str())
        .collect();
    ensure!(
        names.contains(&function.name.as_str()),
        "list without ?namespace= lacks {}: {names:?}",
        function.name
    );
    Ok(())
}

/// `POST` of an existing name answers 409 (or 400) with a message.
pub async fn http_deploy_duplicate_answers_409_or_400(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let function = in_default(t, &unique_name());
    let body = deployment_json(t, &function.name);
    deploy_over_http(&raw, &cleanup, &function, &body).await?;
    post_json(&raw, Method::POST, "/system/functions", &body)
        .await?
        .expect_client_error_with_message(&[409, 400])?;
    Ok(())
}

/// `PUT` of an existing function answers 200 or 202 and replaces its labels.
pub async fn http_update_answers_200_or_202(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let function = in_default(t, &unique_name());
    let mut body = deployment_json(t, &function.name);
    body["labels"] = json!({"generation": "1", "old": "yes"});
    deploy_over_http(&raw, &cleanup, &function, &body).await?;
    body["labels"] = json!({"generation": "2"});
    post_json(&raw, Method::PUT, "/system/functions", &body)
        .await?
        .expect(&[200, 202])?;
    let value = get(&raw, &function_path(&function))
        .await?
        .expect(&[200])?
        .json()?;
    ensure_eq!(
        value["labels"]["generation"],
        json!("2"),
        "label after update"
    );
    ensure!(
        value["labels"].get("old").is_none(),
        "label `old` survived the update: {}",
        value["labels"]
    );
    Ok(())
}

/// `PUT` of an unknown function answers 404 (faas-cli then falls back to POST).
pub async fn http_update_missing_answers_404(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let function = in_default(t, &unique_name());
    cleanup.function(&function);
    post_json(
        &raw,
        Method::PUT,
        "/system/functions",
        &deployment_json(t, &function.name),
    )
    .await?
    .expect(&[404])?;
    get(&raw, &function_path(&function)).await?.expect(&[404])?;
    Ok(())
}

/// `DELETE` answers 200 or 202 (never 204); the status is then 404.
pub async fn http_delete_answers_200_or_202(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let function = deploy(t, &cleanup, echo_spec(t, &unique_name())).await?;
    let body = json!({"functionName": function.name, "namespace": function.namespace});
    post_json(&raw, Method::DELETE, "/system/functions", &body)
        .await?
        .expect(&[200, 202])?;
    get(&raw, &function_path(&function)).await?.expect(&[404])?;
    Ok(())
}

/// `DELETE` of an unknown function answers 404.
pub async fn http_delete_missing_answers_404(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let body = json!({"functionName": unique_name(), "namespace": t.caps.default_namespace});
    post_json(&raw, Method::DELETE, "/system/functions", &body)
        .await?
        .expect(&[404])?;
    Ok(())
}

/// `DELETE` without a `functionName` answers 400 with a message.
pub async fn http_delete_without_function_name_answers_400(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    for body in [
        json!({}),
        json!({"functionName": ""}),
        json!({"namespace": t.caps.default_namespace}),
    ] {
        post_json(&raw, Method::DELETE, "/system/functions", &body)
            .await?
            .expect_client_error_with_message(&[400])?;
    }
    Ok(())
}

/// `DELETE` takes the namespace from the query when the body has none (faas-netes style).
pub async fn http_delete_accepts_namespace_in_query(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let namespace = namespace_to_deploy_into(t, &cleanup).await?;
    let function = deploy_echo_in(t, &cleanup, &unique_name(), &namespace).await?;
    let body = json!({"functionName": function.name});
    post_json(
        &raw,
        Method::DELETE,
        &format!("/system/functions?namespace={namespace}"),
        &body,
    )
    .await?
    .expect(&[200, 202])?;
    get(&raw, &function_path(&function)).await?.expect(&[404])?;
    Ok(())
}

/// `GET /system/function/{unknown}` answers 404.
pub async fn http_status_missing_answers_404(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    get(&raw, &function_path(&in_default(t, &unique_name())))
        .await?
        .expect(&[404])?;
    Ok(())
}

/// Lists are JSON arrays, never `null`: `[]` for an empty namespace.
pub async fn http_list_is_an_array_never_null(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let list = get(
        &raw,
        &format!("/system/functions?namespace={}", t.caps.default_namespace),
    )
    .await?;
    list.expect(&[200])?
        .expect_content_type("application/json")?;
    ensure!(
        list.json()?.is_array(),
        "function list is not an array: {}",
        list.text()
    );
    if !t.caps.namespace_mutation {
        return Ok(());
    }
    let namespace = create_namespace(t, &cleanup).await?;
    let empty = get(&raw, &format!("/system/functions?namespace={namespace}")).await?;
    ensure_eq!(
        empty.expect(&[200])?.json()?,
        json!([]),
        "function list of an empty namespace"
    );
    if t.caps.secrets {
        let secrets = get(&raw, &format!("/system/secrets?namespace={namespace}")).await?;
        ensure_eq!(
            secrets.expect(&[200])?.json()?,
            json!([]),
            "secret list of an empty namespace"
        );
    }
    Ok(())
}

/// `labels` and `annotations` are always objects in status and list entries, even when the
/// deployment had none (the OpenFaaS certifier dereferences both).
pub async fn http_status_always_has_labels_and_annotations(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let function = in_default(t, &unique_name());
    deploy_over_http(
        &raw,
        &cleanup,
        &function,
        &deployment_json(t, &function.name),
    )
    .await?;
    let status = get(&raw, &function_path(&function))
        .await?
        .expect(&[200])?
        .json()?;
    let list = get(
        &raw,
        &format!("/system/functions?namespace={}", function.namespace),
    )
    .await?;
    let list = list.expect(&[200])?.json()?;
    let Some(entry) = list
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["name"] == json!(function.name))
    else {
        fail!("{} missing from the list: {list}", function.name);
    };
    for (what, value) in [("status", &status), ("list entry", entry)] {
        ensure!(
            value["labels"].is_object(),
            "{what}: labels is not an object: {value}"
        );
        ensure!(
            value["annotations"].is_object(),
            "{what}: annotations is not an object: {value}"
        );
        ensure_eq!(
            value["labels"]["faas_function"],
            json!(function.name),
            "{what}: label faas_function"
        );
    }
    Ok(())
}

/// The status JSON uses the OpenFaaS keys and types (camelCase, RFC 3339 `createdAt`, numeric
/// replica counts, resources as objects of strings).
pub async fn http_status_json_shape(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let function = in_default(t, &unique_name());
    let mut body = deployment_json(t, &function.name);
    body["envVars"] = json!({"A": "1"});
    body["limits"] = json!({"memory": "128Mi"});
    body["readOnlyRootFilesystem"] = json!(true);
    deploy_over_http(&raw, &cleanup, &function, &body).await?;
    let value = get(&raw, &function_path(&function))
        .await?
        .expect(&[200])?
        .json()?;
    ensure!(value.is_object(), "status is not an object: {value}");
    let created = value["createdAt"].as_str().unwrap_or_default();
    ensure!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok(),
        "createdAt {:?} is not RFC 3339",
        value["createdAt"]
    );
    for key in ["replicas", "availableReplicas", "invocationCount"] {
        if let Some(v) = value.get(key) {
            ensure!(v.is_number(), "{key} is not a number: {v}");
        }
    }
    ensure_eq!(value["envVars"], json!({"A": "1"}), "envVars");
    ensure_eq!(value["limits"]["memory"], json!("128Mi"), "limits.memory");
    ensure_eq!(
        value["readOnlyRootFilesystem"],
        json!(true),
        "readOnlyRootFilesystem"
    );
    for snake in [
        "env_vars",
        "created_at",
        "available_replicas",
        "read_only_root_filesystem",
    ] {
        ensure!(
            value.get(snake).is_none(),
            "status uses the non-OpenFaaS key {snake}"
        );
    }
    Ok(())
}
