//! Runtime effects: what a deployment says reaches the running function. Gated on "runs code"
//! ([`crate::Gate::RunsCode`]): each case deploys the target's [`crate::ShellFunction`], sends
//! it a shell script as the request body and reads the script's output, like the OpenFaaS
//! certifier checks that a function sees its env vars and secret files.

use std::collections::BTreeMap;

use faas_provider::{FunctionDeployment, FunctionRef, Secret};
use http::Method;

use crate::echo::preview;
use crate::harness::{
    Call, Cleanup, deploy, eventually, invoke, spec_ref, unique_name, wait_ready,
};
use crate::outcome::{Context, Failure, Outcome};
use crate::target::Target;
use crate::{ensure_eq, fail};

/// A deployment of the shell function named `name` in the default namespace; fails when the
/// target has none (the runner's `runs_code` gate makes that unreachable).
fn shell_spec(t: &Target, name: &str) -> Result<FunctionDeployment, Failure> {
    let Some(shell) = &t.shell else {
        fail!("runs_code is declared without a shell function");
    };
    let mut spec = FunctionDeployment::new(name, shell.image.clone());
    spec.env_process = shell.env_process.clone();
    spec.namespace = t.caps.default_namespace.clone();
    Ok(spec)
}

/// Deploys `spec` (registered for cleanup) and waits until it is ready.
async fn deploy_ready(
    t: &Target,
    cleanup: &Cleanup,
    spec: FunctionDeployment,
) -> Result<FunctionRef, Failure> {
    let function = deploy(t, cleanup, spec).await?;
    wait_ready(t, &function).await?;
    Ok(function)
}

/// Runs `script` in `function` (as the body of `call`) and returns its output; fails unless
/// the function answers 200.
async fn run_script(
    t: &Target,
    function: &FunctionRef,
    call: Call,
    script: &str,
) -> Result<String, Failure> {
    let what = format!("run a script in {function} ({} {})", call.method, call.uri);
    let reply = invoke(t, function, call.body(script.to_string()))
        .await?
        .context(&what)?;
    if reply.status != http::StatusCode::OK {
        fail!(
            "{what}: answered {} (expected 200 with the script's output): {}",
            reply.status,
            preview(&reply.body)
        );
    }
    Ok(String::from_utf8_lossy(&reply.body).into_owned())
}

/// The `KEY=VALUE` lines of `output` (the first `=` splits), for looking values up.
fn lines_to_map(output: &str) -> BTreeMap<String, String> {
    output
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A script printing `NAME=<value>` for each variable set, `NAME unset` otherwise.
fn print_vars_script<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(|name| {
            format!(
                "if [ -n \"${{{name}+x}}\" ]; then printf '%s=%s\\n' {name} \"${name}\"; \
                 else echo '{name} unset'; fi\n"
            )
        })
        .collect()
}

