//! `faas-bench-async` on a few calls: every mode runs at each concurrency (the JetStream one on
//! its own nats-server), each row has a rate, the JetStream rows count calls per stored
//! message, and the peaks are compared (no thresholds).

use std::process::Command;

#[test]
fn every_mode_runs_at_each_concurrency_and_peaks_are_compared() {
    let output = Command::new(env!("CARGO_BIN_EXE_faas-bench-async"))
        .args([
            "--calls",
            "60",
            "--latency-calls",
            "5",
            "--concurrency",
            "2,8",
        ])
        .output()
        .expect("the benchmark runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for mode in [
        "sync",
        "async (embedded)",
        "async (jetstream)",
        "plain async-nats",
    ] {
        for conns in ["2", "8"] {
            let row = stdout
                .lines()
                .find(|line| line.starts_with(&format!("| {mode} | {conns} |")))
                .unwrap_or_else(|| panic!("no row for {mode} at {conns}:\n{stdout}"));
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let rate: f64 = cells[3].parse().unwrap_or_else(|_| panic!("{row}"));
            assert!(rate > 0.0, "{row}");
            if mode == "async (jetstream)" {
                let per_message: f64 = cells[7].parse().unwrap_or_else(|_| panic!("{row}"));
                assert!(per_message >= 1.0, "{row}");
            }
        }
    }
    for peak in [
        "peak sync: ",
        "peak async (embedded): ",
        "peak async (jetstream): ",
    ] {
        assert!(stdout.contains(peak), "{peak}missing:\n{stdout}");
    }
}
