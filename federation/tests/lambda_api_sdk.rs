//! The Lambda API of the federation through aws-sdk-lambda: every operation, Lambda's error
//! shapes, SigV4 refusals, and functions shared with the OpenFaaS API. Each test body takes the
//! [`Fixture`] its default backend runs on and runs twice: `memory::*` over the memory provider
//! and, with the federation's `docker` feature, `docker::*` over provider-docker on the test
//! Docker Engine (`common/lambda_api_docker.rs`: real containers of the test images, host
//! networking on 127.0.0.1).

#[path = "common/lambda_api.rs"]
mod harness;

#[cfg(feature = "docker")]
#[path = "common/lambda_api_docker.rs"]
mod docker_fixture;

/// One `#[tokio::test]` per body, over `$fixture`.
macro_rules! sdk_tests {
    ($fixture:expr) => {
        sdk_tests!(
            $fixture;
            create_get_list_update_and_delete,
            invoke_request_response_event_dry_run_and_tail,
            function_errors_qualifiers_and_backend_tags,
            concurrency_is_replicas,
            tags_are_labels_and_the_gateway_tag_moves_the_function,
            errors_have_lambdas_shapes,
            signatures_are_checked_when_credentials_are_configured,
            openfaas_and_lambda_apis_share_functions,
        );
    };
    ($fixture:expr; $($body:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $body() {
                super::$body(&$fixture).await;
            }
        )*
    };
}

mod memory {
    sdk_tests!(super::harness::Memory);
}

#[cfg(feature = "docker")]
mod docker {
    sdk_tests!(super::docker_fixture::docker().await);
}

use aws_sdk_lambda::Client;
use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, InvocationType, LogType, PackageType};
use base64::Engine;
use faas_provider::{FunctionRef, Provider};
use federation::GATEWAY_ANNOTATION;
use harness::{ACCESS_KEY, Fixture, LambdaApi, SECRET_KEY, eventually, http};

const NS: &str = "openfaas-fn";
const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

