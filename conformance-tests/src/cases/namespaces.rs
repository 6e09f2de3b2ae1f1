//! Namespaces through the `Provider` trait (the OpenFaaS `/system/namespaces` and
//! `/system/namespace/{name}` routes; creating, updating and deleting them is optional).

use faas_provider::types::LABEL_OPENFAAS_NAMESPACE;
use faas_provider::{FunctionNamespace, FunctionRef, ProviderError};
use http::Method;

use crate::harness::{
    Call, Cleanup, create_namespace, deploy, deploy_echo_in, describe_result, echo_spec,
    echo_spec_in, invoke_echo, unique_name, wait_ready,
};
use crate::outcome::{Context, Failure, Outcome};
use crate::target::Target;
use crate::{ensure, ensure_eq};

fn require_mutation(t: &Target) -> Outcome {
    if t.caps.namespace_mutation {
        Ok(())
    } else {
        Err(Failure::skipped("namespace mutation is not supported"))
    }
}

/// The namespace list contains the default namespace.
pub async fn namespaces_list_contains_default(t: &Target) -> Outcome {
    let list = t
        .provider
        .list_namespaces()
        .await
        .context("list namespaces")?;
    ensure!(
        list.contains(&t.caps.default_namespace),
        "namespace list {list:?} lacks the default namespace {}",
        t.caps.default_namespace
    );
    Ok(())
}

/// Create, get, list, update and delete a namespace.
pub async fn namespace_create_get_update_delete(t: &Target) -> Outcome {
    require_mutation(t)?;
    let cleanup = Cleanup::new(t);
    let name = create_namespace(t, &cleanup).await?;
    let got = t
        .provider
        .get_namespace(&name)
        .await
        .context("get namespace")?;
    ensure_eq!(got.name, name, "name of the created namespace");
    ensure_eq!(
        got.labels.get(LABEL_OPENFAAS_NAMESPACE).map(String::as_str),
        Some("1"),
        "label {LABEL_OPENFAAS_NAMESPACE}"
    );
    let list = t
        .provider
        .list_namespaces()
        .await
        .context("list namespaces")?;
    ensure!(
        list.contains(&name),
        "created namespace {name} not in the list {list:?}"
    );

    let mut updated = FunctionNamespace::new(&name);
    updated
        .labels
        .insert("team".to_string(), "conformance".to_string());
    updated
        .annotations
        .insert("note".to_string(), "updated".to_string());
    t.provider
        .update_namespace(updated)
        .await
        .context("update namespace")?;
    let got = t
        .provider
        .get_namespace(&name)
        .await
        .context("get after update")?;
    ensure_eq!(
        got.labels.get("team").map(String::as_str),
        Some("conformance"),
        "updated label"
    );
    if !got.annotations.is_empty() {
        ensure_eq!(
            got.annotations.get("note").map(String::as_str),
            Some("updated"),
            "updated annotation"
        );
    }

    t.provider
        .delete_namespace(&name)
        .await
        .context("delete namespace")?;
    let gone = t.provider.get_namespace(&name).await;
    ensure!(
        matches!(gone, Err(ProviderError::NotFound { .. })),
        "get of deleted namespace: expected NotFound, got {}",
        describe_result(&gone)
    );
    let list = t
        .provider
        .list_namespaces()
        .await
        .context("list namespaces")?;
    ensure!(
        !list.contains(&name),
        "deleted namespace {name} still listed"
    );
    Ok(())
}

/// Creating a namespace that exists is `AlreadyExists`.
pub async fn namespace_create_duplicate_is_already_exists(t: &Target) -> Outcome {
    require_mutation(t)?;
    let cleanup = Cleanup::new(t);
    let name = create_namespace(t, &cleanup).await?;
    let result = t
        .provider
        .create_namespace(FunctionNamespace::new(&name))
        .await;
    ensure!(
        matches!(result, Err(ProviderError::AlreadyExists { .. })),
        "second create of namespace {name}: expected AlreadyExists, got {}",
        describe_result(&result)
    );
    Ok(())
}

