//! `CreateFunction`, `GetFunction`, `GetFunctionConfiguration`, `ListFunctions`,
//! `UpdateFunctionCode`, `UpdateFunctionConfiguration`, `DeleteFunction`.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use faas_provider::{FunctionDeployment, FunctionStatus, ProviderError};
use http::StatusCode;
use http::request::Parts;
use serde_json::{Value, json};

use super::error::LambdaError;
use super::import::{self, Source};
use super::model::{
    self, ANNOTATION_DESCRIPTION, ANNOTATION_PACKAGE_TYPE, ANNOTATION_ROLE, ANNOTATION_RUNTIME,
};
use super::names;
use super::state::{ApiState, FunctionPath, Payload, Resolved, query_param};
use crate::GATEWAY_ANNOTATION;

/// Default and largest `MaxItems` of `ListFunctions`.
const DEFAULT_MAX_ITEMS: usize = 50;
const LARGEST_MAX_ITEMS: usize = 10_000;

/// `POST /2015-03-31/functions`.
pub(crate) async fn create(
    State(state): State<ApiState>,
    Payload(body): Payload,
) -> Result<Response, LambdaError> {
    let request: model::CreateFunction = model::parse_json(&body)?;
    let Some(raw_name) = request.function_name.as_deref() else {
        return Err(LambdaError::invalid("FunctionName is required"));
    };
    let target = state.resolve(raw_name)?;
    if target.qualifier.is_some() {
        return Err(LambdaError::invalid(
            "FunctionName of CreateFunction cannot have a qualifier",
        ));
    }
    let role = match request.role.as_deref().map(str::trim) {
        Some(role) if !role.is_empty() => role.to_string(),
        _ => return Err(LambdaError::invalid("Role is required")),
    };
    let Some(code) = request.code.as_ref() else {
        return Err(LambdaError::invalid("Code is required"));
    };
    let source = import::source(
        code,
        request.package_type.as_deref(),
        request.runtime.as_deref(),
    )?;
    let timeout = request
        .timeout
        .map(model::check_timeout)
        .transpose()?
        .unwrap_or(model::DEFAULT_TIMEOUT);
    let memory = request
        .memory_size
        .map(model::check_memory)
        .transpose()?
        .unwrap_or(model::DEFAULT_MEMORY);

    let mut spec = FunctionDeployment::new(target.function.name.clone(), String::new());
    spec.namespace = target.function.namespace.clone();
    let variables = request
        .environment
        .and_then(|e| e.variables)
        .unwrap_or_default();
    model::check_environment(&variables)?;
    model::set_environment(&mut spec, variables);
    model::set_timeout(&mut spec, timeout);
    model::set_memory(&mut spec, memory);
    model::set_annotation(&mut spec, ANNOTATION_ROLE, &role);
    if let Some(description) = &request.description {
        model::set_annotation(&mut spec, ANNOTATION_DESCRIPTION, description);
    }
    spec.labels = Some(Default::default());
    if let Some(tags) = &request.tags {
        model::add_tags(&mut spec, tags);
    }
    if spec.annotation(GATEWAY_ANNOTATION).is_none()
        && let Some(backend) = &state.config.default_backend
    {
        model::set_annotation(&mut spec, GATEWAY_ANNOTATION, backend);
    }
    spec.image = match source {
        Source::Image(image) => image,
        Source::Zip(zip) => {
            model::set_annotation(&mut spec, ANNOTATION_PACKAGE_TYPE, "Zip");
            if let Some(runtime) = &request.runtime {
                model::set_annotation(&mut spec, ANNOTATION_RUNTIME, runtime);
            }
            if let Some(handler) = &request.handler {
                model::set_handler(&mut spec, handler);
            }
            // Refuse a taken name before the import's build and push, not after.
            if state.provider.get(&target.function).await.is_ok() {
                return Err(LambdaError::from_provider(
                    ProviderError::function_exists(&target.function),
                    &target.arn,
                ));
            }
            let backend = spec.annotation(GATEWAY_ANNOTATION).map(str::to_string);
            import::image_of_zip(&state, &target.name, backend.as_deref(), &zip).await?
        }
    };
    state
        .provider
        .deploy(spec)
        .await
        .map_err(|e| LambdaError::from_provider(e, &target.arn))?;
    tracing::info!(function = %target.function, "Lambda API: function created");
    let status = state.status(&target).await?;
    Ok((
        StatusCode::CREATED,
        Json(model::configuration(&status, target.render())),
    )
        .into_response())
}

