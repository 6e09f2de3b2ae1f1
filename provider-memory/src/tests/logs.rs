//! Logs: lifecycle and invocation lines, filters and follow.

use super::support::*;

#[tokio::test]
async fn logs_record_the_lifecycle_and_each_invocation() {
    let provider = provider_with(&["api"]).await;
    provider.scale(&func("api"), 2).await.unwrap();
    let (_, first, ..) = call(&provider, "api", request("POST", "/a/b?q=1", "x")).await;
    let (_, second, ..) = call(&provider, "api", request("GET", "/", Body::empty())).await;
    let mut next = spec("api");
    next.image = "example/echo:2".into();
    provider.update(next).await.unwrap();

    let lines = all_logs(&provider, LogRequest::new(func("api"))).await;
    assert_eq!(
        texts(&lines),
        vec![
            "Deployed example/echo:1 with 1 replicas",
            "Scaled from 1 to 2",
            "POST /a/b -> 200",
            "GET / -> 200",
            "Updated to example/echo:2 with 2 replicas",
        ]
    );
    let instances: Vec<&str> = lines.iter().map(|m| m.instance.as_str()).collect();
    assert_eq!(instances, vec!["api", "api", &first, &second, "api"]);
    assert_eq!((first.as_str(), second.as_str()), ("api-0", "api-1"));
    for line in &lines {
        assert_eq!((line.name.as_str(), line.namespace.as_str()), ("api", NS));
    }
    assert!(lines.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
}

#[tokio::test]
async fn logs_filter_by_instance_since_and_tail() {
    let provider = provider_with(&["api"]).await;
    provider.scale(&func("api"), 2).await.unwrap();
    for path in ["/1", "/2", "/3", "/4"] {
        call(&provider, "api", request("GET", path, Body::empty())).await;
    }

    let mut by_instance = LogRequest::new(func("api"));
    by_instance.instance = Some("api-1".into());
    let lines = all_logs(&provider, by_instance.clone()).await;
    assert_eq!(texts(&lines), vec!["GET /2 -> 200", "GET /4 -> 200"]);

    by_instance.tail = Some(1);
    let lines = all_logs(&provider, by_instance).await;
    assert_eq!(texts(&lines), vec!["GET /4 -> 200"]);

    let mut tail = LogRequest::new(func("api"));
    tail.tail = Some(3);
    assert_eq!(
        texts(&all_logs(&provider, tail.clone()).await),
        vec!["GET /2 -> 200", "GET /3 -> 200", "GET /4 -> 200"]
    );
    tail.tail = Some(100);
    assert_eq!(all_logs(&provider, tail.clone()).await.len(), 6);
    tail.tail = Some(0);
    assert_eq!(all_logs(&provider, tail).await.len(), 6, "tail 0 = all");

    let everything = all_logs(&provider, LogRequest::new(func("api"))).await;
    let mut since = LogRequest::new(func("api"));
    since.since = Some(everything[3].timestamp);
    let lines = all_logs(&provider, since.clone()).await;
    assert!(texts(&lines).ends_with(&["GET /2 -> 200", "GET /3 -> 200", "GET /4 -> 200"]));
    assert!(lines.iter().all(|m| m.timestamp >= everything[3].timestamp));
    since.since = Some(Utc::now() + chrono::Duration::hours(1));
    assert!(all_logs(&provider, since).await.is_empty());
}

#[tokio::test]
async fn logs_of_an_unknown_function_are_not_found() {
    let provider = MemoryProvider::new();
    assert_not_found(
        provider
            .logs(LogRequest::new(func("ghost")))
            .await
            .map(|_| ()),
        ResourceKind::Function,
    );
}

#[tokio::test]
async fn follow_streams_history_then_live_lines_until_delete() {
    let provider = provider_with(&["api"]).await;
    let mut follow = LogRequest::new(func("api"));
    follow.follow = true;
    let mut stream = provider.logs(follow).await.unwrap();
    assert_eq!(
        stream.next().await.unwrap().text,
        "Deployed example/echo:1 with 1 replicas"
    );

    call(&provider, "api", request("DELETE", "/item", Body::empty())).await;
    let live = stream.next().await.unwrap();
    assert_eq!(
        (live.text.as_str(), live.instance.as_str()),
        ("DELETE /item -> 200", "api-0")
    );
    provider.scale(&func("api"), 2).await.unwrap();
    assert_eq!(stream.next().await.unwrap().text, "Scaled from 1 to 2");

    provider.delete(&func("api")).await.unwrap();
    assert_eq!(stream.next().await.unwrap().text, "Deleted");
    assert!(stream.next().await.is_none(), "delete ends the stream");

    // A redeploy under the same name does not revive an ended stream, and starts its own log.
    provider.deploy(spec("api")).await.unwrap();
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn follow_applies_filters_to_live_lines() {
    let provider = provider_with(&["api"]).await;
    provider.scale(&func("api"), 2).await.unwrap();
    let mut follow = LogRequest::new(func("api"));
    follow.follow = true;
    follow.instance = Some("api-1".into());
    follow.tail = Some(1);
    let mut stream = provider.logs(follow).await.unwrap();
    for path in ["/a", "/b", "/c", "/d"] {
        call(&provider, "api", request("GET", path, Body::empty())).await;
    }
    provider.delete(&func("api")).await.unwrap();
    let lines: Vec<LogMessage> = stream.by_ref().collect().await;
    assert_eq!(texts(&lines), vec!["GET /b -> 200", "GET /d -> 200"]);
}

#[tokio::test]
async fn dropping_a_follow_stream_is_harmless() {
    let provider = provider_with(&["api"]).await;
    let mut follow = LogRequest::new(func("api"));
    follow.follow = true;
    let stream = provider.logs(follow).await.unwrap();
    drop(stream);
    let (code, ..) = call(&provider, "api", request("GET", "/", Body::empty())).await;
    assert_eq!(code, http::StatusCode::OK);
    assert_eq!(
        all_logs(&provider, LogRequest::new(func("api")))
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn log_history_is_bounded() {
    let provider = MemoryProvider::new().log_history_limit(5);
    provider.deploy(spec("api")).await.unwrap();
    for i in 0..20 {
        call(
            &provider,
            "api",
            request("GET", &format!("/{i}"), Body::empty()),
        )
        .await;
    }
    let lines = all_logs(&provider, LogRequest::new(func("api"))).await;
    assert_eq!(
        texts(&lines),
        vec![
            "GET /15 -> 200",
            "GET /16 -> 200",
            "GET /17 -> 200",
            "GET /18 -> 200",
            "GET /19 -> 200"
        ]
    );
    let state = provider.read();
    assert_eq!(state.function(&func("api")).unwrap().logs.len(), 5);
}

#[tokio::test]
async fn without_history_follow_still_sees_live_lines() {
    let provider = MemoryProvider::new().log_history_limit(0);
    provider.deploy(spec("api")).await.unwrap();
    assert!(
        all_logs(&provider, LogRequest::new(func("api")))
            .await
            .is_empty()
    );
    let mut follow = LogRequest::new(func("api"));
    follow.follow = true;
    let mut stream = provider.logs(follow).await.unwrap();
    call(&provider, "api", request("GET", "/", Body::empty())).await;
    assert_eq!(stream.next().await.unwrap().text, "GET / -> 200");
}

#[test]
fn default_log_history_is_ten_thousand() {
    assert_eq!(crate::DEFAULT_LOG_HISTORY, 10_000);
    assert_eq!(MemoryProvider::default().log_history, 10_000);
}
