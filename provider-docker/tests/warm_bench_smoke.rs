//! The warm-pool benchmark, one round: it must produce numbers (no thresholds here; the goals
//! are judged on the full-size run).

#[path = "../benches/warm.rs"]
#[allow(dead_code, unreachable_pub)]
mod bench;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_warm_pool_bench_produces_numbers() {
    let report = bench::run(&bench::Settings { rounds: 1 })
        .await
        .expect("the bench runs");
    for times in [
        &report.warm,
        &report.cold,
        &report.baseline,
        &report.paused,
        &report.stopped,
        &report.created,
    ] {
        assert_eq!(times.len(), 1);
        assert!(times[0] > std::time::Duration::ZERO);
    }
    let table = report.render();
    assert!(
        table.contains("RATIO") && table.contains("warm standby"),
        "{table}"
    );
    println!("{table}");
}