/// `GET /2015-03-31/functions/{name}`.
pub(crate) async fn get(
    State(state): State<ApiState>,
    FunctionPath(target): FunctionPath,
) -> Result<Json<Value>, LambdaError> {
    names::check_qualifier(target.qualifier.as_deref(), &target.arn)?;
    let status = state.status(&target).await?;
    Ok(Json(model::function(&status, target.render())))
}

/// `GET /2015-03-31/functions/{name}/configuration`.
pub(crate) async fn get_configuration(
    State(state): State<ApiState>,
    FunctionPath(target): FunctionPath,
) -> Result<Json<Value>, LambdaError> {
    names::check_qualifier(target.qualifier.as_deref(), &target.arn)?;
    let status = state.status(&target).await?;
    Ok(Json(model::configuration(&status, target.render())))
}

/// `GET /2015-03-31/functions[/]?Marker=&MaxItems=`: every namespace's functions, ordered by
/// Lambda name; `NextMarker` is the last name returned.
pub(crate) async fn list(
    State(state): State<ApiState>,
    parts: Parts,
) -> Result<Json<Value>, LambdaError> {
    let max_items = match query_param(&parts, "MaxItems") {
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=LARGEST_MAX_ITEMS).contains(n))
            .ok_or_else(|| {
                LambdaError::invalid(format!(
                    "MaxItems must be between 1 and {LARGEST_MAX_ITEMS}, not '{text}'"
                ))
            })?,
        None => DEFAULT_MAX_ITEMS,
    };
    let marker = query_param(&parts, "Marker").filter(|m| !m.is_empty());
    let default_namespace = state.default_namespace();
    let namespaces = state
        .provider
        .list_namespaces()
        .await
        .map_err(|e| LambdaError::from_provider(e, "functions"))?;
    let mut all: Vec<(Resolved, FunctionStatus)> = Vec::new();
    for namespace in namespaces {
        let statuses = state
            .provider
            .list(&namespace)
            .await
            .map_err(|e| LambdaError::from_provider(e, &format!("namespace {namespace}")))?;
        for status in statuses {
            let resolved = state.of_status(&status, &default_namespace);
            all.push((resolved, status));
        }
    }
    all.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    all.dedup_by(|a, b| a.0.name == b.0.name);
    let start = match &marker {
        Some(marker) => all.partition_point(|(r, _)| r.name.as_str() <= marker.as_str()),
        None => 0,
    };
    let page: Vec<&(Resolved, FunctionStatus)> = all.iter().skip(start).take(max_items).collect();
    let next = (start + page.len() < all.len())
        .then(|| page.last().map(|(r, _)| r.name.clone()))
        .flatten();
    let functions: Vec<Value> = page
        .iter()
        .map(|(resolved, status)| model::configuration(status, resolved.render()))
        .collect();
    let mut body = json!({ "Functions": functions });
    if let Some(next) = next {
        body["NextMarker"] = json!(next);
    }
    Ok(Json(body))
}

/// Applies `change` to the function's spec and updates it; answers its new configuration.
async fn update_with(
    state: &ApiState,
    target: &Resolved,
    change: impl FnOnce(&mut FunctionDeployment),
) -> Result<Json<Value>, LambdaError> {
    names::check_qualifier(target.qualifier.as_deref(), &target.arn)?;
    let status = state.status(target).await?;
    let mut spec = model::spec_of(&status);
    change(&mut spec);
    state
        .provider
        .update(spec)
        .await
        .map_err(|e| LambdaError::from_provider(e, &target.arn))?;
    let status = state.status(target).await?;
    Ok(Json(model::configuration(&status, target.render())))
}

