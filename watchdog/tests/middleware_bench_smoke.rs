//! The middleware benchmark, two rounds: it must produce numbers (no thresholds here).

#[path = "../benches/middleware.rs"]
#[allow(dead_code, unreachable_pub)]
mod bench;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_middleware_bench_produces_numbers() {
    let report = bench::run(&bench::Settings { rounds: 2 })
        .await
        .expect("the bench runs");
    for times in &report.times {
        assert_eq!(times.len(), 2);
    }
    let table = report.render();
    assert!(
        table.contains("RATIO") && table.contains("added per middleware"),
        "{table}"
    );
    println!("{table}");
}
