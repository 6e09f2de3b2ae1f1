//! A function deleted on a remote backend (a memory provider served on 127.0.0.1, reached through
//! HttpProvider) behind the federation's back: every call through the federation finds it gone
//! (NotFound: 503 `No endpoints available` on invoke, 404 on the system routes) and drops the
//! stale route, exactly as for an in-process backend.

mod common;

use std::sync::Arc;

use common::{NS, RemoteMemory, client, spec};
use faas_provider::{Body, FunctionRef, Provider, ProviderError, ResourceKind};
use federation::FederatedProvider;
use http::StatusCode;
use provider_memory::MemoryProvider;

struct Setup {
    local: Arc<MemoryProvider>,
    remote: RemoteMemory,
    federation: Arc<FederatedProvider>,
    served: common::Served,
    http: reqwest::Client,
}

impl Setup {
    async fn new() -> Self {
        let local = Arc::new(MemoryProvider::new());
        let remote = RemoteMemory::start().await;
        let federation = common::federation(local.clone(), &remote.url(), "local").await;
        let served = common::serve(federation.clone()).await;
        Self {
            local,
            remote,
            federation,
            served,
            http: client(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.served.url)
    }

    fn route(&self, name: &str) -> Option<String> {
        self.federation
            .route_of(&FunctionRef::new(name, NS))
            .map(str::to_string)
    }

    /// Deploys `name` on `backend` through the federation, then deletes it there directly: the
    /// federation still routes it to `backend`.
    async fn stale(&self, name: &str, backend: &str) -> FunctionRef {
        self.federation
            .deploy(spec(name, Some(backend)))
            .await
            .unwrap_or_else(|e| panic!("deploy {name}: {e}"));
        assert_eq!(self.route(name).as_deref(), Some(backend));
        let function = FunctionRef::new(name, NS);
        let owner: &dyn Provider = match backend {
            "remote" => self.remote.provider.as_ref(),
            _ => self.local.as_ref(),
        };
        owner.delete(&function).await.unwrap();
        assert_eq!(
            self.route(name).as_deref(),
            Some(backend),
            "the federation was not told"
        );
        function
    }

    async fn invoke(&self, function: &FunctionRef) -> faas_provider::Result<http::Response<Body>> {
        self.federation
            .invoke(
                function,
                http::Request::post("/").body(Body::from("hi")).unwrap(),
            )
            .await
    }
}

fn assert_function_not_found(result: faas_provider::Result<impl Sized>, function: &FunctionRef) {
    match result {
        Err(ProviderError::NotFound {
            kind: ResourceKind::Function,
            name,
        }) => assert_eq!(name, function.to_string()),
        Err(other) => panic!("{function}: expected NotFound, got {other:?}"),
        Ok(_) => panic!("{function}: expected NotFound, got an answer"),
    }
}

#[tokio::test]
async fn invoking_a_function_deleted_on_a_remote_is_not_found_and_drops_the_route() {
    let s = Setup::new().await;
    for backend in ["remote", "local"] {
        let function = s.stale(&format!("gone-{backend}"), backend).await;
        assert_function_not_found(s.invoke(&function).await, &function);
        assert_eq!(
            s.route(&function.name),
            None,
            "{backend}: the stale route stays"
        );
    }

    // On the federation's wire: the proxy's 503, for a remote backend as for a local one.
    for backend in ["remote", "local"] {
        let name = format!("wire-{backend}");
        s.stale(&name, backend).await;
        let response = s
            .http
            .post(s.url(&format!("/function/{name}")))
            .body("hi")
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "{backend}"
        );
        assert_eq!(response.headers()["x-openfaas-internal"], "proxy");
        assert_eq!(
            response.text().await.unwrap(),
            format!("No endpoints available for: {name}.\n")
        );
        assert_eq!(s.route(&name), None, "{backend}: the stale route stays");
    }
}

#[tokio::test]
async fn system_calls_on_a_function_deleted_on_a_remote_are_not_found_and_drop_the_route() {
    let s = Setup::new().await;

    let function = s.stale("get-me", "remote").await;
    assert_function_not_found(s.federation.get(&function).await, &function);
    assert_eq!(s.route("get-me"), None);

    let function = s.stale("scale-me", "remote").await;
    assert_function_not_found(s.federation.scale(&function, 2).await, &function);
    assert_eq!(s.route("scale-me"), None);

    let function = s.stale("update-me", "remote").await;
    assert_function_not_found(
        s.federation.update(spec("update-me", Some("remote"))).await,
        &function,
    );
    assert_eq!(s.route("update-me"), None);

    let function = s.stale("delete-me", "remote").await;
    assert_function_not_found(s.federation.delete(&function).await, &function);
    assert_eq!(s.route("delete-me"), None);

    // On the federation's wire: 404.
    s.stale("status-me", "remote").await;
    let response = s
        .http
        .get(s.url(&format!("/system/function/status-me?namespace={NS}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(s.route("status-me"), None);
}

#[tokio::test]
async fn a_remote_function_without_ready_replicas_keeps_its_route_and_the_503() {
    let s = Setup::new().await;
    s.federation
        .deploy(spec("idle", Some("remote")))
        .await
        .unwrap();
    let function = FunctionRef::new("idle", NS);
    s.federation.scale(&function, 0).await.unwrap();

    // Not ready is the remote proxy's answer, passed through; the function is still there.
    let response = s.invoke(&function).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(s.route("idle").as_deref(), Some("remote"));

    // Ready again: the same route serves it.
    s.federation.scale(&function, 1).await.unwrap();
    let response = s.invoke(&function).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(s.route("idle").as_deref(), Some("remote"));
}
