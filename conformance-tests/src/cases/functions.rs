//! Function CRUD through the `Provider` trait, as the OpenFaaS `/system/functions` and
//! `/system/function/{name}` routes define it: every field of a deployment round-trips, invalid
//! requests are refused, the `com.openfaas.scale.min` label sets the initial replicas.

use chrono::{Datelike, Utc};
use faas_provider::types::{LABEL_FAAS_FUNCTION, LABEL_SCALE_MIN, StringMap};
use faas_provider::{FunctionDeployment, FunctionResources, FunctionStatus, ProviderError, Secret};

use crate::harness::{
    Cleanup, create_namespace, deploy, describe_result, echo_spec, echo_spec_in, in_default,
    spec_ref, unique_name, wait_for_status,
};
use crate::outcome::{Context, Failure, Outcome};
use crate::target::Target;
use crate::{ensure, ensure_eq, fail, skip};

/// An annotation whose value is multi-line JSON (the OpenFaaS certifier deploys one).
pub(crate) const MULTILINE_JSON: &str = "{\n  \"name\": \"conformance\",\n  \"nested\": {\"list\": [1, 2, 3], \"flag\": true},\n  \"text\": \"a \\\"quoted\\\" word\"\n}\n";

fn map(pairs: &[(&str, &str)]) -> StringMap {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A deployment using every field of `FunctionDeployment`.
pub(crate) fn full_spec(t: &Target, name: &str, secret: Option<&str>) -> FunctionDeployment {
    let mut spec = echo_spec(t, name);
    spec.env_vars = map(&[
        ("CONF_MODE", "full"),
        ("conf_lower", "two words"),
        ("CONF_EQ", "a=b"),
    ]);
    spec.constraints = vec!["node.platform.os == linux".to_string()];
    spec.secrets = secret.map(|s| vec![s.to_string()]).unwrap_or_default();
    spec.labels = Some(map(&[
        ("com.openfaas.conformance", "true"),
        ("team", "conformance"),
    ]));
    spec.annotations = Some(map(&[
        ("com.openfaas.conformance/json", MULTILINE_JSON),
        ("topic", "conformance"),
    ]));
    spec.limits = Some(FunctionResources {
        memory: "128Mi".to_string(),
        cpu: "500m".to_string(),
    });
    spec.requests = Some(FunctionResources {
        memory: "64Mi".to_string(),
        cpu: "100m".to_string(),
    });
    spec.read_only_root_filesystem = true;
    spec
}

/// Checks that `status` echoes every field of `spec` as the OpenFaaS certifier compares them.
pub(crate) fn check_echoes_spec(
    status: &FunctionStatus,
    spec: &FunctionDeployment,
    namespace: &str,
) -> Outcome {
    ensure_eq!(status.name, spec.service, "name");
    ensure_eq!(status.image, spec.image, "image (must be echoed verbatim)");
    ensure_eq!(status.namespace, namespace, "namespace");
    ensure_eq!(status.env_process, spec.env_process, "envProcess");
    ensure_eq!(status.env_vars, spec.env_vars, "envVars");
    ensure_eq!(status.constraints, spec.constraints, "constraints");
    ensure_eq!(status.secrets, spec.secrets, "secrets");
    ensure_eq!(
        status.read_only_root_filesystem,
        spec.read_only_root_filesystem,
        "readOnlyRootFilesystem"
    );
    let nonempty = |r: &Option<FunctionResources>| r.clone().filter(|r| !r.is_empty());
    ensure_eq!(nonempty(&status.limits), nonempty(&spec.limits), "limits");
    ensure_eq!(
        nonempty(&status.requests),
        nonempty(&spec.requests),
        "requests"
    );

    let Some(labels) = &status.labels else {
        fail!(
            "labels are missing (they must always be present, at least with {LABEL_FAAS_FUNCTION})"
        );
    };
    for (key, value) in spec.labels.iter().flatten() {
        ensure_eq!(labels.get(key), Some(value), "label {key}");
    }
    ensure_eq!(
        labels.get(LABEL_FAAS_FUNCTION),
        Some(&spec.service),
        "label {LABEL_FAAS_FUNCTION}"
    );
    let Some(annotations) = &status.annotations else {
        fail!("annotations are missing (they must always be present, `{{}}` when none)");
    };
    for (key, value) in spec.annotations.iter().flatten() {
        ensure_eq!(annotations.get(key), Some(value), "annotation {key}");
    }
    Ok(())
}

/// `createdAt` is set (not Go's zero time) and not in the future.
fn check_created_at(status: &FunctionStatus) -> Outcome {
    let created = status.created_at;
    ensure!(
        created.year() >= 2020,
        "createdAt is not set: {created} (the zero time means unknown)"
    );
    ensure!(
        created <= Utc::now() + chrono::Duration::hours(1),
        "createdAt {created} is in the future"
    );
    Ok(())
}

/// Creates a secret for a case when the target supports secrets.
async fn maybe_secret(t: &Target, cleanup: &Cleanup) -> Result<Option<String>, Failure> {
    if !t.caps.secrets {
        return Ok(None);
    }
    let name = unique_name();
    let namespace = t.caps.default_namespace.clone();
    cleanup.secret(&name, &namespace);
    t.provider
        .create_secret(Secret::new(&name, &namespace, "s3cr3t"))
        .await
        .context(format!("create secret {name}"))?;
    Ok(Some(name))
}

/// Deploy then get echoes every field: image exact, envProcess, envVars, constraints, secrets,
/// labels ⊇ deployed + `faas_function`, annotations (incl. multi-line JSON), limits, requests,
/// readOnlyRootFilesystem, namespace; `createdAt` is set.
pub async fn deploy_get_echoes_every_field(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let secret = maybe_secret(t, &cleanup).await?;
    let spec = full_spec(t, &unique_name(), secret.as_deref());
    let function = deploy(t, &cleanup, spec.clone()).await?;
    let status = t
        .provider
        .get(&function)
        .await
        .context("get after deploy")?;
    check_echoes_spec(&status, &spec, &function.namespace)?;
    check_created_at(&status)
}

/// A function without labels or annotations still reports both (labels with `faas_function`).
pub async fn get_always_has_labels_and_annotations(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let spec = echo_spec(t, &unique_name());
    let function = deploy(t, &cleanup, spec.clone()).await?;
    let status = t.provider.get(&function).await.context("get")?;
    check_echoes_spec(&status, &spec, &function.namespace)?;
    ensure_eq!(
        status.annotations,
        Some(StringMap::new()),
        "annotations of a function deployed without any"
    );
    Ok(())
}

/// The list of the namespace contains the deployed function, with the same fields as `get`.
pub async fn list_contains_deployed_function(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let spec = full_spec(t, &unique_name(), None);
    let function = deploy(t, &cleanup, spec.clone()).await?;
    let list = t.provider.list(&function.namespace).await.context("list")?;
    let matching: Vec<&FunctionStatus> = list.iter().filter(|s| s.name == function.name).collect();
    ensure_eq!(
        matching.len(),
        1,
        "entries named {} in the list",
        function.name
    );
    check_echoes_spec(matching[0], &spec, &function.namespace)?;
    check_created_at(matching[0])
}

/// A namespace holding no function lists as empty.
pub async fn list_of_empty_namespace_is_empty(t: &Target) -> Outcome {
    if !t.caps.namespace_mutation {
        skip!("needs namespace_mutation to get a namespace known to be empty");
    }
    let cleanup = Cleanup::new(t);
    let namespace = create_namespace(t, &cleanup).await?;
    let list = t
        .provider
        .list(&namespace)
        .await
        .context("list a new namespace")?;
    ensure!(
        list.is_empty(),
        "a new namespace lists {} functions: {list:?}",
        list.len()
    );
    Ok(())
}

/// Deploying a name that exists answers `AlreadyExists` and leaves the first deployment alone.
pub async fn deploy_duplicate_is_already_exists(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let spec = echo_spec(t, &unique_name());
    let function = deploy(t, &cleanup, spec.clone()).await?;
    let mut second = spec.clone();
    second.env_vars = map(&[("SECOND", "1")]);
    let result = t.provider.deploy(second).await;
    ensure!(
        matches!(result, Err(ProviderError::AlreadyExists { .. })),
        "second deploy of {function}: expected AlreadyExists, got {}",
        describe_result(&result)
    );
    let status = t.provider.get(&function).await.context("get")?;
    ensure!(
        status.env_vars.is_empty(),
        "the refused deploy changed the function: envVars {:?}",
        status.env_vars
    );
    Ok(())
}

/// Update replaces the spec: new values appear and values absent from the update are gone.
pub async fn update_replaces_the_spec(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let name = unique_name();
    let function = deploy(t, &cleanup, full_spec(t, &name, None)).await?;
    let mut updated = echo_spec(t, &name);
    updated.env_vars = map(&[("UPDATED", "yes")]);
    updated.labels = Some(map(&[("phase", "two")]));
    updated.annotations = Some(map(&[("note", "updated")]));
    updated.limits = Some(FunctionResources {
        memory: "256Mi".to_string(),
        cpu: String::new(),
    });
    t.provider.update(updated.clone()).await.context("update")?;
    let status = t
        .provider
        .get(&function)
        .await
        .context("get after update")?;
    check_echoes_spec(&status, &updated, &function.namespace)?;
    let labels = status.labels.unwrap_or_default();
    ensure!(
        !labels.contains_key("team"),
        "label `team` of the first spec survived the update (update must replace, not merge): {labels:?}"
    );
    let annotations = status.annotations.unwrap_or_default();
    ensure!(
        !annotations.contains_key("topic"),
        "annotation `topic` of the first spec survived the update: {annotations:?}"
    );
    Ok(())
}

/// Updating a function that does not exist is `NotFound` (faas-cli falls back to POST on it).
pub async fn update_missing_is_not_found(t: &Target) -> Outcome {
    let spec = echo_spec(t, &unique_name());
    let function = spec_ref(t, &spec);
    let cleanup = Cleanup::new(t);
    cleanup.function(&function);
    let result = t.provider.update(spec).await;
    ensure!(
        matches!(result, Err(ProviderError::NotFound { .. })),
        "update of missing {function}: expected NotFound, got {}",
        describe_result(&result)
    );
    let get = t.provider.get(&function).await;
    ensure!(
        matches!(get, Err(ProviderError::NotFound { .. })),
        "a refused update created {function}: get answered {}",
        describe_result(&get)
    );
    Ok(())
}

/// Delete removes the function from `get` and `list`.
pub async fn delete_removes_the_function(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let function = deploy(t, &cleanup, echo_spec(t, &unique_name())).await?;
    t.provider.delete(&function).await.context("delete")?;
    let get = t.provider.get(&function).await;
    ensure!(
        matches!(get, Err(ProviderError::NotFound { .. })),
        "get after delete: expected NotFound, got {}",
        describe_result(&get)
    );
    let list = t
        .provider
        .list(&function.namespace)
        .await
        .context("list after delete")?;
    ensure!(
        list.iter().all(|s| s.name != function.name),
        "{function} is still listed after delete"
    );
    Ok(())
}

/// A deleted name can be deployed again.
pub async fn redeploy_after_delete(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let name = unique_name();
    let function = deploy(t, &cleanup, echo_spec(t, &name)).await?;
    t.provider.delete(&function).await.context("delete")?;
    let mut again = echo_spec(t, &name);
    again.labels = Some(map(&[("generation", "2")]));
    deploy(t, &cleanup, again.clone()).await?;
    let status = t
        .provider
        .get(&function)
        .await
        .context("get after redeploy")?;
    check_echoes_spec(&status, &again, &function.namespace)
}

/// Deleting a function that does not exist is `NotFound`.
pub async fn delete_missing_is_not_found(t: &Target) -> Outcome {
    let function = in_default(t, &unique_name());
    let result = t.provider.delete(&function).await;
    ensure!(
        matches!(result, Err(ProviderError::NotFound { .. })),
        "delete of missing {function}: expected NotFound, got {}",
        describe_result(&result)
    );
    Ok(())
}

/// Getting a function that does not exist is `NotFound`.
pub async fn get_missing_is_not_found(t: &Target) -> Outcome {
    let function = in_default(t, &unique_name());
    let result = t.provider.get(&function).await;
    ensure!(
        matches!(result, Err(ProviderError::NotFound { .. })),
        "get of missing {function}: expected NotFound, got {}",
        describe_result(&result)
    );
    Ok(())
}

/// Deploying into a namespace that does not exist is an invalid request (400), and creates nothing.
pub async fn deploy_into_missing_namespace_is_invalid(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let spec = echo_spec_in(t, &unique_name(), &unique_name());
    let function = spec_ref(t, &spec);
    cleanup.function(&function);
    let result = t.provider.deploy(spec).await;
    ensure!(
        matches!(result, Err(ProviderError::InvalidRequest(_))),
        "deploy into missing namespace {}: expected InvalidRequest, got {}",
        function.namespace,
        describe_result(&result)
    );
    Ok(())
}

/// Deploying a function that mounts a secret that does not exist is an invalid request (400).
pub async fn deploy_with_missing_secret_is_invalid(t: &Target) -> Outcome {
    if !t.caps.secrets {
        skip!("secrets are not supported");
    }
    let cleanup = Cleanup::new(t);
    let mut spec = echo_spec(t, &unique_name());
    spec.secrets = vec![unique_name()];
    let function = spec_ref(t, &spec);
    cleanup.function(&function);
    let result = t.provider.deploy(spec).await;
    ensure!(
        matches!(result, Err(ProviderError::InvalidRequest(_))),
        "deploy referencing a missing secret: expected InvalidRequest, got {}",
        describe_result(&result)
    );
    let get = t.provider.get(&function).await;
    ensure!(
        matches!(get, Err(ProviderError::NotFound { .. })),
        "the refused deploy created {function}: get answered {}",
        describe_result(&get)
    );
    Ok(())
}

/// Label `com.openfaas.scale.min=2` starts the function with 2 replicas (OpenFaaS certifier
/// Test_ScaleMinimum).
pub async fn scale_min_label_sets_initial_replicas(t: &Target) -> Outcome {
    if t.caps.max_replicas.is_some_and(|max| max < 2) {
        skip!("max_replicas is below 2");
    }
    let cleanup = Cleanup::new(t);
    let mut spec = echo_spec(t, &unique_name());
    spec.labels = Some(map(&[(LABEL_SCALE_MIN, "2")]));
    let function = deploy(t, &cleanup, spec).await?;
    let status = wait_for_status(t, &function, "replicas == 2", |s| s.replicas == 2).await?;
    ensure!(
        status.available_replicas <= status.replicas,
        "availableReplicas {} > replicas {}",
        status.available_replicas,
        status.replicas
    );
    wait_for_status(t, &function, "availableReplicas == 2", |s| {
        s.available_replicas == 2
    })
    .await?;
    Ok(())
}