/// Getting, updating or deleting a namespace that does not exist is `NotFound`.
pub async fn namespace_missing_is_not_found(t: &Target) -> Outcome {
    require_mutation(t)?;
    let cleanup = Cleanup::new(t);
    let name = unique_name();
    cleanup.namespace(&name);
    let get = t.provider.get_namespace(&name).await;
    ensure!(
        matches!(get, Err(ProviderError::NotFound { .. })),
        "get of missing namespace: expected NotFound, got {}",
        describe_result(&get)
    );
    let update = t
        .provider
        .update_namespace(FunctionNamespace::new(&name))
        .await;
    ensure!(
        matches!(update, Err(ProviderError::NotFound { .. })),
        "update of missing namespace: expected NotFound, got {}",
        describe_result(&update)
    );
    let delete = t.provider.delete_namespace(&name).await;
    ensure!(
        matches!(delete, Err(ProviderError::NotFound { .. })),
        "delete of missing namespace: expected NotFound, got {}",
        describe_result(&delete)
    );
    Ok(())
}

/// A function deployed into a created namespace is listed there only, and invocable.
pub async fn namespace_deploy_list_and_invoke(t: &Target) -> Outcome {
    require_mutation(t)?;
    let cleanup = Cleanup::new(t);
    let namespace = create_namespace(t, &cleanup).await?;
    let function = deploy_echo_in(t, &cleanup, &unique_name(), &namespace).await?;
    let status = t
        .provider
        .get(&function)
        .await
        .context("get in the new namespace")?;
    ensure_eq!(status.namespace, namespace, "namespace of the function");
    let here = t
        .provider
        .list(&namespace)
        .await
        .context("list the new namespace")?;
    ensure!(
        here.iter().any(|s| s.name == function.name),
        "{function} not listed in its namespace"
    );
    let default = t
        .provider
        .list(&t.caps.default_namespace)
        .await
        .context("list default")?;
    ensure!(
        default.iter().all(|s| s.name != function.name),
        "{function} is listed in the default namespace too"
    );
    let elsewhere = FunctionRef::new(&function.name, &t.caps.default_namespace);
    let get = t.provider.get(&elsewhere).await;
    ensure!(
        matches!(get, Err(ProviderError::NotFound { .. })),
        "get of {elsewhere}: expected NotFound, got {}",
        describe_result(&get)
    );
    wait_ready(t, &function).await?;
    let echo = invoke_echo(t, &function, Call::new(Method::GET).uri("/ns")).await?;
    ensure_eq!(echo.path, "/ns", "path");
    if let Some(seen) = &echo.namespace {
        ensure_eq!(seen, &namespace, "namespace named in the echo");
    }
    Ok(())
}

/// The same name in two namespaces is two functions: each keeps its spec, deleting one leaves
/// the other.
pub async fn same_name_in_two_namespaces(t: &Target) -> Outcome {
    require_mutation(t)?;
    let cleanup = Cleanup::new(t);
    let namespace = create_namespace(t, &cleanup).await?;
    let name = unique_name();
    let mut first = echo_spec(t, &name);
    first
        .env_vars
        .insert("WHERE".to_string(), "default".to_string());
    let in_default = deploy(t, &cleanup, first).await?;
    let mut second = echo_spec_in(t, &name, &namespace);
    second
        .env_vars
        .insert("WHERE".to_string(), "other".to_string());
    let in_other = deploy(t, &cleanup, second).await?;
    let a = t
        .provider
        .get(&in_default)
        .await
        .context("get in default")?;
    let b = t.provider.get(&in_other).await.context("get in other")?;
    ensure_eq!(
        a.env_vars.get("WHERE").map(String::as_str),
        Some("default"),
        "envVars of {in_default}"
    );
    ensure_eq!(
        b.env_vars.get("WHERE").map(String::as_str),
        Some("other"),
        "envVars of {in_other}"
    );
    t.provider
        .delete(&in_other)
        .await
        .context("delete in other")?;
    t.provider
        .get(&in_default)
        .await
        .context("get in default after deleting the other")?;
    Ok(())
}

/// Deleting a namespace that still holds functions is refused, or removes them with it.
pub async fn delete_namespace_with_functions(t: &Target) -> Outcome {
    require_mutation(t)?;
    let cleanup = Cleanup::new(t);
    let namespace = create_namespace(t, &cleanup).await?;
    let function = deploy_echo_in(t, &cleanup, &unique_name(), &namespace).await?;
    match t.provider.delete_namespace(&namespace).await {
        Ok(()) => {
            let get = t.provider.get(&function).await;
            ensure!(
                get.is_err(),
                "namespace {namespace} was deleted but {function} is still there"
            );
        }
        Err(ProviderError::InvalidRequest(_) | ProviderError::AlreadyExists { .. }) => {
            t.provider
                .get(&function)
                .await
                .context("get after a refused namespace delete")?;
        }
        Err(other) => crate::fail!("delete of a non-empty namespace: unexpected {other:?}"),
    }
    Ok(())
}
