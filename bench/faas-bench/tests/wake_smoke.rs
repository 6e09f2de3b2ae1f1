//! The scale-from-zero bench through the federation, one round on the real engine: it must
//! produce numbers (no thresholds here; the goals are judged on the full-size run), and break
//! each call at zero down into the steps provider-docker and the scaler time.

use faas_bench::wake::{Timings, WakeSettings, run};
use tracing_subscriber::layer::SubscriberExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wake_bench_produces_numbers() {
    let timings = Timings::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(timings.clone()))
        .expect("the only subscriber of this test binary");
    let report = run(&WakeSettings { rounds: 1 }, &timings)
        .await
        .expect("the bench runs");
    for times in [
        &report.warm,
        &report.cold,
        &report.baseline,
        &report.unpause,
        &report.unpause_health,
        &report.create_start_health,
        &report.list,
    ] {
        assert_eq!(times.len(), 1);
        assert!(!times[0].is_zero());
    }
    let (warm, cold) = (&report.warm_steps[0], &report.cold_steps[0]);
    for step in [
        "scaler: the backend's scale",
        "engine: unpause a standby",
        "wait: a woken standby's first /_/health 200",
    ] {
        assert!(warm.contains_key(step), "{step} missing: {warm:?}");
    }
    for step in [
        "engine: create a container",
        "engine: start a container",
        "wait: a new replica's first /_/health 200",
    ] {
        assert!(cold.contains_key(step), "{step} missing: {cold:?}");
    }
    let table = report.render();
    assert!(
        table.contains("RATIO") && table.contains("warm standby") && table.contains("steps of"),
        "{table}"
    );
    println!("{table}");
}
