//! The Lambda API of the federation judged by two clients written elsewhere: boto3 (PyPI, in
//! `target/boto3-venv`) and the AWS CLI v2 (`/usr/bin/aws`, Debian's `awscli`), both signing
//! every request with SigV4, which the API checks (the same dummy key is configured on it).

#[path = "common/aws_cli.rs"]
mod aws_cli;
#[path = "common/lambda_api.rs"]
mod harness;

use aws_cli::AwsCli;
use base64::Engine;
use faas_provider::{FunctionRef, Provider};
use harness::{ACCESS_KEY, LambdaApi, SECRET_KEY, eventually, http};
use serde_json::Value;

const NS: &str = "openfaas-fn";

/// Everything boto3 does, printed as one JSON object.
const BOTO3_SCRIPT: &str = r#"
import base64, json, sys
import boto3, botocore
from botocore.config import Config

url = sys.argv[1]
config = Config(retries={"max_attempts": 1})
c = boto3.client("lambda", endpoint_url=url, region_name="us-east-1", config=config)
role = "arn:aws:iam::000000000000:role/lambda-role"
out = {}
r = c.create_function(FunctionName="py-echo", Role=role, PackageType="Image",
                      Code={"ImageUri": "example/echo:1"}, MemorySize=256, Timeout=10,
                      Environment={"Variables": {"A": "1"}}, Tags={"team": "py"})
out["create"] = {k: r[k] for k in ("FunctionName", "FunctionArn", "MemorySize", "Timeout")}
out["list"] = [f["FunctionName"] for f in c.list_functions()["Functions"]]
g = c.get_function(FunctionName="py-echo")
out["get"] = {"image": g["Code"]["ImageUri"], "tags": g["Tags"],
              "env": g["Configuration"]["Environment"]["Variables"]}
r = c.invoke(FunctionName="py-echo", Payload=b'{"x": 1}', LogType="Tail")
out["invoke"] = {"status": r["StatusCode"], "payload": json.loads(r["Payload"].read()),
                 "version": r["ExecutedVersion"],
                 "log": base64.b64decode(r["LogResult"]).decode()}
out["event"] = c.invoke(FunctionName="py-echo", InvocationType="Event", Payload=b"{}")["StatusCode"]
out["dry_run"] = c.invoke(FunctionName="py-echo", InvocationType="DryRun")["StatusCode"]
c.update_function_code(FunctionName="py-echo", ImageUri="example/echo:2")
r = c.update_function_configuration(FunctionName="py-echo", MemorySize=512, Timeout=20,
                                    Environment={"Variables": {"B": "2"}})
out["update"] = {"memory": r["MemorySize"], "timeout": r["Timeout"],
                 "env": r["Environment"]["Variables"],
                 "image": c.get_function(FunctionName="py-echo")["Code"]["ImageUri"]}
c.put_function_concurrency(FunctionName="py-echo", ReservedConcurrentExecutions=2)
out["concurrency"] = c.get_function_concurrency(FunctionName="py-echo")["ReservedConcurrentExecutions"]
c.delete_function_concurrency(FunctionName="py-echo")
out["concurrency_deleted"] = c.get_function_concurrency(FunctionName="py-echo")["ReservedConcurrentExecutions"]
arn = out["create"]["FunctionArn"]
c.tag_resource(Resource=arn, Tags={"k": "v"})
c.untag_resource(Resource=arn, TagKeys=["team"])
out["tags"] = c.list_tags(Resource=arn)["Tags"]
try:
    c.get_function(FunctionName="missing")
except c.exceptions.ResourceNotFoundException as e:
    out["missing"] = e.response["Error"]["Code"]
try:
    c.create_function(FunctionName="zipped", Role=role, Runtime="provided.al2023",
                      Handler="bootstrap", Code={"ZipFile": b"PK\x03\x04"})
except c.exceptions.InvalidParameterValueException as e:
    out["zip"] = e.response["Error"]["Code"]
c.delete_function(FunctionName="py-echo")
out["after_delete"] = [f["FunctionName"] for f in c.list_functions()["Functions"]]
bad = boto3.client("lambda", endpoint_url=url, region_name="us-east-1", config=config,
                   aws_access_key_id=sys.argv[2], aws_secret_access_key="not-the-secret")
try:
    bad.list_functions()
