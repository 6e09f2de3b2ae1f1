//! Invocation through the `Provider` trait: what the OpenFaaS gateway's `/function/{name}` proxy
//! passes to a function (method, path, query, headers, body) and answers when there is none.

use bytes::Bytes;
use http::{Method, StatusCode};

use crate::harness::{
    Call, Cleanup, deploy, deploy_echo, describe, echo_spec, in_default, invoke, invoke_echo,
    is_no_endpoint, refused_by_watchdog, unique_name, wait_for_status_within, wait_ready,
};
use crate::outcome::{Context, Failure, Outcome};
use crate::target::Target;
use crate::{ensure, ensure_eq, skip};

async fn method_is_echoed(t: &Target, method: Method) -> Outcome {
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    let body = format!("body of a {method} request");
    let mut call = Call::new(method.clone()).uri("/verb");
    if method != Method::GET && method != Method::OPTIONS {
        call = call.header("content-type", "text/plain").body(body.clone());
    }
    let what = format!("invoke {function} {method}");
    let reply = invoke(t, &function, call.clone()).await?.context(&what)?;
    if refused_by_watchdog(t, &method, reply.status, &reply.headers) {
        // The watchdog itself answered: the provider passed the method through.
        return Ok(());
    }
    let echo = reply
        .echo(t)
        .map_err(|e| Failure::failed(format!("{what}: {e}")))?;
    ensure_eq!(echo.method, method.as_str(), "method seen by the function");
    ensure_eq!(echo.path, "/verb", "path seen by the function");
    if !call.body.is_empty() {
        ensure_eq!(echo.body_text(), body, "body seen by the function");
    }
    Ok(())
}

/// GET reaches the function as GET.
pub async fn invoke_get_is_echoed(t: &Target) -> Outcome {
    method_is_echoed(t, Method::GET).await
}

/// POST reaches the function as POST, with its body.
pub async fn invoke_post_is_echoed(t: &Target) -> Outcome {
    method_is_echoed(t, Method::POST).await
}

/// PUT reaches the function as PUT, with its body.
pub async fn invoke_put_is_echoed(t: &Target) -> Outcome {
    method_is_echoed(t, Method::PUT).await
}

/// PATCH reaches the function as PATCH, with its body.
pub async fn invoke_patch_is_echoed(t: &Target) -> Outcome {
    method_is_echoed(t, Method::PATCH).await
}

/// DELETE reaches the function as DELETE, with its body.
pub async fn invoke_delete_is_echoed(t: &Target) -> Outcome {
    method_is_echoed(t, Method::DELETE).await
}

/// OPTIONS reaches the function as OPTIONS (a watchdog image may refuse it itself with 405).
pub async fn invoke_options_is_echoed(t: &Target) -> Outcome {
    method_is_echoed(t, Method::OPTIONS).await
}

/// HEAD succeeds with an empty body (a watchdog image may refuse it itself with 405, also
/// without a body).
pub async fn invoke_head_has_no_body(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    let reply = invoke(t, &function, Call::new(Method::HEAD))
        .await?
        .context("invoke HEAD")?;
    if !refused_by_watchdog(t, &Method::HEAD, reply.status, &reply.headers) {
        ensure_eq!(reply.status, StatusCode::OK, "HEAD status");
    }
    ensure!(
        reply.body.is_empty(),
        "HEAD answered a body of {} bytes",
        reply.body.len()
    );
    Ok(())
}

/// The path after the function name and the raw query (repeated keys, escapes) reach the
/// function unchanged.
pub async fn invoke_path_and_query_pass_through(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    for (uri, path, query) in [
        ("/a/b?q=1&q=2", "/a/b", "q=1&q=2"),
        (
            "/a/b/?x=%2F%20y&empty=&flag",
            "/a/b/",
            "x=%2F%20y&empty=&flag",
        ),
        ("/deep/er/path.json", "/deep/er/path.json", ""),
        ("/?only=query", "/", "only=query"),
    ] {
        let echo = invoke_echo(t, &function, Call::new(Method::GET).uri(uri)).await?;
        ensure_eq!(echo.path, path, "path seen for {uri}");
        ensure_eq!(echo.query, query, "raw query seen for {uri}");
    }
    Ok(())
}

/// `/function/<name>` with nothing after it reaches the function as `/`.
pub async fn invoke_root_path_is_slash(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    let echo = invoke_echo(t, &function, Call::new(Method::GET)).await?;
    ensure_eq!(echo.path, "/", "path of a call to the function's root");
    ensure_eq!(echo.query, "", "query of a call without one");
    if let (Some(name), Some(namespace)) = (&echo.function, &echo.namespace) {
        ensure_eq!(name, &function.name, "function named in the echo");
        ensure_eq!(
            namespace,
            &function.namespace,
            "namespace named in the echo"
        );
    }
    Ok(())
}

