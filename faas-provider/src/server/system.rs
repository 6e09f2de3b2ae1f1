//! `/system/*` handlers: functions, status, scale, info, secrets, namespaces, health.
//!
//! Handlers validate names and fill the default namespace, call the provider, and return a
//! success status; every failure is a [`ProviderError`] rendered by `server::error`.

use std::future::Future;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use super::AppState;
use super::extract::{GoJsonBody, QueryParams};
use crate::types::name::{
    validate_function_name, validate_namespace, validate_secret_name, validate_service,
};
use crate::types::{
    DeleteFunctionRequest, FunctionNamespace, LABEL_OPENFAAS_NAMESPACE, ScaleServiceRequest,
};
use crate::{FunctionDeployment, FunctionRef, Provider, ProviderError, Result, Secret};

/// Success of a mutation: 202 with an empty body (faas-cli and the certifier accept 200/202;
/// never 204, which both treat as an error on delete).
fn accepted() -> Response {
    StatusCode::ACCEPTED.into_response()
}

/// Runs a write (deploy, update, delete, scale) on a task of its own, so that it completes
/// even when the caller goes away meanwhile (a client that gives up, a federation that
/// answered 504 at its `deploy_timeout`): a deploy dropped halfway could leave a half-made
/// function behind.
async fn run_to_completion<F, Fut>(state: &AppState, write: F) -> Result<()>
where
    F: FnOnce(Arc<dyn Provider>) -> Fut,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    match tokio::spawn(write(state.provider.clone())).await {
        Ok(result) => result,
        Err(error) => Err(ProviderError::backend("provider", error)),
    }
}

impl AppState {
    /// The namespace to use: the first non-empty candidate, else the provider's default; validated.
    pub(crate) fn namespace<'a>(
        &self,
        candidates: impl IntoIterator<Item = Option<&'a str>>,
    ) -> Result<String> {
        let chosen = candidates.into_iter().flatten().find(|ns| !ns.is_empty());
        let namespace = match chosen {
            Some(ns) => ns.to_string(),
            None => self.provider.capabilities().default_namespace,
        };
        validate_namespace(&namespace)?;
        Ok(namespace)
    }
}

pub(crate) async fn list_functions(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let query = QueryParams::parse(query.as_deref());
    let namespace = state.namespace([query.first("namespace")])?;
    let list = state.provider.list_json(&namespace).await?;
    Ok((
        [(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        )],
        list,
    )
        .into_response())
}

fn validate_deployment(state: &AppState, spec: &mut FunctionDeployment) -> Result<()> {
    validate_service(&spec.service)?;
    if spec.image.trim().is_empty() {
        return Err(ProviderError::invalid(
            "validation failed: image: is required",
        ));
    }
    spec.namespace = state.namespace([Some(spec.namespace.as_str())])?;
    for secret in &spec.secrets {
        validate_secret_name(secret)?;
    }
    Ok(())
}

pub(crate) async fn deploy(
    State(state): State<AppState>,
    GoJsonBody(mut spec): GoJsonBody<FunctionDeployment>,
) -> Result<Response> {
    validate_deployment(&state, &mut spec)?;
    run_to_completion(&state, |p| async move { p.deploy(spec).await }).await?;
    Ok(accepted())
}

pub(crate) async fn update(
    State(state): State<AppState>,
    GoJsonBody(mut spec): GoJsonBody<FunctionDeployment>,
) -> Result<Response> {
    validate_deployment(&state, &mut spec)?;
    run_to_completion(&state, |p| async move { p.update(spec).await }).await?;
    Ok(accepted())
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    GoJsonBody(request): GoJsonBody<DeleteFunctionRequest>,
) -> Result<Response> {
    if request.function_name.is_empty() {
        return Err(ProviderError::invalid(
            "functionName is required in the request body",
        ));
    }
    validate_function_name(&request.function_name)?;
    let query = QueryParams::parse(query.as_deref());
    let namespace =
        state.namespace([Some(request.namespace.as_str()), query.first("namespace")])?;
    let function = FunctionRef::new(request.function_name, namespace);
    run_to_completion(&state, |p| async move { p.delete(&function).await }).await?;
    Ok(accepted())
}

pub(crate) async fn status(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    validate_function_name(&name)?;
    let query = QueryParams::parse(query.as_deref());
    let namespace = state.namespace([query.first("namespace")])?;
    let status = state
        .provider
        .get(&FunctionRef::new(name, namespace))
        .await?;
    Ok(Json(status).into_response())
}