fn client_with(url: &str, key: &str, secret: &str) -> Client {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new(key, secret, None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

fn client(api: &LambdaApi) -> Client {
    client_with(&api.url, ACCESS_KEY, SECRET_KEY)
}

fn code(image: &str) -> FunctionCode {
    FunctionCode::builder().image_uri(image).build()
}

async fn create(client: &Client, name: &str, image: &str) {
    client
        .create_function()
        .function_name(name)
        .role(ROLE)
        .package_type(PackageType::Image)
        .code(code(image))
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
}

fn error_code(error: &impl ProvideErrorMetadata) -> String {
    error.code().unwrap_or_default().to_string()
}

async fn create_get_list_update_and_delete(fx: &dyn Fixture) {
    let api = LambdaApi::on(fx).await;
    let [image, image2] = fx.echo_images();
    let lambda = client(&api);
    let created = lambda
        .create_function()
        .function_name("echo")
        .role(ROLE)
        .package_type(PackageType::Image)
        .code(code(&image))
        .description("an echo")
        .memory_size(256)
        .timeout(30)
        .environment(Environment::builder().variables("A", "1").build())
        .tags("team", "a")
        .send()
        .await
        .unwrap();
    assert_eq!(created.function_name(), Some("echo"));
    assert_eq!(
        created.function_arn(),
        Some("arn:aws:lambda:us-east-1:000000000000:function:echo")
    );
    assert_eq!(
        (created.memory_size(), created.timeout()),
        (Some(256), Some(30))
    );
    assert_eq!(created.role(), Some(ROLE));
    assert_eq!(created.description(), Some("an echo"));
    assert_eq!(created.version(), Some("$LATEST"));
    assert_eq!(created.package_type(), Some(&PackageType::Image));
    assert_eq!(
        created.environment().unwrap().variables().unwrap()["A"],
        "1"
    );
    // Stored as OpenFaaS fields.
    let status = api.local.get(&FunctionRef::new("echo", NS)).await.unwrap();
    assert_eq!(status.image, image);
    assert_eq!(status.limits.as_ref().unwrap().memory, "256Mi");
    assert_eq!(status.env_vars["A"], "1");
    assert_eq!(status.env_vars["exec_timeout"], "30s");
    assert_eq!(status.label("team"), Some("a"));

    let got = lambda
        .get_function()
        .function_name("echo")
        .send()
        .await
        .unwrap();
    assert_eq!(got.code().unwrap().image_uri(), Some(image.as_str()));
    assert_eq!(got.tags().unwrap()["team"], "a");
    assert_eq!(
        got.concurrency().unwrap().reserved_concurrent_executions(),
        Some(1)
    );
    let config = got.configuration().unwrap();
    assert_eq!(config.state().map(|s| s.as_str()), Some("Active"));
    // Environment hides the watchdog timeouts the API manages.
    assert_eq!(config.environment().unwrap().variables().unwrap().len(), 1);

    let configuration = lambda
        .get_function_configuration()
        .function_name("arn:aws:lambda:us-east-1:000000000000:function:echo")
        .send()
        .await
        .unwrap();
    assert_eq!(configuration.timeout(), Some(30));

    // Pagination over 6 functions, 2 a page.
    futures::future::join_all(
        ["f-a", "f-b", "f-c", "f-d", "f-e"].map(|name| create(&lambda, name, &image)),
    )
    .await;
    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = lambda
            .list_functions()
            .max_items(2)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(page.functions().len() <= 2);
        names.extend(
            page.functions()
                .iter()
                .map(|f| f.function_name().unwrap().to_string()),
        );
        match page.next_marker() {
            Some(next) => marker = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["echo", "f-a", "f-b", "f-c", "f-d", "f-e"]);

    let updated = lambda
        .update_function_code()
        .function_name("echo")
        .image_uri(&image2)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.function_name(), Some("echo"));
    let got = lambda
        .get_function()
        .function_name("echo")
        .send()
        .await
        .unwrap();
    assert_eq!(got.code().unwrap().image_uri(), Some(image2.as_str()));

    let updated = lambda
        .update_function_configuration()
        .function_name("echo")
        .environment(Environment::builder().variables("B", "2").build())
        .memory_size(512)
        .timeout(60)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (updated.memory_size(), updated.timeout()),
        (Some(512), Some(60))
    );
    let variables = updated.environment().unwrap().variables().unwrap();
    assert_eq!(variables.len(), 1);
    assert_eq!(variables["B"], "2");
    let status = api.local.get(&FunctionRef::new("echo", NS)).await.unwrap();
    assert_eq!(status.limits.as_ref().unwrap().memory, "512Mi");
    assert_eq!(
        status.annotation("com.openfaas.lambda.timeout"),
        Some("60s")
    );
    assert_eq!(status.env_vars["write_timeout"], "60s");
    assert!(!status.env_vars.contains_key("A"));

    lambda
        .delete_function()
        .function_name("echo")
        .send()
        .await
        .unwrap();
    let error = lambda
        .get_function()
        .function_name("echo")
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_resource_not_found_exception()
    );
}