/// `PUT /2015-03-31/functions/{name}/code`: a new image.
pub(crate) async fn update_code(
    State(state): State<ApiState>,
    FunctionPath(target): FunctionPath,
    Payload(body): Payload,
) -> Result<Json<Value>, LambdaError> {
    let request: model::UpdateCode = model::parse_json(&body)?;
    names::check_qualifier(target.qualifier.as_deref(), &target.arn)?;
    let status = state.status(&target).await?;
    let zip_runtime = status.annotation(ANNOTATION_RUNTIME).map(str::to_string);
    let source = match (&request.code.zip_file, &zip_runtime) {
        (Some(_), None) => {
            return Err(LambdaError::invalid(
                "the function is PackageType Image: update it with ImageUri, not ZipFile",
            ));
        }
        (None, Some(_)) => {
            // As Lambda: a function's package type does not change with its code.
            return Err(LambdaError::invalid(
                "the function is PackageType Zip: update it with ZipFile, not ImageUri",
            ));
        }
        (_, runtime) => import::source(&request.code, None, runtime.as_deref())?,
    };
    if request.dry_run == Some(true) {
        return Ok(Json(model::configuration(&status, target.render())));
    }
    let image = match source {
        Source::Image(image) => image,
        Source::Zip(zip) => {
            let backend = status.annotation(GATEWAY_ANNOTATION).map(str::to_string);
            import::image_of_zip(&state, &target.name, backend.as_deref(), &zip).await?
        }
    };
    update_with(&state, &target, |spec| spec.image = image).await
}

/// `PUT /2015-03-31/functions/{name}/configuration`: environment, memory, timeout, role,
/// description.
pub(crate) async fn update_configuration(
    State(state): State<ApiState>,
    FunctionPath(target): FunctionPath,
    Payload(body): Payload,
) -> Result<Json<Value>, LambdaError> {
    let request: model::UpdateConfiguration = model::parse_json(&body)?;
    let timeout = request.timeout.map(model::check_timeout).transpose()?;
    let memory = request.memory_size.map(model::check_memory).transpose()?;
    if request.role.as_deref().is_some_and(|r| r.trim().is_empty()) {
        return Err(LambdaError::invalid("Role cannot be empty"));
    }
    if let Some(variables) = request
        .environment
        .as_ref()
        .and_then(|e| e.variables.as_ref())
    {
        model::check_environment(variables)?;
    }
    update_with(&state, &target, |spec| {
        if let Some(environment) = request.environment {
            model::set_environment(spec, environment.variables.unwrap_or_default());
        }
        if let Some(timeout) = timeout {
            model::set_timeout(spec, timeout);
        }
        if let Some(memory) = memory {
            model::set_memory(spec, memory);
        }
        if let Some(role) = &request.role {
            model::set_annotation(spec, ANNOTATION_ROLE, role.trim());
        }
        if let Some(description) = &request.description {
            model::set_annotation(spec, ANNOTATION_DESCRIPTION, description);
        }
        if let Some(handler) = &request.handler {
            model::set_handler(spec, handler);
        }
    })
    .await
}

/// `DELETE /2015-03-31/functions/{name}`.
pub(crate) async fn delete(
    State(state): State<ApiState>,
    FunctionPath(target): FunctionPath,
) -> Result<StatusCode, LambdaError> {
    names::check_qualifier(target.qualifier.as_deref(), &target.arn)?;
    state
        .provider
        .delete(&target.function)
        .await
        .map_err(|e| LambdaError::from_provider(e, &target.arn))?;
    tracing::info!(function = %target.function, "Lambda API: function deleted");
    Ok(StatusCode::NO_CONTENT)
}
