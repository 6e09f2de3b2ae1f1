//! The invoke benchmark, tiny and once: it must produce numbers (no thresholds: timings are
//! judged on the full run).

#[path = "../benches/invoke.rs"]
#[allow(dead_code, unreachable_pub)]
mod bench;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invoke_bench_produces_numbers() {
    let report = bench::run(&bench::Settings {
        calls: 5,
        rounds: 2,
    })
    .await
    .expect("the bench runs");
    assert_eq!((report.provider.len(), report.direct.len()), (10, 10));
    assert!(report.ratio().is_finite() && report.ratio() > 0.0);
    let table = report.render();
    assert!(table.contains("RATIO") && table.contains("p99"), "{table}");
    println!("{table}");
}
