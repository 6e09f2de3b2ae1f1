//! Invocations: the echo, bodies, errors, replica round robin and counts.

use super::support::*;

#[tokio::test]
async fn invoke_echoes_the_request_in_the_exact_shape() {
    let provider = provider_with(&["echo"]).await;
    let req = http::Request::builder()
        .method("POST")
        .uri("/a/b?x=1&y=%20")
        .header("Content-Type", "text/plain")
        .header("X-Multi", "one")
        .header("x-multi", "two")
        .body(Body::from("hello"))
        .unwrap();
    let (status, instance, content_type, body) = call(&provider, "echo", req).await;
    assert_eq!(status, http::StatusCode::OK);
    assert_eq!(content_type, "application/json");
    assert_eq!(instance, "echo-0");
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        concat!(
            r#"{"function":"echo","namespace":"openfaas-fn","method":"POST","path":"/a/b","#,
            r#""query":"x=1&y=%20","headers":{"content-type":"text/plain","x-multi":"one, two"},"#,
            r#""body":"hello"}"#
        )
    );
}

#[tokio::test]
async fn invoke_without_query_or_body() {
    let provider = provider_with(&["echo"]).await;
    let (_, _, _, body) = call(&provider, "echo", request("GET", "/", Body::empty())).await;
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "function": "echo", "namespace": "openfaas-fn", "method": "GET", "path": "/",
            "query": "", "headers": {}, "body": ""
        })
    );
}

#[tokio::test]
async fn invoke_encodes_binary_bodies_in_base64() {
    let provider = provider_with(&["echo"]).await;
    let bytes = vec![0xff, 0x00, 0xfe, b'a'];
    let (_, _, _, body) = call(&provider, "echo", request("PUT", "/bin", bytes.clone())).await;
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(value["bodyBase64"], "/wD+YQ==");
    assert!(value.get("body").is_none(), "{value}");
    let echoed: EchoResponse = serde_json::from_value(value).unwrap();
    assert_eq!(echoed.body_bytes(), Some(bytes));
    assert_eq!(echoed.method, "PUT");
}

#[tokio::test]
async fn invoke_reads_streamed_bodies_to_the_end() {
    let provider = provider_with(&["echo"]).await;
    let chunks = futures::stream::iter(
        ["part one, ", "part two, ", "end"]
            .into_iter()
            .map(|c| Ok::<_, std::io::Error>(Bytes::from(c))),
    );
    let echoed = echo(
        &provider,
        "echo",
        request("POST", "/", Body::from_stream(chunks)),
    )
    .await;
    assert_eq!(echoed.body.as_deref(), Some("part one, part two, end"));
}

#[tokio::test]
async fn invoke_reports_body_read_failures_as_client_errors() {
    let provider = provider_with(&["echo"]).await;
    let broken = futures::stream::iter(vec![
        Ok(Bytes::from("start")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "gone",
        )),
    ]);
    assert_invalid(
        provider
            .invoke(
                &func("echo"),
                request("POST", "/", Body::from_stream(broken)),
            )
            .await,
        "failed to read the request body",
    );
    let limited = Body::new(http_body_util::Limited::new(
        Body::from(vec![b'x'; 100]),
        10,
    ));
    assert!(matches!(
        provider
            .invoke(&func("echo"), request("POST", "/", limited))
            .await,
        Err(ProviderError::PayloadTooLarge(_))
    ));
    // Failed reads are not counted as invocations.
    assert_eq!(
        provider.get(&func("echo")).await.unwrap().invocation_count,
        0.0
    );
}

#[tokio::test]
async fn invoke_of_an_unknown_function_is_not_found() {
    let provider = provider_with(&["echo"]).await;
    assert_not_found(
        provider
            .invoke(&func("ghost"), request("GET", "/", Body::empty()))
            .await,
        ResourceKind::Function,
    );
}

#[tokio::test]
async fn invoke_counts_and_round_robins_over_replicas() {
    let provider = provider_with(&["rr"]).await;
    provider.scale(&func("rr"), 3).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..7 {
        let (_, instance, ..) = call(&provider, "rr", request("GET", "/", Body::empty())).await;
        seen.push(instance);
    }
    assert_eq!(
        seen,
        vec!["rr-0", "rr-1", "rr-2", "rr-0", "rr-1", "rr-2", "rr-0"]
    );
    assert_eq!(
        provider.get(&func("rr")).await.unwrap().invocation_count,
        7.0
    );
    let json = serde_json::to_value(provider.get(&func("rr")).await.unwrap()).unwrap();
    assert_eq!(json["invocationCount"], 7.0);

    provider.scale(&func("rr"), 1).await.unwrap();
    for _ in 0..2 {
        let (_, instance, ..) = call(&provider, "rr", request("GET", "/", Body::empty())).await;
        assert_eq!(instance, "rr-0");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_are_all_counted() {
    let provider = Arc::new(provider_with(&["busy"]).await);
    provider.scale(&func("busy"), 4).await.unwrap();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let provider = provider.clone();
            tokio::spawn(async move {
                let echoed = echo(&provider, "busy", request("POST", "/", format!("{i}"))).await;
                assert_eq!(echoed.body, Some(i.to_string()));
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        provider.get(&func("busy")).await.unwrap().invocation_count,
        200.0
    );
    let lines = all_logs(&provider, LogRequest::new(func("busy"))).await;
    assert_eq!(
        lines.iter().filter(|m| m.text == "POST / -> 200").count(),
        200
    );
    for n in 0..4 {
        let instance = format!("busy-{n}");
        assert_eq!(
            lines.iter().filter(|m| m.instance == instance).count(),
            50,
            "{instance}"
        );
    }
}
