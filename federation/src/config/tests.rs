//! The configuration read from TOML text and faas-federation's provider URLs: what parses,
//! and what each mistake says. (The binary's flags are tested next to them, in main.rs.)

use std::path::Path;
use std::time::Duration;

use super::*;

fn parse(text: &str) -> Result<FederationConfig, ConfigError> {
    FederationConfig::from_toml(text, Path::new("/nonexistent"))
}

#[test]
fn a_full_file_parses() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "s3cret\n").unwrap();
    let text = r#"
        default_backend = "K8S"
        health_interval = 2
        [[backends]]
        name = "local"
        kind = "memory"
        [[backends]]
        name = "k8s"
        kind = "http"
        url = "http://127.0.0.1:8081"
        user = "admin"
        password_file = "pw"
        timeout = "1500ms"
        invoke_timeout = 30
        deploy_timeout = "20m"
        [backends.capabilities]
        scale_to_zero = true
        max_replicas = 5
    "#;
    let config = FederationConfig::from_toml(text, dir.path()).unwrap();
    assert_eq!(
        config.default_backend, "k8s",
        "normalised to the backend's spelling"
    );
    assert_eq!(config.health_interval, Duration::from_secs(2));
    let k8s = &config.backends[1];
    assert_eq!(k8s.timeout, Duration::from_millis(1500));
    assert_eq!(k8s.invoke_timeout, Some(Duration::from_secs(30)));
    assert_eq!(k8s.deploy_timeout, Some(Duration::from_secs(1200)));
    assert_eq!(config.backends[0].deploy_timeout, None, "the federation's");
    assert_eq!(k8s.capabilities.scale_to_zero, Some(true));
    assert_eq!(k8s.capabilities.max_replicas, Some(5));
    match &k8s.spec {
        BackendSpec::Http { url, credentials } => {
            assert_eq!(url, "http://127.0.0.1:8081");
            let c = credentials.as_ref().unwrap();
            assert_eq!((c.user.as_str(), c.password.as_str()), ("admin", "s3cret"));
            assert!(!format!("{c:?}").contains("s3cret"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(config.backends[0].timeout, DEFAULT_BACKEND_TIMEOUT);
}

#[test]
fn default_backend_defaults_to_the_first() {
    let config = parse(
        r#"
        [[backends]]
        name = "a"
        kind = "memory"
        [[backends]]
        name = "b"
        kind = "http"
        url = "http://127.0.0.1:1"
        user = "u"
        password = "p"
    "#,
    )
    .unwrap();
    assert_eq!(config.default_backend, "a");
}

#[test]
fn bad_files_say_what_is_wrong() {
    let cases = [
        ("", "at least one"),
        (
            "[[backends]]\nname = \"a\"\nkind = \"nope\"",
            "unknown kind",
        ),
        (
            "[[backends]]\nname = \"a\"\nkind = \"http\"",
            "url is required",
        ),
        (
            "[[backends]]\nname = \"a\"\nkind = \"memory\"\nurl = \"http://x\"",
            "takes no url",
        ),
        ("[[backends]]\nname = \"a b\"\nkind = \"memory\"", "invalid"),
        (
            "[[backends]]\nname = \"a\"\nkind = \"memory\"\n[[backends]]\nname = \"A\"\nkind = \"memory\"",
            "used twice",
        ),
        (
            "default_backend = \"x\"\n[[backends]]\nname = \"a\"\nkind = \"memory\"",
            "not a backend",
        ),
        (
            "[[backends]]\nname = \"a\"\nkind = \"http\"\nurl = \"http://x\"\nuser = \"u\"",
            "needs a password",
        ),
        (
            "[[backends]]\nname = \"a\"\nkind = \"http\"\nurl = \"http://x\"\npassword = \"p\"",
            "needs a user",
        ),
        (
            "[[backends]]\nname = \"a\"\nkind = \"http\"\nurl = \"http://x\"\nuser = \"u\"\npassword_file = \"missing\"",
            "password_file",
        ),
        (
            "[[backends]]\nname = \"a\"\nkind = \"memory\"\ntimeout = \"0s\"",
            "greater than zero",
        ),
        (
            "[[backends]]\nname = \"a\"\nkind = \"memory\"\ntimeout = \"fast\"",
            "invalid duration",
        ),
        (
            "[[backends]]\nname = \"a\"\nkind = \"memory\"\ncolour = 1",
            "unknown field",
        ),
    ];
    for (text, needle) in cases {
        let error = parse(text).expect_err(text).to_string();
        assert!(error.contains(needle), "{text:?}: {error}");
    }
    // A kind whose cargo feature this build lacks is named with the feature to enable (a
    // workspace test build may enable `docker`/`lambda` through other crates' dev-deps).
    for (kind, enabled) in [
        ("docker", cfg!(feature = "docker")),
        ("lambda", cfg!(feature = "lambda")),
    ] {
        let text = format!("[[backends]]\nname = \"a\"\nkind = \"{kind}\"");
        let outcome = parse(&text).map_err(|error| error.to_string());
        let names_feature = matches!(&outcome, Err(e) if e.contains(&format!("`{kind}` feature")));
        assert_eq!(names_feature, !enabled, "{text:?}: {outcome:?}");
    }
}

#[test]
fn faas_federation_environment_is_understood() {
    let providers = vec![
        "http://faas-netes.openfaas:8080".to_string(),
        "http://faaslambda.openfaas:8080/".to_string(),
    ];
    let config =
        FederationConfig::from_provider_urls(&providers, Some("http://faaslambda.openfaas:8080"))
            .unwrap();
    let names: Vec<_> = config.backends.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["faas-netes.openfaas", "faaslambda.openfaas"]);
    assert_eq!(config.default_backend, "faaslambda.openfaas");
    assert!(FederationConfig::from_provider_urls(&providers, Some("http://other:1")).is_err());
    let same_host = vec![
        "http://127.0.0.1:1".to_string(),
        "http://127.0.0.1:2".to_string(),
    ];
    assert!(FederationConfig::from_provider_urls(&same_host, None).is_err());
}

#[test]
fn mistyped_durations_name_their_key_and_the_accepted_forms() {
    let forms = r#"(expected e.g. "30s", "5m", "1h30m" or a number of seconds)"#;
    for (line, key, shown) in [
        ("timeout = \"10x\"", "backends[0] (foo): timeout", "\"10x\""),
        ("timeout = 1.5", "backends[0] (foo): timeout", "1.5"),
        (
            "invoke_timeout = -3",
            "backends[0] (foo): invoke_timeout",
            "-3",
        ),
        (
            "invoke_timeout = true",
            "backends[0] (foo): invoke_timeout",
            "true",
        ),
    ] {
        let text = format!("[[backends]]\nname = \"foo\"\nkind = \"memory\"\n{line}");
        let error = parse(&text).expect_err(&text).to_string();
        assert!(
            error.contains(&format!("{key}: invalid duration {shown} {forms}")),
            "{line}: {error}"
        );
        assert!(!error.contains("untagged"), "{line}: {error}");
    }
    let text = "health_interval = \"5 minutes\"\n[[backends]]\nname = \"a\"\nkind = \"memory\"";
    let error = parse(text).expect_err(text).to_string();
    assert!(
        error.contains(&format!(
            "health_interval: invalid duration \"5 minutes\" {forms}"
        )),
        "{error}"
    );
    let text = "[[backends]]\nname = \"a\"\nkind = \"memory\"\ntimeout = \"1h30m\"";
    let config = parse(text).unwrap();
    assert_eq!(config.backends[0].timeout, Duration::from_secs(5400));
}