async fn invoke_request_response_event_dry_run_and_tail(fx: &dyn Fixture) {
    let api = LambdaApi::on(fx).await;
    let [image, _] = fx.echo_images();
    let lambda = client(&api);
    create(&lambda, "echo", &image).await;
    let function = FunctionRef::new("echo", NS);

    let answer = lambda
        .invoke()
        .function_name("echo")
        .payload(Blob::new(r#"{"hello":"world"}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status_code(), 200);
    assert_eq!(answer.function_error(), None);
    assert_eq!(answer.executed_version(), Some("$LATEST"));
    let echo = fx.echoed(answer.payload().unwrap().as_ref());
    assert_eq!(echo.body, r#"{"hello":"world"}"#);
    assert_eq!(echo.method, "POST");
    assert_eq!(echo.path, "/");

    let queued = lambda
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(r#"{"async":true}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(queued.status_code(), 202);
    eventually("the queued call ran", async || {
        api.local.get(&function).await.unwrap().invocation_count == 2.0
    })
    .await;

    let dry = lambda
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::DryRun)
        .send()
        .await
        .unwrap();
    assert_eq!(dry.status_code(), 204);
    assert_eq!(
        api.local.get(&function).await.unwrap().invocation_count,
        2.0
    );
    let error = lambda
        .invoke()
        .function_name("missing")
        .invocation_type(InvocationType::DryRun)
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_resource_not_found_exception()
    );

    let tailed = lambda
        .invoke()
        .function_name("echo")
        .log_type(LogType::Tail)
        .payload(Blob::new("{}"))
        .send()
        .await
        .unwrap();
    let log = base64::engine::general_purpose::STANDARD
        .decode(tailed.log_result().expect("a log tail"))
        .unwrap();
    let log = String::from_utf8(log).unwrap();
    assert!(log.starts_with("START RequestId: "), "{log}");
    assert!(log.contains(fx.call_log()), "{log}");
    assert!(log.contains("REPORT RequestId: "), "{log}");
}

async fn function_errors_qualifiers_and_backend_tags(fx: &dyn Fixture) {
    let api = LambdaApi::on(fx).await;
    let [image, _] = fx.echo_images();
    let (crash_image, crash_backend) = fx.crash();
    let lambda = client(&api);
    lambda
        .create_function()
        .function_name("crash")
        .role(ROLE)
        .code(code(&crash_image))
        .package_type(PackageType::Image)
        .tags(GATEWAY_ANNOTATION, crash_backend)
        .send()
        .await
        .unwrap();
    assert_eq!(
        api.federation.route_of(&FunctionRef::new("crash", NS)),
        Some(crash_backend)
    );
    let answer = lambda
        .invoke()
        .function_name("crash")
        .payload(Blob::new("{}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status_code(), 200);
    assert_eq!(answer.function_error(), Some("Unhandled"));
    fx.assert_crash_payload(answer.payload().unwrap().as_ref());

    create(&lambda, "echo", &image).await;
    let latest = lambda
        .invoke()
        .function_name("echo")
        .qualifier("$LATEST")
        .send()
        .await
        .unwrap();
    assert_eq!(latest.status_code(), 200);
    for (name, qualifier) in [("echo", Some("1")), ("echo:prod", None)] {
        let error = lambda
            .invoke()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await
            .unwrap_err();
        assert!(
            error
                .as_service_error()
                .unwrap()
                .is_resource_not_found_exception(),
            "{name} {qualifier:?}: {error:?}"
        );
    }
}

async fn concurrency_is_replicas(fx: &dyn Fixture) {
    let api = LambdaApi::on(fx).await;
    let [image, _] = fx.echo_images();
    let lambda = client(&api);
    create(&lambda, "echo", &image).await;
    let function = FunctionRef::new("echo", NS);

    let put = lambda
        .put_function_concurrency()
        .function_name("echo")
        .reserved_concurrent_executions(3)
        .send()
        .await
        .unwrap();
    assert_eq!(put.reserved_concurrent_executions(), Some(3));
    assert_eq!(api.local.get(&function).await.unwrap().replicas, 3);
    let got = lambda
        .get_function_concurrency()
        .function_name("echo")
        .send()
        .await
        .unwrap();
    assert_eq!(got.reserved_concurrent_executions(), Some(3));

    lambda
        .put_function_concurrency()
        .function_name("echo")
        .reserved_concurrent_executions(0)
        .send()
        .await
        .unwrap();
    let error = lambda
        .invoke()
        .function_name("echo")
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_too_many_requests_exception(),
        "{error:?}"
    );

    lambda
        .delete_function_concurrency()
        .function_name("echo")
        .send()
        .await
        .unwrap();
    assert_eq!(api.local.get(&function).await.unwrap().replicas, 1);
    let got = lambda
        .get_function_concurrency()
        .function_name("echo")
        .send()
        .await
        .unwrap();
    assert_eq!(got.reserved_concurrent_executions(), Some(1));
    let error = lambda
        .put_function_concurrency()
        .function_name("echo")
        .reserved_concurrent_executions(-1)
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_invalid_parameter_value_exception()
    );
}

async fn tags_are_labels_and_the_gateway_tag_moves_the_function(fx: &dyn Fixture) {
    let api = LambdaApi::on(fx).await;
    let [image, _] = fx.echo_images();
    let lambda = client(&api);
    create(&lambda, "echo", &image).await;
    let arn = "arn:aws:lambda:us-east-1:000000000000:function:echo";
    let function = FunctionRef::new("echo", NS);

    lambda
        .tag_resource()
        .resource(arn)
        .tags("team", "a")
        .tags("cost", "7")
        .tags(GATEWAY_ANNOTATION, "edge")
        .send()
        .await
        .unwrap();
    let tags = lambda.list_tags().resource(arn).send().await.unwrap();
    let tags = tags.tags().unwrap();
    assert_eq!(tags.len(), 3, "{tags:?}");
    assert_eq!(tags["team"], "a");
    assert_eq!(api.federation.route_of(&function), Some("edge"));
    assert_eq!(
        api.edge.get(&function).await.unwrap().label("cost"),
        Some("7")
    );

    lambda
        .untag_resource()
        .resource(arn)
        .tag_keys("team")
        .tag_keys(GATEWAY_ANNOTATION)
        .send()
        .await
        .unwrap();
    let tags = lambda.list_tags().resource(arn).send().await.unwrap();
    let tags = tags.tags().unwrap();
    assert_eq!(tags.keys().collect::<Vec<_>>(), ["cost"]);
    assert_eq!(api.federation.route_of(&function), Some("local"));

    let error = lambda
        .list_tags()
        .resource("arn:aws:lambda:us-east-1:000000000000:function:missing")
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_resource_not_found_exception()
    );
}

async fn errors_have_lambdas_shapes(fx: &dyn Fixture) {
    let api = LambdaApi::on(fx).await;
    let [image, _] = fx.echo_images();
    let lambda = client(&api);
    create(&lambda, "echo", &image).await;

    let error = lambda
        .create_function()
        .function_name("echo")
        .role(ROLE)
        .package_type(PackageType::Image)
        .code(code(&image))
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_resource_conflict_exception()
    );

    let error = lambda
        .create_function()
        .function_name("zipped")
        .role(ROLE)
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(b"PK\x03\x04".to_vec()))
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    let service = error.as_service_error().unwrap();
    assert!(service.is_invalid_parameter_value_exception());
    assert!(
        service.message().unwrap().contains("ImageUri"),
        "{service:?}"
    );

    let error = lambda
        .create_function()
        .function_name("norole")
        .code(code(&image))
        .package_type(PackageType::Image)
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_invalid_parameter_value_exception()
    );

    let error = lambda
        .update_function_configuration()
        .function_name("echo")
        .timeout(901)
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_invalid_parameter_value_exception()
    );

    let error = lambda
        .get_function_configuration()
        .function_name("missing")
        .send()
        .await
        .unwrap_err();
    let service = error.as_service_error().unwrap();
    assert!(service.is_resource_not_found_exception());
    assert_eq!(
        service.message(),
        Some("Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing")
    );

    let big = vec![b'x'; 6 * 1024 * 1024 + 1];
    let error = lambda
        .invoke()
        .function_name("echo")
        .payload(Blob::new(big))
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_request_too_large_exception(),
        "{error:?}"
    );

    // Raw HTTP: unknown operations, bad JSON, bad methods — never an OpenFaaS-shaped answer.
    let http = http();
    for (method, path, body, status, code) in [
        (
            "GET",
            "/2015-03-31/nothing",
            "",
            404,
            "UnknownOperationException",
        ),
        (
            "PATCH",
            "/2015-03-31/functions/echo",
            "",
            404,
            "UnknownOperationException",
        ),
        ("GET", "/2019-09-30/", "", 404, "UnknownOperationException"),
        (
            "POST",
            "/2015-03-31/functions",
            "{nope",
            400,
            "InvalidRequestContentException",
        ),
        (
            "POST",
            "/2015-03-31/functions",
            r#"{"FunctionName":7}"#,
            400,
            "InvalidParameterValueException",
        ),
        (
            "PUT",
            "/2017-10-31/functions/echo/concurrency",
            "[",
            400,
            "InvalidRequestContentException",
        ),
        (
            "GET",
            "/2015-03-31/functions/a:b:c:d:e",
            "",
            400,
            "InvalidParameterValueException",
        ),
    ] {
        let response = http
            .request(method.parse().unwrap(), format!("{}{path}", api.url))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{method} {path}");
        assert_eq!(
            response.headers()["x-amzn-errortype"],
            code,
            "{method} {path}"
        );
        let json: serde_json::Value = response.json().await.unwrap();
        assert_eq!(json["Type"], "User", "{method} {path}");
        assert!(json["message"].is_string());
    }
    // The OpenFaaS routes keep their own shapes.
    let response = http
        .get(format!("{}/nothing", api.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.headers().get("x-amzn-errortype").is_none());
}

