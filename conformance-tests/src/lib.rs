//! # conformance-tests
//!
//! The OpenFaaS provider API's behaviour as code (the REST API the OpenFaaS gateway and faas-cli
//! call on a provider such as faas-netes or faasd), run by every backend of this workspace and
//! by anyone else's through the `faas-conformance` binary.
//!
//! - Each case is `pub async fn case(t: &Target) -> Outcome` in [`cases`]: it deploys uniquely
//!   named functions (`conf-<8 hex>`), removes them with a [`Cleanup`] guard even when it fails,
//!   polls with bounds instead of sleeping, and is skipped when one of its gates ([`Gate`]: a
//!   capability or part of the target's configuration it needs) does not hold. Under
//!   [`Target::strict`] (always, in [`suite!`]) a case that skips for any other reason fails.
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

pub mod cases;
pub mod cli;
pub mod doubles;
mod echo;
mod gate;
pub mod harness;
pub mod junit;
mod outcome;
pub mod raw;
mod runner;
mod target;

pub use echo::Echo;
pub use gate::Gate;
pub use harness::Cleanup;
pub use outcome::{Context, Failure, Outcome};
pub use runner::{CASES, Case, CaseFn, CaseReport, Report, Status, run_all, run_case, select};
pub use target::{EchoFormat, EchoFunction, HttpTarget, ShellFunction, Target, Timeouts};

