//! The REST API on the wire, with raw requests: status codes (openfaas-api.md §1 "rec." column,
//! §13), JSON shapes, Go-style input, basic auth, the invoke proxy's routing. Every case is
//! skipped when the target has no HTTP endpoint.

use faas_provider::{FunctionNamespace, FunctionRef};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{
    Cleanup, deploy, deploy_echo, echo_spec, eventually, in_default, refused_by_watchdog,
    unique_name, wait_ready,
};
use crate::outcome::{Context, Failure, Outcome};
use crate::raw::{Raw, Reply};
use crate::{Target, ensure, ensure_eq, fail, skip};

/// Malformed bodies sent to every body route.
const MALFORMED: [&str; 3] = ["{\"service\": ", "not json at all", "{\"a\":1}}"];

fn function_path(function: &FunctionRef) -> String {
    format!(
        "/system/function/{}?namespace={}",
        function.name, function.namespace
    )
}

fn deployment_json(t: &Target, name: &str) -> Value {
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

async fn post_json(raw: &Raw, method: Method, path: &str, body: &Value) -> Result<Reply, Failure> {
    raw.send(raw.with_body(method, path, body.to_string()))
        .await
}

async fn get(raw: &Raw, path: &str) -> Result<Reply, Failure> {
    raw.send(raw.request(Method::GET, path)).await
}

/// Creates a namespace through the provider for cases that need one, registered for cleanup.
async fn new_namespace(t: &Target, cleanup: &Cleanup) -> Result<String, Failure> {
    let name = unique_name();
    cleanup.namespace(&name);
    t.provider
        .create_namespace(FunctionNamespace::new(&name))
        .await
        .context(format!("create namespace {name}"))?;
    Ok(name)
}

/// `POST /system/functions` answers 200 or 202; the function's status is then JSON with its name
/// and image.
pub async fn http_deploy_answers_200_or_202(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let function = in_default(t, &unique_name());
    cleanup.function(&function);
    post_json(
        &raw,
        Method::POST,
        "/system/functions",
        &deployment_json(t, &function.name),
    )
    .await?
    .expect(&[200, 202])?;
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
    cleanup.function(&function);
    let mut body = deployment_json(t, &function.name);
    body.as_object_mut().map(|o| o.remove("namespace"));
    post_json(&raw, Method::POST, "/system/functions", &body)
        .await?
        .expect(&[200, 202])?;
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
    cleanup.function(&function);
    let body = deployment_json(t, &function.name);
    post_json(&raw, Method::POST, "/system/functions", &body)
        .await?
        .expect(&[200, 202])?;
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
    cleanup.function(&function);
    let mut body = deployment_json(t, &function.name);
    body["labels"] = json!({"generation": "1", "old": "yes"});
    post_json(&raw, Method::POST, "/system/functions", &body)
        .await?
        .expect(&[200, 202])?;
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
    let namespace = if t.caps.namespace_mutation {
        new_namespace(t, &cleanup).await?
    } else {
        t.caps.default_namespace.clone()
    };
    let mut spec = echo_spec(t, &unique_name());
    spec.namespace = namespace.clone();
    let function = deploy(t, &cleanup, spec).await?;
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
    let namespace = if t.caps.namespace_mutation {
        new_namespace(t, &cleanup).await?
    } else {
        t.caps.default_namespace.clone()
    };
    let mut spec = echo_spec(t, &unique_name());
    spec.namespace = namespace.clone();
    let function = deploy(t, &cleanup, spec).await?;
    let name = &function.name;
    post_json(
        &raw,
        Method::POST,
        &format!("/system/scale-function/{name}?namespace={namespace}"),
        &json!({"serviceName": name, "replicas": 2}),
    )
    .await?
    .expect(&[200, 202])?;
    crate::harness::wait_for_status(t, &function, "replicas == 2 (namespace in query)", |s| {
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
    crate::harness::wait_for_status(t, &function, "replicas == 1 (namespace in body)", |s| {
        s.replicas == 1
    })
    .await?;
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
    let namespace = new_namespace(t, &cleanup).await?;
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
/// deployment had none (the certifier dereferences both).
pub async fn http_status_always_has_labels_and_annotations(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let function = in_default(t, &unique_name());
    cleanup.function(&function);
    post_json(
        &raw,
        Method::POST,
        "/system/functions",
        &deployment_json(t, &function.name),
    )
    .await?
    .expect(&[200, 202])?;
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
    cleanup.function(&function);
    let mut body = deployment_json(t, &function.name);
    body["envVars"] = json!({"A": "1"});
    body["limits"] = json!({"memory": "128Mi"});
    body["readOnlyRootFilesystem"] = json!(true);
    post_json(&raw, Method::POST, "/system/functions", &body)
        .await?
        .expect(&[200, 202])?;
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
    let existing = new_namespace(t, &cleanup).await?;
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

/// GET, POST, PUT, PATCH, DELETE, OPTIONS reach the function with their method; HEAD answers
/// 200 without a body. A watchdog image refusing OPTIONS/HEAD itself (405 without
/// `X-OpenFaaS-Internal`) still shows the proxy passed them.
pub async fn http_invoke_allowed_verbs(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    let path = format!("/function/{}/verb", function.name);
    for method in [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ] {
        let reply = raw
            .send(
                raw.anonymous(method.clone(), &path)
                    .body(format!("{method} body")),
            )
            .await?;
        if refused_by_watchdog(t, &method, reply.status, &reply.headers) {
            continue;
        }
        let echo = reply.echo(t)?;
        ensure_eq!(echo.method, method.as_str(), "method seen by the function");
        ensure_eq!(echo.path, "/verb", "path seen for {method}");
    }
    let head = raw.send(raw.anonymous(Method::HEAD, &path)).await?;
    if !refused_by_watchdog(t, &Method::HEAD, head.status, &head.headers) {
        head.expect(&[200])?;
    }
    ensure!(head.body.is_empty(), "HEAD answered a body");
    Ok(())
}

/// Other methods (PROPFIND, TRACE, custom) answer 405.
pub async fn http_invoke_other_verbs_answer_405(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    for verb in ["PROPFIND", "TRACE", "CONFORMANCE"] {
        let method =
            Method::from_bytes(verb.as_bytes()).map_err(|e| Failure::failed(e.to_string()))?;
        raw.send(raw.anonymous(method, &format!("/function/{}", function.name)))
            .await?
            .expect(&[405])?;
    }
    Ok(())
}

/// The path after the name and the raw query reach the function unchanged.
pub async fn http_invoke_path_and_query_pass_through(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    let name = &function.name;
    for (suffix, path, query) in [
        ("/a/b?q=1&q=2", "/a/b", "q=1&q=2"),
        ("", "/", ""),
        ("/", "/", ""),
        ("?x=%2F%20y&flag", "/", "x=%2F%20y&flag"),
        ("/c/d/?e=", "/c/d/", "e="),
    ] {
        let echo = raw
            .send(raw.anonymous(Method::GET, &format!("/function/{name}{suffix}")))
            .await?
            .echo(t)?;
        ensure_eq!(echo.path, path, "path seen for /function/{name}{suffix}");
        ensure_eq!(echo.query, query, "query seen for /function/{name}{suffix}");
    }
    Ok(())
}

/// `/function/<name>.<namespace>` reaches that namespace's function; another namespace's 503s.
pub async fn http_invoke_name_dot_namespace(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    let echo = raw
        .send(raw.anonymous(
            Method::GET,
            &format!("/function/{}.{}/p?x=1", function.name, function.namespace),
        ))
        .await?
        .echo(t)?;
    ensure_eq!(echo.path, "/p", "path via name.namespace");
    ensure_eq!(echo.query, "x=1", "query via name.namespace");
    if let Some(namespace) = &echo.namespace {
        ensure_eq!(
            namespace,
            &function.namespace,
            "namespace named in the echo"
        );
    }
    if !t.caps.namespace_mutation {
        return Ok(());
    }
    let other = new_namespace(t, &cleanup).await?;
    let path = format!("/function/{}.{other}", function.name);
    raw.send(raw.anonymous(Method::GET, &path))
        .await?
        .expect(&[503])?;
    let mut spec = echo_spec(t, &function.name);
    spec.namespace = other.clone();
    let there = deploy(t, &cleanup, spec).await?;
    wait_ready(t, &there).await?;
    let echo = raw.send(raw.anonymous(Method::GET, &path)).await?.echo(t)?;
    if let Some(namespace) = &echo.namespace {
        ensure_eq!(namespace, &other, "namespace named in the echo");
    }
    Ok(())
}

/// The proxy sets `X-Forwarded-Host` (the incoming Host) and `X-Forwarded-For` (the client's
/// address) when the caller did not, and keeps the caller's own values when it did.
pub async fn http_invoke_sets_forwarded_headers(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    let path = format!("/function/{}", function.name);
    let echo = raw.send(raw.anonymous(Method::GET, &path)).await?.echo(t)?;
    let host = raw
        .url("")
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .to_string();
    ensure_eq!(
        echo.headers.get("x-forwarded-host").map(String::as_str),
        Some(host.as_str()),
        "X-Forwarded-Host seen by the function"
    );
    let forwarded_for = echo
        .headers
        .get("x-forwarded-for")
        .cloned()
        .unwrap_or_default();
    ensure!(
        forwarded_for.starts_with("127.")
            || forwarded_for.starts_with("[::1]")
            || forwarded_for.starts_with("::1"),
        "X-Forwarded-For seen by the function is {forwarded_for:?}, expected the loopback client address"
    );
    let echo = raw
        .send(
            raw.anonymous(Method::GET, &path)
                .header("X-Forwarded-Host", "conformance.example")
                .header("X-Forwarded-For", "192.0.2.7"),
        )
        .await?
        .echo(t)?;
    ensure_eq!(
        echo.headers.get("x-forwarded-host").map(String::as_str),
        Some("conformance.example"),
        "X-Forwarded-Host sent by the caller"
    );
    ensure_eq!(
        echo.headers.get("x-forwarded-for").map(String::as_str),
        Some("192.0.2.7"),
        "X-Forwarded-For sent by the caller"
    );
    Ok(())
}

/// An unknown function answers 503 with `X-OpenFaaS-Internal` and a message.
pub async fn http_invoke_unknown_answers_503(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let reply = raw
        .send(raw.anonymous(Method::GET, &format!("/function/{}", unique_name())))
        .await?;
    reply.expect_client_error_with_message(&[503])?;
    ensure!(
        reply
            .header("x-openfaas-internal")
            .is_some_and(|v| !v.is_empty()),
        "503 for an unknown function lacks X-OpenFaaS-Internal: {:?}",
        reply.headers
    );
    Ok(())
}

/// `/function/` without a name answers 404.
pub async fn http_invoke_without_name_answers_404(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    raw.send(raw.anonymous(Method::GET, "/function/"))
        .await?
        .expect(&[404])?;
    raw.send(raw.anonymous(Method::POST, "/function/"))
        .await?
        .expect(&[404, 405])?;
    Ok(())
}

/// Logs are NDJSON (`application/x-ndjson`), one object per line with the log-message keys;
/// `tail=1` gives one line.
pub async fn http_logs_are_ndjson(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    if !t.caps.logs {
        skip!("logs are not supported");
    }
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    raw.send(
        raw.anonymous(Method::POST, &format!("/function/{}", function.name))
            .body("log"),
    )
    .await?
    .expect(&[200])?;
    let path = format!(
        "/system/logs?name={}&namespace={}&follow=false",
        function.name, function.namespace
    );
    let reply = eventually(t.timeouts.eventually, "a log line over HTTP", || async {
        let reply = get(&raw, &path).await.map_err(|e| e.to_string())?;
        if reply.status == 200 && !reply.text().trim().is_empty() {
            Ok(Some(reply))
        } else {
            Err(format!("{} {:?}", reply.status, reply.text()))
        }
    })
    .await?;
    reply.expect_content_type("application/x-ndjson")?;
    for line in reply.text().lines().filter(|l| !l.trim().is_empty()) {
        let value: Value = serde_json::from_str(line).context(format!("log line {line:?}"))?;
        for key in ["name", "namespace", "instance", "timestamp", "text"] {
            ensure!(value.get(key).is_some(), "log line lacks {key}: {line}");
        }
        ensure_eq!(value["name"], json!(function.name), "name of a log line");
    }
    let tail = get(&raw, &format!("{path}&tail=1")).await?;
    let count = tail
        .expect(&[200])?
        .text()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    ensure_eq!(count, 1, "lines for tail=1");
    Ok(())
}

/// Unparsable `tail` or `since` answer 422 with a message.
pub async fn http_logs_bad_tail_or_since_answer_422(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    if !t.caps.logs {
        skip!("logs are not supported");
    }
    let cleanup = Cleanup::new(t);
    let function = deploy(t, &cleanup, echo_spec(t, &unique_name())).await?;
    let base = format!(
        "/system/logs?name={}&namespace={}",
        function.name, function.namespace
    );
    for bad in [
        "tail=abc",
        "tail=1.5",
        "since=yesterday",
        "since=2024-13-45T00:00:00Z",
    ] {
        get(&raw, &format!("{base}&{bad}"))
            .await?
            .expect_client_error_with_message(&[422])?;
    }
    Ok(())
}

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

/// Go-style input is accepted: keys in another case (`Service`, `Image`), `null` maps and lists,
/// unknown and deprecated keys.
pub async fn http_go_style_input_accepted(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    let cleanup = Cleanup::new(t);
    let function = in_default(t, &unique_name());
    cleanup.function(&function);
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
    post_json(&raw, Method::POST, "/system/functions", &body)
        .await?
        .expect(&[200, 202])?;
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
        let shown = crate::echo::preview(&body[..body.len().min(40)]);
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

/// Over the wire, the scale-from-zero contract (§5): scale to 0 answers 200/202 and the status
/// shows no replicas; invoking answers 503; scale to 1 makes it answer again.
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
    raw.send(raw.anonymous(Method::GET, &invoke))
        .await?
        .expect(&[503])?;
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
