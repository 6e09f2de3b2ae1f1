//! The conformance suite against LambdaProvider with moto as Lambda, through the real server on
//! a loopback socket (so the raw-HTTP cases run too), for what moto can show: every
//! control-plane case (CRUD, scale, secrets, system, HTTP statuses and shapes).
//!
//! moto's docker-less Lambda does not run code (its `Invoke` answers the payload it got, even
//! for functions that do not exist), so the cases that need a function's real response are
//! listed in [`NEED_REAL_INVOCATIONS`] and run against local mode instead
//! (`tests/conformance_local.rs`). A guard test fails when the suite gains a case that is in
//! neither list. Cases run strict; the runtime cases are skipped by their `runs_code` gate (moto
//! runs no code, so the target declares no shell function).

#[path = "provider_common.rs"]
mod common;

use std::sync::Arc;

use conformance_tests::{EchoFunction, HttpTarget, Status, Target};
use faas_provider::server::serve;
use faas_provider::{Provider, ServerConfig};
use test_support::moto::Moto;

/// Cases that read a function's answer (moto echoes the event instead), or rely on Lambda
/// throttling / not-found on invoke, which moto does not emulate.
const NEED_REAL_INVOCATIONS: &[&str] = &[
    "invoke_get_is_echoed",
    "invoke_post_is_echoed",
    "invoke_put_is_echoed",
    "invoke_patch_is_echoed",
    "invoke_delete_is_echoed",
    "invoke_options_is_echoed",
    "invoke_head_has_no_body",
    "invoke_path_and_query_pass_through",
    "invoke_root_path_is_slash",
    "invoke_passes_headers",
    "invoke_binary_body_round_trip",
    "invoke_empty_body",
    "invoke_unknown_function_is_no_endpoint",
    "invocation_count_increases",
    "invoke_after_update",
    "invoke_after_delete_is_no_endpoint",
    "scale_up_and_down",
    "scale_to_zero_and_back",
    "http_invoke_allowed_verbs",
    "http_invoke_path_and_query_pass_through",
    "http_invoke_name_dot_namespace",
    "http_invoke_sets_forwarded_headers",
    "http_invoke_unknown_answers_503",
    "http_scale_from_zero_contract",
];

async fn served(moto: Moto) -> Target {
    let provider: Arc<dyn Provider> = Arc::new(common::provider(&moto).await);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let url = format!("http://{}", listener.local_addr().expect("local address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = provider.clone();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        serve(listener, served, &ServerConfig::default(), shutdown)
            .await
            .expect("the provider server failed");
    });
    // The image is never pulled here (the control-plane tests package a fixed zip).
    let echo = EchoFunction::watchdog("127.0.0.1:5000/faas-test/echo-request:1", "");
    Target::from_provider(provider, echo)
        .with_http(HttpTarget::new(url))
        .keep_alive(stop)
        .keep_alive(moto)
}

async fn run(name: &str) {
    let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
    let target = served(moto).await;
    let case = conformance_tests::CASES
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no conformance case named {name}"));
    let report = conformance_tests::run_case(&target.with_strict(true), case).await;
    match report.status {
        Status::Pass => {}
        Status::Skip => eprintln!("skipped {name}: {}", report.reason),
        Status::Fail => panic!("conformance case {name} failed: {}", report.reason),
    }
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        /// The cases run here.
        const RUN_HERE: &[&str] = &[$(stringify!($name)),*];
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                run(stringify!($name)).await;
            }
        )*
    };
}

cases!(
    deploy_get_echoes_every_field,
    get_always_has_labels_and_annotations,
    list_contains_deployed_function,
    list_of_empty_namespace_is_empty,
    deploy_duplicate_is_already_exists,
    update_replaces_the_spec,
    update_missing_is_not_found,
    delete_removes_the_function,
    redeploy_after_delete,
    delete_missing_is_not_found,
    get_missing_is_not_found,
    deploy_into_missing_namespace_is_invalid,
    deploy_with_missing_secret_is_invalid,
    scale_min_label_sets_initial_replicas,
    available_replicas_never_exceed_replicas,
    scale_missing_is_not_found,
    scale_above_max_replicas_is_bounded,
    runtime_env_vars_reach_the_function,
    runtime_http_variables_describe_the_request,
    runtime_secret_file_is_mounted_and_updated,
    runtime_read_only_root_refuses_writes,
    secret_create_and_list_without_values,
    secret_raw_value_is_accepted,
    secret_duplicate_is_already_exists,
    secret_update_existing,
    secret_update_missing_is_not_found,
    secret_delete_then_gone,
    secret_delete_missing_is_not_found,
    secrets_are_per_namespace,
    logs_history_after_invoke,
    logs_tail_limits_lines,
    logs_follow_receives_new_line,
    namespaces_list_contains_default,
    namespace_create_get_update_delete,
    namespace_create_duplicate_is_already_exists,
    namespace_missing_is_not_found,
    namespace_deploy_list_and_invoke,
    same_name_in_two_namespaces,
    delete_namespace_with_functions,
    info_names_provider_and_orchestration,
    info_reports_version,
    health_is_ok,
    unsupported_capabilities_answer_unsupported,
    http_deploy_answers_200_or_202,
    http_deploy_without_namespace_uses_default,
    http_deploy_duplicate_answers_409_or_400,
    http_update_answers_200_or_202,
    http_update_missing_answers_404,
    http_delete_answers_200_or_202,
    http_delete_missing_answers_404,
    http_delete_without_function_name_answers_400,
    http_delete_accepts_namespace_in_query,
    http_status_missing_answers_404,
    http_scale_missing_answers_404,
    http_scale_takes_namespace_from_query_or_body,
    http_list_is_an_array_never_null,
    http_status_always_has_labels_and_annotations,
    http_status_json_shape,
    http_malformed_json_on_function_routes,
    http_malformed_json_on_secret_routes,
    http_malformed_json_on_namespace_routes,
    http_invalid_function_names_answer_400,
    http_invalid_namespace_answers_400,
    http_deploy_with_missing_secret_answers_400,
    http_auth_required_on_system_routes,
    http_auth_not_required_on_open_routes,
    http_invoke_other_verbs_answer_405,
    http_invoke_without_name_answers_404,
    http_logs_are_ndjson,
    http_logs_bad_tail_or_since_answer_422,
    http_secrets_list_has_no_values,
    http_secret_statuses,
    http_go_style_input_accepted,
    http_odd_input_never_5xx,
    http_healthz_answers_200,
    http_unknown_route_answers_404,
    http_info_json_shape,
    http_namespaces_list_is_array_with_default,
    http_namespace_statuses,
);

#[test]
fn every_case_runs_here_or_needs_real_invocations() {
    for case in conformance_tests::CASES {
        let here = RUN_HERE.contains(&case.name);
        let elsewhere = NEED_REAL_INVOCATIONS.contains(&case.name);
        assert!(
            here != elsewhere,
            "case {} must be in exactly one of RUN_HERE / NEED_REAL_INVOCATIONS",
            case.name
        );
    }
    assert_eq!(
        RUN_HERE.len() + NEED_REAL_INVOCATIONS.len(),
        conformance_tests::CASES.len()
    );
}
