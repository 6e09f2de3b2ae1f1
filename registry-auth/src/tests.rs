use std::os::unix::fs::PermissionsExt as _;

use super::*;

/// `config` written to a fresh directory, which is also where helpers are looked up.
struct Fixture {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl Fixture {
    fn new(config: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, config).unwrap();
        Fixture { dir, path }
    }

    /// A `docker-credential-<name>` running `script` (sh).
    fn helper(&self, name: &str, script: &str) {
        let helper = self.dir.path().join(format!("docker-credential-{name}"));
        std::fs::write(&helper, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    async fn lookup(&self, registry: &str) -> Result<Option<Credentials>, Error> {
        credentials_for(&self.path, registry, Some(self.dir.path())).await
    }
}

async fn lookup(config: &str, image: &str) -> Result<Option<Credentials>, Error> {
    Fixture::new(config).lookup(&registry_of(image)).await
}

fn parse(json: &str) -> DockerConfig {
    DockerConfig::parse(Path::new("config.json"), json).unwrap()
}

/// `(username, password)` of found credentials.
fn basic(c: &Option<Credentials>) -> (Option<&str>, Option<&str>) {
    let c = c.as_ref().expect("credentials");
    (c.username.as_deref(), c.password.as_deref())
}

#[test]
fn registries_of_images() {
    assert_eq!(registry_of("alpine"), DOCKER_HUB);
    assert_eq!(registry_of("functions/alpine:latest"), DOCKER_HUB);
    assert_eq!(registry_of("127.0.0.1:5000/x/y:1"), "127.0.0.1:5000");
    assert_eq!(registry_of("ghcr.io/o/i@sha256:ab"), "ghcr.io");
    assert_eq!(registry_of("localhost/i"), "localhost");
    assert_eq!(normalize("https://index.docker.io/v1/"), "docker.io");
    assert_eq!(normalize("registry-1.docker.io"), "docker.io");
    assert_eq!(normalize("http://127.0.0.1:5000/v2/"), "127.0.0.1:5000");
    assert_eq!(normalize("https://GHCR.io"), "ghcr.io");
}

#[tokio::test]
async fn auths_entries() {
    let auth = STANDARD.encode("alice:s3cret");
    let config = format!(
        r#"{{"auths":{{"127.0.0.1:5000":{{"auth":"{auth}"}},
            "https://index.docker.io/v1/":{{"username":"bob","password":"pw"}},
            "ghcr.io":{{"identitytoken":"tok"}}}}}}"#
    );
    let c = lookup(&config, "127.0.0.1:5000/fn/echo:1").await.unwrap();
    assert_eq!(basic(&c), (Some("alice"), Some("s3cret")));
    assert_eq!(c.unwrap().server, "127.0.0.1:5000");
    let c = lookup(&config, "functions/alpine").await.unwrap();
    assert_eq!(basic(&c), (Some("bob"), Some("pw")));
    assert_eq!(c.unwrap().server, DOCKER_HUB);
    let c = lookup(&config, "ghcr.io/o/i").await.unwrap().unwrap();
    assert_eq!(c.identity_token.as_deref(), Some("tok"));
    assert_eq!(c.username, None);
    assert!(lookup(&config, "quay.io/x/y").await.unwrap().is_none());

    let bad = r#"{"auths":{"r.io":{"auth":"!!!"}}}"#;
    assert!(matches!(
        lookup(bad, "r.io/x").await,
        Err(Error::BadAuth { .. })
    ));
    assert!(matches!(
        lookup("not json", "r.io/x").await,
        Err(Error::Parse { .. })
    ));
    let missing = credentials_for(Path::new("/nonexistent/config.json"), "r.io", None).await;
    assert!(missing.unwrap().is_none());
}

#[tokio::test]
async fn finds_entries_by_registry() {
    let config = parse(
        r#"{"auths": {
            "127.0.0.1:5000": {"auth": "dXNlcjpwYTpzcw=="},
            "https://index.docker.io/v1/": {"username": "hub", "password": "pw"},
            "http://tok.example:443/": {"registrytoken": "t0k"},
            "https://Upper.Example": {"username": "u", "password": "p"}
        }}"#,
    );
    // The password keeps its own ':'.
    let c = config.credentials_for("127.0.0.1:5000").await.unwrap();
    assert_eq!(basic(&c), (Some("user"), Some("pa:ss")));
    for hub in [
        "index.docker.io",
        "docker.io",
        "registry-1.docker.io",
        DOCKER_HUB,
    ] {
        let c = config.credentials_for(hub).await.unwrap();
        assert_eq!(basic(&c), (Some("hub"), Some("pw")), "{hub}");
    }
    let c = config
        .credentials_for("tok.example:443")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.registry_token.as_deref(), Some("t0k"));
    assert_eq!((c.username, c.password), (None, None));
    let c = config.credentials_for("upper.example").await.unwrap();
    assert_eq!(basic(&c), (Some("u"), Some("p")));
    assert!(config.credentials_for("other:1").await.unwrap().is_none());
}

