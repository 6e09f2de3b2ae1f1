//! `faas-bench-lambda-api` for a fraction of a second: every target answers (the signed ones
//! too: the client's signatures are accepted by the federation that checks them), and the
//! ratios and the signing cost are printed (no thresholds).

use std::process::Command;

#[test]
fn every_target_answers_and_ratios_are_printed() {
    let output = Command::new(env!("CARGO_BIN_EXE_faas-bench-lambda-api"))
        .args(["--duration", "300ms", "--rounds", "2", "--warmup", "20ms"])
        .args(["--concurrency", "2", "--signing-samples", "10"])
        .output()
        .expect("the benchmark runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for target in [
        "/function",
        "invoke",
        "invoke signed, unchecked",
        "invoke signed",
    ] {
        let row = stdout
            .lines()
            .find(|line| line.starts_with(&format!("| {target} |")))
            .unwrap_or_else(|| panic!("no row for {target}:\n{stdout}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (requests, errors): (u64, u64) = (cells[2].parse().unwrap(), cells[3].parse().unwrap());
        assert!(requests > 0 && errors == 0, "{row}");
    }
    assert!(stdout.contains("| invoke signed |"), "{stdout}");
    assert!(stdout.contains("≥ 0.90"), "{stdout}");
    assert!(stdout.contains("client signing cost: "), "{stdout}");
}