pub(crate) async fn scale(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    GoJsonBody(request): GoJsonBody<ScaleServiceRequest>,
) -> Result<Response> {
    // Name from the path (faas-netes, the gateway), body as fallback (faasd); namespace from the
    // body when set (faasd, faas-cli), else the query (the gateway's scale-from-zero call).
    let name = if name.is_empty() {
        request.service_name.clone()
    } else {
        name
    };
    validate_function_name(&name)?;
    let query = QueryParams::parse(query.as_deref());
    let namespace =
        state.namespace([Some(request.namespace.as_str()), query.first("namespace")])?;
    let function = FunctionRef::new(name, namespace);
    let caps = state.provider.capabilities_of(&function);
    if request.replicas == 0 && !caps.scale_to_zero {
        return Err(ProviderError::invalid(
            "replicas must be > 0: this provider does not scale to zero",
        ));
    }
    if let Some(max) = caps.max_replicas
        && request.replicas > max
    {
        return Err(ProviderError::invalid(format!(
            "replicas must be <= {max} for this provider"
        )));
    }
    let replicas = request.replicas;
    run_to_completion(&state, move |p| async move {
        p.scale(&function, replicas).await
    })
    .await?;
    Ok(accepted())
}

pub(crate) async fn info(State(state): State<AppState>) -> Result<Response> {
    Ok(Json(state.provider.info().await?).into_response())
}

pub(crate) async fn health(State(state): State<AppState>) -> Response {
    match state.provider.health().await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(error) => {
            let unavailable = ProviderError::Unavailable {
                backend: "provider".into(),
                reason: error.to_string(),
            };
            unavailable.into_response()
        }
    }
}

pub(crate) async fn list_secrets(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let query = QueryParams::parse(query.as_deref());
    let namespace = state.namespace([query.first("namespace")])?;
    let secrets: Vec<Secret> = state
        .provider
        .list_secrets(&namespace)
        .await?
        .iter()
        .map(Secret::without_value)
        .collect();
    Ok(Json(secrets).into_response())
}

fn validate_secret(state: &AppState, secret: &mut Secret, query: Option<&str>) -> Result<()> {
    validate_secret_name(&secret.name)?;
    let query = QueryParams::parse(query);
    secret.namespace =
        state.namespace([Some(secret.namespace.as_str()), query.first("namespace")])?;
    Ok(())
}

pub(crate) async fn create_secret(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    GoJsonBody(mut secret): GoJsonBody<Secret>,
) -> Result<Response> {
    validate_secret(&state, &mut secret, query.as_deref())?;
    state.provider.create_secret(secret).await?;
    Ok(accepted())
}

pub(crate) async fn update_secret(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    GoJsonBody(mut secret): GoJsonBody<Secret>,
) -> Result<Response> {
    validate_secret(&state, &mut secret, query.as_deref())?;
    state.provider.update_secret(secret).await?;
    Ok(accepted())
}

pub(crate) async fn delete_secret(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    GoJsonBody(mut secret): GoJsonBody<Secret>,
) -> Result<Response> {
    validate_secret(&state, &mut secret, query.as_deref())?;
    state
        .provider
        .delete_secret(&secret.name, &secret.namespace)
        .await?;
    Ok(accepted())
}

pub(crate) async fn list_namespaces(State(state): State<AppState>) -> Result<Response> {
    Ok(Json(state.provider.list_namespaces().await?).into_response())
}

pub(crate) async fn get_namespace(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response> {
    validate_namespace(&name)?;
    Ok(Json(state.provider.get_namespace(&name).await?).into_response())
}

/// The body of a namespace mutation: its name must be empty or equal the path's, and it must
/// carry the `openfaas: "1"` label.
fn validate_namespace_body(
    path_name: String,
    mut body: FunctionNamespace,
) -> Result<FunctionNamespace> {
    validate_namespace(&path_name)?;
    if !body.name.is_empty() && body.name != path_name {
        return Err(ProviderError::invalid(format!(
            "namespace name in the body ({}) does not match the path ({path_name})",
            body.name
        )));
    }
    body.name = path_name;
    if body
        .labels
        .get(LABEL_OPENFAAS_NAMESPACE)
        .map(String::as_str)
        != Some("1")
    {
        return Err(ProviderError::invalid(format!(
            "namespace {} must carry the label {LABEL_OPENFAAS_NAMESPACE}: \"1\"",
            body.name
        )));
    }
    Ok(body)
}

pub(crate) async fn create_namespace(
    State(state): State<AppState>,
    Path(name): Path<String>,
    GoJsonBody(body): GoJsonBody<FunctionNamespace>,
) -> Result<Response> {
    let namespace = validate_namespace_body(name, body)?;
    state.provider.create_namespace(namespace).await?;
    Ok(StatusCode::CREATED.into_response())
}

pub(crate) async fn update_namespace(
    State(state): State<AppState>,
    Path(name): Path<String>,
    GoJsonBody(body): GoJsonBody<FunctionNamespace>,
) -> Result<Response> {
    let namespace = validate_namespace_body(name, body)?;
    state.provider.update_namespace(namespace).await?;
    Ok(accepted())
}

pub(crate) async fn delete_namespace(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response> {
    validate_namespace(&name)?;
    state.provider.delete_namespace(&name).await?;
    Ok(accepted())
}
