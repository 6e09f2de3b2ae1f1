//! provider-docker against a real Docker Engine: what the conformance suite cannot see —
//! container settings, secret files, read-only roots, rediscovery after a restart, rolling
//! updates under load, scaling through zero, failures that must leave nothing behind.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::{function, invoke, provider, provider_with, spec, wait_status};
use faas_provider::{
    FunctionResources, LogRequest, Provider, ProviderError, Secret, types::LABEL_SCALE_MIN,
};
use futures::StreamExt;
use provider_docker::labels;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_invoke_delete_leaves_nothing() {
    let p = provider().await;
    let mut s = spec("echo", "cat").await;
    s.labels = Some(BTreeMap::from([("team".to_string(), "a".to_string())]));
    s.annotations = Some(BTreeMap::from([("note".to_string(), "x\ny".to_string())]));
    s.env_vars.insert("GREETING".into(), "hi".into());
    p.deploy(s.clone()).await.unwrap();

    let status = p.get(&function("echo")).await.unwrap();
    assert_eq!((status.replicas, status.available_replicas), (1, 1));
    assert_eq!(status.image, s.image);
    assert_eq!(status.env_process, "cat");
    assert_eq!(status.env_vars, s.env_vars);
    assert_eq!(status.label("team"), Some("a"));
    assert_eq!(status.label("faas_function"), Some("echo"));
    assert_eq!(status.annotation("note"), Some("x\ny"));

    assert_eq!(
        invoke(&*p, "echo", "hello").await,
        (200, "hello".to_string())
    );
    assert_eq!(
        p.get(&function("echo")).await.unwrap().invocation_count,
        1.0
    );

    // The user's labels are on the container too; annotations only in the spec label.
    let replicas = p.replicas("echo").await;
    assert_eq!(replicas.len(), 1);
    let labels = replicas[0].config.as_ref().unwrap().labels.clone().unwrap();
    assert_eq!(labels.get("team").map(String::as_str), Some("a"));
    let env = replicas[0].config.as_ref().unwrap().env.clone().unwrap();
    assert!(env.contains(&"fprocess=cat".to_string()), "{env:?}");
    assert!(env.contains(&"GREETING=hi".to_string()), "{env:?}");

    assert!(matches!(
        p.deploy(s).await,
        Err(ProviderError::AlreadyExists { .. })
    ));
    p.delete(&function("echo")).await.unwrap();
    assert!(p.get(&function("echo")).await.unwrap_err().is_not_found());
    assert!(p.containers().await.is_empty(), "containers left behind");
    assert!(
        p.delete(&function("echo"))
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_requests_are_applied_to_the_container() {
    let p = provider().await;
    let mut s = spec("limited", "cat").await;
    s.limits = Some(FunctionResources {
        memory: "128Mi".into(),
        cpu: "0.5".into(),
    });
    s.requests = Some(FunctionResources {
        memory: "64M".into(),
        cpu: "100m".into(),
    });
    p.deploy(s.clone()).await.unwrap();
    let replicas = p.replicas("limited").await;
    let host = replicas[0].host_config.clone().unwrap();
    assert_eq!(host.memory, Some(128 * 1024 * 1024));
    assert_eq!(host.memory_swap, Some(128 * 1024 * 1024));
    assert_eq!(host.memory_reservation, Some(64_000_000));
    assert_eq!(host.nano_cpus, Some(500_000_000));
    assert_eq!(host.cpu_shares, Some(102));
    // Echoed exactly as deployed.
    let status = p.get(&function("limited")).await.unwrap();
    assert_eq!(status.limits, s.limits);
    assert_eq!(status.requests, s.requests);
    assert_eq!(invoke(&*p, "limited", "ok").await, (200, "ok".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_limit_below_the_engines_minimum_is_raised_and_reported_as_asked() {
    let p = provider().await;
    let mut s = spec("tiny", "cat").await;
    // What the OpenFaaS certifier deploys; the engine refuses limits under 6 MiB.
    s.limits = Some(FunctionResources {
        memory: "5Mi".into(),
        cpu: String::new(),
    });
    p.deploy(s.clone()).await.unwrap();
    let replicas = p.replicas("tiny").await;
    let host = replicas[0].host_config.clone().unwrap();
    assert_eq!(host.memory, Some(6 * 1024 * 1024));
    let status = p.get(&function("tiny")).await.unwrap();
    assert_eq!(status.limits.unwrap().memory, "5Mi");
    assert_eq!(invoke(&*p, "tiny", "ok").await, (200, "ok".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_quantities_and_constraints_are_400_and_leave_nothing() {
    let p = provider().await;
    for (limits, constraints, needle) in [
        (("12Q", ""), vec![], "limits.memory"),
        (("", "lots"), vec![], "limits.cpu"),
        (("", ""), vec!["node.role == manager"], "cannot be honoured"),
        (
            ("", ""),
            vec!["node.platform.os == windows"],
            "not satisfied",
        ),
    ] {
        let mut s = spec("bad", "cat").await;
        s.limits = Some(FunctionResources {
            memory: limits.0.into(),
            cpu: limits.1.into(),
        });
        s.constraints = constraints.into_iter().map(String::from).collect();
        match p.deploy(s).await {
            Err(ProviderError::InvalidRequest(message)) => {
                assert!(message.contains(needle), "{message}")
            }
            other => panic!("{needle}: {other:?}"),
        }
    }
    let mut s = spec("fine", "cat").await;
    s.constraints = vec!["node.platform.os == linux".into()];
    p.deploy(s).await.unwrap();
    assert_eq!(
        p.containers().await.len(),
        2,
        "only fine's holder and replica"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_mounted_read_only_and_readable_by_the_function() {
    let p = provider().await;
    p.create_secret(Secret::new("api-key", "", "s3cret value\n"))
        .await
        .unwrap();
    let mut raw = Secret::new("raw", "", "");
    raw.raw_value = vec![0, 159, 146, 150];
    p.create_secret(raw).await.unwrap();

    // The provider's file: mode 0644 (any user of the function reads it) in a 0700 directory.
    let file = p
        .state
        .path()
        .join("secrets")
        .join(faas_provider::DEFAULT_NAMESPACE)
        .join("api-key");
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o644);
    assert_eq!(mode(file.parent().unwrap()), 0o700);

    let mut s = spec("reader", "cat /var/openfaas/secrets/api-key").await;
    s.secrets = vec!["api-key".into(), "raw".into()];
    p.deploy(s).await.unwrap();
    assert_eq!(
        invoke(&*p, "reader", "").await,
        (200, "s3cret value\n".to_string())
    );

    let replicas = p.replicas("reader").await;
    let mounts = replicas[0].mounts.clone().unwrap();
    let mount = mounts
        .iter()
        .find(|m| m.destination.as_deref() == Some("/var/openfaas/secrets/api-key"))
        .expect("secret mount");
    assert_eq!(mount.rw, Some(false));

    // Inside the container the file keeps its mode: a non-root function user can read it.
    let mut stat = spec("stat", "stat -c %a /var/openfaas/secrets/api-key").await;
    stat.secrets = vec!["api-key".into()];
    p.deploy(stat).await.unwrap();
    assert_eq!(invoke(&*p, "stat", "").await, (200, "644\n".to_string()));

    // Writing to the mount fails inside the function.
    let mut writer = spec("writer", "touch /var/openfaas/secrets/api-key").await;
    writer.secrets = vec!["api-key".into()];
    p.deploy(writer).await.unwrap();
    let (status, body) = invoke(&*p, "writer", "").await;
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("Read-only file system"), "{body}");

    // Updated value: seen by a redeployed (updated) function.
    p.update_secret(Secret::new("api-key", "", "rotated"))
        .await
        .unwrap();
    let mut s = spec("reader", "cat /var/openfaas/secrets/api-key").await;
    s.secrets = vec!["api-key".into()];
    p.update(s).await.unwrap();
    assert_eq!(
        invoke(&*p, "reader", "").await,
        (200, "rotated".to_string())
    );

    let names: Vec<String> = p
        .list_secrets("")
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["api-key", "raw"]);
    let mut missing = spec("needs-missing", "cat").await;
    missing.secrets = vec!["nope".into()];
    match p.deploy(missing).await {
        Err(ProviderError::InvalidRequest(m)) => assert!(m.contains("unable to find secret")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_root_filesystem_with_writable_tmp() {
    let p = provider().await;
    let mut s = spec("ro", "touch /probe").await;
    s.read_only_root_filesystem = true;
    p.deploy(s).await.unwrap();
    let replicas = p.replicas("ro").await;
    let host = replicas[0].host_config.clone().unwrap();
    assert_eq!(host.readonly_rootfs, Some(true));
    let (status, body) = invoke(&*p, "ro", "").await;
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("Read-only file system"), "{body}");

    let mut tmp = spec("ro-tmp", "touch /tmp/probe").await;
    tmp.read_only_root_filesystem = true;
    p.deploy(tmp).await.unwrap();
    let (status, body) = invoke(&*p, "ro-tmp", "").await;
    assert_eq!(status, 200, "{body}");

    // Without the flag the root is writable.
    p.deploy(spec("rw", "touch /probe").await).await.unwrap();
    assert_eq!(invoke(&*p, "rw", "").await.0, 200);
    assert!(
        p.get(&function("ro"))
            .await
            .unwrap()
            .read_only_root_filesystem
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_provider_rediscovers_every_function() {
    let p = provider().await;
    let mut s = spec("kept", "cat").await;
    s.labels = Some(BTreeMap::from([(
        LABEL_SCALE_MIN.to_string(),
        "2".to_string(),
    )]));
    s.env_vars.insert("A".into(), "1".into());
    p.deploy(s.clone()).await.unwrap();
    let mut zero = spec("zeroed", "cat").await;
    zero.annotations = Some(BTreeMap::from([("k".to_string(), "v".to_string())]));
    p.deploy(zero.clone()).await.unwrap();
    p.scale(&function("zeroed"), 0).await.unwrap();
    let before = p.get(&function("kept")).await.unwrap();

    let again = p.restarted().await;
    let mut list = again.list("").await.unwrap();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<&str> = list.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["kept", "zeroed"]);
    let kept = &list[0];
    assert_eq!((kept.replicas, kept.available_replicas), (2, 2));
    assert_eq!(kept.env_vars, s.env_vars);
    assert_eq!(kept.created_at, before.created_at);
    assert_eq!(kept.label(LABEL_SCALE_MIN), Some("2"));
    let zeroed = &list[1];
    assert_eq!(zeroed.replicas, 0);
    assert_eq!(zeroed.annotation("k"), Some("v"));

    // The new instance routes, scales, updates and deletes what the old one made.
    assert_eq!(invoke(&again, "kept", "x").await, (200, "x".to_string()));
    again.scale(&function("zeroed"), 1).await.unwrap();
    assert_eq!(invoke(&again, "zeroed", "y").await, (200, "y".to_string()));
    again.delete(&function("kept")).await.unwrap();
    drop(again);
    // ... and the first instance sees it.
    assert!(p.get(&function("kept")).await.unwrap_err().is_not_found());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_zero_to_n_to_zero() {
    let p = provider().await;
    p.deploy(spec("scaled", "env").await).await.unwrap();
    p.scale(&function("scaled"), 0).await.unwrap();
    let status = p.get(&function("scaled")).await.unwrap();
    assert_eq!((status.replicas, status.available_replicas), (0, 0));
    // Only the spec holder is left, and it is not running.
    let containers = p.containers().await;
    assert_eq!(containers.len(), 1);
    assert_eq!(
        containers[0]
            .labels
            .as_ref()
            .unwrap()
            .get(labels::ROLE)
            .map(String::as_str),
        Some("spec")
    );
    let request = http::Request::get("/")
        .body(faas_provider::Body::empty())
        .unwrap();
    assert!(matches!(
        p.invoke(&function("scaled"), request).await,
        Err(ProviderError::NotReady { .. })
    ));

    p.scale(&function("scaled"), 3).await.unwrap();
    let status = p.get(&function("scaled")).await.unwrap();
    assert_eq!((status.replicas, status.available_replicas), (3, 3));
    // Round robin: three invocations reach three replicas (each has its own port).
    let mut ports = HashSet::new();
    for _ in 0..3 {
        let (code, body) = invoke(&*p, "scaled", "").await;
        assert_eq!(code, 200);
        let port = body
            .lines()
            .find_map(|l| l.strip_prefix("port="))
            .expect("port in env")
            .to_string();
        ports.insert(port);
    }
    assert_eq!(ports.len(), 3, "{ports:?}");

    p.scale(&function("scaled"), 1).await.unwrap();
    assert_eq!(p.get(&function("scaled")).await.unwrap().replicas, 1);
    p.scale(&function("scaled"), 0).await.unwrap();
    assert_eq!(p.get(&function("scaled")).await.unwrap().replicas, 0);
    assert_eq!(p.containers().await.len(), 1);
    match p.scale(&function("scaled"), 1000).await {
        Err(ProviderError::InvalidRequest(m)) => assert!(m.contains("max_replicas"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_update_under_load_fails_no_request() {
    let p = provider().await;
    let mut s = spec("rolling", "env").await;
    s.env_vars.insert("VERSION".into(), "1".into());
    s.labels = Some(BTreeMap::from([(
        LABEL_SCALE_MIN.to_string(),
        "2".to_string(),
    )]));
    p.deploy(s.clone()).await.unwrap();
    let old_ids: HashSet<String> = p
        .replicas("rolling")
        .await
        .into_iter()
        .map(|r| r.id.unwrap())
        .collect();

    let provider: Arc<dyn Provider> = Arc::new(p.provider.clone());
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen_v2 = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (provider, stop, ok, failures, seen_v2) = (
            provider.clone(),
            stop.clone(),
            ok.clone(),
            failures.clone(),
            seen_v2.clone(),
        );
        workers.push(tokio::spawn(async move {
            // Bounded: stops when told, or after 20000 requests.
            for _ in 0..20_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let request = http::Request::post("/")
                    .body(faas_provider::Body::from("load"))
                    .unwrap();
                let result = provider.invoke(&function("rolling"), request).await;
                match result {
                    Ok(response) if response.status() == 200 => {
                        use http_body_util::BodyExt;
                        match response.into_body().collect().await {
                            Ok(body) => {
                                let text = String::from_utf8_lossy(&body.to_bytes()).into_owned();
                                if text.contains("VERSION=2") {
                                    seen_v2.fetch_add(1, Ordering::Relaxed);
                                }
                                ok.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => failures.lock().unwrap().push(format!("body: {e}")),
                        }
                    }
                    Ok(response) => failures
                        .lock()
                        .unwrap()
                        .push(format!("status {}", response.status())),
                    Err(e) => failures.lock().unwrap().push(e.to_string()),
                }
            }
        }));
    }
    // Let the load start before updating.
    while ok.load(Ordering::Relaxed) < 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    s.env_vars.insert("VERSION".into(), "2".into());
    p.update(s).await.unwrap();
    let at_update_end = ok.load(Ordering::Relaxed);
    while ok.load(Ordering::Relaxed) < at_update_end + 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    let failures = failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "{} failed of {}: {:?}",
        failures.len(),
        ok.load(Ordering::Relaxed),
        &failures[..failures.len().min(10)]
    );
    assert!(seen_v2.load(Ordering::Relaxed) > 0);
    eprintln!(
        "rolling update under load: {} requests, 0 failed, {} answered by the new spec",
        ok.load(Ordering::Relaxed),
        seen_v2.load(Ordering::Relaxed)
    );

    // Two new replicas, none of the old, one holder of the new generation.
    let replicas = p.replicas("rolling").await;
    assert_eq!(replicas.len(), 2);
    for r in &replicas {
        assert!(!old_ids.contains(r.id.as_ref().unwrap()));
    }
    assert_eq!(p.containers().await.len(), 3);
    let (_, body) = invoke(&*p, "rolling", "").await;
    assert!(body.contains("VERSION=2"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_update_rolls_back() {
    let p = provider().await;
    let s = spec("steady", "cat").await;
    p.deploy(s.clone()).await.unwrap();
    let mut broken = s.clone();
    broken.env_vars.insert("mode".into(), "no-such-mode".into());
    match p.update(broken).await {
        Err(ProviderError::InvalidRequest(m)) => assert!(m.contains("exited"), "{m}"),
        other => panic!("{other:?}"),
    }
    let status = p.get(&function("steady")).await.unwrap();
    assert_eq!(status.env_vars, s.env_vars);
    assert_eq!(status.available_replicas, 1);
    assert_eq!(
        invoke(&*p, "steady", "still").await,
        (200, "still".to_string())
    );
    assert_eq!(p.containers().await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_clear_and_leave_nothing_behind() {
    // A container that exits.
    let p = provider().await;
    let mut exits = spec("exits", "cat").await;
    exits.env_vars.insert("mode".into(), "no-such-mode".into());
    match p.deploy(exits).await {
        Err(ProviderError::InvalidRequest(m)) => {
            assert!(m.contains("exited with code"), "{m}");
            assert!(m.contains("no-such-mode"), "the log lines are quoted: {m}");
        }
        other => panic!("{other:?}"),
    }
    assert!(p.containers().await.is_empty());
    assert!(p.get(&function("exits")).await.unwrap_err().is_not_found());

    // An image that cannot be pulled.
    let mut unpullable = spec("unpullable", "cat").await;
    unpullable.image = "127.0.0.1:9/no/such-image:1".into();
    match p.deploy(unpullable).await {
        Err(ProviderError::InvalidRequest(m)) => assert!(m.contains("unable to pull image"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(p.containers().await.is_empty());

    // A full port range: one free port, two replicas wanted.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let narrow = provider_with(|c| {
        c.networking = provider_docker::Networking::Host {
            bind: std::net::Ipv4Addr::LOCALHOST,
            ports: (port, port),
        }
    })
    .await;
    let mut two = spec("two", "cat").await;
    two.labels = Some(BTreeMap::from([(
        LABEL_SCALE_MIN.to_string(),
        "2".to_string(),
    )]));
    match narrow.deploy(two).await {
        Err(ProviderError::Unavailable { reason, .. }) => {
            assert!(reason.contains("no free port"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(narrow.containers().await.is_empty());
    narrow.deploy(spec("one", "cat").await).await.unwrap();
    match narrow.scale(&function("one"), 2).await {
        Err(ProviderError::Unavailable { reason, .. }) => {
            assert!(reason.contains("no free port"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(narrow.get(&function("one")).await.unwrap().replicas, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_come_from_the_engine() {
    let p = provider().await;
    p.deploy(spec("logger", "cat").await).await.unwrap();
    assert_eq!(invoke(&*p, "logger", "abc").await.0, 200);
    let instance = p.replicas("logger").await[0].id.clone().unwrap();
    let lines = wait_for_logs(&p, "Wrote 3 Bytes").await;
    assert!(
        lines
            .iter()
            .all(|l| l.name == "logger" && l.instance == instance)
    );
    assert!(lines.iter().any(|l| l.text.contains("Forking fprocess")));

    let mut tail = LogRequest::new(function("logger"));
    tail.tail = Some(1);
    let last: Vec<_> = p.logs(tail).await.unwrap().collect().await;
    assert_eq!(last.len(), 1);

    let mut other = LogRequest::new(function("logger"));
    other.instance = Some("no-such-instance".into());
    assert!(
        p.logs(other)
            .await
            .unwrap()
            .collect::<Vec<_>>()
            .await
            .is_empty()
    );

    // follow: a new invocation's line arrives on an open stream.
    let mut follow = LogRequest::new(function("logger"));
    follow.follow = true;
    follow.since = Some(chrono::Utc::now());
    let mut stream = p.logs(follow).await.unwrap();
    assert_eq!(invoke(&*p, "logger", "12345").await.0, 200);
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = stream.next().await {
            if line.text.contains("Wrote 5 Bytes") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true));
    assert!(
        p.logs(LogRequest::new(function("nobody")))
            .await
            .err()
            .unwrap()
            .is_not_found()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_stream_takes_in_later_replicas_and_ends_on_delete() {
    let p = provider().await;
    p.deploy(spec("followed", "cat").await).await.unwrap();
    let first = p.replicas("followed").await[0].clone();
    let first_id = first.id.clone().unwrap();
    let mut follow = LogRequest::new(function("followed"));
    follow.follow = true;
    follow.since = Some(chrono::Utc::now());
    let mut stream = p.logs(follow).await.unwrap();
    assert_eq!(invoke(&*p, "followed", "12345").await.0, 200);

    // Scaled up: the new replica's first line (its watchdog starting) arrives.
    p.scale(&function("followed"), 2).await.unwrap();
    let ids: HashSet<String> = p
        .replicas("followed")
        .await
        .iter()
        .filter_map(|r| r.id.clone())
        .collect();
    assert_eq!(ids.len(), 2);
    let second_id = ids.iter().find(|id| **id != first_id).unwrap().clone();
    let mut seen: Vec<(String, String)> = Vec::new();
    until_listening(&mut stream, &second_id, &mut seen).await;

    // The first replica crashes and is restarted by the engine: its new run is followed,
    // its old lines are not sent again.
    let pid = first.state.as_ref().unwrap().pid.unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    until_listening(&mut stream, &first_id, &mut seen).await;
    let starts = |id: &str| {
        seen.iter()
            .filter(|(instance, text)| instance == id && text.starts_with("Listening on"))
            .count()
    };
    assert_eq!((starts(&first_id), starts(&second_id)), (1, 1), "{seen:?}");
    // Each line once, though the engine's events are replayed from before the stream opened.
    let wrote: Vec<_> = seen
        .iter()
        .filter(|(_, text)| text.contains("Wrote 5 Bytes"))
        .collect();
    assert_eq!(wrote.len(), 1, "{seen:?}");

    // Deleted: the stream ends.
    p.delete(&function("followed")).await.unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = stream.next().await {
            seen.push((line.instance, line.text));
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the follow stream outlived the function: {seen:?}"
    );
}

/// Reads a follow stream, noting every `(instance, text)` in `seen`, until replica `id`'s
/// watchdog says it is listening.
async fn until_listening(
    stream: &mut faas_provider::LogStream,
    id: &str,
    seen: &mut Vec<(String, String)>,
) {
    let found = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = stream.next().await {
            let listening = line.instance == id && line.text.starts_with("Listening on");
            seen.push((line.instance, line.text));
            if listening {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "{id} not listening; lines seen: {seen:?}");
}

async fn wait_for_logs(p: &common::TestProvider, needle: &str) -> Vec<faas_provider::LogMessage> {
    for _ in 0..100 {
        let lines: Vec<_> = p
            .logs(LogRequest::new(function("logger")))
            .await
            .unwrap()
            .collect()
            .await;
        if lines.iter().any(|l| l.text.contains(needle)) {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no log line with {needle:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_replica_is_not_available_until_it_is_back() {
    let p = provider().await;
    p.deploy(spec("crashy", "cat").await).await.unwrap();
    let replica = &p.replicas("crashy").await[0];
    let pid = replica.state.as_ref().unwrap().pid.unwrap();
    // Kill the watchdog behind the engine's back (a crash, not a `docker kill`): the engine
    // restarts it (restart policy unless-stopped).
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_status(&*p, "crashy", "available again", |s| {
        s.replicas == 1 && s.available_replicas == 1
    })
    .await;
    assert_eq!(status.replicas, 1);
    assert_eq!(
        invoke(&*p, "crashy", "back").await,
        (200, "back".to_string())
    );
}

/// A private registry: no credentials is a clear 400; credentials from the Docker config file
/// pull the image, at deploy and again at a scale up when the image was removed meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_registry_credentials_come_from_the_docker_config() {
    use base64::Engine as _;
    let registry = tokio::task::spawn_blocking(|| {
        test_support::Registry::start_with_basic_auth("puller", "pull s3cret")
    })
    .await
    .unwrap();
    let echo = test_support::images::ECHO;
    let content = tokio::task::spawn_blocking(move || echo.build())
        .await
        .unwrap();
    let pushed = test_support::push::push_image(
        &test_support::push::oci_client(),
        &registry.host(),
        &registry.auth(),
        echo,
        content,
    )
    .await
    .expect("push to the private registry");

    // No credentials: a clear 400, nothing left.
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.json");
    let anonymous = provider_with(|c| {
        c.pull_policy = provider_docker::PullPolicy::Always;
        c.docker_config = Some(config_path.clone());
    })
    .await;
    let mut s = spec("private", "cat").await;
    s.image = pushed.reference.clone();
    match anonymous.deploy(s.clone()).await {
        Err(ProviderError::InvalidRequest(m)) => assert!(m.contains("unable to pull image"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(anonymous.containers().await.is_empty());

    // Credentials in the Docker config file: the pull works.
    let auth = base64::engine::general_purpose::STANDARD.encode("puller:pull s3cret");
    std::fs::write(
        &config_path,
        format!(
            r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#,
            registry.host()
        ),
    )
    .unwrap();
    anonymous.deploy(s).await.unwrap();
    assert_eq!(
        invoke(&*anonymous, "private", "pulled").await,
        (200, "pulled".to_string())
    );

    // The image removed from the engine since the deploy: a scale up (which does not look the
    // image up first) gets it again, with the same credentials.
    anonymous.scale(&function("private"), 0).await.unwrap();
    let options = bollard::query_parameters::RemoveImageOptionsBuilder::default()
        .force(true)
        .build();
    anonymous
        .docker()
        .remove_image(&pushed.reference, Some(options), None)
        .await
        .expect("removing the pulled image");
    anonymous.scale(&function("private"), 1).await.unwrap();
    assert_eq!(
        invoke(&*anonymous, "private", "pulled again").await,
        (200, "pulled again".to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invocations_stream_both_ways() {
    use http_body_util::BodyExt;
    let p = provider().await;
    let mut s = spec("stream", "cat").await;
    s.env_vars.insert("mode".into(), "streaming".into());
    p.deploy(s).await.unwrap();

    // The request body is a channel: the second chunk is only sent after the first one came
    // back through the provider, so both directions must stream.
    let (tx, rx) =
        tokio::sync::mpsc::channel::<Result<http_body::Frame<bytes::Bytes>, std::io::Error>>(1);
    let body = http_body_util::StreamBody::new(tokio_stream_from(rx));
    let request = http::Request::post("/")
        .body(faas_provider::Body::new(body))
        .unwrap();
    tx.send(Ok(http_body::Frame::data(bytes::Bytes::from("ping-1\n"))))
        .await
        .unwrap();
    let response = tokio::time::timeout(
        Duration::from_secs(30),
        p.invoke(&function("stream"), request),
    )
    .await
    .expect("response head")
    .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let first = tokio::time::timeout(Duration::from_secs(30), body.frame())
        .await
        .expect("the first chunk came back before the request ended")
        .unwrap()
        .unwrap()
        .into_data()
        .unwrap();
    assert_eq!(first, "ping-1\n");
    tx.send(Ok(http_body::Frame::data(bytes::Bytes::from("ping-2\n"))))
        .await
        .unwrap();
    drop(tx);
    let rest = body.collect().await.unwrap().to_bytes();
    assert_eq!(rest, "ping-2\n");
}

/// A `Stream` over an mpsc receiver (tokio-stream's wrapper, without the dependency).
fn tokio_stream_from<T: Send + 'static>(
    rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> + Send {
    futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_docker_network_is_a_clear_400() {
    // Only the engine is contacted: the replica is never created, so nothing is probed.
    let p = provider_with(|c| {
        c.networking = provider_docker::Networking::Network("no-such-network-faas".into())
    })
    .await;
    match p.deploy(spec("netless", "cat").await).await {
        Err(ProviderError::InvalidRequest(m)) => {
            assert!(m.contains("no-such-network-faas"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    assert!(p.containers().await.is_empty());
}
