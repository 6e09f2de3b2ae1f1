//! Every scenario, for a fraction of a second: it must produce numbers (no thresholds).

use std::time::Duration;

use faas_bench::{Scenario, Settings};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_produces_numbers() {
    let mut settings = Settings::new(tokio::runtime::Handle::current());
    settings.duration = Duration::from_millis(200);
    settings.rounds = 2;
    settings.warmup = Duration::from_millis(20);
    settings.concurrency = 2;
    settings.rate = 200;
    settings.rate_connections = 2;
    settings.max_requests = 5_000;
    for scenario in Scenario::ALL {
        let report = faas_bench::run(scenario, &settings)
            .await
            .expect("the scenario runs");
        let targets = scenario.targets().len();
        assert_eq!(report.phases.len(), 2 * targets, "{scenario:?}");
        for phase in &report.phases {
            let m = &phase.measurement;
            assert!(
                m.requests > 0,
                "{scenario:?} {} {}: no requests",
                phase.target,
                phase.phase
            );
            assert_eq!(
                m.errors, 0,
                "{scenario:?} {} {}: errors",
                phase.target, phase.phase
            );
            assert!(m.requests <= settings.max_requests);
            assert!(m.rate() > 0.0 && m.quantile_us(0.5) > 0.0);
        }
        assert_eq!(report.ratios.len(), 5 * (targets - 1));
        assert!(
            report.ratios.iter().all(|r| r.value.is_finite()),
            "{:?}",
            report.ratios
        );
        let table = report.render();
        assert!(
            table.contains("RATIO") && table.contains(scenario.name()),
            "{table}"
        );
        println!("{table}");
    }
}
