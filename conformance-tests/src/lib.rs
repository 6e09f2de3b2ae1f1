//! # conformance-tests
//!
//! The OpenFaaS provider API's behaviour as code (openfaas-api.md), run by every backend of
//! this workspace and by anyone else's through the `faas-conformance` binary.
//!
//! - Each case is `pub async fn case(t: &Target) -> Outcome` in [`cases`]: it deploys uniquely
//!   named functions (`conf-<8 hex>`), removes them with a [`Cleanup`] guard even when it fails,
//!   polls with bounds instead of sleeping, and is skipped when a capability it needs is off.
//! - [`CASES`] lists every case; [`run_all`] runs them and returns a [`Report`].
//! - [`suite!`] turns the list into one `#[tokio::test]` per case in any crate's `tests/`:
//!
//! ```no_run
//! // tests/conformance.rs of a provider crate (here: the memory provider)
//! async fn target() -> conformance_tests::Target {
//!     let provider = std::sync::Arc::new(provider_memory::MemoryProvider::new());
//!     conformance_tests::Target::from_provider(provider, conformance_tests::EchoFunction::memory())
//! }
//!
//! conformance_tests::suite!(target);
//! # fn main() {}
//! ```
//!
//! The factory runs once per test, so every case gets a fresh target (it may start a server and
//! keep it alive with [`Target::keep_alive`]). The generated tests name the tokio runtime
//! through this crate, so the calling crate must depend on it as `conformance_tests`.
//!
//! Cases in the `http` area talk to the REST endpoint directly ([`HttpTarget`]) to check what the
//! trait cannot show: status codes, JSON shapes, Go-style input, basic auth and proxy routing.
#![warn(missing_docs)]

use std::time::Instant;

use futures::future::BoxFuture;
use serde::Serialize;

pub mod cases;
mod echo;
pub mod harness;
mod outcome;
pub mod raw;
mod target;

pub use echo::Echo;
pub use harness::Cleanup;
pub use outcome::{Context, Failure, Outcome};
pub use target::{EchoFormat, EchoFunction, HttpTarget, Target, Timeouts};

/// A case: `fn(&Target) -> future of Outcome`.
pub type CaseFn = for<'a> fn(&'a Target) -> BoxFuture<'a, Outcome>;

/// One named case.
#[derive(Clone, Copy)]
pub struct Case {
    /// The function's name, unique across areas (also the test's name under [`suite!`]).
    pub name: &'static str,
    /// The module it lives in: `functions`, `scale`, `invoke`, `secrets`, `logs`,
    /// `namespaces`, `system`, `http`.
    pub area: &'static str,
    /// Runs it.
    pub run: CaseFn,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}::{}", self.area, self.name)
    }
}

