//! What the routes accept and refuse: malformed JSON, invalid names and namespaces, missing
//! secrets, Go-style input, and odd input that must never cause a 5xx.

use faas_provider::FunctionRef;
use reqwest::Method;
use serde_json::json;

use crate::echo::preview;
use crate::harness::{Cleanup, create_namespace, deploy, echo_spec, in_default, unique_name};
use crate::outcome::{Context, Failure, Outcome};
use crate::raw::Raw;
use crate::target::Target;
use crate::{ensure, ensure_eq, skip};

use super::wire::{deploy_over_http, deployment_json, function_path, get, post_json};

/// Malformed bodies sent to every body route.
const MALFORMED: [&str; 3] = ["{\"service\": ", "not json at all", "{\"a\":1}}"];

async fn malformed_everywhere(raw: &Raw, routes: &[(Method, String)]) -> Outcome {
    let mut failures = Vec::new();
    for (method, path) in routes {
        for body in MALFORMED {
            let reply = raw.send(raw.with_body(method.clone(), path, body)).await?;
            if let Err(Failure::Failed(message)) = reply.expect_client_error_with_message(&[400]) {
                failures.push(format!("{message} (sent {body:?})"));
            }
        }
    }
    ensure!(
        failures.is_empty(),
        "malformed JSON must be 400 with a message: {}",
        failures.join("; ")
    );
    Ok(())
}

/// Malformed JSON on `POST`/`PUT`/`DELETE /system/functions` and on scale answers 400 with a message.
pub async fn http_malformed_json_on_function_routes(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let function = deploy(t, &cleanup, echo_spec(t, &unique_name())).await?;
    let routes = [
        (Method::POST, "/system/functions".to_string()),
        (Method::PUT, "/system/functions".to_string()),
        (Method::DELETE, "/system/functions".to_string()),
        (
            Method::POST,
            format!(
                "/system/scale-function/{}?namespace={}",
                function.name, function.namespace
            ),
        ),
    ];
    malformed_everywhere(&raw, &routes).await?;
    t.provider
        .get(&function)
        .await
        .context("get after malformed requests")?;
    Ok(())
}

/// Malformed JSON on `POST`/`PUT`/`DELETE /system/secrets` answers 400 with a message.
pub async fn http_malformed_json_on_secret_routes(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    if !t.caps.secrets {
        skip!("secrets are not supported");
    }
    let routes =
        [Method::POST, Method::PUT, Method::DELETE].map(|m| (m, "/system/secrets".to_string()));
    malformed_everywhere(&raw, &routes).await
}

/// Malformed JSON on `POST`/`PUT /system/namespace/{name}` answers 400 with a message.
pub async fn http_malformed_json_on_namespace_routes(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    if !t.caps.namespace_mutation {
        skip!("namespace mutation is not supported");
    }
    let cleanup = Cleanup::new(t);
    let existing = create_namespace(t, &cleanup).await?;
    let fresh = unique_name();
    cleanup.namespace(&fresh);
    let routes = [
        (Method::POST, format!("/system/namespace/{fresh}")),
        (Method::PUT, format!("/system/namespace/{existing}")),
    ];
    malformed_everywhere(&raw, &routes).await
}

/// Invalid function names and an empty image answer 400 with a message.
pub async fn http_invalid_function_names_answer_400(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let long = "a".repeat(64);
    for name in [
        "",
        "Bad_Name",
        "UPPER",
        "-leading",
        "trailing-",
        "dot.ted",
        "with space",
        "a/b",
        long.as_str(),
    ] {
        cleanup.function(&in_default(t, name));
        post_json(
            &raw,
            Method::POST,
            "/system/functions",
            &deployment_json(t, name),
        )
        .await?
        .expect_client_error_with_message(&[400])?;
    }
    let name = unique_name();
    cleanup.function(&in_default(t, &name));
    let mut body = deployment_json(t, &name);
    body["image"] = json!("");
    post_json(&raw, Method::POST, "/system/functions", &body)
        .await?
        .expect_client_error_with_message(&[400])?;
    Ok(())
}

/// Invalid or unknown namespaces answer 400 (404 accepted when listing an unknown one).
pub async fn http_invalid_namespace_answers_400(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    get(&raw, "/system/functions?namespace=Not_Valid")
        .await?
        .expect_client_error_with_message(&[400])?;
    get(
        &raw,
        &format!("/system/function/{}?namespace=Not_Valid", unique_name()),
    )
    .await?
    .expect(&[400, 404])?;
    get(
        &raw,
        &format!("/system/functions?namespace={}", unique_name()),
    )
    .await?
    .expect(&[400, 404])?;
    for namespace in ["Not_Valid".to_string(), unique_name()] {
        let name = unique_name();
        cleanup.function(&FunctionRef::new(&name, &namespace));
        let mut body = deployment_json(t, &name);
        body["namespace"] = json!(namespace);
        post_json(&raw, Method::POST, "/system/functions", &body)
            .await?
            .expect_client_error_with_message(&[400])?;
    }
    Ok(())
}

/// Deploying with a secret that does not exist answers 400 with a message.
pub async fn http_deploy_with_missing_secret_answers_400(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    if !t.caps.secrets {
        skip!("secrets are not supported");
    }
    let cleanup = Cleanup::new(t);
    let function = in_default(t, &unique_name());
    cleanup.function(&function);
    let mut body = deployment_json(t, &function.name);
    body["secrets"] = json!([unique_name()]);
    post_json(&raw, Method::POST, "/system/functions", &body)
        .await?
        .expect_client_error_with_message(&[400])?;
    get(&raw, &function_path(&function)).await?.expect(&[404])?;
    Ok(())
}

