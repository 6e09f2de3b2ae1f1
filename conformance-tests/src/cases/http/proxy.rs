//! The invoke proxy, `/function/{name}[.{namespace}]/...`: allowed methods, path and query,
//! namespaces, forwarded headers, unknown functions.

use reqwest::Method;

use crate::harness::{
    Cleanup, create_namespace, deploy_echo, deploy_echo_in, refused_by_watchdog, unique_name,
    wait_ready,
};
use crate::outcome::{Failure, Outcome};
use crate::raw::Raw;
use crate::target::Target;
use crate::{ensure, ensure_eq};

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
    let other = create_namespace(t, &cleanup).await?;
    let path = format!("/function/{}.{other}", function.name);
    raw.send(raw.anonymous(Method::GET, &path))
        .await?
        .expect(&[503])?;
    let there = deploy_echo_in(t, &cleanup, &function.name, &other).await?;
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