/// Request headers reach the function.
pub async fn invoke_passes_headers(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    let token = unique_name();
    let call = Call::new(Method::POST)
        .header("X-Conf-Token", token.clone())
        .header("X-Conf-Other", "value with spaces")
        .header("Content-Type", "application/json")
        .body(r#"{"hello":"world"}"#);
    let echo = invoke_echo(t, &function, call).await?;
    ensure_eq!(
        echo.headers.get("x-conf-token"),
        Some(&token),
        "header X-Conf-Token"
    );
    ensure_eq!(
        echo.headers.get("x-conf-other").map(String::as_str),
        Some("value with spaces"),
        "header X-Conf-Other"
    );
    ensure_eq!(
        echo.headers.get("content-type").map(String::as_str),
        Some("application/json"),
        "header Content-Type"
    );
    ensure_eq!(echo.body_text(), r#"{"hello":"world"}"#, "JSON body");
    Ok(())
}

/// A 1 MiB binary body (every byte value, not UTF-8) comes back byte for byte.
pub async fn invoke_binary_body_round_trip(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    let body: Vec<u8> = (0..1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let call = Call::new(Method::POST)
        .header("content-type", "application/octet-stream")
        .body(Bytes::from(body.clone()));
    let echo = invoke_echo(t, &function, call).await?;
    ensure_eq!(echo.body.len(), body.len(), "length of the echoed body");
    if let Some(at) = echo.body.iter().zip(&body).position(|(a, b)| a != b) {
        crate::fail!("echoed body differs from the sent one at byte {at}");
    }
    Ok(())
}

/// An empty POST reaches the function with an empty body.
pub async fn invoke_empty_body(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    let echo = invoke_echo(t, &function, Call::new(Method::POST)).await?;
    ensure!(
        echo.body.is_empty(),
        "empty POST echoed a body: {:?}",
        echo.body_text()
    );
    Ok(())
}

/// Invoking a function that does not exist answers "no endpoint" (NotFound, or 503).
pub async fn invoke_unknown_function_is_no_endpoint(t: &Target) -> Outcome {
    let function = in_default(t, &unique_name());
    let result = invoke(t, &function, Call::new(Method::GET)).await?;
    ensure!(
        is_no_endpoint(&result),
        "invoke of missing {function}: expected NotFound / 503, got {}",
        describe(&result)
    );
    Ok(())
}

/// `invocationCount` grows by the number of invocations (when the provider reports it).
pub async fn invocation_count_increases(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    let before = t
        .provider
        .get(&function)
        .await
        .context("get")?
        .invocation_count;
    const CALLS: f64 = 3.0;
    for _ in 0..CALLS as usize {
        invoke_echo(t, &function, Call::new(Method::GET)).await?;
    }
    let counted = wait_for_status_within(
        t,
        t.timeouts.eventually,
        &function,
        "invocationCount grows by 3",
        |s| s.invocation_count >= before + CALLS,
    )
    .await;
    match counted {
        Ok(status) => {
            if status.invocation_count > before + CALLS {
                crate::fail!(
                    "invocationCount went from {before} to {} after {CALLS} calls",
                    status.invocation_count
                );
            }
            Ok(())
        }
        Err(failure) => {
            let now = t
                .provider
                .get(&function)
                .await
                .context("get")?
                .invocation_count;
            if before == 0.0 && now == 0.0 {
                skip!("the provider does not report invocationCount");
            }
            Err(failure)
        }
    }
}

/// After an update the function is ready again and answers.
pub async fn invoke_after_update(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let name = unique_name();
    let function = deploy(t, &cleanup, echo_spec(t, &name)).await?;
    wait_ready(t, &function).await?;
    let mut updated = echo_spec(t, &name);
    updated
        .env_vars
        .insert("UPDATED".to_string(), "1".to_string());
    t.provider.update(updated).await.context("update")?;
    wait_ready(t, &function).await?;
    let echo = invoke_echo(t, &function, Call::new(Method::POST).body("after update")).await?;
    ensure_eq!(echo.body_text(), "after update", "body after update");
    Ok(())
}

/// A deleted function is no longer invocable.
pub async fn invoke_after_delete_is_no_endpoint(t: &Target) -> Outcome {
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    invoke_echo(t, &function, Call::new(Method::GET)).await?;
    t.provider.delete(&function).await.context("delete")?;
    let result = invoke(t, &function, Call::new(Method::GET)).await?;
    ensure!(
        is_no_endpoint(&result),
        "invoke after delete: expected NotFound / 503, got {}",
        describe(&result)
    );
    Ok(())
}
