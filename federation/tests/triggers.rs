//! Subject triggers against a real NATS server: a publish runs the bound function (with
//! `X-Topic`), request-reply gets the answer and its status, a wildcard binding, rebinding on
//! update, unbinding on delete, a failing function does not stop the subscriber, and a queue
//! group runs each message once across two instances.

#[path = "common/async_support.rs"]
mod async_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_support::{Functions, until};
use federation::queue::QueueMetrics;
use federation::triggers::{STATUS_HEADER, TOPIC_ANNOTATION, TriggerConfig, Triggers};
use test_support::nats::NatsServer;

const LONG: Duration = Duration::from_secs(20);

async fn triggers(nats: &NatsServer, functions: &Arc<Functions>) -> Arc<Triggers> {
    let client = async_nats::connect(nats.url()).await.unwrap();
    let triggers = Triggers::new(
        client,
        functions.clone(),
        TriggerConfig::default(),
        QueueMetrics::default(),
    );
    triggers.refresh().await;
    triggers
}

/// Waits until the bindings satisfy `check`.
async fn bound_until(
    triggers: &Triggers,
    what: &str,
    check: impl Fn(&std::collections::BTreeMap<String, Vec<faas_provider::FunctionRef>>) -> bool,
) {
    let deadline = tokio::time::Instant::now() + LONG;
    while !check(&triggers.bound().await) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn count(functions: &Functions) -> u64 {
    functions.total.load(Ordering::SeqCst)
}

#[tokio::test]
async fn a_message_runs_the_bound_function_and_a_request_gets_its_answer() {
    let nats = NatsServer::start();
    let functions = Arc::new(Functions::default());
    functions.add("orders", &[(TOPIC_ANNOTATION, "orders.created, audit")]);
    functions.add("other", &[]);
    let triggers = triggers(&nats, &functions).await;
    let bound = triggers.bound().await;
    assert_eq!(
        bound.keys().collect::<Vec<_>>(),
        ["audit", "orders.created"]
    );

    let client = async_nats::connect(nats.url()).await.unwrap();
    client
        .publish("orders.created", "one".into())
        .await
        .unwrap();
    client.flush().await.unwrap();
    until(LONG, "one run", || count(&functions) == 1).await;
    assert_eq!(*functions.topics.lock().unwrap(), ["orders.created"]);

    let reply = tokio::time::timeout(LONG, client.request("audit", "ping".into()))
        .await
        .expect("an answer in time")
        .unwrap();
    assert_eq!(&reply.payload[..], b"ping");
    let headers = reply.headers.expect("reply headers");
    assert_eq!(headers.get(STATUS_HEADER).unwrap().as_str(), "200");
}

#[tokio::test]
async fn a_wildcard_binding_takes_every_matching_subject() {
    let nats = NatsServer::start();
    let functions = Arc::new(Functions::default());
    functions.add("events", &[(TOPIC_ANNOTATION, "events.*")]);
    let _triggers = triggers(&nats, &functions).await;
    let client = async_nats::connect(nats.url()).await.unwrap();
    for subject in ["events.a", "events.b", "elsewhere.a"] {
        client.publish(subject, "x".into()).await.unwrap();
    }
    client.flush().await.unwrap();
    until(LONG, "two runs", || count(&functions) == 2).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(count(&functions), 2);
    let mut topics = functions.topics.lock().unwrap().clone();
    topics.sort();
    assert_eq!(topics, ["events.a", "events.b"]);
}

#[tokio::test]
async fn bindings_follow_updates_and_deletes() {
    let nats = NatsServer::start();
    let functions = Arc::new(Functions::default());
    functions.add("mover", &[(TOPIC_ANNOTATION, "old.subject")]);
    let triggers = triggers(&nats, &functions).await;
    let _loop = triggers.spawn();
    let client = async_nats::connect(nats.url()).await.unwrap();

    // Update: the annotation now names another subject.
    functions.add("mover", &[(TOPIC_ANNOTATION, "new.subject")]);
    triggers.changed();
    bound_until(&triggers, "rebound", |bound| {
        bound.contains_key("new.subject")
    })
    .await;
    assert!(!triggers.bound().await.contains_key("old.subject"));
    client.publish("old.subject", "x".into()).await.unwrap();
    client.publish("new.subject", "y".into()).await.unwrap();
    client.flush().await.unwrap();
    until(LONG, "the new subject ran it", || count(&functions) == 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(count(&functions), 1, "the old subject no longer runs it");

    // Delete: no binding left, messages run nothing.
    functions.remove("mover");
    triggers.changed();
    bound_until(&triggers, "unbound", |bound| bound.is_empty()).await;
    client.publish("new.subject", "z".into()).await.unwrap();
    client.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(count(&functions), 1);
}

#[tokio::test]
async fn a_failing_function_does_not_stop_the_subscriber() {
    let nats = NatsServer::start();
    let functions = Arc::new(Functions::default());
    functions.add("fragile", &[(TOPIC_ANNOTATION, "work")]);
    functions.fail_first.store(1, Ordering::SeqCst);
    let _triggers = triggers(&nats, &functions).await;
    let client = async_nats::connect(nats.url()).await.unwrap();
    let failed = client.request("work", "a".into()).await.unwrap();
    assert_eq!(
        failed.headers.unwrap().get(STATUS_HEADER).unwrap().as_str(),
        "503"
    );
    let ok = client.request("work", "b".into()).await.unwrap();
    assert_eq!(
        ok.headers.unwrap().get(STATUS_HEADER).unwrap().as_str(),
        "200"
    );
    assert_eq!(&ok.payload[..], b"b");
}

#[tokio::test]
async fn a_queue_group_runs_each_message_once_across_instances() {
    let nats = NatsServer::start();
    let functions = Arc::new(Functions::default());
    functions.add("shared", &[(TOPIC_ANNOTATION, "jobs")]);
    let _one = triggers(&nats, &functions).await;
    let _two = triggers(&nats, &functions).await;
    let client = async_nats::connect(nats.url()).await.unwrap();
    for i in 0..40 {
        client.publish("jobs", format!("{i}").into()).await.unwrap();
    }
    client.flush().await.unwrap();
    until(LONG, "40 runs", || count(&functions) >= 40).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count(&functions), 40);
}
