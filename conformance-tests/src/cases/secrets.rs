//! Secrets CRUD through the `Provider` trait (the OpenFaaS `/system/secrets` routes).

use faas_provider::{ProviderError, Secret};

use crate::harness::{Cleanup, create_namespace, describe_result, unique_name};
use crate::outcome::{Context, Failure, Outcome};
use crate::target::Target;
use crate::{ensure, ensure_eq, skip};

fn require_secrets(t: &Target) -> Outcome {
    if t.caps.secrets {
        Ok(())
    } else {
        Err(Failure::skipped("secrets are not supported"))
    }
}

/// Creates a uniquely named secret in the default namespace, registered for cleanup.
async fn create(t: &Target, cleanup: &Cleanup, value: &str) -> Result<Secret, Failure> {
    let secret = Secret::new(unique_name(), t.caps.default_namespace.clone(), value);
    cleanup.secret(&secret.name, &secret.namespace);
    t.provider
        .create_secret(secret.clone())
        .await
        .context(format!("create secret {}", secret.name))?;
    Ok(secret)
}

async fn listed(t: &Target, name: &str) -> Result<Vec<Secret>, Failure> {
    let list = t
        .provider
        .list_secrets(&t.caps.default_namespace)
        .await
        .context("list secrets")?;
    Ok(list.into_iter().filter(|s| s.name == name).collect())
}

/// A created secret is listed once, by name, without its value.
pub async fn secret_create_and_list_without_values(t: &Target) -> Outcome {
    require_secrets(t)?;
    let cleanup = Cleanup::new(t);
    let secret = create(t, &cleanup, "value-that-must-not-be-listed").await?;
    let all = t
        .provider
        .list_secrets(&t.caps.default_namespace)
        .await
        .context("list secrets")?;
    for listed in &all {
        ensure!(
            listed.value.is_empty() && listed.raw_value.is_empty(),
            "secret {} is listed with its value",
            listed.name
        );
    }
    let matching: Vec<&Secret> = all.iter().filter(|s| s.name == secret.name).collect();
    ensure_eq!(
        matching.len(),
        1,
        "entries named {} in the secret list",
        secret.name
    );
    let namespace = &matching[0].namespace;
    ensure!(
        namespace.is_empty() || *namespace == t.caps.default_namespace,
        "secret listed in namespace {namespace:?}, created in {}",
        t.caps.default_namespace
    );
    Ok(())
}

/// A secret given as `rawValue` bytes (not UTF-8) is accepted and listed.
pub async fn secret_raw_value_is_accepted(t: &Target) -> Outcome {
    require_secrets(t)?;
    let cleanup = Cleanup::new(t);
    let mut secret = Secret::new(unique_name(), t.caps.default_namespace.clone(), "");
    secret.raw_value = vec![0xff, 0x00, 0xfe, b'\n', 0x80];
    cleanup.secret(&secret.name, &secret.namespace);
    t.provider
        .create_secret(secret.clone())
        .await
        .context("create secret from rawValue")?;
    ensure_eq!(
        listed(t, &secret.name).await?.len(),
        1,
        "listed entries of the raw secret"
    );
    Ok(())
}

/// Creating a secret that exists is `AlreadyExists`.
pub async fn secret_duplicate_is_already_exists(t: &Target) -> Outcome {
    require_secrets(t)?;
    let cleanup = Cleanup::new(t);
    let secret = create(t, &cleanup, "first").await?;
    let again = Secret::new(&secret.name, &secret.namespace, "second");
    let result = t.provider.create_secret(again).await;
    ensure!(
        matches!(result, Err(ProviderError::AlreadyExists { .. })),
        "second create of secret {}: expected AlreadyExists, got {}",
        secret.name,
        describe_result(&result)
    );
    Ok(())
}

/// Updating an existing secret succeeds and keeps it listed once.
pub async fn secret_update_existing(t: &Target) -> Outcome {
    require_secrets(t)?;
    let cleanup = Cleanup::new(t);
    let secret = create(t, &cleanup, "first").await?;
    t.provider
        .update_secret(Secret::new(&secret.name, &secret.namespace, "second"))
        .await
        .context("update secret")?;
    ensure_eq!(
        listed(t, &secret.name).await?.len(),
        1,
        "listed entries after update"
    );
    Ok(())
}

/// Updating a secret that does not exist is `NotFound` and creates nothing.
pub async fn secret_update_missing_is_not_found(t: &Target) -> Outcome {
    require_secrets(t)?;
    let cleanup = Cleanup::new(t);
    let secret = Secret::new(unique_name(), t.caps.default_namespace.clone(), "v");
    cleanup.secret(&secret.name, &secret.namespace);
    let result = t.provider.update_secret(secret.clone()).await;
    ensure!(
        matches!(result, Err(ProviderError::NotFound { .. })),
        "update of missing secret: expected NotFound, got {}",
        describe_result(&result)
    );
    ensure!(
        listed(t, &secret.name).await?.is_empty(),
        "a refused update created the secret"
    );
    Ok(())
}

/// A deleted secret is no longer listed and its name can be created again.
pub async fn secret_delete_then_gone(t: &Target) -> Outcome {
    require_secrets(t)?;
    let cleanup = Cleanup::new(t);
    let secret = create(t, &cleanup, "v").await?;
    t.provider
        .delete_secret(&secret.name, &secret.namespace)
        .await
        .context("delete secret")?;
    ensure!(
        listed(t, &secret.name).await?.is_empty(),
        "secret listed after delete"
    );
    t.provider
        .create_secret(Secret::new(&secret.name, &secret.namespace, "again"))
        .await
        .context("create the deleted secret again")?;
    Ok(())
}

/// Deleting a secret that does not exist is `NotFound`.
pub async fn secret_delete_missing_is_not_found(t: &Target) -> Outcome {
    require_secrets(t)?;
    let result = t
        .provider
        .delete_secret(&unique_name(), &t.caps.default_namespace)
        .await;
    ensure!(
        matches!(result, Err(ProviderError::NotFound { .. })),
        "delete of missing secret: expected NotFound, got {}",
        describe_result(&result)
    );
    Ok(())
}

/// Secrets of one namespace do not show in another.
pub async fn secrets_are_per_namespace(t: &Target) -> Outcome {
    require_secrets(t)?;
    if !t.caps.namespace_mutation {
        skip!("needs namespace_mutation for a second namespace");
    }
    let cleanup = Cleanup::new(t);
    let namespace = create_namespace(t, &cleanup).await?;
    let secret = Secret::new(unique_name(), namespace.clone(), "v");
    cleanup.secret(&secret.name, &namespace);
    t.provider
        .create_secret(secret.clone())
        .await
        .context("create secret in the new namespace")?;
    let there = t
        .provider
        .list_secrets(&namespace)
        .await
        .context("list the new namespace")?;
    ensure!(
        there.iter().any(|s| s.name == secret.name),
        "secret not listed in its namespace"
    );
    ensure!(
        listed(t, &secret.name).await?.is_empty(),
        "secret of {namespace} listed in the default namespace"
    );
    Ok(())
}