/// Every `envVars` entry is in the function's environment, with its value unchanged.
pub async fn runtime_env_vars_reach_the_function(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let mut spec = shell_spec(t, &unique_name())?;
    let expected: BTreeMap<String, String> = [
        ("CONF_PLAIN", "plain"),
        ("CONF_SPACES", "two  spaces, a = sign & a 'quote'"),
        ("CONF_URL", "https://example.com/a?b=c&d=e"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    spec.env_vars = expected.clone();
    let function = deploy_ready(t, &cleanup, spec).await?;
    let script = print_vars_script(expected.keys().map(String::as_str));
    let output = run_script(t, &function, Call::new(Method::POST), &script).await?;
    let seen = lines_to_map(&output);
    for (name, value) in &expected {
        match seen.get(name) {
            Some(got) => ensure_eq!(got, value, "env var {name} inside {function}"),
            None => fail!(
                "env var {name} is not set inside {function}; the function printed {output:?}"
            ),
        }
    }
    Ok(())
}

/// The watchdog's `Http_Method`, `Http_Path` and `Http_Query` describe the request the function
/// is answering.
pub async fn runtime_http_variables_describe_the_request(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let spec = shell_spec(t, &unique_name())?;
    let function = deploy_ready(t, &cleanup, spec).await?;
    let script = print_vars_script(["Http_Method", "Http_Path", "Http_Query"]);
    let output = run_script(
        t,
        &function,
        Call::new(Method::PUT).uri("/conf/a/b?x=1&y=two"),
        &script,
    )
    .await?;
    let seen = lines_to_map(&output);
    let get = |name: &str| seen.get(name).cloned().unwrap_or_else(|| "<unset>".into());
    ensure_eq!(get("Http_Method"), "PUT", "Http_Method ({output:?})");
    ensure_eq!(get("Http_Path"), "/conf/a/b", "Http_Path ({output:?})");
    ensure_eq!(get("Http_Query"), "x=1&y=two", "Http_Query ({output:?})");
    Ok(())
}

/// The script printing a secret's file: under `$secret_mount_path` when the provider sets it
/// (the OpenFaaS SDKs' convention), else `/var/openfaas/secrets`.
fn cat_secret_script(name: &str) -> String {
    format!(
        "f=\"${{secret_mount_path:-/var/openfaas/secrets}}/{name}\"\n\
         if [ -r \"$f\" ]; then printf 'secret='; cat \"$f\"; echo; \
         else echo \"no readable file $f\"; fi\n"
    )
}

/// A secret listed in `secrets` is a file named after it in the secrets directory
/// (`/var/openfaas/secrets`, or `$secret_mount_path`), holding its value; after the secret is
/// updated, the redeployed function sees the new value.
pub async fn runtime_secret_file_is_mounted_and_updated(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let namespace = t.caps.default_namespace.clone();
    let secret = unique_name();
    let first = format!("first-{}", unique_name());
    cleanup.secret(&secret, &namespace);
    t.provider
        .create_secret(Secret::new(&secret, &namespace, first.clone()))
        .await
        .context(format!("create secret {secret}"))?;
    let mut spec = shell_spec(t, &unique_name())?;
    spec.secrets = vec![secret.clone()];
    let function = deploy_ready(t, &cleanup, spec.clone()).await?;
    let script = cat_secret_script(&secret);
    let output = run_script(t, &function, Call::new(Method::POST), &script).await?;
    ensure_eq!(
        output.trim_end(),
        format!("secret={first}"),
        "secret {secret} inside {function}"
    );

    let second = format!("second-{}", unique_name());
    t.provider
        .update_secret(Secret::new(&secret, &namespace, second.clone()))
        .await
        .context(format!("update secret {secret}"))?;
    t.provider
        .update(spec.clone())
        .await
        .context(format!("redeploy {}", spec_ref(t, &spec)))?;
    let wanted = format!("secret={second}");
    eventually(
        t.timeouts.ready,
        &format!("{function} sees the updated secret {secret} after the redeploy"),
        || async {
            let output = run_script(t, &function, Call::new(Method::POST), &script)
                .await
                .map_err(|e| e.to_string())?;
            if output.trim_end() == wanted {
                Ok(Some(()))
            } else {
                Err(format!("{output:?}"))
            }
        },
    )
    .await
}

/// With `readOnlyRootFilesystem`, writing under `/` is refused while `/tmp` stays writable (as
/// faas-netes and faasd mount a writable `/tmp`).
pub async fn runtime_read_only_root_refuses_writes(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let mut spec = shell_spec(t, &unique_name())?;
    spec.read_only_root_filesystem = true;
    let function = deploy_ready(t, &cleanup, spec).await?;
    let script = "if (echo probe > /conf-write-probe) 2>/dev/null; then echo root=writable; \
                  rm -f /conf-write-probe; else echo root=refused; fi\n\
                  if (echo probe > /tmp/conf-write-probe) 2>/dev/null; then echo tmp=writable; \
                  rm -f /tmp/conf-write-probe; else echo tmp=refused; fi\n";
    let output = run_script(t, &function, Call::new(Method::POST), script).await?;
    let seen = lines_to_map(&output);
    let get = |name: &str| {
        seen.get(name)
            .cloned()
            .unwrap_or_else(|| "<no answer>".into())
    };
    ensure_eq!(
        get("root"),
        "refused",
        "a write to / with readOnlyRootFilesystem ({output:?})"
    );
    ensure_eq!(
        get("tmp"),
        "writable",
        "a write to /tmp with readOnlyRootFilesystem ({output:?})"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_print_what_the_cases_parse() {
        let script = print_vars_script(["A_B"]);
        assert!(script.contains("${A_B+x}"), "{script}");
        assert!(script.contains("\"$A_B\""), "{script}");
        let map = lines_to_map("A=1=2\nB unset\nC=\n");
        assert_eq!(map["A"], "1=2");
        assert_eq!(map["C"], "");
        assert!(!map.contains_key("B"));
        assert!(cat_secret_script("s").contains("${secret_mount_path:-/var/openfaas/secrets}/s"));
    }

    #[test]
    fn scripts_run_in_a_posix_shell() {
        let script = print_vars_script(["CONF_SET", "CONF_UNSET"]);
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .env("CONF_SET", "a = b 'c'")
            .env_remove("CONF_UNSET")
            .output()
            .expect("run sh");
        let text = String::from_utf8(output.stdout).unwrap();
        assert_eq!(text, "CONF_SET=a = b 'c'\nCONF_UNSET unset\n");
    }
}
