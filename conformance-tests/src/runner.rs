//! Running cases: the case list, one case's run (bounded, panics caught, cleanup awaited), and
//! the report.

use std::time::Instant;

use futures::future::BoxFuture;
use serde::Serialize;

use crate::gate::Gate;
use crate::outcome::{Failure, Outcome};
use crate::target::Target;

/// A case: `fn(&Target) -> future of Outcome`.
pub type CaseFn = for<'a> fn(&'a Target) -> BoxFuture<'a, Outcome>;

/// One named case.
#[derive(Clone, Copy)]
pub struct Case {
    /// The function's name, unique across areas (also the test's name under
    /// [`suite!`](crate::suite!)).
    pub name: &'static str,
    /// The module it lives in: `functions`, `scale`, `invoke`, `runtime`, `secrets`, `logs`,
    /// `namespaces`, `system`, `http`.
    pub area: &'static str,
    /// What it needs of the target: it is skipped, without running, when one does not hold.
    pub gates: &'static [Gate],
    /// Runs it.
    pub run: CaseFn,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}::{}", self.area, self.name)
    }
}

impl Case {
    /// The gates that do not hold for `t`.
    pub fn missing_gates(&self, t: &Target) -> Vec<Gate> {
        self.gates.iter().copied().filter(|g| !g.holds(t)).collect()
    }

    /// The gates' names, comma-separated (`-` for none), as `--list` shows them.
    pub fn gate_names(&self) -> String {
        if self.gates.is_empty() {
            return "-".to_string();
        }
        self.gates
            .iter()
            .map(|g| g.name())
            .collect::<Vec<_>>()
            .join(",")
    }
}

crate::__with_cases!(__define_cases!());

/// What a case ended as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// It passed.
    Pass,
    /// The provider broke the contract.
    Fail,
    /// It does not apply to the target.
    Skip,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Skip => "skip",
        })
    }
}

/// One case's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseReport {
    /// Case name.
    pub name: String,
    /// Case area.
    pub area: String,
    /// Pass, fail or skip.
    pub status: Status,
    /// The case's gates, by name.
    pub gates: Vec<String>,
    /// Why it failed or was skipped (empty on pass).
    pub reason: String,
    /// How long it took, cleanup included.
    pub duration_ms: u64,
}

impl std::fmt::Display for CaseReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.name)?;
        if !self.reason.is_empty() {
            write!(f, ": {}", self.reason)?;
        }
        Ok(())
    }
}

/// The results of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Cases that were skipped.
    pub skipped: usize,
    /// Every case's result, in run order.
    pub cases: Vec<CaseReport>,
}

impl Report {
    /// A report over `cases`.
    pub fn new(cases: Vec<CaseReport>) -> Self {
        let count = |status| cases.iter().filter(|c| c.status == status).count();
        Self {
            passed: count(Status::Pass),
            failed: count(Status::Fail),
            skipped: count(Status::Skip),
            cases,
        }
    }

    /// `N passed, N failed`, with `, N skipped` when any were.
    pub fn summary(&self) -> String {
        let mut line = format!("{} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            line.push_str(&format!(", {} skipped", self.skipped));
        }
        line
    }

    /// True when no case failed.
    pub fn success(&self) -> bool {
        self.failed == 0
    }
}

/// The cases matching any of `patterns` (all when there is none): a pattern matches a case whose
/// name contains it or whose area is exactly it.
pub fn select<P: AsRef<str>>(patterns: &[P]) -> impl Iterator<Item = &'static Case> + '_ {
    CASES.iter().filter(move |case| {
        patterns.is_empty()
            || patterns.iter().any(|p| {
                let p = p.as_ref();
                case.name.contains(p) || case.area == p
            })
    })
}

