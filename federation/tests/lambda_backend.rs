//! provider-lambda as an in-process backend of the federation (`kind = "lambda"`, cargo
//! feature `lambda` of the federation crate), in local mode over moto: a TOML configuration
//! with a lambda and a memory backend, one function routed to each by the
//! `com.openfaas.federation.gateway` annotation, the lambda one invoked for real.
//!
//! Runs with the federation's `lambda` feature (a `[[test]]` with `required-features`).

use std::path::{Path, PathBuf};

use faas_provider::{Body, FunctionDeployment, FunctionRef, Provider};
use federation::{BackendSpec, FederatedProvider, FederationConfig, GATEWAY_ANNOTATION};
use http_body_util::BodyExt;
use test_support::images::ECHO;
use test_support::moto::{ACCESS_KEY, REGION, SECRET_KEY};

const NS: &str = "openfaas-fn";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lambda_backend_serves_its_functions_next_to_a_memory_one() {
    // moto, a registry with the test images, the static shim; `setup.provider` (same control
    // plane) shows what the federation did in Lambda.
    let setup = common::local_setup().await;
    let bootstrap = setup.provider.config().bootstrap_x86_64.clone().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("aws-secret"), format!("{SECRET_KEY}\n")).unwrap();
    let text = format!(
        r#"
        default_backend = "local"
        [[backends]]
        name = "local"
        kind = "memory"
        [[backends]]
        name = "aws"
        kind = "lambda"
        timeout = "180s"                    # a deploy pulls and packages the image
        lambda_execution_role = "{role}"
        aws_region = "{REGION}"
        aws_endpoint_url = "{endpoint}"
        aws_access_key_id = "{ACCESS_KEY}"
        aws_secret_access_key_file = "aws-secret"
        bootstrap_path = "{bootstrap}"
        insecure_registries = ["{registry}"]
        ready_timeout = "60s"
        local = true
        local_cache_dir = "cache"
        "#,
        role = setup.moto.role_arn(),
        endpoint = setup.moto.url(),
        bootstrap = bootstrap.display(),
        registry = setup.registry.host(),
    );
    let path = dir.path().join("federation.toml");
    std::fs::write(&path, text).unwrap();
    let config = FederationConfig::from_file(&path).unwrap();
    let BackendSpec::Lambda(launch) = &config.backends[1].spec else {
        panic!("not a lambda backend: {:?}", config.backends[1]);
    };
    assert_eq!(
        launch.local.as_ref().unwrap().cache_dir,
        Some(dir.path().join("cache"))
    );

    let federation = FederatedProvider::from_config(&config).await.unwrap();
    let report = federation.start().await;
    assert!(report.unreachable.is_empty(), "{report:?}");

    let mut on_lambda = FunctionDeployment::new("fed-echo", setup.image(&ECHO));
    on_lambda.namespace = NS.into();
    on_lambda.annotations = Some([(GATEWAY_ANNOTATION.to_string(), "aws".to_string())].into());
    federation.deploy(on_lambda).await.unwrap();
    let mut in_memory = FunctionDeployment::new("fed-mem", "example/mem:1");
    in_memory.namespace = NS.into();
    federation.deploy(in_memory).await.unwrap();

    let mut names: Vec<String> = federation
        .list(NS)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    names.sort();
    assert_eq!(names, ["fed-echo", "fed-mem"]);
    let echo = FunctionRef::new("fed-echo", NS);
    let mem = FunctionRef::new("fed-mem", NS);
    assert_eq!(federation.route_of(&echo), Some("aws"));
    assert_eq!(federation.route_of(&mem), Some("local"));
    // The lambda function is in Lambda (moto); the memory one is not.
    assert!(setup.provider.get(&echo).await.is_ok());
    assert!(setup.provider.get(&mem).await.unwrap_err().is_not_found());

    let response = federation
        .invoke(
            &echo,
            http::Request::post("/")
                .body(Body::from("through the federation"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), http::StatusCode::OK);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body.as_ref(), b"through the federation");

    federation.delete(&echo).await.unwrap();
    assert!(federation.get(&echo).await.unwrap_err().is_not_found());
    assert!(setup.provider.get(&echo).await.unwrap_err().is_not_found());
    assert!(federation.get(&mem).await.is_ok());
}

