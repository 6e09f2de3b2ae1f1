//! Local mode beyond the conformance suite: real functions throttled by their reserved
//! concurrency (429) or scaled to zero (503), failing and timing out (5xx with the message),
//! seeing their environment, and a restarted provider finding its functions again.

#[path = "provider_common.rs"]
mod common;

use std::sync::Arc;

use bytes::Bytes;
use faas_provider::server::router;
use faas_provider::{Body, FunctionDeployment, FunctionRef, Provider, ProviderError, ServerConfig};
use http::StatusCode;
use http_body_util::BodyExt;
use provider_lambda::LambdaProvider;
use provider_lambda::local::LocalOptions;
use provider_lambda::provider::settings::ANNOTATION_TIMEOUT;
use test_support::images::{ECHO, ENV, FAIL, FAIL_MESSAGE, SLOW};
use tower::ServiceExt;

const NS: &str = "openfaas-fn";

async fn call(
    p: &LambdaProvider,
    name: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(StatusCode, Bytes), ProviderError> {
    let mut request = http::Request::builder().method("POST").uri("/");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = p
        .invoke(
            &FunctionRef::new(name, NS),
            request.body(Body::from(body.to_string())).unwrap(),
        )
        .await?;
    let status = response.status();
    Ok((
        status,
        response.into_body().collect().await.unwrap().to_bytes(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_concurrency_throttles_and_zero_is_no_endpoint() {
    let setup = common::local_setup().await;
    let p = setup.provider.clone();
    p.deploy(FunctionDeployment::new("slow", setup.image(&SLOW)))
        .await
        .unwrap();
    let function = FunctionRef::new("slow", NS);
    p.scale(&function, 1).await.unwrap();

    // Two slow invocations at once: one holds the only reserved slot, the other is refused.
    let (a, b) = tokio::join!(
        call(&p, "slow", &[("x-sleep-seconds", "3")], "a"),
        call(&p, "slow", &[("x-sleep-seconds", "3")], "b"),
    );
    let outcomes = [a, b];
    let served: Vec<_> = outcomes.iter().filter_map(|r| r.as_ref().ok()).collect();
    let throttled = outcomes
        .iter()
        .filter(|r| matches!(r, Err(ProviderError::Throttled(_))))
        .count();
    assert_eq!(served.len(), 1, "{outcomes:?}");
    assert_eq!(served[0].0, StatusCode::OK);
    assert_eq!(throttled, 1, "{outcomes:?}");

    // Over HTTP that is 429.
    let app = router(Arc::new(p.clone()), &ServerConfig::default());
    let request = || {
        app.clone().oneshot(
            http::Request::builder()
                .method("POST")
                .uri("/function/slow")
                .header("x-sleep-seconds", "3")
                .body(Body::empty())
                .unwrap(),
        )
    };
    let (a, b) = tokio::join!(request(), request());
    let mut statuses = [a.unwrap().status(), b.unwrap().status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::TOO_MANY_REQUESTS]);

    // Scaled to zero: no endpoints (503), then back.
    p.scale(&function, 0).await.unwrap();
    assert!(matches!(
        call(&p, "slow", &[("x-sleep-seconds", "0")], "").await,
        Err(ProviderError::NotReady { .. })
    ));
    p.scale(&function, 1).await.unwrap();
    let (status, body) = call(&p, "slow", &[("x-sleep-seconds", "0")], "back")
        .await
        .unwrap();
    assert_eq!((status, body.as_ref()), (StatusCode::OK, b"back".as_ref()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_and_timeouts_are_5xx_with_the_message() {
    let setup = common::local_setup().await;
    let p = setup.provider.clone();
    p.deploy(FunctionDeployment::new("fail", setup.image(&FAIL)))
        .await
        .unwrap();
    let (status, body) = call(&p, "fail", &[], "x").await.unwrap();
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        String::from_utf8_lossy(&body).contains(FAIL_MESSAGE),
        "{body:?}"
    );

    // Lambda's own timeout kills the function: a function error, 504 with Lambda's words.
    let mut slow = FunctionDeployment::new("late", setup.image(&SLOW));
    slow.annotations = Some([(ANNOTATION_TIMEOUT.to_string(), "2s".to_string())].into());
    p.deploy(slow).await.unwrap();
    let (status, body) = call(&p, "late", &[("x-sleep-seconds", "30")], "")
        .await
        .unwrap();
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body:?}");
    assert!(
        String::from_utf8_lossy(&body).contains("timed out"),
        "{body:?}"
    );
    // The environment restarts: the next call answers.
    let (status, body) = call(&p, "late", &[("x-sleep-seconds", "0")], "again")
        .await
        .unwrap();
    assert_eq!((status, body.as_ref()), (StatusCode::OK, b"again".as_ref()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_reaches_the_function_and_updates_apply() {
    let setup = common::local_setup().await;
    let p = setup.provider.clone();
    let mut spec = FunctionDeployment::new("env", setup.image(&ENV));
    spec.env_vars
        .insert("MY_SETTING".into(), "first value".into());
    p.deploy(spec.clone()).await.unwrap();
    let (status, body) = call(&p, "env", &[], "").await.unwrap();
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8_lossy(&body).into_owned();
    assert!(text.contains("MY_SETTING=first value"), "{text}");
    assert!(text.contains("AWS_LAMBDA_FUNCTION_NAME=env"), "{text}");

    spec.env_vars
        .insert("MY_SETTING".into(), "second value".into());
    p.update(spec).await.unwrap();
    let (_, body) = call(&p, "env", &[], "").await.unwrap();
    assert!(
        String::from_utf8_lossy(&body).contains("MY_SETTING=second value"),
        "{body:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_provider_finds_its_functions_again() {
    let setup = common::local_setup().await;
    setup
        .provider
        .deploy(FunctionDeployment::new("echo", setup.image(&ECHO)))
        .await
        .unwrap();
    let sdk = common::sdk_config(&setup.moto.url()).await;
    let restarted = |cache: &std::path::Path| {
        LambdaProvider::local(
            common::config(&setup.moto),
            &sdk,
            Arc::new(common::FakePackager::default()),
            LocalOptions::new(cache),
        )
    };
    // Same code cache: state from Lambda, code from the cache.
    let again = restarted(setup.cache.path());
    let status = again.get(&FunctionRef::new("echo", NS)).await.unwrap();
    assert_eq!(status.image, setup.image(&ECHO));
    let (code, body) = call(&again, "echo", &[], "still here").await.unwrap();
    assert_eq!(
        (code, body.as_ref()),
        (StatusCode::OK, b"still here".as_ref())
    );
    // Another host's cache lacks the code: no endpoints until the function is updated there.
    let elsewhere = tempfile::tempdir().unwrap();
    assert!(matches!(
        call(&restarted(elsewhere.path()), "echo", &[], "").await,
        Err(ProviderError::NotReady { .. })
    ));
    // Deleting removes the cached code too.
    again.delete(&FunctionRef::new("echo", NS)).await.unwrap();
    assert!(!setup.cache.path().join("echo").exists());
}

/// Pids of the running `bootstrap` runtimes of the function `name` (its code cache directory).
fn runtimes(cache: &std::path::Path, name: &str) -> Vec<i32> {
    let Ok(dir) = std::fs::canonicalize(cache.join(name)) else {
        return Vec::new();
    };
    let mut pids: Vec<i32> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_string_lossy().parse::<i32>().ok()?;
            let exe = std::fs::read_link(entry.path().join("exe")).ok()?;
            (exe.starts_with(&dir) && exe.file_name()? == "bootstrap").then_some(pid)
        })
        .collect();
    pids.sort();
    pids
}

async fn eventually_none(cache: &std::path::Path, name: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !runtimes(cache, name).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "{name}: runtimes left"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_zero_the_warm_label_keeps_an_initialised_runtime_that_the_woken_call_takes() {
    use provider_lambda::provider::settings::LABEL_WARM;

    let setup = common::local_setup().await;
    let p = setup.provider.clone();
    let cache = setup.cache.path();
    let mut warm = FunctionDeployment::new("warm", setup.image(&ECHO));
    warm.labels = Some([(LABEL_WARM.to_string(), "1".to_string())].into());
    p.deploy(warm).await.unwrap();
    p.deploy(FunctionDeployment::new("cold", setup.image(&ECHO)))
        .await
        .unwrap();
    assert!(runtimes(cache, "warm").is_empty(), "runtimes start lazily");

    // Never invoked, scaled to zero: its runtime is started and through its init now.
    p.scale(&FunctionRef::new("warm", NS), 0).await.unwrap();
    let standby = runtimes(cache, "warm");
    assert_eq!(standby.len(), 1, "one initialised runtime at zero");
    // Not routed to while at zero.
    assert!(matches!(
        call(&p, "warm", &[], "too early").await,
        Err(ProviderError::NotReady { .. })
    ));
    // Woken: the call takes the standby, no new init.
    p.scale(&FunctionRef::new("warm", NS), 1).await.unwrap();
    let (status, body) = call(&p, "warm", &[], "woken").await.unwrap();
    assert_eq!((status, body.as_ref()), (StatusCode::OK, b"woken".as_ref()));
    assert_eq!(
        runtimes(cache, "warm"),
        standby,
        "the woken call paid no init"
    );

    // Without the label, zero keeps nothing running.
    let (status, _) = call(&p, "cold", &[], "once").await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(runtimes(cache, "cold").len(), 1);
    p.scale(&FunctionRef::new("cold", NS), 0).await.unwrap();
    eventually_none(cache, "cold").await;

    // Deleting the function stops its standby.
    p.scale(&FunctionRef::new("warm", NS), 0).await.unwrap();
    assert_eq!(
        runtimes(cache, "warm"),
        standby,
        "the pool keeps the runtime it has"
    );
    p.delete(&FunctionRef::new("warm", NS)).await.unwrap();
    eventually_none(cache, "warm").await;

    // A label that is not a count is refused.
    let mut bad = FunctionDeployment::new("bad", setup.image(&ECHO));
    bad.labels = Some([(LABEL_WARM.to_string(), "lots".to_string())].into());
    match p.deploy(bad).await {
        Err(ProviderError::InvalidRequest(message)) => {
            assert!(message.contains(LABEL_WARM), "{message}")
        }
        other => panic!("{other:?}"),
    }
}