/// Runs one case on its own task (a panic is a failure), bounded by `timeouts.case`, then
/// waits for its cleanup. A case with a gate that does not hold is skipped without running;
/// under [`Target::strict`] a case that skips although all its gates hold fails.
pub async fn run_case(target: &Target, case: &Case) -> CaseReport {
    let started = Instant::now();
    let report = |status, reason: String| CaseReport {
        name: case.name.to_string(),
        area: case.area.to_string(),
        status,
        gates: case.gates.iter().map(|g| g.name().to_string()).collect(),
        reason,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    let missing = case.missing_gates(target);
    if !missing.is_empty() {
        let reason = missing
            .iter()
            .map(|g| format!("needs {g}: {}", g.missing()))
            .collect::<Vec<_>>()
            .join("; ");
        return report(Status::Skip, reason);
    }
    let owned = target.clone();
    let run = case.run;
    let limit = target.timeouts.case;
    let task = tokio::spawn(async move {
        let t = owned;
        tokio::time::timeout(limit, run(&t)).await
    });
    let outcome = match task.await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => Err(Failure::failed(format!(
            "the case did not finish within {limit:?}"
        ))),
        Err(join) if join.is_panic() => {
            let payload = join.into_panic();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-text panic".to_string());
            Err(Failure::failed(format!("the case panicked: {message}")))
        }
        Err(join) => Err(Failure::failed(format!("the case's task failed: {join}"))),
    };
    target.settle().await;
    let (status, reason) = match outcome {
        Ok(()) => (Status::Pass, String::new()),
        Err(Failure::Failed(reason)) => (Status::Fail, reason),
        Err(Failure::Skipped(reason)) => {
            let reason = if reason.trim().is_empty() {
                "the case gave no reason".to_string()
            } else {
                reason
            };
            if target.strict {
                let declared = if case.gates.is_empty() {
                    "the case needs no capability".to_string()
                } else {
                    format!(
                        "the target declares what the case needs ({})",
                        case.gate_names()
                    )
                };
                (
                    Status::Fail,
                    format!("strict: skipped although {declared}: {reason}"),
                )
            } else {
                (Status::Skip, reason)
            }
        }
    };
    report(status, reason)
}

/// Runs every case matching `patterns` (see [`select`]), one after the other.
pub async fn run_all<P: AsRef<str>>(target: &Target, patterns: &[P]) -> Report {
    let mut reports = Vec::new();
    for case in select(patterns) {
        reports.push(run_case(target, case).await);
    }
    Report::new(reports)
}