/// Calls `$callback!` with `$args` followed by every case as `area::name [gates]`: the one list
/// both [`CASES`] and [`suite!`] are built from. The gates are [`Gate`] variants: what the case
/// needs of the target (see the README's capability model).
#[doc(hidden)]
#[macro_export]
macro_rules! __with_cases {
    ($callback:ident ! $args:tt) => {
        $crate::$callback! { $args
            functions::deploy_get_echoes_every_field [],
            functions::get_always_has_labels_and_annotations [],
            functions::list_contains_deployed_function [],
            functions::list_of_empty_namespace_is_empty [NamespaceMutation],
            functions::deploy_duplicate_is_already_exists [],
            functions::update_replaces_the_spec [],
            functions::update_missing_is_not_found [],
            functions::delete_removes_the_function [],
            functions::redeploy_after_delete [],
            functions::delete_missing_is_not_found [],
            functions::get_missing_is_not_found [],
            functions::deploy_into_missing_namespace_is_invalid [],
            functions::deploy_with_missing_secret_is_invalid [Secrets],
            functions::scale_min_label_sets_initial_replicas [MultipleReplicas],
            scale::scale_up_and_down [MultipleReplicas],
            scale::available_replicas_never_exceed_replicas [],
            scale::scale_missing_is_not_found [],
            scale::scale_to_zero_and_back [ScaleToZero],
            scale::scale_above_max_replicas_is_bounded [MaxReplicas],
            invoke::invoke_get_is_echoed [],
            invoke::invoke_post_is_echoed [],
            invoke::invoke_put_is_echoed [],
            invoke::invoke_patch_is_echoed [],
            invoke::invoke_delete_is_echoed [],
            invoke::invoke_options_is_echoed [],
            invoke::invoke_head_has_no_body [],
            invoke::invoke_path_and_query_pass_through [],
            invoke::invoke_root_path_is_slash [],
            invoke::invoke_passes_headers [],
            invoke::invoke_binary_body_round_trip [],
            invoke::invoke_empty_body [],
            invoke::invoke_unknown_function_is_no_endpoint [],
            invoke::invocation_count_increases [],
            invoke::invoke_after_update [],
            invoke::invoke_after_delete_is_no_endpoint [],
            runtime::runtime_env_vars_reach_the_function [RunsCode],
            runtime::runtime_http_variables_describe_the_request [RunsCode],
            runtime::runtime_secret_file_is_mounted_and_updated [RunsCode, Secrets],
            runtime::runtime_read_only_root_refuses_writes [RunsCode],
            secrets::secret_create_and_list_without_values [Secrets],
            secrets::secret_raw_value_is_accepted [Secrets],
            secrets::secret_duplicate_is_already_exists [Secrets],
            secrets::secret_update_existing [Secrets],
            secrets::secret_update_missing_is_not_found [Secrets],
            secrets::secret_delete_then_gone [Secrets],
            secrets::secret_delete_missing_is_not_found [Secrets],
            secrets::secrets_are_per_namespace [Secrets, NamespaceMutation],
            logs::logs_history_after_invoke [Logs],
            logs::logs_tail_limits_lines [Logs],
            logs::logs_follow_receives_new_line [Logs],
            namespaces::namespaces_list_contains_default [],
            namespaces::namespace_create_get_update_delete [NamespaceMutation],
            namespaces::namespace_create_duplicate_is_already_exists [NamespaceMutation],
            namespaces::namespace_missing_is_not_found [NamespaceMutation],
            namespaces::namespace_deploy_list_and_invoke [NamespaceMutation],
            namespaces::same_name_in_two_namespaces [NamespaceMutation],
            namespaces::delete_namespace_with_functions [NamespaceMutation],
            system::info_names_provider_and_orchestration [],
            system::info_reports_version [],
            system::health_is_ok [],
            system::unsupported_capabilities_answer_unsupported [OptionalOff],
            http::http_deploy_answers_200_or_202 [RawHttp],
            http::http_deploy_without_namespace_uses_default [RawHttp],
            http::http_deploy_duplicate_answers_409_or_400 [RawHttp],
            http::http_update_answers_200_or_202 [RawHttp],
            http::http_update_missing_answers_404 [RawHttp],
            http::http_delete_answers_200_or_202 [RawHttp],
            http::http_delete_missing_answers_404 [RawHttp],
            http::http_delete_without_function_name_answers_400 [RawHttp],
            http::http_delete_accepts_namespace_in_query [RawHttp],
            http::http_status_missing_answers_404 [RawHttp],
            http::http_scale_missing_answers_404 [RawHttp],
            http::http_scale_takes_namespace_from_query_or_body [RawHttp, MultipleReplicas],
            http::http_list_is_an_array_never_null [RawHttp],
            http::http_status_always_has_labels_and_annotations [RawHttp],
            http::http_status_json_shape [RawHttp],
            http::http_malformed_json_on_function_routes [RawHttp],
            http::http_malformed_json_on_secret_routes [RawHttp, Secrets],
            http::http_malformed_json_on_namespace_routes [RawHttp, NamespaceMutation],
            http::http_invalid_function_names_answer_400 [RawHttp],
            http::http_invalid_namespace_answers_400 [RawHttp],
            http::http_deploy_with_missing_secret_answers_400 [RawHttp, Secrets],
            http::http_auth_required_on_system_routes [RawHttp, Credentials],
            http::http_auth_not_required_on_open_routes [RawHttp, Credentials],
            http::http_invoke_allowed_verbs [RawHttp],
            http::http_invoke_other_verbs_answer_405 [RawHttp],
            http::http_invoke_path_and_query_pass_through [RawHttp],
            http::http_invoke_name_dot_namespace [RawHttp],
            http::http_invoke_sets_forwarded_headers [RawHttp],
            http::http_invoke_unknown_answers_503 [RawHttp],
            http::http_invoke_without_name_answers_404 [RawHttp],
            http::http_logs_are_ndjson [RawHttp, Logs],
            http::http_logs_bad_tail_or_since_answer_422 [RawHttp, Logs],
            http::http_secrets_list_has_no_values [RawHttp, Secrets],
            http::http_secret_statuses [RawHttp, Secrets],
            http::http_go_style_input_accepted [RawHttp],
            http::http_odd_input_never_5xx [RawHttp],
            http::http_healthz_answers_200 [RawHttp],
            http::http_unknown_route_answers_404 [RawHttp],
            http::http_info_json_shape [RawHttp],
            http::http_namespaces_list_is_array_with_default [RawHttp],
            http::http_namespace_statuses [RawHttp, NamespaceMutation],
            http::http_scale_from_zero_contract [RawHttp, ScaleToZero],
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __define_cases {
    (() $($area:ident :: $name:ident [$($gate:ident),*]),* $(,)?) => {
        /// Every case, in the order [`run_all`] runs them.
        pub const CASES: &[$crate::Case] = &[
            $($crate::Case {
                name: stringify!($name),
                area: stringify!($area),
                gates: &[$($crate::Gate::$gate),*],
                run: |t| Box::pin($crate::cases::$area::$name(t)),
            }),*
        ];
    };
}

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
    (($factory:expr) $($area:ident :: $name:ident [$($gate:ident),*]),* $(,)?) => {
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

#[doc(hidden)]
pub mod __private {
    pub use tokio;

    pub use crate::runner::run_named;
}