#[tokio::test]
async fn malformed_auth_is_a_clear_error() {
    for (auth, says) in [
        ("%%%", "is not base64"),
        ("//79", "is not base64 of UTF-8"),
        ("bm9jb2xvbg==", "has no ':'"),
    ] {
        let config = DockerConfig::parse(
            Path::new("/etc/c.json"),
            &format!(r#"{{"auths": {{"r:1": {{"auth": "{auth}"}}}}}}"#),
        )
        .unwrap();
        let err = config.credentials_for("r:1").await.unwrap_err();
        assert!(matches!(err, Error::BadAuth { .. }), "{err}");
        let message = err.to_string();
        assert!(
            message.contains("r:1") && message.contains("/etc/c.json"),
            "{message}"
        );
        assert!(message.contains(says), "{message}");
        assert!(!message.contains(auth), "{message}");
    }
}

#[test]
fn parse_errors_name_the_file_and_quote_no_content() {
    let err = DockerConfig::parse(
        Path::new("/x/config.json"),
        r#"{"auths": {"r.io": "hunter2-secret"}}"#,
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("/x/config.json"), "{message}");
    assert!(message.contains("line 1"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
    assert!(!err.is_missing_file());
}

#[tokio::test]
async fn missing_files_are_told_apart() {
    let err = DockerConfig::load(Path::new("/nonexistent/config.json"))
        .await
        .unwrap_err();
    assert!(err.is_missing_file(), "{err}");
    assert!(
        err.to_string().contains("/nonexistent/config.json"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let err = DockerConfig::load(dir.path()).await.unwrap_err();
    assert!(!err.is_missing_file(), "{err}");
}

#[tokio::test]
async fn credential_helpers_are_run() {
    let fixture = Fixture::new(r#"{"credHelpers":{"r.io":"fake"},"credsStore":"fake"}"#);
    fixture.helper(
        "fake",
        r#"read reg
echo "{\"ServerURL\":\"$reg\",\"Username\":\"u-$reg\",\"Secret\":\"p\"}""#,
    );
    let c = fixture.lookup("r.io").await.unwrap();
    assert_eq!(basic(&c), (Some("u-r.io"), Some("p")));
    assert_eq!(c.unwrap().server, "r.io");
    let c = fixture.lookup("other.io").await.unwrap();
    assert_eq!(basic(&c), (Some("u-other.io"), Some("p")));
    // Docker Hub is asked about by its config key, whatever alias the caller used.
    let c = fixture.lookup("index.docker.io").await.unwrap();
    assert_eq!(basic(&c).0, Some("u-https://index.docker.io/v1/"));

    std::fs::write(&fixture.path, r#"{"credsStore":"missing"}"#).unwrap();
    let err = fixture.lookup("r.io").await.unwrap_err();
    assert!(matches!(err, Error::Helper { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("docker-credential-missing") && message.contains("r.io"),
        "{message}"
    );
}

#[tokio::test]
async fn helpers_come_first_then_auths_then_the_store() {
    let auth = STANDARD.encode("file:pw");
    let fixture = Fixture::new(&format!(
        r#"{{"auths":{{"r.io":{{"auth":"{auth}"}},"both.io":{{"auth":"{auth}"}},
            "https://index.docker.io/v1/":{{}}}},
           "credHelpers":{{"both.io":"one"}},"credsStore":"store"}}"#
    ));
    fixture.helper("one", r#"echo '{"Username":"from-one","Secret":"s"}'"#);
    fixture.helper("store", r#"echo '{"Username":"from-store","Secret":"s"}'"#);
    assert_eq!(
        basic(&fixture.lookup("both.io").await.unwrap()).0,
        Some("from-one")
    );
    assert_eq!(
        basic(&fixture.lookup("r.io").await.unwrap()).0,
        Some("file")
    );
    assert_eq!(
        basic(&fixture.lookup("else.io").await.unwrap()).0,
        Some("from-store")
    );
    // An entry without credentials (as Docker Desktop writes them) leaves it to the store.
    assert_eq!(
        basic(&fixture.lookup("docker.io").await.unwrap()).0,
        Some("from-store")
    );
}

#[tokio::test]
async fn helper_answers() {
    let fixture = Fixture::new(
        r#"{"credHelpers":{"tok.io":"tok","none.io":"none","bad.io":"bad","junk.io":"junk","up.io":"../up"}}"#,
    );
    fixture.helper("tok", r#"echo '{"Username":"<token>","Secret":"refresh"}'"#);
    fixture.helper(
        "none",
        "echo 'credentials not found in native keychain'; exit 1",
    );
    fixture.helper("bad", "echo 'keychain locked' >&2; exit 3");
    fixture.helper("junk", r#"echo '{"Username":"u","Secret":12345}'"#);

    let c = fixture.lookup("tok.io").await.unwrap().unwrap();
    assert_eq!(c.identity_token.as_deref(), Some("refresh"));
    assert_eq!((c.username, c.password), (None, None));
    assert!(fixture.lookup("none.io").await.unwrap().is_none());

    let message = fixture.lookup("bad.io").await.unwrap_err().to_string();
    assert!(message.contains("keychain locked"), "{message}");
    let message = fixture.lookup("junk.io").await.unwrap_err().to_string();
    assert!(message.contains("not the credentials JSON"), "{message}");
    assert!(!message.contains("12345"), "{message}");
    let message = fixture.lookup("up.io").await.unwrap_err().to_string();
    assert!(message.contains("cannot contain '/'"), "{message}");
}

#[test]
fn debug_hides_secrets() {
    let c = Credentials {
        username: Some("alice".into()),
        password: Some("pw-secret".into()),
        identity_token: Some("id-secret".into()),
        registry_token: Some("reg-secret".into()),
        server: "r.io".into(),
    };
    let shown = format!("{c:?}");
    assert!(shown.contains("alice") && shown.contains("r.io"), "{shown}");
    assert!(!shown.contains("secret"), "{shown}");
}

#[tokio::test(start_paused = true)]
async fn a_hung_helper_is_given_up_on() {
    let fixture = Fixture::new(r#"{"credsStore":"hang"}"#);
    fixture.helper("hang", "exec sleep 600");
    // The clock is paused: it jumps to the time bound once nothing else can happen.
    let message = fixture.lookup("r.io").await.unwrap_err().to_string();
    assert!(message.contains("no answer within 30s"), "{message}");
}