/// Runs the named case strictly; panics (failing the test) when it fails, prints when skipped.
pub async fn run_named(target: Target, name: &str) {
    let Some(case) = CASES.iter().find(|c| c.name == name) else {
        panic!("no conformance case named {name}");
    };
    let target = target.with_strict(true);
    let report = run_case(&target, case).await;
    match report.status {
        Status::Pass => {}
        Status::Skip => eprintln!("skipped {name}: {}", report.reason),
        Status::Fail => panic!("conformance case {name} failed: {}", report.reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_names_are_unique_and_areas_known() {
        let mut names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "duplicate case names");
        for case in CASES {
            assert!(
                [
                    "functions",
                    "scale",
                    "invoke",
                    "runtime",
                    "secrets",
                    "logs",
                    "namespaces",
                    "system",
                    "http"
                ]
                .contains(&case.area),
                "{case:?}"
            );
        }
        assert!(CASES.len() >= 40, "{} cases", CASES.len());
    }

    #[test]
    fn summary_line() {
        let case = |status| CaseReport {
            name: "c".into(),
            area: "a".into(),
            status,
            gates: Vec::new(),
            reason: String::new(),
            duration_ms: 0,
        };
        let report = Report::new(vec![
            case(Status::Pass),
            case(Status::Fail),
            case(Status::Pass),
        ]);
        assert_eq!(report.summary(), "2 passed, 1 failed");
        assert!(!report.success());
        let report = Report::new(vec![case(Status::Pass), case(Status::Skip)]);
        assert_eq!(report.summary(), "1 passed, 0 failed, 1 skipped");
        assert!(report.success());
    }

    fn fake(name: &'static str, gates: &'static [Gate], run: CaseFn) -> Case {
        Case {
            name,
            area: "system",
            gates,
            run,
        }
    }

    fn memory_target() -> Target {
        let provider = std::sync::Arc::new(provider_memory::MemoryProvider::new());
        Target::from_provider(provider, crate::EchoFunction::memory())
    }

    #[tokio::test]
    async fn strict_turns_a_skip_with_every_gate_held_into_a_failure() {
        let skips = fake("skips", &[Gate::Secrets], |_| {
            Box::pin(async { Err(Failure::skipped("the count never moved")) })
        });
        let lenient = run_case(&memory_target(), &skips).await;
        assert_eq!(lenient.status, Status::Skip);
        assert_eq!(lenient.reason, "the count never moved");
        let strict = run_case(&memory_target().with_strict(true), &skips).await;
        assert_eq!(strict.status, Status::Fail);
        assert_eq!(
            strict.reason,
            "strict: skipped although the target declares what the case needs (secrets): \
             the count never moved"
        );
        assert_eq!(strict.gates, ["secrets"]);

        let silent = fake("silent", &[], |_| {
            Box::pin(async { Err(Failure::skipped(" ")) })
        });
        let report = run_case(&memory_target(), &silent).await;
        assert_eq!(report.status, Status::Skip);
        assert_eq!(report.reason, "the case gave no reason");
    }

    #[tokio::test]
    async fn a_gate_that_does_not_hold_skips_without_running_even_strict() {
        let never = fake("never", &[Gate::RunsCode, Gate::RawHttp], |_| {
            Box::pin(async { panic!("a gated case ran") })
        });
        let report = run_case(&memory_target().with_strict(true), &never).await;
        assert_eq!(report.status, Status::Skip, "{report:?}");
        assert_eq!(
            report.reason,
            "needs runs_code: runs_code is not declared (no shell function to deploy); \
             needs raw_http: the target has no raw HTTP endpoint"
        );
    }

    #[test]
    fn every_skip_inside_a_case_is_covered_by_a_gate() {
        // The gates the runner checks match what the cases check themselves: a memory target
        // declaring everything satisfies every gate but credentials, raw HTTP, runs_code,
        // max_replicas and optional_off.
        let full = Target::new(
            std::sync::Arc::new(provider_memory::MemoryProvider::new()),
            faas_provider::Capabilities::full(),
            crate::EchoFunction::memory(),
        );
        let held: Vec<Gate> = Gate::ALL.into_iter().filter(|g| g.holds(&full)).collect();
        assert_eq!(
            held,
            [
                Gate::Secrets,
                Gate::Logs,
                Gate::NamespaceMutation,
                Gate::ScaleToZero,
                Gate::MultipleReplicas
            ]
        );
        let shell = full
            .clone()
            .with_shell(crate::ShellFunction::sh("image"))
            .with_http(crate::HttpTarget::new("http://x").with_credentials("u", "p"));
        assert!(Gate::RunsCode.holds(&shell) && Gate::Credentials.holds(&shell));
        for case in CASES {
            assert!(!case.gate_names().is_empty());
            if case.area == "http" {
                assert_eq!(case.gates.first(), Some(&Gate::RawHttp), "{case:?}");
            }
            if case.area == "runtime" {
                assert!(case.gates.contains(&Gate::RunsCode), "{case:?}");
            }
        }
    }

    #[test]
    fn filter_by_name_or_area() {
        assert!(select(&["secret"]).all(|c| c.name.contains("secret") || c.area == "secret"));
        assert_eq!(
            select(&["logs"]).count(),
            CASES
                .iter()
                .filter(|c| c.area == "logs" || c.name.contains("logs"))
                .count()
        );
        assert_eq!(select::<&str>(&[]).count(), CASES.len());
        let several: Vec<_> = select(&["logs", "health_is_ok"]).collect();
        assert_eq!(several.len(), select(&["logs"]).count() + 1, "{several:?}");
        assert!(select(&["no-such-case"]).next().is_none());
    }
}