/// Go-style input is accepted: keys in another case (`Service`, `Image`), `null` maps and lists,
/// unknown and deprecated keys.
pub async fn http_go_style_input_accepted(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let function = in_default(t, &unique_name());
    let mut body = json!({
        "Service": function.name,
        "Image": t.echo.image,
        "Namespace": function.namespace,
        "Labels": null,
        "Annotations": null,
        "EnvVars": null,
        "Constraints": null,
        "Secrets": null,
        "Limits": null,
        "Requests": null,
        "registryAuth": "",
        "network": "func_functions",
        "somethingNew": {"nested": [1, 2]},
    });
    if !t.echo.env_process.is_empty() {
        body["EnvProcess"] = json!(t.echo.env_process);
    }
    deploy_over_http(&raw, &cleanup, &function, &body).await?;
    let status = get(&raw, &function_path(&function))
        .await?
        .expect(&[200])?
        .json()?;
    ensure_eq!(
        status["name"],
        json!(function.name),
        "name of a Go-style deployment"
    );
    ensure_eq!(
        status["image"],
        json!(t.echo.image),
        "image of a Go-style deployment"
    );
    ensure!(
        status["labels"].is_object(),
        "labels of a null-labels deployment: {}",
        status["labels"]
    );
    body["Labels"] = json!({"updated": "1"});
    post_json(&raw, Method::PUT, "/system/functions", &body)
        .await?
        .expect(&[200, 202])?;
    let status = get(&raw, &function_path(&function))
        .await?
        .expect(&[200])?
        .json()?;
    ensure_eq!(
        status["labels"]["updated"],
        json!("1"),
        "label set through `Labels`"
    );
    post_json(
        &raw,
        Method::POST,
        &format!("/system/scale-function/{}", function.name),
        &json!({"ServiceName": function.name, "Replicas": 1, "Namespace": function.namespace, "extra": true}),
    )
    .await?
    .expect(&[200, 202])?;
    post_json(
        &raw,
        Method::DELETE,
        "/system/functions",
        &json!({"FunctionName": function.name, "Namespace": function.namespace, "extra": null}),
    )
    .await?
    .expect(&[200, 202])?;
    get(&raw, &function_path(&function)).await?.expect(&[404])?;
    Ok(())
}

/// Odd input (wrong types, non-objects, invalid UTF-8, deep nesting, huge numbers, bad escapes,
/// bad percent-encoding) gets a 4xx, never a 5xx.
pub async fn http_odd_input_never_5xx(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let function = deploy(t, &cleanup, echo_spec(t, &unique_name())).await?;
    let scale = format!(
        "/system/scale-function/{}?namespace={}",
        function.name, function.namespace
    );
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    let bodies: Vec<(Method, String, Vec<u8>)> = vec![
        (
            Method::POST,
            "/system/functions".into(),
            br#"{"service": 5, "image": []}"#.to_vec(),
        ),
        (Method::POST, "/system/functions".into(), b"[]".to_vec()),
        (
            Method::POST,
            "/system/functions".into(),
            b"\"just a string\"".to_vec(),
        ),
        (Method::POST, "/system/functions".into(), b"null".to_vec()),
        (Method::POST, "/system/functions".into(), b"".to_vec()),
        (
            Method::POST,
            "/system/functions".into(),
            vec![0xff, 0xfe, b'{', 0x80],
        ),
        (Method::POST, "/system/functions".into(), deep.into_bytes()),
        (
            Method::POST,
            "/system/functions".into(),
            format!(
                r#"{{"service":"{}","image":"x","labels":{{"a":1}}}}"#,
                unique_name()
            )
            .into_bytes(),
        ),
        (
            Method::PUT,
            "/system/functions".into(),
            br#"{"service": {"a": 1}}"#.to_vec(),
        ),
        (
            Method::DELETE,
            "/system/functions".into(),
            br#"{"functionName": ["x"]}"#.to_vec(),
        ),
        (Method::POST, scale.clone(), br#"{"replicas": -1}"#.to_vec()),
        (
            Method::POST,
            scale.clone(),
            br#"{"replicas": 1e30}"#.to_vec(),
        ),
        (
            Method::POST,
            scale.clone(),
            br#"{"replicas": "2"}"#.to_vec(),
        ),
        (
            Method::POST,
            scale.clone(),
            br#"{"replicas": 18446744073709551616}"#.to_vec(),
        ),
        (
            Method::POST,
            "/system/functions".into(),
            br#"{"service": "\ud800", "image": "x"}"#.to_vec(),
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body) in bodies {
        let shown = preview(&body[..body.len().min(40)]);
        let reply = raw
            .send(
                raw.request(method, &path)
                    .header("content-type", "application/json")
                    .body(body),
            )
            .await?;
        if !reply.status.is_client_error() {
            failures.push(format!("{} with {shown:?}: {}", reply.what, reply.status));
        }
    }
    for path in [
        "/system/functions?namespace=%zz".to_string(),
        format!("/system/function/{}?namespace=%zz", function.name),
        "/system/function/%zz".to_string(),
        "/system/logs".to_string(),
        "/system/logs?name=".to_string(),
    ] {
        let reply = get(&raw, &path).await?;
        if !reply.status.is_client_error() {
            failures.push(format!("{}: {}", reply.what, reply.status));
        }
    }
    ensure!(failures.is_empty(), "expected 4xx: {}", failures.join("; "));
    let status = t
        .provider
        .get(&function)
        .await
        .context("get after odd input")?;
    ensure!(
        status.replicas >= 1,
        "odd scale requests changed replicas to {}",
        status.replicas
    );
    Ok(())
}
