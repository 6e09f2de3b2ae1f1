//! Secrets: kept in AWS Secrets Manager (so the provider lists them without local state) and
//! delivered to functions at deploy through one reserved environment variable, because Lambda
//! has no writable mounts.
//!
//! - Secret `name` of namespace `ns` is the Secrets Manager secret `<secrets_prefix><ns>/<name>`
//!   (binary value), tagged `openfaas:namespace`.
//! - Deploy/update read the values of the function's `secrets` and set
//!   [`SECRETS_ENV`](crate::provider::settings::SECRETS_ENV) to a JSON object
//!   `{"<name>": "<standard base64 of the value>"}`. The shim writes each to
//!   `/tmp/openfaas/secrets/<name>` (mode 0400, directory 0700) and removes the variable from
//!   the function's environment. The variable counts toward Lambda's 4 KB environment limit.
//! - Changing a secret's value takes effect on the next deploy/update of the functions that use
//!   it (as with faasd's files copied at start).
//!
//! Values are never logged: [`SecretValues`] and [`faas_provider::Secret`] redact them in `Debug`.

use std::collections::BTreeMap;

use aws_sdk_secretsmanager::primitives::Blob;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, Tag};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use faas_provider::types::name::validate_secret_name;
use faas_provider::{ProviderError, Result, Secret};

use super::error::{Subject, backend, from_sdk};
use super::record::TAG_NAMESPACE;

/// Secret values by name. `Debug` shows names only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretValues(pub BTreeMap<String, Vec<u8>>);

impl std::fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, "<redacted>")))
            .finish()
    }
}

impl SecretValues {
    /// The value of [`SECRETS_ENV`](crate::provider::settings::SECRETS_ENV), `None` without secrets.
    pub fn to_env_value(&self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        let object: BTreeMap<&str, String> = self
            .0
            .iter()
            .map(|(k, v)| (k.as_str(), BASE64.encode(v)))
            .collect();
        Some(serde_json::to_string(&object).expect("a map of strings serializes"))
    }
}

/// Secrets in AWS Secrets Manager.
#[derive(Debug, Clone)]
pub struct SecretStore {
    client: aws_sdk_secretsmanager::Client,
    prefix: String,
}

impl SecretStore {
    /// A store of secrets named `<prefix><namespace>/<name>`.
    pub fn new(client: aws_sdk_secretsmanager::Client, prefix: impl Into<String>) -> Self {
        Self {
            client,
            prefix: prefix.into(),
        }
    }

    fn id(&self, namespace: &str, name: &str) -> String {
        format!("{}{namespace}/{name}", self.prefix)
    }

    /// Names in `namespace` (values left empty).
    pub async fn list(&self, namespace: &str) -> Result<Vec<Secret>> {
        let start = format!("{}{namespace}/", self.prefix);
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_secrets()
                .filters(
                    Filter::builder()
                        .key(FilterNameStringType::Name)
                        .values(start.clone())
                        .build(),
                )
                .max_results(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| from_sdk(e, Subject::Secret(namespace)))?;
            for entry in page.secret_list() {
                if entry.deleted_date().is_some() {
                    continue;
                }
                // The name filter is a prefix (AWS) or substring (moto) match: check exactly.
                if let Some(name) = entry.name().and_then(|n| n.strip_prefix(&start))
                    && validate_secret_name(name).is_ok()
                {
                    names.push(name.to_string());
                }
            }
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => break,
            }
        }
        names.sort();
        names.dedup();
        Ok(names
            .into_iter()
            .map(|name| Secret::new(name, namespace, String::new()))
            .collect())
    }

    /// Creates a secret; `AlreadyExists` when the name is taken.
    pub async fn create(&self, secret: &Secret, namespace: &str) -> Result<()> {
        validate_secret_name(&secret.name)?;
        self.client
            .create_secret()
            .name(self.id(namespace, &secret.name))
            .secret_binary(Blob::new(secret.bytes().to_vec()))
            .tags(Tag::builder().key(TAG_NAMESPACE).value(namespace).build())
            .send()
            .await
            .map_err(|e| from_sdk(e, Subject::Secret(&secret.name)))?;
        Ok(())
    }

    /// Replaces a secret's value; `NotFound` when absent.
    pub async fn update(&self, secret: &Secret, namespace: &str) -> Result<()> {
        validate_secret_name(&secret.name)?;
        // PutSecretValue on a missing secret is ResourceNotFoundException, as wanted.
        self.client
            .put_secret_value()
            .secret_id(self.id(namespace, &secret.name))
            .secret_binary(Blob::new(secret.bytes().to_vec()))
            .send()
            .await
            .map_err(|e| from_sdk(e, Subject::Secret(&secret.name)))?;
        Ok(())
    }

    /// Deletes a secret at once (no recovery window); `NotFound` when absent.
    pub async fn delete(&self, name: &str, namespace: &str) -> Result<()> {
        validate_secret_name(name)?;
        let id = self.id(namespace, name);
        // DeleteSecret with ForceDeleteWithoutRecovery succeeds for missing secrets on AWS:
        // look first so that a missing secret is a 404.
        self.client
            .describe_secret()
            .secret_id(&id)
            .send()
            .await
            .map_err(|e| from_sdk(e, Subject::Secret(name)))?;
        self.client
            .delete_secret()
            .secret_id(id)
            .force_delete_without_recovery(true)
            .send()
            .await
            .map_err(|e| from_sdk(e, Subject::Secret(name)))?;
        Ok(())
    }

    /// The values of `names`; a missing one is a 400 `unable to find secret: <name>` (faasd's
    /// words), as a deployment referring to it is invalid.
    pub async fn values(&self, namespace: &str, names: &[String]) -> Result<SecretValues> {
        let mut values = BTreeMap::new();
        for name in names {
            validate_secret_name(name)?;
            let output = self
                .client
                .get_secret_value()
                .secret_id(self.id(namespace, name))
                .send()
                .await
                .map_err(|e| match from_sdk(e, Subject::Secret(name)) {
                    ProviderError::NotFound { .. } => {
                        ProviderError::invalid(format!("unable to find secret: {name}"))
                    }
                    other => other,
                })?;
            let bytes = match (output.secret_binary(), output.secret_string()) {
                (Some(binary), _) => binary.as_ref().to_vec(),
                (None, Some(text)) => text.as_bytes().to_vec(),
                (None, None) => {
                    return Err(backend(format!("secret {name} has no value")));
                }
            };
            values.insert(name.clone(), bytes);
        }
        Ok(SecretValues(values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_redacted_and_encoded() {
        let values = SecretValues(
            [("api-key".to_string(), b"s3cr3t".to_vec())]
                .into_iter()
                .collect(),
        );
        let debug = format!("{values:?}");
        assert!(
            debug.contains("api-key") && !debug.contains("s3cr3t"),
            "{debug}"
        );
        assert_eq!(values.to_env_value().unwrap(), r#"{"api-key":"czNjcjN0"}"#);
        assert_eq!(SecretValues::default().to_env_value(), None);
    }
}
