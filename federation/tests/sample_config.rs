//! `federation/federation.sample.toml` stays a valid configuration: as shipped, and with every
//! commented setting line switched on (every backend kind and the commented settings).

use std::path::Path;

use federation::config::{BackendSpec, FederationConfig};

const SAMPLE: &str = include_str!("../federation.sample.toml");

/// The sample with each commented setting line (`# key = value`, `# [table]`,
/// `# [[array]]`) switched on; prose comments stay comments.
fn switched_on(text: &str) -> (String, usize) {
    let mut switched = 0;
    let lines: Vec<&str> = text
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if is_setting(rest) => {
                switched += 1;
                rest
            }
            _ => line,
        })
        .collect();
    (lines.join("\n"), switched)
}

fn is_setting(text: &str) -> bool {
    if text.starts_with('[') {
        return true;
    }
    text.split_once(" = ").is_some_and(|(key, _)| {
        !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    })
}

fn kinds(config: &FederationConfig) -> Vec<&'static str> {
    config.backends.iter().map(|b| b.spec.kind()).collect()
}

#[test]
fn the_sample_as_shipped_is_the_default_federation() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("federation.sample.toml");
    let config = FederationConfig::from_file(&path).expect("the sample parses");
    assert_eq!(config, FederationConfig::default());
    assert_eq!(config.backends[0].spec, BackendSpec::Memory);
}

#[test]
fn every_commented_setting_of_the_sample_is_valid() {
    let (text, switched) = switched_on(SAMPLE);
    for kind in ["memory", "http", "docker", "lambda"] {
        assert!(
            text.contains(&format!("kind = \"{kind}\"")),
            "the sample shows no {kind} backend"
        );
    }
    assert!(switched >= 30, "only {switched} lines switched on:\n{text}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k8s-password"), "s3cret").unwrap();
    let path = dir.path().join("federation.toml");
    std::fs::write(&path, &text).unwrap();
    let result = FederationConfig::from_file(&path);
    if cfg!(all(feature = "docker", feature = "lambda")) {
        let config = result.unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(kinds(&config), ["memory", "http", "docker", "lambda"]);
        assert_eq!(config.default_backend, "local");
        let http = &config.backends[1];
        assert_eq!(http.capabilities.max_replicas, Some(50));
        assert!(config.settings.nats.is_some(), "nats_url was switched on");
    } else {
        // This build lacks a kind: refused, naming the feature, after the rest was read.
        let error = result
            .expect_err("docker or lambda without the feature")
            .to_string();
        assert!(error.contains("feature"), "{error}");
    }
}

#[test]
fn prose_comments_are_not_switched_on() {
    assert!(is_setting("name = \"k8s\""));
    assert!(is_setting("[backends.capabilities]"));
    assert!(!is_setting(
        "Durations are integer seconds or Go durations (\"500ms\")."
    ));
    assert!(!is_setting("Functions without the annotation go here."));
}