except botocore.exceptions.ClientError as e:
    out["wrong_secret"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
print(json.dumps(out))
"#;

fn credentials() -> [(&'static str, &'static str); 3] {
    [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_drives_every_operation_with_signatures_checked() {
    let api = LambdaApi::start_signed().await;
    let url = api.url.clone();
    let output = tokio::task::spawn_blocking(move || {
        test_support::boto3::run(BOTO3_SCRIPT, &[&url, ACCESS_KEY], &credentials())
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "boto3 script failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(out["create"]["FunctionName"], "py-echo");
    assert_eq!(
        out["create"]["FunctionArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:py-echo"
    );
    assert_eq!(out["create"]["MemorySize"], 256);
    assert_eq!(out["create"]["Timeout"], 10);
    assert_eq!(out["list"], serde_json::json!(["py-echo"]));
    assert_eq!(out["get"]["image"], "example/echo:1");
    assert_eq!(out["get"]["tags"]["team"], "py");
    assert_eq!(out["get"]["env"], serde_json::json!({"A": "1"}));
    assert_eq!(out["invoke"]["status"], 200);
    assert_eq!(out["invoke"]["version"], "$LATEST");
    assert_eq!(out["invoke"]["payload"]["body"], r#"{"x": 1}"#);
    let log = out["invoke"]["log"].as_str().unwrap();
    assert!(
        log.contains("START RequestId") && log.contains("POST / -> 200"),
        "{log}"
    );
    assert_eq!(out["event"], 202);
    assert_eq!(out["dry_run"], 204);
    assert_eq!(out["update"]["memory"], 512);
    assert_eq!(out["update"]["timeout"], 20);
    assert_eq!(out["update"]["env"], serde_json::json!({"B": "2"}));
    assert_eq!(out["update"]["image"], "example/echo:2");
    assert_eq!(out["concurrency"], 2);
    assert_eq!(out["concurrency_deleted"], 1);
    assert_eq!(out["tags"], serde_json::json!({"k": "v"}));
    assert_eq!(out["missing"], "ResourceNotFoundException");
    assert_eq!(out["zip"], "InvalidParameterValueException");
    assert_eq!(out["after_delete"], serde_json::json!([]));
    assert_eq!(
        out["wrong_secret"],
        serde_json::json!(["InvalidSignatureException", 403])
    );
}

/// `aws lambda ARGS`, signed with the test credentials, which must succeed; its JSON output
/// (`null` when empty).
async fn cli(url: &str, args: &[&str]) -> Value {
    AwsCli::new(url, ACCESS_KEY, SECRET_KEY).json(args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_drives_every_operation_with_signatures_checked() {
    let api = LambdaApi::start_signed().await;
    let url = api.url.as_str();
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("out.json");
    let out_path = out_file.to_str().unwrap();

    let created = cli(
        url,
        &[
            "create-function",
            "--function-name",
            "cli-echo",
            "--role",
            "arn:aws:iam::000000000000:role/lambda-role",
            "--package-type",
            "Image",
            "--code",
            "ImageUri=example/echo:1",
            "--memory-size",
            "256",
            "--timeout",
            "10",
            "--environment",
            "Variables={A=1}",
            "--tags",
            "team=cli",
        ],
    )
    .await;
    assert_eq!(created["FunctionName"], "cli-echo");
    assert_eq!(created["MemorySize"], 256);
    let arn = created["FunctionArn"].as_str().unwrap().to_string();
    assert_eq!(
        arn,
        "arn:aws:lambda:us-east-1:000000000000:function:cli-echo"
    );

    let listed = cli(url, &["list-functions"]).await;
    assert_eq!(listed["Functions"][0]["FunctionName"], "cli-echo");
    let got = cli(url, &["get-function", "--function-name", "cli-echo"]).await;
    assert_eq!(got["Code"]["ImageUri"], "example/echo:1");
    assert_eq!(got["Tags"]["team"], "cli");

    let invoked = cli(
        url,
        &[
            "invoke",
            "--function-name",
            "cli-echo",
            "--cli-binary-format",
            "raw-in-base64-out",
            "--payload",
            r#"{"x":1}"#,
            "--log-type",
            "Tail",
            out_path,
        ],
    )
    .await;
    assert_eq!(invoked["StatusCode"], 200);
    assert_eq!(invoked["ExecutedVersion"], "$LATEST");
    let log = base64::engine::general_purpose::STANDARD
        .decode(invoked["LogResult"].as_str().unwrap())
        .unwrap();
    assert!(String::from_utf8(log).unwrap().contains("POST / -> 200"));
    let echo: Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    assert_eq!(echo["body"], r#"{"x":1}"#);

    let function = FunctionRef::new("cli-echo", NS);
    let event = cli(
        url,
        &[
            "invoke",
            "--function-name",
            "cli-echo",
            "--invocation-type",
            "Event",
            out_path,
        ],
    )
    .await;
    assert_eq!(event["StatusCode"], 202);
    eventually("the event ran", async || {
        api.local.get(&function).await.unwrap().invocation_count == 2.0
    })
    .await;
    let dry = cli(
        url,
        &[
            "invoke",
            "--function-name",
            &arn,
            "--invocation-type",
            "DryRun",
            out_path,
        ],
    )
    .await;
    assert_eq!(dry["StatusCode"], 204);

    let code = cli(
        url,
        &[
            "update-function-code",
            "--function-name",
            "cli-echo",
            "--image-uri",
            "example/echo:2",
        ],
    )
    .await;
    assert_eq!(code["FunctionName"], "cli-echo");
    let config = cli(
        url,
        &[
            "update-function-configuration",
            "--function-name",
            "cli-echo",
            "--memory-size",
            "512",
            "--timeout",
            "20",
            "--environment",
            "Variables={B=2}",
        ],
    )
    .await;
    assert_eq!(
        (config["MemorySize"].as_u64(), config["Timeout"].as_u64()),
        (Some(512), Some(20))
    );
    assert_eq!(
        config["Environment"]["Variables"],
        serde_json::json!({"B": "2"})
    );
    assert_eq!(
        api.local.get(&function).await.unwrap().image,
        "example/echo:2"
    );

    let put = cli(
        url,
        &[
            "put-function-concurrency",
            "--function-name",
            "cli-echo",
            "--reserved-concurrent-executions",
            "3",
        ],
    )
    .await;
    assert_eq!(put["ReservedConcurrentExecutions"], 3);
    assert_eq!(api.local.get(&function).await.unwrap().replicas, 3);
    let got = cli(
        url,
        &["get-function-concurrency", "--function-name", "cli-echo"],
    )
    .await;
    assert_eq!(got["ReservedConcurrentExecutions"], 3);
    cli(
        url,
        &["delete-function-concurrency", "--function-name", "cli-echo"],
    )
    .await;
    assert_eq!(api.local.get(&function).await.unwrap().replicas, 1);

    cli(url, &["tag-resource", "--resource", &arn, "--tags", "k=v"]).await;
    cli(
        url,
        &["untag-resource", "--resource", &arn, "--tag-keys", "team"],
    )
    .await;
    let tags = cli(url, &["list-tags", "--resource", &arn]).await;
    assert_eq!(tags["Tags"], serde_json::json!({"k": "v"}));

    cli(url, &["delete-function", "--function-name", "cli-echo"]).await;
    let listed = cli(url, &["list-functions"]).await;
    assert_eq!(listed["Functions"], serde_json::json!([]));

    // A wrong secret is refused, with the exception the CLI names.
    let url_owned = url.to_string();
    let refused = tokio::task::spawn_blocking(move || {
        AwsCli::new(&url_owned, ACCESS_KEY, "not-the-secret").run(&["list-functions"])
    })
    .await
    .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("InvalidSignatureException"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_deployed_through_openfaas_answers_aws_lambda_invoke() {
    let api = LambdaApi::start_signed().await;
    let response = http()
        .post(format!("{}/system/functions", api.url))
        .json(
            &serde_json::json!({"service": "faas-fn", "image": "example/echo:1",
                                  "envVars": {"MODE": "openfaas"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);

    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("out.json");
    let invoked = cli(
        &api.url,
        &[
            "invoke",
            "--function-name",
            "faas-fn",
            "--cli-binary-format",
            "raw-in-base64-out",
            "--payload",
            r#"{"from":"cli"}"#,
            out_file.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(invoked["StatusCode"], 200);
    let echo: Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    assert_eq!(echo["function"], "faas-fn");
    assert_eq!(echo["body"], r#"{"from":"cli"}"#);
    let got = cli(
        &api.url,
        &["get-function-configuration", "--function-name", "faas-fn"],
    )
    .await;
    assert_eq!(got["Environment"]["Variables"]["MODE"], "openfaas");
    assert_eq!(got["PackageType"], "Image");
}
