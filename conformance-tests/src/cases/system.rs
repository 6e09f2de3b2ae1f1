//! Info (`/system/info`), health (`/healthz`) and capability honesty: a capability declared off
//! answers `Unsupported`.

use faas_provider::{FunctionNamespace, LogRequest, ProviderError, Secret};

use crate::harness::{describe_result, in_default, unique_name};
use crate::outcome::{Context, Outcome};
use crate::target::Target;
use crate::{ensure, skip};

/// `info` names the provider and its orchestration (OpenFaaS certifier Test_ProviderInfo).
pub async fn info_names_provider_and_orchestration(t: &Target) -> Outcome {
    let info = t.provider.info().await.context("info")?;
    ensure!(
        !info.name.trim().is_empty(),
        "info.provider is empty: {info:?}"
    );
    ensure!(
        !info.orchestration.trim().is_empty(),
        "info.orchestration is empty: {info:?}"
    );
    Ok(())
}

/// `info` reports a version with non-empty `sha` and `release`.
pub async fn info_reports_version(t: &Target) -> Outcome {
    let info = t.provider.info().await.context("info")?;
    let Some(version) = &info.version else {
        crate::fail!("info.version is missing: {info:?}");
    };
    ensure!(
        !version.sha.trim().is_empty(),
        "info.version.sha is empty: {info:?}"
    );
    ensure!(
        !version.release.trim().is_empty(),
        "info.version.release is empty: {info:?}"
    );
    Ok(())
}

/// `health` is Ok.
pub async fn health_is_ok(t: &Target) -> Outcome {
    t.provider.health().await.context("health")
}

/// Every capability declared false answers `Unsupported` (never a crash or a backend error), so
/// callers can tell "not here" from "broken".
pub async fn unsupported_capabilities_answer_unsupported(t: &Target) -> Outcome {
    let caps = &t.caps;
    if caps.secrets && caps.logs && caps.namespace_mutation {
        skip!("every optional capability is declared");
    }
    let mut checked = Vec::new();
    if !caps.secrets {
        let name = unique_name();
        let results = [
            (
                "list_secrets",
                t.provider
                    .list_secrets(&caps.default_namespace)
                    .await
                    .map(|_| ()),
            ),
            (
                "create_secret",
                t.provider
                    .create_secret(Secret::new(&name, &caps.default_namespace, "v"))
                    .await,
            ),
            (
                "delete_secret",
                t.provider
                    .delete_secret(&name, &caps.default_namespace)
                    .await,
            ),
        ];
        checked.extend(results);
    }
    if !caps.logs {
        let function = in_default(t, &unique_name());
        checked.push((
            "logs",
            t.provider.logs(LogRequest::new(function)).await.map(|_| ()),
        ));
    }
    if !caps.namespace_mutation {
        let name = unique_name();
        checked.push((
            "create_namespace",
            t.provider
                .create_namespace(FunctionNamespace::new(&name))
                .await,
        ));
        checked.push(("delete_namespace", t.provider.delete_namespace(&name).await));
    }
    for (operation, result) in checked {
        ensure!(
            matches!(result, Err(ProviderError::Unsupported { .. })),
            "{operation} is declared unsupported but answered {}",
            describe_result(&result)
        );
    }
    Ok(())
}