/// Calls `$callback!` with `$args` followed by every case as `area::name`: the one list both
/// [`CASES`] and [`suite!`] are built from.
#[doc(hidden)]
#[macro_export]
macro_rules! __with_cases {
    ($callback:ident ! $args:tt) => {
        $crate::$callback! { $args
            functions::deploy_get_echoes_every_field,
            functions::get_always_has_labels_and_annotations,
            functions::list_contains_deployed_function,
            functions::list_of_empty_namespace_is_empty,
            functions::deploy_duplicate_is_already_exists,
            functions::update_replaces_the_spec,
            functions::update_missing_is_not_found,
            functions::delete_removes_the_function,
            functions::redeploy_after_delete,
            functions::delete_missing_is_not_found,
            functions::get_missing_is_not_found,
            functions::deploy_into_missing_namespace_is_invalid,
            functions::deploy_with_missing_secret_is_invalid,
            functions::scale_min_label_sets_initial_replicas,
            scale::scale_up_and_down,
            scale::available_replicas_never_exceed_replicas,
            scale::scale_missing_is_not_found,
            scale::scale_to_zero_and_back,
            scale::scale_above_max_replicas_is_bounded,
            invoke::invoke_get_is_echoed,
            invoke::invoke_post_is_echoed,
            invoke::invoke_put_is_echoed,
            invoke::invoke_patch_is_echoed,
            invoke::invoke_delete_is_echoed,
            invoke::invoke_options_is_echoed,
            invoke::invoke_head_has_no_body,
            invoke::invoke_path_and_query_pass_through,
            invoke::invoke_root_path_is_slash,
            invoke::invoke_passes_headers,
            invoke::invoke_binary_body_round_trip,
            invoke::invoke_empty_body,
            invoke::invoke_unknown_function_is_no_endpoint,
            invoke::invocation_count_increases,
            invoke::invoke_after_update,
            invoke::invoke_after_delete_is_no_endpoint,
            secrets::secret_create_and_list_without_values,
            secrets::secret_raw_value_is_accepted,
            secrets::secret_duplicate_is_already_exists,
            secrets::secret_update_existing,
            secrets::secret_update_missing_is_not_found,
            secrets::secret_delete_then_gone,
            secrets::secret_delete_missing_is_not_found,
            secrets::secrets_are_per_namespace,
            logs::logs_history_after_invoke,
            logs::logs_tail_limits_lines,
            logs::logs_follow_receives_new_line,
            namespaces::namespaces_list_contains_default,
            namespaces::namespace_create_get_update_delete,
            namespaces::namespace_create_duplicate_is_already_exists,
            namespaces::namespace_missing_is_not_found,
            namespaces::namespace_deploy_list_and_invoke,
            namespaces::same_name_in_two_namespaces,
            namespaces::delete_namespace_with_functions,
            system::info_names_provider_and_orchestration,
            system::info_reports_version,
            system::health_is_ok,
            system::unsupported_capabilities_answer_unsupported,
            http::http_deploy_answers_200_or_202,
            http::http_deploy_without_namespace_uses_default,
            http::http_deploy_duplicate_answers_409_or_400,
            http::http_update_answers_200_or_202,
            http::http_update_missing_answers_404,
            http::http_delete_answers_200_or_202,
            http::http_delete_missing_answers_404,
            http::http_delete_without_function_name_answers_400,
            http::http_delete_accepts_namespace_in_query,
            http::http_status_missing_answers_404,
            http::http_scale_missing_answers_404,
            http::http_scale_takes_namespace_from_query_or_body,
            http::http_list_is_an_array_never_null,
            http::http_status_always_has_labels_and_annotations,
            http::http_status_json_shape,
            http::http_malformed_json_on_function_routes,
            http::http_malformed_json_on_secret_routes,
            http::http_malformed_json_on_namespace_routes,
            http::http_invalid_function_names_answer_400,
            http::http_invalid_namespace_answers_400,
            http::http_deploy_with_missing_secret_answers_400,
            http::http_auth_required_on_system_routes,
            http::http_auth_not_required_on_open_routes,
            http::http_invoke_allowed_verbs,
            http::http_invoke_other_verbs_answer_405,
            http::http_invoke_path_and_query_pass_through,
            http::http_invoke_name_dot_namespace,
            http::http_invoke_sets_forwarded_headers,
            http::http_invoke_unknown_answers_503,
            http::http_invoke_without_name_answers_404,
            http::http_logs_are_ndjson,
            http::http_logs_bad_tail_or_since_answer_422,
            http::http_secrets_list_has_no_values,
            http::http_secret_statuses,
            http::http_go_style_input_accepted,
            http::http_odd_input_never_5xx,
            http::http_healthz_answers_200,
            http::http_unknown_route_answers_404,
            http::http_info_json_shape,
            http::http_namespaces_list_is_array_with_default,
            http::http_namespace_statuses,
            http::http_scale_from_zero_contract,
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __define_cases {
    (() $($area:ident :: $name:ident),* $(,)?) => {
        /// Every case, in the order [`run_all`] runs them.
        pub const CASES: &[Case] = &[
            $(Case {
                name: stringify!($name),
                area: stringify!($area),
                run: |t| Box::pin($crate::cases::$area::$name(t)),
            }),*
        ];
    };
}

__with_cases!(__define_cases!());

/// Expands to one `#[tokio::test]` per case (named after it), each building its target with
/// `factory` — an `async fn() -> Target` or a closure returning such a future.
///
/// Invoke it inside a module when a file runs the suite more than once
/// (`mod over_http { conformance_tests::suite!(super::served); }`).
#[macro_export]
macro_rules! suite {
    ($factory:expr) => {
        $crate::__with_cases!(__suite_tests!($factory));
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __suite_tests {
    (($factory:expr) $($area:ident :: $name:ident),* $(,)?) => {
        $(
            #[$crate::__private::tokio::test(
                flavor = "multi_thread",
                worker_threads = 2,
                crate = "conformance_tests::__private::tokio"
            )]
            async fn $name() {
                let target: $crate::Target = ($factory)().await;
                $crate::__private::run_named(target, stringify!($name)).await;
            }
        )*
    };
}

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

/// The cases whose name or area contains `filter` (all when `None`).
pub fn select(filter: Option<&str>) -> impl Iterator<Item = &'static Case> {
    CASES
        .iter()
        .filter(move |case| filter.is_none_or(|f| case.name.contains(f) || case.area == f))
}

/// Runs one case on its own task (a panic is a failure), bounded by `timeouts.case`, then
/// waits for its cleanup.
pub async fn run_case(target: &Target, case: &Case) -> CaseReport {
    let started = Instant::now();
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
        Err(Failure::Skipped(reason)) => (Status::Skip, reason),
    };
    CaseReport {
        name: case.name.to_string(),
        area: case.area.to_string(),
        status,
        reason,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// Runs every case matching `filter` (by name substring or exact area), one after the other.
pub async fn run_all(target: &Target, filter: Option<&str>) -> Report {
    let mut reports = Vec::new();
    for case in select(filter) {
        reports.push(run_case(target, case).await);
    }
    Report::new(reports)
}

#[doc(hidden)]
pub mod __private {
    pub use tokio;

    use crate::{CASES, Status, Target, run_case};

    /// Runs the named case; panics (failing the test) when it fails, prints when skipped.
    pub async fn run_named(target: Target, name: &str) {
        let Some(case) = CASES.iter().find(|c| c.name == name) else {
            panic!("no conformance case named {name}");
        };
        let report = run_case(&target, case).await;
        match report.status {
            Status::Pass => {}
            Status::Skip => eprintln!("skipped {name}: {}", report.reason),
            Status::Fail => panic!("conformance case {name} failed: {}", report.reason),
        }
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

    #[test]
    fn filter_by_name_or_area() {
        assert!(select(Some("secret")).all(|c| c.name.contains("secret") || c.area == "secret"));
        assert_eq!(
            select(Some("logs")).count(),
            CASES
                .iter()
                .filter(|c| c.area == "logs" || c.name.contains("logs"))
                .count()
        );
        assert_eq!(select(None).count(), CASES.len());
    }
}
