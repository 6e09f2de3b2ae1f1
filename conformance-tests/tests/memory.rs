//! The whole suite against provider-memory: in-process, over a real socket (the real server plus
//! `HttpProvider` and raw HTTP), over a socket with basic auth on, and through the
//! `faas-conformance` binary.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use conformance_tests::{EchoFunction, HttpTarget, Target};
use faas_provider::client::HttpProvider;
use faas_provider::server::serve;
use faas_provider::{Capabilities, Provider, ServerConfig};
use provider_memory::MemoryProvider;
use tokio::sync::oneshot;

const USER: &str = "conformance-admin";
const PASSWORD: &str = "p4ss word:with colon";

/// A memory provider whose replicas become ready a little after they are created, so the
/// suite's readiness polling is exercised.
fn memory() -> Arc<dyn Provider> {
    Arc::new(MemoryProvider::with_readiness_delay(Duration::from_millis(
        20,
    )))
}

/// A server on 127.0.0.1:0 serving a fresh memory provider; stops when the sender is dropped.
async fn serve_memory(config: ServerConfig) -> (String, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let url = format!("http://{}", listener.local_addr().expect("local address"));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        serve(listener, memory(), &config, shutdown)
            .await
            .expect("the provider server failed");
    });
    (url, stop)
}

/// A directory holding `basic-auth-user` / `basic-auth-password`, removed on drop.
struct CredentialsDir(PathBuf);

impl CredentialsDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "conformance-auth-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("create the credentials directory");
        std::fs::write(dir.join("basic-auth-user"), format!("{USER}\n")).expect("write user");
        std::fs::write(dir.join("basic-auth-password"), format!("{PASSWORD}\n"))
            .expect("write password");
        Self(dir)
    }
}

impl Drop for CredentialsDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn auth_config(credentials: &CredentialsDir) -> ServerConfig {
    ServerConfig {
        basic_auth: true,
        secret_mount_path: credentials.0.clone(),
        ..ServerConfig::default()
    }
}

async fn in_process() -> Target {
    Target::new(memory(), Capabilities::full(), EchoFunction::memory())
}

async fn served() -> Target {
    let (url, stop) = serve_memory(ServerConfig::default()).await;
    let provider = HttpProvider::new(&url)
        .expect("client")
        .with_capabilities(Capabilities::full());
    Target::new(
        Arc::new(provider),
        Capabilities::full(),
        EchoFunction::memory(),
    )
    .with_http(HttpTarget::new(url))
    .keep_alive(stop)
}

async fn served_with_auth() -> Target {
    let credentials = CredentialsDir::new();
    let config = auth_config(&credentials);
    let (url, stop) = serve_memory(config).await;
    let provider = HttpProvider::new(&url)
        .expect("client")
        .with_basic_auth(USER, PASSWORD)
        .with_capabilities(Capabilities::full());
    Target::new(
        Arc::new(provider),
        Capabilities::full(),
        EchoFunction::memory(),
    )
    .with_http(HttpTarget::new(url).with_credentials(USER, PASSWORD))
    .keep_alive(stop)
    .keep_alive(credentials)
}

mod in_process {
    conformance_tests::suite!(super::in_process);
}

mod over_http {
    conformance_tests::suite!(super::served);
}

mod with_basic_auth {
    conformance_tests::suite!(super::served_with_auth);
}

/// What the binary relies on without capability flags: the probe finds every optional feature
/// of the memory provider (scale to zero cannot be probed and stays as configured).
#[tokio::test]
async fn probe_finds_memory_capabilities() {
    let (url, _stop) = serve_memory(ServerConfig::default()).await;
    let caps = HttpProvider::new(&url)
        .unwrap()
        .probe_capabilities()
        .await
        .unwrap();
    assert!(
        caps.secrets && caps.logs && caps.namespace_mutation,
        "{caps:?}"
    );
    assert!(!caps.scale_to_zero, "{caps:?}");
}

