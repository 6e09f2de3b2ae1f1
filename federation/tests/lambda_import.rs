//! Zip packages through the Lambda API without Docker: the refusals (other runtimes, no
//! `lambda_import_registry`, a backend of kind `lambda`, a zip without `bootstrap`) and an
//! import into a real registry deployed on a memory backend (the image in the registry, the
//! function's configuration saying Zip and its runtime), and the same through boto3.

#[path = "common/lambda_api.rs"]
mod harness;

use std::io::Write as _;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use federation::lambda_api::{LambdaApiConfig, ZipImportConfig};
use harness::{LambdaApi, http};
use serde_json::{Value, json};

fn zip_of(entries: &[(&str, &[u8])]) -> String {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
    for (name, data) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    STANDARD.encode(zip.finish().unwrap().into_inner())
}

fn create(name: &str, runtime: &str, zip: &str, tags: Value) -> Value {
    json!({
        "FunctionName": name,
        "Role": "arn:aws:iam::000000000000:role/r",
        "Runtime": runtime,
        "Handler": "function.handler",
        "Code": { "ZipFile": zip },
        "Tags": tags,
    })
}

/// POSTs a `CreateFunction`; the status, the error type header and the JSON body.
async fn post(api: &LambdaApi, body: &Value) -> (u16, String, Value) {
    let response = http()
        .post(format!("{}/2015-03-31/functions", api.url))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, response.json().await.unwrap())
}

/// The answer is a 400 whose message names `needle`.
async fn refused(answer: reqwest::Response, needle: &str) {
    assert_eq!(answer.status(), 400);
    let body: Value = answer.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains(needle), "{body}");
}

#[tokio::test]
async fn zips_are_refused_clearly_where_they_cannot_run() {
    let zip = zip_of(&[("bootstrap", b"#!/bin/sh\n")]);
    let api = LambdaApi::start().await;
    let (status, kind, body) = post(&api, &create("py", "python3.12", &zip, json!({}))).await;
    assert_eq!(
        (status, kind.as_str()),
        (400, "InvalidParameterValueException")
    );
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("provided.al2023, provided.al2"),
        "{message}"
    );
    let (status, _, body) = post(&api, &create("z", "provided.al2023", &zip, json!({}))).await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("lambda_import_registry"),
        "{body}"
    );

    // `edge` stands for a backend of kind lambda: the Provider contract cannot carry a zip.
    let api = LambdaApi::start_with(LambdaApiConfig {
        zip_import: Some(ZipImportConfig::new("127.0.0.1:1/lambda")),
        lambda_backends: vec!["edge".into()],
        ..Default::default()
    })
    .await;
    let tags = json!({ "com.openfaas.federation.gateway": "edge" });
    let (status, _, body) = post(&api, &create("z", "provided.al2", &zip, tags)).await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("is a Lambda backend"),
        "{body}"
    );

    // No bootstrap: refused before anything is pushed (the registry is unreachable).
    let api = LambdaApi::start_with(LambdaApiConfig {
        zip_import: Some(ZipImportConfig {
            entrypoint: Some(test_support::assets::busybox().to_path_buf()),
            ..ZipImportConfig::new("127.0.0.1:1/lambda")
        }),
        ..Default::default()
    })
    .await;
    let bad = zip_of(&[("handler.sh", b"x")]);
    let (status, kind, body) = post(&api, &create("z", "provided.al2023", &bad, json!({}))).await;
    assert_eq!(
        (status, kind.as_str()),
        (400, "InvalidParameterValueException")
    );
    assert!(
        body["message"].as_str().unwrap().contains("no bootstrap"),
        "{body}"
    );
    assert!(api.local.list("openfaas-fn").await.unwrap().is_empty());
}

use faas_provider::Provider as _;

