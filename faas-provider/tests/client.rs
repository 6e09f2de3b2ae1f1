//! `HttpProvider` against small axum routers on 127.0.0.1: the exact requests it sends, the
//! error mapping of every remote status, and streaming both ways on invoke and logs.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use faas_provider::client::HttpProvider;
use faas_provider::{
    Body, Capabilities, FunctionDeployment, FunctionNamespace, FunctionRef, LogRequest, Provider,
    ProviderError, ResourceKind, Secret,
};

const USER: &str = "admin";
const PASSWORD: &str = "pa55-w0rd-not-for-logs";
/// Bound on waits that would hang forever if the client buffered a stream (a deadlock guard,
/// not a timing assertion).
const GUARD: Duration = Duration::from_secs(60);

// ---- a recording remote -------------------------------------------------------------------

/// One request as the remote saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
}

impl Seen {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }

    fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

type Responder = Arc<dyn Fn(&Seen) -> Response + Send + Sync>;

struct Remote {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Remote {
    /// A remote answering every request with `respond`, after reading its whole body.
    async fn start(respond: impl Fn(&Seen) -> Response + Send + Sync + 'static) -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let respond: Responder = Arc::new(respond);
        let log = seen.clone();
        let app = Router::new().fallback(move |request: Request| {
            let log = log.clone();
            let respond = respond.clone();
            async move {
                let (parts, body) = request.into_parts();
                let body = body.collect().await.expect("read body").to_bytes();
                let seen = Seen {
                    method: parts.method,
                    path: parts.uri.path().to_string(),
                    query: parts.uri.query().map(str::to_string),
                    headers: parts.headers,
                    body,
                };
                log.lock().unwrap().push(seen.clone());
                respond(&seen)
            }
        });
        let addr = serve(app).await;
        Self { addr, seen }
    }

    fn provider(&self) -> HttpProvider {
        HttpProvider::new(&format!("http://{}", self.addr))
            .expect("valid URL")
            .with_basic_auth(USER, PASSWORD)
    }

    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }

    fn only(&self) -> Seen {
        let mut seen = self.take();
        assert_eq!(seen.len(), 1, "expected exactly one request, got {seen:?}");
        seen.remove(0)
    }
}

async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    addr
}

