//! Golden fixtures: each decodes and re-encodes to the same bytes Go's `encoding/json` writes
//! (field order, `omitempty`, sorted map keys, `float64` without `.0`, trimmed RFC 3339 nanos).

use faas_provider::types::{DeleteFunctionRequest, FunctionNamespace, ScaleServiceRequest};
use faas_provider::{FunctionDeployment, FunctionStatus, GoJson, LogMessage, ProviderInfo, Secret};
use serde::Serialize;

fn round_trip<T: GoJson + Serialize>(fixture: &str) -> T {
    let decoded = T::from_go_json(fixture.as_bytes()).unwrap_or_else(|e| panic!("{fixture}: {e}"));
    assert_eq!(serde_json::to_string(&decoded).unwrap(), fixture);
    decoded
}

#[test]
fn function_deployment() {
    let spec: FunctionDeployment = round_trip(include_str!("fixtures/function_deployment.json"));
    assert_eq!(spec.min_replicas(), 2);
    assert_eq!(spec.annotation("topic"), Some("a\nb"));
    round_trip::<FunctionDeployment>(include_str!("fixtures/function_deployment_min.json"));
    // Empty but present label/annotation maps survive (Go pointer-to-map).
    round_trip::<FunctionDeployment>(include_str!("fixtures/function_deployment_empty_maps.json"));
}

#[test]
fn function_status() {
    let status: FunctionStatus = round_trip(include_str!("fixtures/function_status.json"));
    assert_eq!(status.invocation_count, 1337.0);
    // createdAt is never omitted: the zero time is written out.
    round_trip::<FunctionStatus>(include_str!("fixtures/function_status_zero.json"));
    let fresh = FunctionStatus {
        name: "zero".into(),
        image: "img".into(),
        ..FunctionStatus::default()
    };
    assert_eq!(
        serde_json::to_string(&fresh).unwrap(),
        include_str!("fixtures/function_status_zero.json")
    );
}

#[test]
fn small_bodies() {
    let scale: ScaleServiceRequest = round_trip(include_str!("fixtures/scale_request.json"));
    assert_eq!(scale.replicas, 0, "replicas is always emitted, even 0");
    round_trip::<DeleteFunctionRequest>(include_str!("fixtures/delete_request.json"));
    let secret: Secret = round_trip(include_str!("fixtures/secret_raw.json"));
    assert_eq!(secret.bytes(), &[0, 1, 2, 255]);
    round_trip::<ProviderInfo>(include_str!("fixtures/provider_info.json"));
    round_trip::<FunctionNamespace>(include_str!("fixtures/function_namespace.json"));
    let log: LogMessage = serde_json::from_str(include_str!("fixtures/log_message.json")).unwrap();
    assert_eq!(
        serde_json::to_string(&log).unwrap(),
        include_str!("fixtures/log_message.json")
    );
}

#[test]
fn go_input_rules() {
    // Case-insensitive keys, nulls as zero values, unknown keys ignored, nested keys folded.
    let spec = FunctionDeployment::from_go_json(
        br#"{"SERVICE":"a","Image":"b","envvars":null,"Labels":null,"LIMITS":{"MEMORY":"1Mi"},"extra":[1],"readonlyrootfilesystem":null}"#,
    )
    .unwrap();
    assert_eq!((spec.service.as_str(), spec.image.as_str()), ("a", "b"));
    assert!(spec.labels.is_none() && spec.env_vars.is_empty());
    assert_eq!(spec.limits.unwrap().memory, "1Mi");
    assert_eq!(
        serde_json::to_string(&FunctionDeployment::new("a", "b")).unwrap(),
        r#"{"service":"a","image":"b"}"#
    );
    // A secret's value never appears in Debug output.
    let secret = Secret::new("k", "", "hunter2");
    assert!(!format!("{secret:?}").contains("hunter2"));
    // Wrong types are errors, not silent defaults.
    assert!(ScaleServiceRequest::from_go_json(br#"{"replicas":-1}"#).is_err());
    assert!(ScaleServiceRequest::from_go_json(br#"{"replicas":"2"}"#).is_err());
}