#[tokio::test]
async fn a_zip_is_imported_to_the_registry_and_deployed_as_its_image() {
    // A registry with basic auth; its credentials in a Docker config.json (read through
    // registry-auth, as the backends read theirs).
    let registry = test_support::Registry::start_with_basic_auth("pusher", "s3cret");
    let dir = tempfile::tempdir().unwrap();
    let docker_config = dir.path().join("config.json");
    let auth = STANDARD.encode("pusher:s3cret");
    std::fs::write(
        &docker_config,
        json!({ "auths": { registry.host(): { "auth": auth } } }).to_string(),
    )
    .unwrap();
    let api = LambdaApi::start_with(LambdaApiConfig {
        zip_import: Some(ZipImportConfig {
            // Any static executable stands in for the entrypoint: the memory backend runs nothing.
            entrypoint: Some(test_support::assets::busybox().to_path_buf()),
            insecure: true,
            docker_config: Some(docker_config.clone()),
            ..ZipImportConfig::new(format!("{}/lambda", registry.host()))
        }),
        ..Default::default()
    })
    .await;
    let zip = zip_of(&[("bootstrap", b"#!/bin/sh\n")]);
    let (status, _, body) = post(&api, &create("zip-fn", "provided.al2023", &zip, json!({}))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["PackageType"], "Zip");
    assert_eq!(body["Runtime"], "provided.al2023");
    assert_eq!(body["Handler"], "function.handler");
    let deployed = api
        .local
        .get(&faas_provider::FunctionRef::new("zip-fn", "openfaas-fn"))
        .await
        .unwrap();
    // `Handler` reaches the entrypoint as `_HANDLER` (it hands it to the bootstrap), and the
    // variable the API manages is not one of the function's own.
    assert_eq!(deployed.env_vars["_HANDLER"], "function.handler");
    assert!(
        body["Environment"]["Variables"].get("_HANDLER").is_none(),
        "{body}"
    );
    let prefix = format!("{}/lambda/zip-fn:zip-", registry.host());
    assert!(deployed.image.starts_with(&prefix), "{}", deployed.image);
    let tag = deployed.image.rsplit_once(':').unwrap().1;
    let manifest = http()
        .get(format!(
            "{}/v2/lambda/zip-fn/manifests/{tag}",
            registry.url()
        ))
        .header("accept", "application/vnd.oci.image.manifest.v1+json")
        .basic_auth("pusher", Some("s3cret"))
        .send()
        .await
        .unwrap();
    assert_eq!(manifest.status(), 200, "the image is in the registry");

    // A zip update of an image function is refused; of the zip function, a new image.
    let update = |name: &str, zip: &str| {
        http()
            .put(format!("{}/2015-03-31/functions/{name}/code", api.url))
            .json(&json!({ "ZipFile": zip }))
            .send()
    };
    let zip2 = zip_of(&[("bootstrap", b"#!/bin/sh\n"), ("v2", b"2")]);
    let answer = update("zip-fn", &zip2).await.unwrap();
    assert_eq!(answer.status(), 200);
    let after = api
        .local
        .get(&faas_provider::FunctionRef::new("zip-fn", "openfaas-fn"))
        .await
        .unwrap();
    assert!(after.image.starts_with(&prefix) && after.image != deployed.image);
    let image_fn = json!({
        "FunctionName": "img", "Role": "arn:aws:iam::000000000000:role/r",
        "PackageType": "Image", "Code": { "ImageUri": "example/echo:1" },
    });
    assert_eq!(post(&api, &image_fn).await.0, 201);
    refused(update("img", &zip2).await.unwrap(), "PackageType Image").await;
    // A zip function stays one: an image update is refused, the function left as it was.
    let answer = http()
        .put(format!("{}/2015-03-31/functions/zip-fn/code", api.url))
        .json(&json!({ "ImageUri": "example/echo:2" }))
        .send()
        .await
        .unwrap();
    refused(answer, "PackageType Zip").await;
    let configuration = |name: &'static str| {
        let url = format!("{}/2015-03-31/functions/{name}/configuration", api.url);
        async move {
            http()
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(configuration("zip-fn").await["PackageType"], "Zip");

    // A new Handler follows; `_HANDLER` is refused as a variable of the function's own, and
    // kept when the environment is replaced.
    let set = |body: Value| {
        http()
            .put(format!(
                "{}/2015-03-31/functions/zip-fn/configuration",
                api.url
            ))
            .json(&body)
            .send()
    };
    let answer = set(json!({ "Handler": "other.handler" })).await.unwrap();
    assert_eq!(answer.status(), 200);
    let answer = set(json!({ "Environment": { "Variables": { "_HANDLER": "x" } } }))
        .await
        .unwrap();
    refused(answer, "_HANDLER").await;
    let answer = set(json!({ "Environment": { "Variables": { "GREETING": "hi" } } }))
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let after = api
        .local
        .get(&faas_provider::FunctionRef::new("zip-fn", "openfaas-fn"))
        .await
        .unwrap();
    assert_eq!(after.env_vars["_HANDLER"], "other.handler");
    assert_eq!(after.env_vars["GREETING"], "hi");
    let shown = configuration("zip-fn").await;
    assert_eq!(shown["Handler"], "other.handler");
    assert_eq!(
        shown["Environment"]["Variables"],
        json!({ "GREETING": "hi" })
    );

    // A taken name is refused before the zip is built and pushed: nothing reaches the
    // registry under that function's repository.
    let taken = zip_of(&[("bootstrap", b"#!/bin/sh\n"), ("v3", b"3")]);
    let (status, kind, _) = post(&api, &create("img", "provided.al2023", &taken, json!({}))).await;
    assert_eq!((status, kind.as_str()), (409, "ResourceConflictException"));
    let tags = http()
        .get(format!("{}/v2/lambda/img/tags/list", registry.url()))
        .basic_auth("pusher", Some("s3cret"))
        .send()
        .await
        .unwrap();
    assert_eq!(tags.status(), 404, "nothing was pushed for the taken name");
}

/// boto3 (a client written elsewhere) creating and updating a function from a zip.
const BOTO3_ZIP_SCRIPT: &str = r##"
import io, json, sys, zipfile
import boto3
from botocore.config import Config

def zipped(extra):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        z.writestr(info, "#!/bin/sh\n")
        z.writestr("extra.txt", extra)
    return buffer.getvalue()

c = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1",
                 config=Config(retries={"max_attempts": 1}))