async fn run_binary(args: &[&str]) -> (std::process::ExitStatus, String, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_faas-conformance"))
        .args(args)
        .env_remove("OPENFAAS_URL")
        .env_remove("OPENFAAS_USER")
        .env_remove("OPENFAAS_PASSWORD")
        .output()
        .await
        .expect("run faas-conformance");
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Parses the closing line `N passed, N failed[, N skipped]`.
fn closing_counts(stdout: &str) -> (usize, usize, usize) {
    let last = stdout.lines().last().unwrap_or_default();
    let parts: Vec<&str> = last.split(", ").collect();
    let count = |part: &str, word: &str| -> usize {
        let (n, w) = part
            .split_once(' ')
            .unwrap_or_else(|| panic!("bad closing line {last:?}"));
        assert_eq!(w, word, "closing line {last:?}");
        n.parse()
            .unwrap_or_else(|_| panic!("bad closing line {last:?}"))
    };
    assert!(
        parts.len() == 2 || parts.len() == 3,
        "closing line {last:?}"
    );
    let skipped = parts.get(2).map(|p| count(p, "skipped")).unwrap_or(0);
    (
        count(parts[0], "passed"),
        count(parts[1], "failed"),
        skipped,
    )
}

#[tokio::test]
async fn binary_passes_against_a_served_memory_provider_with_auth() {
    let credentials = CredentialsDir::new();
    let config = auth_config(&credentials);
    let (url, _stop) = serve_memory(config).await;
    let (status, stdout, stderr) = run_binary(&[
        "--url",
        &url,
        "--user",
        USER,
        "--password",
        PASSWORD,
        "--scale-to-zero",
    ])
    .await;
    let (passed, failed, skipped) = closing_counts(&stdout);
    assert!(status.success(), "exit {status}\n{stdout}\n{stderr}");
    assert_eq!(failed, 0, "{stdout}");
    assert_eq!(passed + skipped, conformance_tests::CASES.len(), "{stdout}");
    assert!(passed >= 40, "{stdout}");
    let case_lines = stdout
        .lines()
        .filter(|l| l.starts_with("pass ") || l.starts_with("skip "))
        .count();
    assert_eq!(
        case_lines,
        conformance_tests::CASES.len(),
        "one line per case:\n{stdout}"
    );
}

#[tokio::test]
async fn binary_fails_with_wrong_credentials_and_says_so() {
    let credentials = CredentialsDir::new();
    let config = auth_config(&credentials);
    let (url, _stop) = serve_memory(config).await;
    // The probe refuses to guess capabilities when the credentials are refused.
    let (status, _, stderr) =
        run_binary(&["--url", &url, "--user", USER, "--password", "wrong"]).await;
    assert!(!status.success());
    assert!(stderr.contains("probing"), "{stderr}");
    // With capabilities given, cases run and fail; the exit code and closing line say so.
    let (status, stdout, stderr) = run_binary(&[
        "--url",
        &url,
        "--user",
        USER,
        "--password",
        "wrong",
        "--filter",
        "functions",
        "--no-probe",
    ])
    .await;
    assert!(!status.success(), "{stdout}\n{stderr}");
    let (passed, failed, _) = closing_counts(&stdout);
    assert!(failed > 0, "{stdout}");
    assert!(passed < failed, "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("fail deploy_get_echoes_every_field: ")),
        "{stdout}"
    );
}

#[tokio::test]
async fn binary_json_report() {
    let (url, _stop) = serve_memory(ServerConfig::default()).await;
    let (status, stdout, stderr) =
        run_binary(&["--url", &url, "--json", "--filter", "info", "--no-raw-http"]).await;
    assert!(status.success(), "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON report");
    let cases = report["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 3, "{report}");
    assert_eq!(
        (&report["passed"], &report["failed"], &report["skipped"]),
        (&2.into(), &0.into(), &1.into()),
        "{report}"
    );
    for case in cases {
        let name = case["name"].as_str().unwrap();
        assert!(name.contains("info"), "{case}");
        let expected = if name.starts_with("http_") {
            "skip"
        } else {
            "pass"
        };
        assert_eq!(case["status"], expected, "{case}");
        assert!(case["durationMs"].is_u64(), "{case}");
    }
}

#[tokio::test]
async fn binary_strict_junit_report_parses() {
    let (url, _stop) = serve_memory(ServerConfig::default()).await;
    let dir = std::env::temp_dir().join(format!(
        "conformance-junit-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("out.xml");
    let (status, stdout, stderr) = run_binary(&[
        "--strict",
        "--junit",
        file.to_str().unwrap(),
        "--url",
        &url,
        "--scale-to-zero",
    ])
    .await;
    assert!(status.success(), "exit {status}\n{stdout}\n{stderr}");
    let (passed, failed, skipped) = closing_counts(&stdout);
    assert_eq!(failed, 0, "{stdout}");
    let xml = std::fs::read_to_string(&file).expect("the JUnit file");
    let _ = std::fs::remove_dir_all(&dir);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suite = root
        .children()
        .find(|n| n.has_tag_name("testsuite"))
        .expect("a testsuite");
    assert_eq!(suite.attribute("name"), Some(url.as_str()));
    let number = |name: &str| -> usize { suite.attribute(name).unwrap().parse().unwrap() };
    assert_eq!(number("tests"), conformance_tests::CASES.len());
    assert_eq!(number("failures"), 0);
    assert_eq!(number("skipped"), skipped);
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), conformance_tests::CASES.len());
    let mut seen_skips = 0;
    for (case, expected) in cases.iter().zip(conformance_tests::CASES) {
        assert_eq!(case.attribute("name"), Some(expected.name));
        assert_eq!(
            case.attribute("classname"),
            Some(format!("conformance.{}", expected.area).as_str())
        );
        assert!(case.attribute("time").unwrap().parse::<f64>().is_ok());
        assert!(!case.children().any(|n| n.has_tag_name("failure")));
        if let Some(skip) = case.children().find(|n| n.has_tag_name("skipped")) {
            seen_skips += 1;
            let message = skip.attribute("message").unwrap_or_default();
            assert!(
                message.starts_with("needs "),
                "{}: {message}",
                expected.name
            );
            assert_eq!(skip.text(), Some(message));
        }
    }
    assert_eq!(seen_skips, skipped);
    assert_eq!(passed + skipped, conformance_tests::CASES.len());
    // Strict: every skip is a gate that does not hold (the memory provider runs no code, no
    // credentials are configured here...), and says which.
    for line in stdout.lines().filter(|l| l.starts_with("skip ")) {
        assert!(line.contains(": needs "), "{line}");
    }
    for gate in ["needs runs_code", "needs credentials"] {
        assert!(stdout.contains(gate), "{stdout}");
    }
}

#[tokio::test]
async fn binary_strict_fails_a_skip_of_a_declared_capability() {
    // invocationCount stays 0 behind this server: the case skips, which strict turns into a
    // failure (and the JUnit file says so) while the lenient run still passes.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (_stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let provider = Arc::new(NoCounts(MemoryProvider::new()));
        let _ = serve(listener, provider, &ServerConfig::default(), async {
            let _ = stopped.await;
        })
        .await;
    });
    let filter = "invocation_count_increases";
    let (status, stdout, _) = run_binary(&["--url", &url, "--filter", filter]).await;
    assert!(status.success(), "{stdout}");
    assert!(
        stdout.contains("skip invocation_count_increases: the provider does not report"),
        "{stdout}"
    );
    let (status, stdout, _) = run_binary(&["--url", &url, "--filter", filter, "--strict"]).await;
    assert!(!status.success(), "{stdout}");
    assert!(
        stdout.contains("fail invocation_count_increases: strict: skipped although the case needs no capability: the provider does not report invocationCount"),
        "{stdout}"
    );
    assert_eq!(closing_counts(&stdout), (0, 1, 0), "{stdout}");
}

