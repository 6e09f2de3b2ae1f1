//! The packaging benchmark, tiny and once: it must produce numbers (no thresholds here; the
//! goals are judged on the full-size run).

#[path = "../benches/package.rs"]
#[allow(dead_code, unreachable_pub)]
mod bench;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_packaging_bench_produces_numbers() {
    let report = bench::run(&bench::Settings {
        total_bytes: 2 << 20,
        rounds: 1,
    })
    .await
    .expect("the bench runs");
    assert_eq!((report.packager.len(), report.baseline.len()), (1, 1));
    assert!(report.image_bytes >= 2 << 20);
    assert!(report.zipped_bytes > 0 && report.baseline_zipped_bytes > 0);
    assert!(report.peak_rss_kib > 0);
    assert!(report.ratio().is_finite() && report.ratio() > 0.0);
    let table = report.render();
    assert!(
        table.contains("RATIO") && table.contains("peak RSS"),
        "{table}"
    );
    println!("{table}");
}