fn reply(status: u16, body: &str) -> Response {
    let mut response = Response::new(axum::body::Body::from(body.to_string()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap();
    response
}

fn json_reply(body: &str) -> Response {
    let mut response = reply(200, body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn expected_auth() -> String {
    format!("Basic {}", STANDARD.encode(format!("{USER}:{PASSWORD}")))
}

fn assert_authed(seen: &Seen) {
    assert_eq!(
        seen.header("authorization"),
        Some(expected_auth().as_str()),
        "{} {}",
        seen.method,
        seen.path
    );
}

fn echo() -> FunctionRef {
    FunctionRef::new("echo", "dev")
}

/// A port nothing listens on (bound, then released).
async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

// ---- construction -------------------------------------------------------------------------

#[test]
fn new_validates_the_base_url() {
    for bad in [
        "ftp://127.0.0.1/",
        "127.0.0.1:8080",
        "not a url",
        "http://",
        "http://127.0.0.1:8080/?x=1",
        "unix:///run/faasd.sock",
    ] {
        match HttpProvider::new(bad) {
            Err(ProviderError::InvalidRequest(message)) => {
                assert!(message.contains("provider URL"), "{bad}: {message}")
            }
            other => panic!("{bad}: expected InvalidRequest, got {other:?}"),
        }
    }
    match HttpProvider::new("http://admin:hunter2@127.0.0.1:8080") {
        Err(ProviderError::InvalidRequest(message)) => {
            assert!(message.contains("with_basic_auth"), "{message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
    match HttpProvider::new("gopher://127.0.0.1") {
        Err(ProviderError::InvalidRequest(message)) => {
            assert!(message.contains("http or https"), "{message}")
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }

    let p = HttpProvider::new("http://127.0.0.1:8081/").unwrap();
    assert_eq!(p.name(), "127.0.0.1:8081");
    assert_eq!(p.base_url(), "http://127.0.0.1:8081");
    assert_eq!(p.capabilities(), Capabilities::default());
    assert_eq!(p.capabilities().default_namespace, "openfaas-fn");
    let p = HttpProvider::new("https://127.0.0.1/prefix/").unwrap();
    assert_eq!(p.name(), "127.0.0.1:443");
    assert_eq!(p.base_url(), "https://127.0.0.1/prefix");
    let p = HttpProvider::new("http://127.0.0.1")
        .unwrap()
        .with_name("edge")
        .with_capabilities(Capabilities::full());
    assert_eq!(p.name(), "edge");
    assert_eq!(p.capabilities(), Capabilities::full());
}

#[test]
fn debug_never_shows_the_password() {
    let p = HttpProvider::new("http://127.0.0.1:8081")
        .unwrap()
        .with_basic_auth(USER, PASSWORD);
    let text = format!("{p:?}");
    assert!(text.contains(USER), "{text}");
    assert!(!text.contains(PASSWORD), "{text}");
}

// ---- system routes: exact requests --------------------------------------------------------

#[tokio::test]
async fn list_get_info_and_health_requests() {
    let remote = Remote::start(|seen| match seen.path.as_str() {
        "/system/functions" => json_reply(
            r#"[{"Name":"echo","IMAGE":"ghcr.io/x/echo:1","namespace":"dev","AvailableReplicas":1,
                 "replicas":2,"labels":null,"annotations":{"a":"b"},"createdAt":"2024-05-06T07:08:09.12Z",
                 "limits":{"Memory":"5Mi"},"unknownField":true}]"#,
        ),
        "/system/function/echo" => json_reply(
            r#"{"name":"echo","image":"ghcr.io/x/echo:1","availableReplicas":0,"envVars":null}"#,
        ),
        "/system/info" => json_reply(
            r#"{"Provider":"faasd-ce","orchestration":"containerd","version":{"SHA":"abc","release":"0.18.0"}}"#,
        ),
        "/healthz" => reply(200, ""),
        _ => reply(404, "404 page not found\n"),
    })
    .await;
    let p = remote.provider();

    let list = p.list("dev").await.unwrap();
    let seen = remote.only();
    assert_eq!(
        (seen.method.clone(), seen.path.as_str()),
        (Method::GET, "/system/functions")
    );
    assert_eq!(seen.query_pairs(), [("namespace".into(), "dev".into())]);
    assert_authed(&seen);
    assert_eq!(list.len(), 1);
    let f = &list[0];
    assert_eq!(
        (f.name.as_str(), f.image.as_str()),
        ("echo", "ghcr.io/x/echo:1")
    );
    assert_eq!((f.replicas, f.available_replicas), (2, 1));
    assert_eq!(f.labels, None);
    assert_eq!(f.annotation("a"), Some("b"));
    assert_eq!(f.limits.as_ref().unwrap().memory, "5Mi");
    assert_eq!(f.created_at.to_rfc3339(), "2024-05-06T07:08:09.120+00:00");

    p.list("").await.unwrap();
    let seen = remote.only();
    assert_eq!(
        seen.query, None,
        "an empty namespace is left to the remote's default"
    );

    let status = p.get(&echo()).await.unwrap();
    let seen = remote.only();
    assert_eq!(
        (seen.method.clone(), seen.path.as_str()),
        (Method::GET, "/system/function/echo")
    );
    assert_eq!(seen.query_pairs(), [("namespace".into(), "dev".into())]);
    assert_authed(&seen);
    assert_eq!(status.name, "echo");
    assert!(!p.ready(&echo()).await.unwrap());
    remote.take();

    let info = p.info().await.unwrap();
    let seen = remote.only();
    assert_eq!(
        (seen.method.clone(), seen.path.as_str()),
        (Method::GET, "/system/info")
    );
    assert_authed(&seen);
    assert_eq!(info.name, "faasd-ce");
    assert_eq!(info.orchestration, "containerd");
    let version = info.version.unwrap();
    assert_eq!(
        (version.sha.as_str(), version.release.as_str()),
        ("abc", "0.18.0")
    );

    p.health().await.unwrap();
    let seen = remote.only();
    assert_eq!((seen.method, seen.path.as_str()), (Method::GET, "/healthz"));
}

#[tokio::test]
async fn null_lists_are_empty() {
    let remote = Remote::start(|_| json_reply("null")).await;
    let p = remote.provider();
    assert!(p.list("dev").await.unwrap().is_empty());
    assert!(p.list_secrets("dev").await.unwrap().is_empty());
    assert!(p.list_namespaces().await.unwrap().is_empty());
    let remote = Remote::start(|_| reply(200, "")).await;
    assert!(remote.provider().list("dev").await.unwrap().is_empty());
}

#[tokio::test]
async fn deploy_update_delete_and_scale_requests() {
    let remote = Remote::start(|seen| match seen.method {
        Method::POST if seen.path == "/system/functions" => reply(200, ""),
        Method::PUT => reply(202, ""),
        Method::DELETE => reply(202, ""),
        _ => reply(202, ""),
    })
    .await;
    let p = remote.provider();

    let mut spec = FunctionDeployment::new("echo", "ghcr.io/x/echo:1");
    spec.namespace = "dev".into();
    spec.env_process = "cat".into();
    spec.env_vars.insert("K".into(), "V".into());
    spec.secrets = vec!["s1".into()];
    spec.labels = Some(BTreeMap::new());
    spec.annotations = Some([("x".to_string(), "multi\nline".to_string())].into());
    let expected = json!({
        "service": "echo", "image": "ghcr.io/x/echo:1", "namespace": "dev", "envProcess": "cat",
        "envVars": {"K": "V"}, "secrets": ["s1"], "labels": {}, "annotations": {"x": "multi\nline"}
    });

    p.deploy(spec.clone()).await.unwrap();
    let seen = remote.only();
    assert_eq!(
        (seen.method.clone(), seen.path.as_str()),
        (Method::POST, "/system/functions")
    );
    assert_eq!(seen.json(), expected);
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_authed(&seen);

    p.update(spec).await.unwrap();
    let seen = remote.only();
    assert_eq!(
        (seen.method.clone(), seen.path.as_str()),
        (Method::PUT, "/system/functions")
    );
    assert_eq!(seen.json(), expected);
    assert_authed(&seen);

    p.delete(&echo()).await.unwrap();
    let seen = remote.only();
    assert_eq!(
        (seen.method.clone(), seen.path.as_str()),
        (Method::DELETE, "/system/functions")
    );
    assert_eq!(
        seen.json(),
        json!({"functionName": "echo", "namespace": "dev"})
    );
    assert_eq!(seen.query_pairs(), [("namespace".into(), "dev".into())]);
    assert_authed(&seen);

    p.scale(&echo(), 0).await.unwrap();
    let seen = remote.only();
    assert_eq!(
        (seen.method.clone(), seen.path.as_str()),
        (Method::POST, "/system/scale-function/echo")
    );
    assert_eq!(
        seen.json(),
        json!({"serviceName": "echo", "replicas": 0, "namespace": "dev"})
    );
    assert_eq!(seen.query_pairs(), [("namespace".into(), "dev".into())]);
    assert_authed(&seen);

    // Names are path segments: anything that would change the route is refused or encoded.
    assert!(matches!(
        p.get(&FunctionRef::new("..", "dev")).await,
        Err(ProviderError::InvalidRequest(_))
    ));
    assert!(remote.take().is_empty());
    let _ = p.get(&FunctionRef::new("a/b", "dev")).await;
    assert_eq!(remote.only().path, "/system/function/a%2Fb");
}

#[tokio::test]
async fn every_success_code_is_accepted() {
    let status = Arc::new(Mutex::new(200));
    let current = status.clone();
    let remote = Remote::start(move |_| reply(*current.lock().unwrap(), "")).await;
    let p = remote.provider();
    for code in [200, 201, 202, 204] {
        *status.lock().unwrap() = code;
        p.delete(&echo())
            .await
            .unwrap_or_else(|e| panic!("{code}: {e}"));
        p.scale(&echo(), 1).await.unwrap();
        p.create_secret(Secret::new("s", "dev", "v")).await.unwrap();
    }
}

#[tokio::test]
async fn secrets_requests() {
    let remote = Remote::start(|seen| match seen.method {
        Method::GET => json_reply(
            r#"[{"Name":"s1","namespace":"dev"},{"name":"s2","namespace":"dev","value":""}]"#,
        ),
        Method::POST => reply(201, ""),
        _ => reply(202, ""),
    })
    .await;
    let p = remote.provider();

    let list = p.list_secrets("dev").await.unwrap();
    let seen = remote.only();
    assert_eq!(
        (seen.method.clone(), seen.path.as_str()),
        (Method::GET, "/system/secrets")
    );
    assert_eq!(seen.query_pairs(), [("namespace".into(), "dev".into())]);
    assert_authed(&seen);
    let names: Vec<&str> = list.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["s1", "s2"]);

    p.create_secret(Secret::new("s1", "dev", "text value"))
        .await
        .unwrap();
    let seen = remote.only();
    assert_eq!(
        (seen.method.clone(), seen.path.as_str()),
        (Method::POST, "/system/secrets")
    );
    assert_eq!(
        seen.json(),
        json!({"name": "s1", "namespace": "dev", "value": "text value"})
    );
    assert_eq!(seen.query_pairs(), [("namespace".into(), "dev".into())]);
    assert_authed(&seen);

    let raw = Secret {
        raw_value: vec![0, 1, 2, 255],
        ..Secret::new("s2", "dev", "")
    };
    p.update_secret(raw).await.unwrap();
    let seen = remote.only();
    assert_eq!(
        (seen.method.clone(), seen.path.as_str()),
        (Method::PUT, "/system/secrets")
    );
    assert_eq!(
        seen.json(),
        json!({"name": "s2", "namespace": "dev", "rawValue": "AAEC/w=="})
    );
    assert_authed(&seen);

    p.delete_secret("s1", "dev").await.unwrap();
    let seen = remote.only();
    assert_eq!(
        (seen.method.clone(), seen.path.as_str()),
        (Method::DELETE, "/system/secrets")
    );
    assert_eq!(seen.json(), json!({"name": "s1", "namespace": "dev"}));
    assert_eq!(seen.query_pairs(), [("namespace".into(), "dev".into())]);
    assert_authed(&seen);
}

#[tokio::test]
async fn secret_values_never_reach_errors() {
    let value = "do-not-print-this-value";
    let remote = Remote::start(|_| reply(500, "")).await;
    let p = remote.provider();
    for error in [
        p.create_secret(Secret::new("s", "dev", value))
            .await
            .unwrap_err(),
        p.update_secret(Secret::new("s", "dev", value))
            .await
            .unwrap_err(),
    ] {
        let text = format!("{error} {error:?}");
        assert!(!text.contains(value) && !text.contains(PASSWORD), "{text}");
    }
}

#[tokio::test]
async fn namespace_requests() {
    let remote = Remote::start(|seen| match (seen.method.clone(), seen.path.as_str()) {
        (Method::GET, "/system/namespaces") => json_reply(r#"["openfaas-fn","dev"]"#),
        (Method::GET, _) => json_reply(r#"{"Name":"dev","labels":{"openfaas":"1"}}"#),
        (Method::POST, _) => reply(201, ""),
        _ => reply(202, ""),
    })
    .await;
    let p = remote.provider();

    assert_eq!(p.list_namespaces().await.unwrap(), ["openfaas-fn", "dev"]);
    let seen = remote.only();
    assert_eq!(
        (seen.method.clone(), seen.path.as_str()),
        (Method::GET, "/system/namespaces")
    );
    assert_authed(&seen);

    let ns = p.get_namespace("dev").await.unwrap();
    assert_eq!(ns, FunctionNamespace::new("dev"));
    let seen = remote.only();
    assert_eq!(
        (seen.method.clone(), seen.path.as_str()),
        (Method::GET, "/system/namespace/dev")
    );

    let mut created = FunctionNamespace::new("dev");
    created.annotations.insert("owner".into(), "team".into());
    p.create_namespace(created.clone()).await.unwrap();
    let seen = remote.only();
    assert_eq!(
        (seen.method.clone(), seen.path.as_str()),
        (Method::POST, "/system/namespace/dev")
    );
    assert_eq!(
        seen.json(),
        json!({"name": "dev", "labels": {"openfaas": "1"}, "annotations": {"owner": "team"}})
    );
    assert_authed(&seen);

    p.update_namespace(created).await.unwrap();
    let seen = remote.only();
    assert_eq!(
        (seen.method.clone(), seen.path.as_str()),
        (Method::PUT, "/system/namespace/dev")
    );
    assert_eq!(seen.json()["name"], "dev");

    p.delete_namespace("dev").await.unwrap();
    let seen = remote.only();
    assert_eq!(
        (seen.method.clone(), seen.path.as_str()),
        (Method::DELETE, "/system/namespace/dev")
    );
    assert_eq!(
        seen.json(),
        json!({"name": "dev"}),
        "faasd requires the name in the body"
    );
}

#[tokio::test]
async fn missing_namespace_routes_mean_only_the_default_namespace() {
    let remote = Remote::start(|_| reply(404, "404 page not found\n")).await;
    let p = remote.provider();
    assert_eq!(p.list_namespaces().await.unwrap(), ["openfaas-fn"]);
}

// ---- status → error mapping ---------------------------------------------------------------

/// The operations whose answers are mapped, each on its own route.
#[derive(Debug, Clone, Copy)]
enum Op {
    Get,
    Deploy,
    Info,
    UpdateSecret,
    CreateSecret,
    GetNamespace,
    CreateNamespace,
    Logs,
}

async fn run(p: &HttpProvider, op: Op) -> Result<(), ProviderError> {
    match op {
        Op::Get => p.get(&echo()).await.map(drop),
        Op::Deploy => {
            let mut spec = FunctionDeployment::new("echo", "img");
            spec.namespace = "dev".into();
            p.deploy(spec).await
        }
        Op::Info => p.info().await.map(drop),
        Op::UpdateSecret => p.update_secret(Secret::new("s", "dev", "v")).await,
        Op::CreateSecret => p.create_secret(Secret::new("s", "dev", "v")).await,
        Op::GetNamespace => p.get_namespace("dev").await.map(drop),
        Op::CreateNamespace => p.create_namespace(FunctionNamespace::new("dev")).await,
        Op::Logs => p.logs(LogRequest::new(echo())).await.map(drop),
    }
}

#[tokio::test]
async fn remote_statuses_map_to_provider_errors() {
    let script = Arc::new(Mutex::new((200u16, String::new())));
    let current = script.clone();
    let remote = Remote::start(move |_| {
        let (status, body) = current.lock().unwrap().clone();
        reply(status, &body)
    })
    .await;
    let p = remote.provider().with_name("remote-a");

    type Check = fn(&ProviderError) -> bool;
    let cases: Vec<(Op, u16, &str, Check)> = vec![
        (
            Op::Get,
            400,
            "namespace not valid\n",
            |e| matches!(e, ProviderError::InvalidRequest(m) if m == "namespace not valid"),
        ),
        (
            Op::Get,
            400,
            "",
            |e| matches!(e, ProviderError::InvalidRequest(m) if m.contains("GET /system/function/{name}") && m.contains("remote-a")),
        ),
        (
            Op::Get,
            401,
            "invalid credentials\n",
            |e| matches!(e, ProviderError::Unauthorized(m) if !m.contains(PASSWORD)),
        ),
        (Op::Get, 403, "", |e| {
            matches!(e, ProviderError::Unauthorized(_))
        }),
        (
            Op::Get,
            404,
            "",
            |e| matches!(e, ProviderError::NotFound { kind: ResourceKind::Function, name } if name == "echo.dev"),
        ),
        (Op::Get, 404, "404 page not found\n", |e| {
            matches!(
                e,
                ProviderError::NotFound {
                    kind: ResourceKind::Function,
                    ..
                }
            )
        }),
        (
            Op::Get,
            405,
            "",
            |e| matches!(e, ProviderError::Unsupported { operation: "get", provider } if provider == "remote-a"),
        ),
        (
            Op::Deploy,
            409,
            "exists\n",
            |e| matches!(e, ProviderError::AlreadyExists { kind: ResourceKind::Function, name } if name == "echo.dev"),
        ),
        (
            Op::Deploy,
            413,
            "too big\n",
            |e| matches!(e, ProviderError::PayloadTooLarge(m) if m == "too big"),
        ),
        (
            Op::Deploy,
            422,
            "bad\n",
            |e| matches!(e, ProviderError::Unprocessable(m) if m == "bad"),
        ),
        (
            Op::Deploy,
            429,
            "",
            |e| matches!(e, ProviderError::Throttled(m) if !m.is_empty()),
        ),
        (
            Op::Get,
            500,
            "boom\n",
            |e| matches!(e, ProviderError::Backend { provider, source } if provider == "remote-a" && source.to_string().contains("boom")),
        ),
        (Op::Get, 501, "Feature not implemented\n", |e| {
            matches!(
                e,
                ProviderError::Unsupported {
                    operation: "get",
                    ..
                }
            )
        }),
        (Op::Get, 502, "", |e| {
            matches!(e, ProviderError::Backend { .. })
        }),
        (
            Op::Get,
            503,
            "No endpoints available\n",
            |e| matches!(e, ProviderError::Unavailable { backend, reason } if backend == "remote-a" && reason == "No endpoints available"),
        ),
        (Op::Get, 504, "", |e| matches!(e, ProviderError::Timeout(_))),
        (
            Op::Get,
            418,
            "teapot\n",
            |e| matches!(e, ProviderError::InvalidRequest(m) if m.contains("418") && m.contains("teapot")),
        ),
        (Op::Get, 302, "", |e| {
            matches!(e, ProviderError::Backend { .. })
        }),
        (Op::Info, 404, "404 page not found\n", |e| {
            matches!(
                e,
                ProviderError::Unsupported {
                    operation: "info",
                    ..
                }
            )
        }),
        (
            Op::UpdateSecret,
            404,
            "",
            |e| matches!(e, ProviderError::NotFound { kind: ResourceKind::Secret, name } if name == "s"),
        ),
        (Op::UpdateSecret, 404, "404 page not found\n", |e| {
            matches!(
                e,
                ProviderError::Unsupported {
                    operation: "secrets",
                    ..
                }
            )
        }),
        (Op::UpdateSecret, 501, "", |e| {
            matches!(
                e,
                ProviderError::Unsupported {
                    operation: "secrets",
                    ..
                }
            )
        }),
        (
            Op::CreateSecret,
            409,
            "",
            |e| matches!(e, ProviderError::AlreadyExists { kind: ResourceKind::Secret, name } if name == "s"),
        ),
        (
            Op::GetNamespace,
            404,
            "",
            |e| matches!(e, ProviderError::NotFound { kind: ResourceKind::Namespace, name } if name == "dev"),
        ),
        (Op::GetNamespace, 404, "404 page not found\n", |e| {
            matches!(
                e,
                ProviderError::Unsupported {
                    operation: "namespaces",
                    ..
                }
            )
        }),
        (Op::CreateNamespace, 405, "", |e| {
            matches!(
                e,
                ProviderError::Unsupported {
                    operation: "namespaces",
                    ..
                }
            )
        }),
        (
            Op::CreateNamespace,
            409,
            "",
            |e| matches!(e, ProviderError::AlreadyExists { kind: ResourceKind::Namespace, name } if name == "dev"),
        ),
        (Op::Logs, 404, "404 page not found\n", |e| {
            matches!(
                e,
                ProviderError::Unsupported {
                    operation: "logs",
                    ..
                }
            )
        }),
        (
            Op::Logs,
            404,
            "",
            |e| matches!(e, ProviderError::NotFound { kind: ResourceKind::Function, name } if name == "echo.dev"),
        ),
        (
            Op::Logs,
            422,
            "could not parse the log request\n",
            |e| matches!(e, ProviderError::Unprocessable(m) if m == "could not parse the log request"),
        ),
        (Op::Logs, 503, "", |e| {
            matches!(e, ProviderError::Unavailable { .. })
        }),
    ];
    for (op, status, body, check) in cases {
        *script.lock().unwrap() = (status, body.to_string());
        let error = run(&p, op)
            .await
            .expect_err(&format!("{op:?} {status} must fail"));
        assert!(check(&error), "{op:?} {status} {body:?}: got {error:?}");
        let text = format!("{error} {error:?}");
        assert!(!text.contains(PASSWORD), "{text}");
    }
}

#[tokio::test]
async fn transport_failures_are_unavailable_or_timeout() {
    let addr = closed_port().await;
    let p = HttpProvider::new(&format!("http://{addr}"))
        .unwrap()
        .with_basic_auth(USER, PASSWORD);
    for error in [
        p.info().await.unwrap_err(),
        p.list("dev").await.unwrap_err(),
        p.logs(LogRequest::new(echo())).await.map(drop).unwrap_err(),
        p.invoke(&echo(), http::Request::new(Body::empty()))
            .await
            .map(drop)
            .unwrap_err(),
    ] {
        match &error {
            ProviderError::Unavailable { backend, reason } => {
                assert_eq!(backend, &addr.to_string());
                assert!(!reason.is_empty());
                assert!(!reason.contains(PASSWORD), "{reason}");
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }

    // A remote that accepts and never answers.
    let app = Router::new().fallback(std::future::pending::<Response>);
    let addr = serve(app).await;
    let p = HttpProvider::new(&format!("http://{addr}"))
        .unwrap()
        .with_timeout(Duration::from_millis(300))
        .with_invoke_timeout(Duration::from_millis(300));
    assert!(matches!(p.info().await, Err(ProviderError::Timeout(_))));
    assert!(matches!(
        p.logs(LogRequest::new(echo())).await.map(drop),
        Err(ProviderError::Timeout(_))
    ));
    assert!(matches!(
        p.invoke(&echo(), http::Request::new(Body::empty()))
            .await
            .map(drop),
        Err(ProviderError::Timeout(_))
    ));
}

// ---- capabilities -------------------------------------------------------------------------

#[tokio::test]
async fn probe_discovers_optional_features_without_side_effects() {
    // Our server over a provider with secrets and logs but no namespace mutation.
    let remote = Remote::start(|seen| match seen.path.as_str() {
        "/system/secrets" => json_reply("[]"),
        "/system/logs" => reply(
            404,
            "function faas-capability-probe.openfaas-fn not found\n",
        ),
        _ => reply(501, "namespaces is not supported by memory\n"),
    })
    .await;
    let mut configured = Capabilities::default();
    configured.scale_to_zero = true;
    configured.max_replicas = Some(3);
    let p = remote.provider().with_capabilities(configured.clone());
    let caps = p.probe_capabilities().await.unwrap();
    assert!(
        caps.secrets && caps.logs && !caps.namespace_mutation,
        "{caps:?}"
    );
    assert_eq!((caps.scale_to_zero, caps.max_replicas), (true, Some(3)));
    assert_eq!(caps.default_namespace, "openfaas-fn");
    assert_eq!(
        p.capabilities(),
        configured,
        "probing does not change the provider"
    );
    let seen = remote.take();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|s| s.method == Method::GET), "{seen:?}");
    assert!(seen.iter().all(assert_authed_ok));
    let logs = seen.iter().find(|s| s.path == "/system/logs").unwrap();
    assert!(
        logs.query_pairs()
            .contains(&("follow".into(), "false".into()))
    );

    // A Go router with none of the optional routes.
    let remote = Remote::start(|_| reply(404, "404 page not found\n")).await;
    let caps = remote.provider().probe_capabilities().await.unwrap();
    assert!(
        !caps.secrets && !caps.logs && !caps.namespace_mutation,
        "{caps:?}"
    );

    // A remote with everything (namespace GET answers 200).
    let remote = Remote::start(|seen| match seen.path.as_str() {
        "/system/secrets" => json_reply("null"),
        "/system/logs" => reply(200, ""),
        _ => json_reply(r#"{"name":"openfaas-fn","labels":{"openfaas":"1"}}"#),
    })
    .await;
    let caps = remote.provider().probe_capabilities().await.unwrap();
    assert!(
        caps.secrets && caps.logs && caps.namespace_mutation,
        "{caps:?}"
    );

    // Refused credentials are an error, not "unsupported".
    let remote = Remote::start(|_| reply(401, "invalid credentials\n")).await;
    assert!(matches!(
        remote.provider().probe_capabilities().await,
        Err(ProviderError::Unauthorized(_))
    ));
}

fn assert_authed_ok(seen: &Seen) -> bool {
    seen.header("authorization") == Some(expected_auth().as_str())
}

// ---- logs ---------------------------------------------------------------------------------

#[tokio::test]
async fn logs_query_and_incremental_ndjson() {
    let (gate_tx, gate_rx) = oneshot::channel::<()>();
    let gate = Arc::new(Mutex::new(Some(gate_rx)));
    let seen = Arc::new(Mutex::new(None::<(Option<String>, HeaderMap)>));
    let record = seen.clone();
    let app = Router::new().route(
        "/system/logs",
        axum::routing::get(move |request: Request| {
            let gate = gate.lock().unwrap().take().expect("one logs request");
            *record.lock().unwrap() =
                Some((request.uri().query().map(str::to_string), request.headers().clone()));
            async move {
                let first = r#"{"name":"echo","namespace":"dev","instance":"i1","timestamp":"2024-05-06T07:08:09Z","text":"one"}"#;
                let (head, tail) = first.split_at(20);
                let chunks = futures::stream::iter([
                    Bytes::from(head.to_string()),
                    Bytes::from(format!("{tail}\n")),
                ])
                .chain(
                    futures::stream::once(async move {
                        // Held until the client has parsed line one: proves no buffering.
                        let _ = gate.await;
                        Bytes::from_static(
                            b"\n{garbage\n{\"Name\":\"echo\",\"TEXT\":\"two\",\"timestamp\":null}\n{\"text\":\"three\"}",
                        )
                    }),
                )
                .map(Ok::<_, Infallible>);
                let mut response = axum::body::Body::from_stream(chunks).into_response();
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/x-ndjson"),
                );
                response
            }
        }),
    );
    let addr = serve(app).await;
    let p = HttpProvider::new(&format!("http://{addr}"))
        .unwrap()
        .with_basic_auth(USER, PASSWORD);

    let since = chrono::DateTime::parse_from_rfc3339("2024-05-06T07:08:09.120Z")
        .unwrap()
        .to_utc();
    let request = LogRequest {
        function: echo(),
        instance: Some("i1".into()),
        since: Some(since),
        tail: Some(5),
        follow: true,
    };
    let mut stream = p.logs(request).await.unwrap();
    let first = tokio::time::timeout(GUARD, stream.next())
        .await
        .expect("line one arrives before the stream ends")
        .expect("one message");
    assert_eq!(
        (
            first.name.as_str(),
            first.namespace.as_str(),
            first.instance.as_str(),
            first.text.as_str()
        ),
        ("echo", "dev", "i1", "one")
    );
    assert_eq!(first.timestamp.to_rfc3339(), "2024-05-06T07:08:09+00:00");

    let (query, headers) = seen.lock().unwrap().clone().unwrap();
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let expected: Vec<(String, String)> = [
        ("name", "echo"),
        ("namespace", "dev"),
        ("instance", "i1"),
        ("since", "2024-05-06T07:08:09.12Z"),
        ("tail", "5"),
        ("follow", "true"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(pairs, expected);
    assert_eq!(
        headers.get("authorization").and_then(|v| v.to_str().ok()),
        Some(expected_auth().as_str())
    );

    gate_tx.send(()).unwrap();
    let rest: Vec<_> = tokio::time::timeout(GUARD, stream.collect::<Vec<_>>())
        .await
        .expect("stream ends");
    let texts: Vec<(&str, &str)> = rest
        .iter()
        .map(|m| (m.name.as_str(), m.text.as_str()))
        .collect();
    assert_eq!(texts, [("echo", "two"), ("", "three")]);
}

// ---- invoke -------------------------------------------------------------------------------

#[tokio::test]
async fn invoke_forwards_the_request_verbatim_minus_hop_by_hop() {
    let remote = Remote::start(|seen| {
        let mut response = reply(201, &format!("got {}", seen.body.len()));
        let headers = response.headers_mut();
        headers.insert("x-function", HeaderValue::from_static("yes"));
        headers.append("set-cookie", HeaderValue::from_static("a=1"));
        headers.append("set-cookie", HeaderValue::from_static("b=2"));
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        response
    })
    .await;
    let p = remote.provider();

    let request = http::Request::builder()
        .method(Method::PATCH)
        .uri("/a/b?x=1&y=%20z&flag")
        .header("host", "caller.example")
        .header("connection", "keep-alive, x-private")
        .header("keep-alive", "timeout=5")
        .header("x-private", "hop")
        .header("proxy-authorization", "Basic cHJveHk=")
        .header("te", "trailers")
        .header("upgrade", "h2c")
        .header("authorization", "Bearer caller-token")
        .header("x-forwarded-for", "10.0.0.1:1234")
        .header("content-type", "text/plain")
        .header("x-multi", "1")
        .header("x-multi", "2")
        .body(Body::from("hello"))
        .unwrap();
    let response = p.invoke(&echo(), request).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["x-function"], "yes");
    let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    assert!(response.headers().get("keep-alive").is_none());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"got 5");

    let seen = remote.only();
    assert_eq!(seen.method, Method::PATCH);
    assert_eq!(seen.path, "/function/echo.dev/a/b");
    assert_eq!(seen.query.as_deref(), Some("x=1&y=%20z&flag"));
    assert_eq!(&seen.body[..], b"hello");
    assert_eq!(seen.header("host"), Some(remote.addr.to_string().as_str()));
    for hop in [
        "keep-alive",
        "x-private",
        "proxy-authorization",
        "te",
        "upgrade",
    ] {
        assert!(seen.headers.get(hop).is_none(), "{hop} was forwarded");
    }
    assert_ne!(seen.header("connection"), Some("keep-alive, x-private"));
    assert_eq!(
        seen.header("authorization"),
        Some("Bearer caller-token"),
        "the caller's, not ours"
    );
    assert_eq!(seen.header("x-forwarded-for"), Some("10.0.0.1:1234"));
    assert_eq!(seen.header("content-type"), Some("text/plain"));
    assert_eq!(seen.header("content-length"), Some("5"));
    let multi: Vec<_> = seen.headers.get_all("x-multi").iter().collect();
    assert_eq!(multi, ["1", "2"]);

    // No caller credentials: ours are never sent to a function.
    let response = p
        .invoke(
            &echo(),
            http::Request::get("/").body(Body::empty()).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let seen = remote.only();
    assert_eq!(seen.path, "/function/echo.dev/");
    assert!(seen.headers.get("authorization").is_none());
    assert!(
        seen.headers.get("transfer-encoding").is_none(),
        "a GET has no body"
    );

    // The path cannot climb out of the function.
    p.invoke(
        &echo(),
        http::Request::get("/x/../../../system/secrets")
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(remote.only().path, "/function/echo.dev/system/secrets");
}

#[tokio::test]
async fn invoke_returns_every_status_as_a_response() {
    let script = Arc::new(Mutex::new(200u16));
    let current = script.clone();
    let remote = Remote::start(move |_| {
        let status = *current.lock().unwrap();
        let mut response = reply(status, &format!("status {status}"));
        if status == 302 {
            response
                .headers_mut()
                .insert(header::LOCATION, HeaderValue::from_static("/elsewhere"));
        }
        response
    })
    .await;
    let p = remote.provider();
    for status in [200, 302, 400, 404, 429, 500, 502, 503, 504] {
        *script.lock().unwrap() = status;
        let response = p
            .invoke(
                &echo(),
                http::Request::get("/").body(Body::empty()).unwrap(),
            )
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(response.status().as_u16(), status);
        if status == 302 {
            assert_eq!(response.headers()[header::LOCATION], "/elsewhere");
        }
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, format!("status {status}"));
    }
    // Every 302 was answered by the remote once: the redirect was never followed.
    let paths: Vec<String> = remote.take().into_iter().map(|s| s.path).collect();
    assert!(
        paths.iter().all(|p| p == "/function/echo.dev/"),
        "{paths:?}"
    );
    assert_eq!(paths.len(), 9);
}

/// The proxy's own 503 for a function it has no endpoint for, as the Go SDK writes it.
fn no_endpoints(reason: Option<&'static str>) -> Response {
    let mut response = reply(503, "No endpoints available for: echo.\n");
    response
        .headers_mut()
        .insert("x-openfaas-internal", HeaderValue::from_static("proxy"));
    if let Some(reason) = reason {
        response
            .headers_mut()
            .insert("x-faas-invoke-error", HeaderValue::from_static(reason));
    }
    response
}

async fn invoke_root(p: &HttpProvider) -> Result<http::Response<Body>, ProviderError> {
    p.invoke(
        &echo(),
        http::Request::get("/").body(Body::empty()).unwrap(),
    )
    .await
}

#[tokio::test]
async fn invoke_of_an_unknown_function_is_not_found_when_the_remote_proxy_says_so() {
    // This crate's server names the reason: no extra call.
    let remote = Remote::start(|_| no_endpoints(Some("not-found"))).await;
    let error = invoke_root(&remote.provider()).await.unwrap_err();
    assert!(
        matches!(&error, ProviderError::NotFound { kind: ResourceKind::Function, name } if name == "echo.dev"),
        "{error:?}"
    );
    assert_eq!(remote.only().path, "/function/echo.dev/");

    // Not ready (or any other reason): the proxy's answer is the result, as before.
    let remote = Remote::start(|_| no_endpoints(Some("not-ready"))).await;
    let response = invoke_root(&remote.provider()).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(remote.only().path, "/function/echo.dev/");
}

#[tokio::test]
async fn a_go_providers_no_endpoints_answer_is_checked_with_the_functions_status() {
    let exists = Arc::new(Mutex::new(false));
    let known = exists.clone();
    let remote = Remote::start(move |seen| match seen.path.as_str() {
        "/system/function/echo" if *known.lock().unwrap() => json_reply(
            r#"{"name":"echo","image":"ghcr.io/x/echo:1","namespace":"dev","availableReplicas":0}"#,
        ),
        "/system/function/echo" => reply(404, ""),
        _ => no_endpoints(None),
    })
    .await;
    let p = remote.provider();

    let error = invoke_root(&p).await.unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    let paths: Vec<String> = remote.take().into_iter().map(|s| s.path).collect();
    assert_eq!(paths, ["/function/echo.dev/", "/system/function/echo"]);

    // The function exists with no ready replica: the 503 is the answer, body intact.
    *exists.lock().unwrap() = true;
    let response = invoke_root(&p).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "No endpoints available for: echo.\n");
    assert_eq!(remote.take().len(), 2);
}

#[tokio::test]
async fn a_functions_own_503_or_404_is_its_answer() {
    for status in [503, 404] {
        // Even with the not-found reason: without `X-OpenFaaS-Internal: proxy` it is the
        // function speaking, and the remote is not asked anything else.
        let remote = Remote::start(move |_| {
            let mut response = reply(status, "busy");
            response
                .headers_mut()
                .insert("x-faas-invoke-error", HeaderValue::from_static("not-found"));
            response
        })
        .await;
        let response = invoke_root(&remote.provider()).await.unwrap();
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(remote.only().path, "/function/echo.dev/");
    }
}

#[tokio::test]
async fn invoke_streams_the_request_body() {
    let (first_tx, first_rx) = oneshot::channel::<Bytes>();
    let first_tx = Arc::new(Mutex::new(Some(first_tx)));
    let app = Router::new().fallback(move |request: Request| {
        let first_tx = first_tx.lock().unwrap().take();
        async move {
            let mut body = request.into_body();
            let mut received = Vec::new();
            let mut first_tx = first_tx;
            while let Some(frame) = body.frame().await {
                let data = frame.expect("frame").into_data().unwrap_or_default();
                received.extend_from_slice(&data);
                if let Some(tx) = first_tx.take() {
                    let _ = tx.send(data);
                }
            }
            String::from_utf8(received).unwrap()
        }
    });
    let addr = serve(app).await;
    let p = HttpProvider::new(&format!("http://{addr}")).unwrap();

    // The second chunk exists only after the remote has received the first one: a client
    // that buffered the body before sending would wait forever.
    let body = futures::stream::once(async { Ok::<_, Infallible>(Bytes::from_static(b"first,")) })
        .chain(futures::stream::once(async move {
            let seen = first_rx.await.expect("remote saw the first chunk");
            assert_eq!(&seen[..], b"first,");
            Ok(Bytes::from_static(b"second"))
        }));
    let request = http::Request::post("/upload")
        .body(Body::from_stream(body))
        .unwrap();
    let response = tokio::time::timeout(GUARD, p.invoke(&echo(), request))
        .await
        .expect("request body streamed, not buffered")
        .unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"first,second");
}

#[tokio::test]
async fn invoke_streams_the_response_body() {
    let (gate_tx, gate_rx) = oneshot::channel::<()>();
    let gate = Arc::new(Mutex::new(Some(gate_rx)));
    let app = Router::new().fallback(move || {
        let gate = gate.lock().unwrap().take().expect("one request");
        async move {
            let chunks = futures::stream::once(async { Bytes::from_static(b"part-1;") })
                .chain(futures::stream::once(async move {
                    let _ = gate.await;
                    Bytes::from_static(b"part-2")
                }))
                .map(Ok::<_, Infallible>);
            let mut response = axum::body::Body::from_stream(chunks).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            );
            response
        }
    });
    let addr = serve(app).await;
    let p = HttpProvider::new(&format!("http://{addr}")).unwrap();

    let request = http::Request::get("/stream").body(Body::empty()).unwrap();
    let response = tokio::time::timeout(GUARD, p.invoke(&echo(), request))
        .await
        .expect("response head arrives before the body is complete")
        .unwrap();
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    let mut body = response.into_body();
    let mut received = Vec::new();
    while received.len() < b"part-1;".len() {
        let frame = tokio::time::timeout(GUARD, body.frame())
            .await
            .expect("first chunk arrives on its own")
            .expect("a frame")
            .unwrap();
        received.extend_from_slice(&frame.into_data().unwrap_or_default());
    }
    assert_eq!(&received[..], b"part-1;");
    gate_tx.send(()).unwrap();
    let rest = tokio::time::timeout(GUARD, body.collect())
        .await
        .unwrap()
        .unwrap()
        .to_bytes();
    assert_eq!(&rest[..], b"part-2");
}

/// 32 MiB of a deterministic pattern, in 64 KiB chunks made on demand.
const LARGE: usize = 32 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

fn pattern_chunk(index: usize) -> Bytes {
    Bytes::from(
        (0..CHUNK)
            .map(|i| ((index * CHUNK + i) % 251) as u8)
            .collect::<Vec<u8>>(),
    )
}

fn checksum(acc: u64, data: &[u8]) -> u64 {
    data.iter()
        .fold(acc, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(*b)))
}

#[tokio::test]
async fn invoke_large_bodies_both_ways() {
    // The remote signals once it has received 1 MiB; the client's body stream stops halfway
    // until then, so the upload cannot have been buffered whole first.
    let (mib_tx, mib_rx) = oneshot::channel::<()>();
    let mib_tx = Arc::new(Mutex::new(Some(mib_tx)));
    let app = Router::new()
        .route(
            "/function/{name}/upload",
            axum::routing::post(move |request: Request| {
                let mut mib_tx = mib_tx.lock().unwrap().take();
                async move {
                    let mut body = request.into_body();
                    let (mut len, mut sum) = (0usize, 0u64);
                    while let Some(frame) = body.frame().await {
                        let data = frame.expect("frame").into_data().unwrap_or_default();
                        len += data.len();
                        sum = checksum(sum, &data);
                        if len >= 1024 * 1024 {
                            if let Some(tx) = mib_tx.take() {
                                let _ = tx.send(());
                            }
                        }
                    }
                    format!("{len} {sum}")
                }
            }),
        )
        .route(
            "/function/{name}/download",
            axum::routing::get(|| async {
                let chunks = futures::stream::iter(0..LARGE / CHUNK)
                    .map(|i| Ok::<_, Infallible>(pattern_chunk(i)));
                axum::body::Body::from_stream(chunks)
            }),
        );
    let addr = serve(app).await;
    let p = HttpProvider::new(&format!("http://{addr}")).unwrap();

    let mut mib_rx = Some(mib_rx);
    let upload = futures::stream::iter(0..LARGE / CHUNK).then(move |i| {
        let wait = if i == LARGE / CHUNK / 2 {
            mib_rx.take()
        } else {
            None
        };
        async move {
            if let Some(rx) = wait {
                rx.await
                    .expect("remote received 1 MiB before the body ended");
            }
            Ok::<_, Infallible>(pattern_chunk(i))
        }
    });
    let expected_sum = (0..LARGE / CHUNK).fold(0u64, |acc, i| checksum(acc, &pattern_chunk(i)));
    let request = http::Request::post("/upload")
        .body(Body::from_stream(upload))
        .unwrap();
    let response = tokio::time::timeout(GUARD, p.invoke(&echo(), request))
        .await
        .expect("upload streamed")
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        String::from_utf8_lossy(&body),
        format!("{LARGE} {expected_sum}")
    );

    let request = http::Request::get("/download").body(Body::empty()).unwrap();
    let response = p.invoke(&echo(), request).await.unwrap();
    let mut body = response.into_body();
    let (mut len, mut sum) = (0usize, 0u64);
    while let Some(frame) = body.frame().await {
        let data = frame.unwrap().into_data().unwrap_or_default();
        len += data.len();
        sum = checksum(sum, &data);
    }
    assert_eq!((len, sum), (LARGE, expected_sum));
}

#[tokio::test]
async fn invoke_without_namespace_uses_the_bare_name() {
    let remote = Remote::start(|_| reply(200, "")).await;
    let p = remote.provider();
    p.invoke(
        &FunctionRef::new("echo", ""),
        http::Request::get("/x").body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(remote.only().path, "/function/echo/x");
}

// ---- the invocation pool (plain http) -----------------------------------------------------

/// An axum remote that also counts the TCP connections it accepted.
async fn counting_remote(app: Router) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    use axum::serve::ListenerExt;
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let listener = listener.tap_io(move |_| {
        count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (addr, accepted)
}

async fn invoke_text(p: &HttpProvider, method: Method, path: &str) -> (StatusCode, String) {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .unwrap();
    let response = p.invoke(&echo(), request).await.unwrap();
    let status = response.status();
    let body = tokio::time::timeout(GUARD, response.into_body().collect())
        .await
        .expect("body within the guard")
        .unwrap()
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn invoke_reuses_one_connection_for_sequential_calls() {
    let app = Router::new().fallback(|request: Request| async move {
        if request.uri().path().ends_with("/empty") {
            return StatusCode::NO_CONTENT.into_response();
        }
        format!("{} {}", request.method(), request.uri().path()).into_response()
    });
    let (addr, accepted) = counting_remote(app).await;
    // A base URL with a path prefix: every invocation goes under it.
    let p = HttpProvider::new(&format!("http://{addr}/prefix/")).unwrap();
    for i in 0..5 {
        let (status, body) = invoke_text(&p, Method::POST, &format!("/n{i}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, format!("POST /prefix/function/echo.dev/n{i}"));
    }
    // Responses without a body (HEAD, 204) free the connection without being read.
    let (status, body) = invoke_text(&p, Method::HEAD, "/x").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ""));
    let (status, _) = invoke_text(&p, Method::GET, "/empty").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = invoke_text(&p, Method::GET, "/last").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);

    // A response dropped unread closes its connection; the next call opens another.
    let response = p
        .invoke(&echo(), http::Request::new(Body::empty()))
        .await
        .unwrap();
    drop(response);
    let (status, _) = invoke_text(&p, Method::GET, "/after-drop").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 2);

    // Concurrent calls each get a connection, and all of them come back.
    let calls = (0..8).map(|i| {
        let p = p.clone();
        async move { invoke_text(&p, Method::GET, &format!("/c{i}")).await }
    });
    for (status, _) in futures::future::join_all(calls).await {
        assert_eq!(status, StatusCode::OK);
    }
    let opened = accepted.load(std::sync::atomic::Ordering::SeqCst);
    assert!((2..=10).contains(&opened), "{opened} connections");
    for i in 0..8 {
        invoke_text(&p, Method::GET, &format!("/again{i}")).await;
    }
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), opened);
}

/// A remote that answers one request per connection with keep-alive promised, then closes the
/// connection without saying so: the client finds its idle connection dead, before sending or
/// (when the close and the next request cross) after, and sends a GET again on a new one: it
/// never fails.
#[tokio::test]
async fn invoke_survives_idle_connections_the_remote_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buffer = [0u8; 4096];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buffer[..n]),
                    }
                }
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok",
                    )
                    .await;
                // Closed a little later (the client has pooled it by then), with no
                // `connection: close`.
                tokio::time::sleep(Duration::from_millis(20)).await;
            });
        }
    });
    let p = HttpProvider::new(&format!("http://{addr}")).unwrap();
    for i in 0..20 {
        let (status, body) = invoke_text(&p, Method::GET, "/").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
        if i % 2 == 0 {
            // Half the time the close has arrived before the next call, half not.
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
    }
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 20);
}

#[tokio::test]
async fn invoke_timeout_bounds_the_response_body_too() {
    // Headers at once, then a body that never ends.
    let app = Router::new().fallback(|| async {
        let stream = futures::stream::once(async { Ok::<_, Infallible>(Bytes::from("start")) })
            .chain(futures::stream::pending());
        Response::new(axum::body::Body::from_stream(stream))
    });
    let addr = serve(app).await;
    let p = HttpProvider::new(&format!("http://{addr}"))
        .unwrap()
        .with_invoke_timeout(Duration::from_millis(300));
    let response = p
        .invoke(&echo(), http::Request::new(Body::empty()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let read = tokio::time::timeout(GUARD, response.into_body().collect())
        .await
        .expect("the invoke timeout ends the body before the guard");
    let error = read.expect_err("a body cut by the timeout is an error");
    assert!(error.to_string().contains("time bound"), "{error}");
}