/// The memory provider, reporting `invocationCount` 0 whatever happens.
struct NoCounts(MemoryProvider);

#[async_trait::async_trait]
impl Provider for NoCounts {
    fn capabilities(&self) -> Capabilities {
        self.0.capabilities()
    }
    async fn info(&self) -> faas_provider::Result<faas_provider::ProviderInfo> {
        self.0.info().await
    }
    async fn list(
        &self,
        namespace: &str,
    ) -> faas_provider::Result<Vec<faas_provider::FunctionStatus>> {
        self.0.list(namespace).await
    }
    async fn get(
        &self,
        function: &faas_provider::FunctionRef,
    ) -> faas_provider::Result<faas_provider::FunctionStatus> {
        let mut status = self.0.get(function).await?;
        status.invocation_count = 0.0;
        Ok(status)
    }
    async fn deploy(&self, spec: faas_provider::FunctionDeployment) -> faas_provider::Result<()> {
        self.0.deploy(spec).await
    }
    async fn update(&self, spec: faas_provider::FunctionDeployment) -> faas_provider::Result<()> {
        self.0.update(spec).await
    }
    async fn delete(&self, function: &faas_provider::FunctionRef) -> faas_provider::Result<()> {
        self.0.delete(function).await
    }
    async fn scale(
        &self,
        function: &faas_provider::FunctionRef,
        replicas: u64,
    ) -> faas_provider::Result<()> {
        self.0.scale(function, replicas).await
    }
    async fn invoke(
        &self,
        function: &faas_provider::FunctionRef,
        request: http::Request<faas_provider::Body>,
    ) -> faas_provider::Result<http::Response<faas_provider::Body>> {
        self.0.invoke(function, request).await
    }
}

#[tokio::test]
async fn binary_lists_cases_with_their_gates() {
    let (status, stdout, stderr) = run_binary(&["--list"]).await;
    assert!(status.success(), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), conformance_tests::CASES.len(), "{stdout}");
    for (line, case) in lines.iter().zip(conformance_tests::CASES) {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words, [case.area, case.name, &case.gate_names()], "{line}");
    }
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("runtime_secret_file_is_mounted_and_updated")
                && l.ends_with("runs_code,secrets")),
        "{stdout}"
    );
    let (status, stdout, _) = run_binary(&["--list", "--filter", "logs,health_is_ok"]).await;
    assert!(status.success());
    let expected = conformance_tests::select(&["logs", "health_is_ok"]).count();
    assert_eq!(stdout.lines().count(), expected, "{stdout}");
    let (status, _, stderr) = run_binary(&["--list", "--filter", "no-such-case"]).await;
    assert!(!status.success());
    assert!(stderr.contains("no case matches"), "{stderr}");
}

#[tokio::test]
async fn binary_filter_takes_several_patterns() {
    let (url, _stop) = serve_memory(ServerConfig::default()).await;
    let (status, stdout, stderr) = run_binary(&[
        "--url",
        &url,
        "--filter",
        "info_reports_version",
        "--filter",
        "health_is_ok,http_healthz_answers_200",
    ])
    .await;
    assert!(status.success(), "{stdout}\n{stderr}");
    assert_eq!(closing_counts(&stdout), (3, 0, 0), "{stdout}");
}
