//! The whole conformance suite against LambdaProvider in local mode: moto as the control plane,
//! the test images packaged for real (registry → flattened rootfs + static shim → zip) and run
//! by the Runtime API emulator, through the real server on a loopback socket. The invoke cases
//! read the `echo-request` image's real answers. `suite!` runs strict.
//!
//! Local mode runs code. The runtime cases (env vars, `Http_*`, secret files, read-only root)
//! run in [`docker_sandbox`]: local mode with the emulator's Docker sandbox, shaped like
//! Lambda's (read-only root, tmpfs `/tmp`, non-root user). The default process sandbox runs
//! `bootstrap` as a child process and, as the emulator says, proves nothing about `/`: it does
//! not apply `readOnlyRootFilesystem` (Lambda's root is always read-only), so the suite over it
//! does not declare a shell function.

#[path = "provider_common.rs"]
mod common;

use std::sync::Arc;

use conformance_tests::{EchoFunction, HttpTarget, ShellFunction, Status, Target};
use faas_provider::Provider;
use lambda_emulator::{DockerSandbox, Sandbox};

async fn local() -> Target {
    let setup = common::local_setup().await;
    let provider: Arc<dyn Provider> = Arc::new(setup.provider.clone());
    let (url, stop) = common::serve(provider.clone()).await;
    let echo = EchoFunction::watchdog(setup.image(&test_support::images::ECHO_REQUEST), "");
    Target::from_provider(provider, echo)
        .with_http(HttpTarget::new(url))
        .keep_alive(stop)
        .keep_alive(setup)
}

conformance_tests::suite!(local);

/// Local mode with the Docker sandbox: as [`common::local_setup`], with
/// `LocalOptions::sandbox` = the busybox-only sandbox image on the test engine.
async fn local_in_docker_sandbox() -> Target {
    let base = common::local_setup().await;
    let engine = tokio::task::spawn_blocking(test_support::docker_engine)
        .await
        .expect("starting the Docker Engine");
    let docker = engine.client().await;
    let sandbox_image = test_support::sandbox::load_sandbox_image(&docker).await;
    let mut config = common::config(&base.moto);
    config.bootstrap_x86_64 = Some(test_support::assets::static_bootstrap().to_path_buf());
    config.insecure_registries = vec![base.registry.host()];
    let sdk = common::sdk_config(&base.moto.url()).await;
    let packager = Arc::new(provider_lambda::provider::ImagePackager::from_config(
        &config,
    ));
    let cache = tempfile::tempdir().expect("code cache");
    let mut options = provider_lambda::local::LocalOptions::new(cache.path());
    options.sandbox = Sandbox::Docker(DockerSandbox::new(docker, sandbox_image));
    let provider: Arc<dyn Provider> = Arc::new(provider_lambda::LambdaProvider::local(
        config, &sdk, packager, options,
    ));
    let (url, stop) = common::serve(provider.clone()).await;
    let image = base.image(&test_support::images::ECHO_REQUEST);
    Target::from_provider(provider, EchoFunction::watchdog(image.clone(), ""))
        .with_shell(ShellFunction::sh(image))
        .with_http(HttpTarget::new(url))
        .with_strict(true)
        .keep_alive(stop)
        .keep_alive(cache)
        .keep_alive(base)
        .keep_alive(engine)
}

/// The runtime cases, strict, in the Docker sandbox.
mod docker_sandbox {
    use super::*;

    async fn run(name: &str) {
        let target = local_in_docker_sandbox().await;
        let case = conformance_tests::CASES
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no conformance case named {name}"));
        let report = conformance_tests::run_case(&target, case).await;
        assert_eq!(report.status, Status::Pass, "{name}: {}", report.reason);
    }

    macro_rules! cases {
        ($($name:ident),* $(,)?) => {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    run(stringify!($name)).await;
                }
            )*
            #[test]
            fn every_runtime_case_runs_here() {
                let here = [$(stringify!($name)),*];
                for case in conformance_tests::CASES.iter().filter(|c| c.area == "runtime") {
                    assert!(here.contains(&case.name), "{} is not run in the Docker sandbox", case.name);
                }
            }
        };
    }

    cases!(
        runtime_env_vars_reach_the_function,
        runtime_http_variables_describe_the_request,
        runtime_secret_file_is_mounted_and_updated,
        runtime_read_only_root_refuses_writes,
    );
}