async fn signatures_are_checked_when_credentials_are_configured(fx: &dyn Fixture) {
    let api = LambdaApi::on_signed(fx).await;
    let [image, _] = fx.echo_images();
    let good = client(&api);
    create(&good, "echo", &image).await;
    let listed = good.list_functions().send().await.unwrap();
    assert_eq!(listed.functions().len(), 1);
    let answer = good
        .invoke()
        .function_name("echo")
        .payload(Blob::new("{}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status_code(), 200);

    let unknown = client_with(&api.url, "AKIDUNKNOWN", SECRET_KEY);
    let error = unknown.list_functions().send().await.unwrap_err();
    assert_eq!(error_code(&error), "UnrecognizedClientException");
    assert_eq!(error.raw_response().unwrap().status().as_u16(), 403);

    let wrong = client_with(&api.url, ACCESS_KEY, "not-the-secret");
    let error = wrong
        .invoke()
        .function_name("echo")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&error), "InvalidSignatureException");
    assert_eq!(error.raw_response().unwrap().status().as_u16(), 403);

    let response = http()
        .get(format!("{}/2015-03-31/functions/", api.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.headers()["x-amzn-errortype"],
        "MissingAuthenticationTokenException"
    );

    // Without credentials configured nothing is checked.
    let open = LambdaApi::on(fx).await;
    let anyone = client_with(&open.url, "anything", "at-all");
    anyone.list_functions().send().await.unwrap();
}

async fn openfaas_and_lambda_apis_share_functions(fx: &dyn Fixture) {
    let api = LambdaApi::on(fx).await;
    let [image, _] = fx.echo_images();
    let lambda = client(&api);
    let http = http();

    let response = http
        .post(format!("{}/system/functions", api.url))
        .json(&serde_json::json!({"service": "from-openfaas", "image": image}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let listed = lambda.list_functions().send().await.unwrap();
    let names: Vec<&str> = listed
        .functions()
        .iter()
        .filter_map(|f| f.function_name())
        .collect();
    assert_eq!(names, ["from-openfaas"]);
    let answer = lambda
        .invoke()
        .function_name("from-openfaas")
        .payload(Blob::new("ping"))
        .send()
        .await
        .unwrap();
    assert_eq!(fx.echoed(answer.payload().unwrap().as_ref()).body, "ping");

    create(&lambda, "from-lambda", &image).await;
    let listed: serde_json::Value = http
        .get(format!("{}/system/functions", api.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["from-lambda", "from-openfaas"]);
    let response = http
        .post(format!("{}/function/from-lambda", api.url))
        .body("pong")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(fx.echoed(&response.bytes().await.unwrap()).body, "pong");

    // Another namespace is `name.namespace` through the Lambda API.
    let response = http
        .post(format!("{}/system/namespace/team", api.url))
        .json(&serde_json::json!({"name": "team", "labels": {"openfaas": "1"}}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    create(&lambda, "other.team", &image).await;
    let got = lambda
        .get_function()
        .function_name("other.team")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.configuration().unwrap().function_arn(),
        Some("arn:aws:lambda:us-east-1:000000000000:function:other.team")
    );
    assert!(
        api.local
            .get(&FunctionRef::new("other", "team"))
            .await
            .is_ok()
    );
}
