//! A remote backend killed mid-load: a bounded client loop invokes functions on both backends
//! through the served federation while the remote provider's server is killed (its runtime
//! shut down: listener and connections closed at once) and later restarted on the same port.
//!
//! The in-process backend's function must serve every request (0 errors); the remote one's
//! answers 503 naming the backend while it is dead, and 200 again once it is back.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{RemoteMemory, client, spec};
use faas_provider::Provider;
use federation::MISSING_BACKENDS_HEADER;
use provider_memory::MemoryProvider;

const WORKERS: usize = 4;
/// Per worker: the loop is bounded in requests as well as by the stop flag.
const MAX_REQUESTS_PER_WORKER: usize = 20_000;
/// Requests each phase must see (sent and answered within it) before the test moves on.
const PER_PHASE: usize = 200;
/// Upper bound on waiting for a phase's requests (a failure, not a pass, when exceeded).
const PHASE_BOUND: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Sample {
    function: &'static str,
    /// Phase when the request was sent and when its answer arrived: 0 = both up, 1 = killing,
    /// 2 = remote dead, 3 = restarting, 4 = remote back. Only requests sent and answered
    /// within one of the steady phases (0, 2, 4) are judged on the remote function.
    sent: u8,
    answered: u8,
    status: u16,
    body: String,
}

struct Load {
    phase: AtomicU8,
    stop: AtomicBool,
    /// Requests sent and answered within each phase.
    within: [AtomicUsize; 5],
}

async fn worker(url: String, load: Arc<Load>, offset: usize) -> Vec<Sample> {
    let http = client();
    let mut samples = Vec::new();
    for i in 0..MAX_REQUESTS_PER_WORKER {
        if load.stop.load(Ordering::Acquire) {
            break;
        }
        let function = if (i + offset) % 2 == 0 {
            "steady"
        } else {
            "fragile"
        };
        let sent = load.phase.load(Ordering::Acquire);
        let result = http
            .post(format!("{url}/function/{function}"))
            .body(format!("request {i}"))
            .send()
            .await;
        let (status, body) = match result {
            Ok(response) => {
                let status = response.status().as_u16();
                (status, response.text().await.unwrap_or_default())
            }
            // The federation itself never goes away: a transport error is a failure too.
            Err(e) => (0, e.to_string()),
        };
        let answered = load.phase.load(Ordering::Acquire);
        if sent == answered {
            load.within[usize::from(sent)].fetch_add(1, Ordering::AcqRel);
        }
        samples.push(Sample {
            function,
            sent,
            answered,
            status,
            body: body.chars().take(300).collect(),
        });
    }
    samples
}

async fn wait_for(load: &Load, phase: usize) {
    let deadline = Instant::now() + PHASE_BOUND;
    while load.within[phase].load(Ordering::Acquire) < PER_PHASE {
        assert!(
            Instant::now() < deadline,
            "phase {phase}: fewer than {PER_PHASE} requests within {PHASE_BOUND:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_remote_only_affects_its_own_functions() {
    let local = Arc::new(MemoryProvider::new());
    let mut remote = RemoteMemory::start().await;
    let federation = common::federation(local, &remote.url(), "local").await;
    let served = common::serve(federation.clone()).await;
    federation.deploy(spec("steady", None)).await.unwrap();
    federation
        .deploy(spec("fragile", Some("remote")))
        .await
        .unwrap();

    let load = Arc::new(Load {
        phase: AtomicU8::new(0),
        stop: AtomicBool::new(false),
        within: Default::default(),
    });
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| tokio::spawn(worker(served.url.clone(), load.clone(), w)))
        .collect();

    wait_for(&load, 0).await;
    load.phase.store(1, Ordering::Release);
    remote.kill().await;
    load.phase.store(2, Ordering::Release);
    wait_for(&load, 2).await;

    // While it is dead, the merged list names it.
    let response = client()
        .get(format!("{}/system/functions", served.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[MISSING_BACKENDS_HEADER], "remote");

    load.phase.store(3, Ordering::Release);
    remote.restart().await;
    load.phase.store(4, Ordering::Release);
    wait_for(&load, 4).await;
    load.stop.store(true, Ordering::Release);

    let mut samples = Vec::new();
    for worker in workers {
        samples.extend(worker.await.expect("a worker finished"));
    }

    let steady: Vec<&Sample> = samples.iter().filter(|s| s.function == "steady").collect();
    let steady_errors: Vec<&&Sample> = steady.iter().filter(|s| s.status != 200).collect();
    assert!(
        steady_errors.is_empty(),
        "{} of {} requests to the in-process backend failed, e.g. {:?}",
        steady_errors.len(),
        steady.len(),
        steady_errors.first()
    );
    for phase in [0, 2, 4] {
        assert!(
            steady
                .iter()
                .any(|s| s.sent == phase && s.answered == phase),
            "no steady request within phase {phase}"
        );
    }

    let fragile = |phase: u8| -> Vec<&Sample> {
        samples
            .iter()
            .filter(|s| s.function == "fragile" && s.sent == phase && s.answered == phase)
            .collect()
    };
    let before = fragile(0);
    let dead = fragile(2);
    let after = fragile(4);
    assert!(!before.is_empty() && !dead.is_empty() && !after.is_empty());
    for s in &before {
        assert_eq!(s.status, 200, "before the kill: {s:?}");
    }
    for s in &dead {
        assert_eq!(s.status, 503, "while dead: {s:?}");
        assert!(
            s.body.contains("remote"),
            "the 503 names the backend: {s:?}"
        );
    }
    for s in &after {
        assert_eq!(s.status, 200, "after the restart: {s:?}");
    }
    eprintln!(
        "steady: {} requests, 0 errors; fragile: {} before, {} while dead (all 503), {} after (all 200); {} in transitions",
        steady.len(),
        before.len(),
        dead.len(),
        after.len(),
        samples
            .iter()
            .filter(|s| s.function == "fragile" && !(s.sent == s.answered && s.sent % 2 == 0))
            .count()
    );
    served.stop().await;
}
