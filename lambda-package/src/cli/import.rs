//! `faas-lambda import`: a Lambda zip → an OCI image pushed to a registry → (optionally) an
//! OpenFaaS function, deployed with `POST /system/functions` (faas-cli's call).

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Args;
use lambda_package::RegistryCredentials;
use lambda_package::import::{ImportOptions, import_zip};

#[derive(Args)]
pub(crate) struct ImportArgs {
    /// The function zip.
    zip: PathBuf,
    /// Where to push the image: REGISTRY/REPO:TAG.
    #[arg(long, value_name = "REGISTRY/REPO:TAG")]
    image: String,
    /// The static faas-lambda-entrypoint binary (from lambda-emulator).
    #[arg(long, env = "FAAS_LAMBDA_ENTRYPOINT", value_name = "PATH")]
    entrypoint: PathBuf,
    /// Registry user (basic auth; default: the Docker config's credentials).
    #[arg(long, requires = "password")]
    username: Option<String>,
    /// Registry password (prefer the environment variable).
    #[arg(long, env = "FAAS_LAMBDA_REGISTRY_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// A registry (host:port) to speak plain HTTP to; repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST:PORT")]
    insecure_registries: Vec<String>,
    /// Deploy the image through this OpenFaaS API (gateway or provider) URL.
    #[arg(long, value_name = "URL", requires = "name")]
    deploy: Option<String>,
    /// The function's name (with --deploy).
    #[arg(long, requires = "deploy")]
    name: Option<String>,
    /// The function's namespace (with --deploy).
    #[arg(long, requires = "deploy")]
    namespace: Option<String>,
    /// An environment variable of the function, K=V (repeatable; with --deploy), e.g.
    /// exec_timeout=30s or max_inflight=4.
    #[arg(long = "env", value_name = "K=V", requires = "deploy")]
    env: Vec<String>,
    /// Basic-auth user of the OpenFaaS API (as faas-cli's login).
    #[arg(long, default_value = "admin", requires = "gateway_password")]
    gateway_username: String,
    /// Basic-auth password of the OpenFaaS API.
    #[arg(long, env = "OPENFAAS_PASSWORD", hide_env_values = true)]
    gateway_password: Option<String>,
    /// No progress bars.
    #[arg(long, short)]
    quiet: bool,
}

/// The deployment's JSON.
fn deployment(
    name: &str,
    namespace: Option<&str>,
    image: &str,
    env: &[String],
) -> anyhow::Result<serde_json::Value> {
    let mut vars = serde_json::Map::new();
    for pair in env {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--env {pair:?} must be K=V");
        };
        vars.insert(key.to_string(), value.into());
    }
    let mut body = serde_json::json!({ "service": name, "image": image, "envVars": vars });
    if let Some(namespace) = namespace {
        body["namespace"] = namespace.into();
    }
    Ok(body)
}

pub(crate) async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let zip =
        std::fs::read(&args.zip).with_context(|| format!("reading {}", args.zip.display()))?;
    let credentials = match (&args.username, &args.password) {
        (Some(username), Some(password)) => RegistryCredentials::Basic {
            username: username.clone(),
            password: password.clone(),
        },
        _ => RegistryCredentials::DockerConfig(None),
    };
    let opts = ImportOptions {
        entrypoint: args.entrypoint.clone(),
        credentials,
        insecure_registries: args.insecure_registries.clone(),
        progress: !args.quiet,
        ..Default::default()
    };
    let pushed = import_zip(&zip, &args.image, &opts)
        .await
        .with_context(|| format!("importing {}", args.zip.display()))?;
    println!("pushed     {}", pushed.reference);
    println!("digest     {}", pushed.digest);
    let (Some(url), Some(name)) = (&args.deploy, &args.name) else {
        return Ok(());
    };
    let body = deployment(
        name,
        args.namespace.as_deref(),
        &pushed.reference,
        &args.env,
    )?;
    let client = reqwest::Client::new();
    let endpoint = format!("{}/system/functions", url.trim_end_matches('/'));
    let with_auth = |request: reqwest::RequestBuilder| match &args.gateway_password {
        Some(password) => request.basic_auth(&args.gateway_username, Some(password)),
        None => request,
    };
    // faas-cli's deploy: an update first, a create when the function does not exist.
    let mut response = with_auth(client.put(&endpoint).json(&body))
        .send()
        .await
        .with_context(|| format!("PUT {endpoint}"))?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        response = with_auth(client.post(&endpoint).json(&body))
            .send()
            .await
            .with_context(|| format!("POST {endpoint}"))?;
    }
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        bail!("deploying {name} at {url}: {status}: {}", text.trim());
    }
    println!("deployed   {name} at {url} ({status})");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deployment_names_image_and_environment() {
        let body = deployment("echo", Some("dev"), "r/echo:1", &["a=b=c".into()]).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"service": "echo", "image": "r/echo:1",
                "envVars": {"a": "b=c"}, "namespace": "dev"})
        );
        assert!(deployment("echo", None, "i", &["novalue".into()]).is_err());
    }
}
