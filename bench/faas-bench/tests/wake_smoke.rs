//! The scale-from-zero bench through the federation, one round on the real engine: it must
//! produce numbers (no thresholds here; the goals are judged on the full-size run).

use faas_bench::wake::{WakeSettings, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wake_bench_produces_numbers() {
    let report = run(&WakeSettings { rounds: 1 })
        .await
        .expect("the bench runs");
    for times in [
        &report.warm,
        &report.cold,
        &report.baseline,
        &report.unpause,
        &report.unpause_health,
        &report.list,
    ] {
        assert_eq!(times.len(), 1);
        assert!(!times[0].is_zero());
    }
    let table = report.render();
    assert!(
        table.contains("RATIO") && table.contains("warm standby"),
        "{table}"
    );
    println!("{table}");
}