/// The lambda kind takes provider-lambda's settings by their names, with its defaults; the
/// role and a shim are required; bad values name the backend and field.
#[test]
fn lambda_settings_are_provider_lambdas() {
    let parse = |text: &str| FederationConfig::from_toml(text, Path::new("/etc/faas"));
    let minimal = "[[backends]]\nname = \"l\"\nkind = \"lambda\"\nlambda_execution_role = \"arn:aws:iam::1:role/r\"\nbootstrap_path = \"shim/bootstrap\"\n";
    let config = parse(minimal).unwrap();
    let BackendSpec::Lambda(launch) = &config.backends[0].spec else {
        panic!("{config:?}");
    };
    let mut expected = provider_lambda::LambdaConfig::new("arn:aws:iam::1:role/r");
    expected.bootstrap_x86_64 = Some(PathBuf::from("/etc/faas/shim/bootstrap"));
    expected.bootstrap_arm64 = expected.bootstrap_x86_64.clone();
    assert_eq!(launch.config, expected);
    assert_eq!((&launch.local, &launch.credentials), (&None, &None));

    let config = parse(&format!(
        "{minimal}function_namespace = \"lambda-fn\"\ndefault_memory = 512\naws_access_key_id = \"id\"\naws_secret_access_key = \"hidden\"\n"
    ))
    .unwrap();
    let BackendSpec::Lambda(launch) = &config.backends[0].spec else {
        panic!("{config:?}");
    };
    assert_eq!(launch.config.namespace, "lambda-fn");
    assert_eq!(launch.config.default_memory_mb, 512);
    assert!(!format!("{config:?}").contains("hidden"), "{config:?}");

    for (text, needle) in [
        (
            "[[backends]]\nname = \"l\"\nkind = \"lambda\"\nbootstrap_path = \"/b\"\n",
            "lambda_execution_role",
        ),
        (
            "[[backends]]\nname = \"l\"\nkind = \"lambda\"\nlambda_execution_role = \"r\"\n",
            "bootstrap_path",
        ),
        (&format!("{minimal}default_memory = 64\n"), "default_memory"),
        (&format!("{minimal}local = \"maybe\"\n"), "local"),
        (
            &format!("{minimal}local_cache_dir = \"/tmp/c\"\n"),
            "needs local = true",
        ),
        (
            &format!("{minimal}aws_access_key_id = \"id\"\n"),
            "aws_secret_access_key",
        ),
        (
            &format!("{minimal}region = \"eu-west-1\"\n"),
            "unknown field \"region\"",
        ),
    ] {
        let error = parse(text).expect_err(text).to_string();
        assert!(
            error.contains("backends[0] (l)") && error.contains(needle),
            "{text}: {error}"
        );
    }
}

/// moto, a loopback registry with the test images, the static shim, and a provider of this
/// setup's own (local mode, same control plane) to look at what the federation did.
mod common {
    use provider_lambda::LambdaProvider;
    use provider_lambda::launch::{Launch, LocalMode, StaticCredentials};
    use test_support::moto::{ACCESS_KEY, Moto, REGION, SECRET_KEY};

    /// Everything stops on drop.
    pub(super) struct LocalSetup {
        pub(super) provider: LambdaProvider,
        pub(super) registry: test_support::Registry,
        pub(super) moto: Moto,
        _cache: tempfile::TempDir,
    }

    impl LocalSetup {
        /// The reference of a test image in this setup's registry.
        pub(super) fn image(&self, image: &test_support::images::TestImage) -> String {
            image.reference(&self.registry.host())
        }
    }

    /// Starts moto and a registry, pushes the test images, builds the static shim.
    pub(super) async fn local_setup() -> LocalSetup {
        let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
        let registry = tokio::task::spawn_blocking(test_support::Registry::start)
            .await
            .unwrap();
        let images = tokio::task::spawn_blocking(test_support::images::build_all)
            .await
            .unwrap();
        test_support::push::push_all(&registry.host(), &registry.auth(), images)
            .await
            .expect("pushing the test images");
        let bootstrap = tokio::task::spawn_blocking(test_support::assets::static_bootstrap)
            .await
            .unwrap();
        let mut config = provider_lambda::LambdaConfig::new(moto.role_arn());
        config.ready_timeout = std::time::Duration::from_secs(60);
        config.region = Some(REGION.to_string());
        config.endpoint_url = Some(moto.url());
        config.bootstrap_x86_64 = Some(bootstrap.to_path_buf());
        config.insecure_registries = vec![registry.host()];
        let cache = tempfile::tempdir().expect("code cache");
        let provider = Launch {
            local: Some(LocalMode {
                cache_dir: Some(cache.path().to_path_buf()),
                sandbox_image: None,
            }),
            credentials: Some(StaticCredentials {
                access_key_id: ACCESS_KEY.to_string(),
                secret_access_key: SECRET_KEY.to_string(),
            }),
            ..Launch::new(config)
        }
        .build()
        .await
        .expect("the provider on moto");
        LocalSetup {
            provider,
            registry,
            moto,
            _cache: cache,
        }
    }
}