r = c.create_function(FunctionName="py-zip", Role="arn:aws:iam::000000000000:role/r",
                      Runtime="provided.al2023", Handler="py.handler",
                      Code={"ZipFile": zipped("1")})
out = {"type": r["PackageType"], "runtime": r["Runtime"], "handler": r["Handler"]}
out["image"] = c.get_function(FunctionName="py-zip")["Code"]["ImageUri"]
c.update_function_code(FunctionName="py-zip", ZipFile=zipped("2"))
out["updated"] = c.get_function(FunctionName="py-zip")["Code"]["ImageUri"]
print(json.dumps(out))
"##;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_creates_and_updates_a_function_from_a_zip() {
    let registry = test_support::Registry::start();
    let api = LambdaApi::start_with(LambdaApiConfig {
        zip_import: Some(ZipImportConfig {
            // Any static executable stands in for the entrypoint: the memory backend runs nothing.
            entrypoint: Some(test_support::assets::busybox().to_path_buf()),
            insecure: true,
            ..ZipImportConfig::new(format!("{}/lambda", registry.host()))
        }),
        ..Default::default()
    })
    .await;
    let url = api.url.clone();
    let output = tokio::task::spawn_blocking(move || {
        test_support::boto3::run(
            BOTO3_ZIP_SCRIPT,
            &[&url],
            &[
                ("AWS_ACCESS_KEY_ID", "x"),
                ("AWS_SECRET_ACCESS_KEY", "x"),
                ("AWS_DEFAULT_REGION", "us-east-1"),
            ],
        )
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
    assert_eq!(
        (&out["type"], &out["runtime"], &out["handler"]),
        (
            &json!("Zip"),
            &json!("provided.al2023"),
            &json!("py.handler")
        )
    );
    let prefix = format!("{}/lambda/py-zip:zip-", registry.host());
    let (image, updated) = (
        out["image"].as_str().unwrap(),
        out["updated"].as_str().unwrap(),
    );
    assert!(image.starts_with(&prefix), "{image}");
    assert!(
        updated.starts_with(&prefix) && updated != image,
        "{updated}"
    );
    let deployed = api
        .local
        .get(&faas_provider::FunctionRef::new("py-zip", "openfaas-fn"))
        .await
        .unwrap();
    assert_eq!(deployed.image, updated);
    assert_eq!(deployed.env_vars["_HANDLER"], "py.handler");
}
