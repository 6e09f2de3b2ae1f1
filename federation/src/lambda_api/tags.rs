//! `TagResource` / `UntagResource` / `ListTags` on a function ARN: tags are the function's
//! labels, and the tag `com.openfaas.federation.gateway` is the annotation that names its
//! backend (changing it moves the function, as it does through the OpenFaaS API).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use http::request::Parts;
use serde_json::{Value, json};

use super::error::LambdaError;
use super::model;
use super::state::{ApiState, FunctionPath, Payload, query_params};

/// Lambda's bound on the tags of one function.
const MAX_TAGS: usize = 50;

async fn retag(
    state: &ApiState,
    target: &super::state::Resolved,
    change: impl FnOnce(&mut faas_provider::FunctionDeployment),
) -> Result<(), LambdaError> {
    let status = state.status(target).await?;
    let mut spec = model::spec_of(&status);
    change(&mut spec);
    state
        .provider
        .update(spec)
        .await
        .map_err(|e| LambdaError::from_provider(e, &target.arn))
}

/// `POST /2017-03-31/tags/{arn}`.
pub(crate) async fn tag(
    State(state): State<ApiState>,
    FunctionPath(target): FunctionPath,
    Payload(body): Payload,
) -> Result<StatusCode, LambdaError> {
    let request: model::TagResource = model::parse_json(&body)?;
    let tags: BTreeMap<String, String> = request.tags.unwrap_or_default();
    if tags.is_empty() {
        return Err(LambdaError::invalid("Tags is required"));
    }
    if tags.len() > MAX_TAGS {
        return Err(LambdaError::invalid(format!(
            "a function has at most {MAX_TAGS} tags"
        )));
    }
    retag(&state, &target, |spec| model::add_tags(spec, &tags)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /2017-03-31/tags/{arn}?tagKeys=a&tagKeys=b`.
pub(crate) async fn untag(
    State(state): State<ApiState>,
    parts: Parts,
    FunctionPath(target): FunctionPath,
) -> Result<StatusCode, LambdaError> {
    let keys = query_params(&parts, "tagKeys");
    if keys.is_empty() {
        return Err(LambdaError::invalid("TagKeys is required"));
    }
    retag(&state, &target, |spec| model::remove_tags(spec, &keys)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /2017-03-31/tags/{arn}`.
pub(crate) async fn list(
    State(state): State<ApiState>,
    FunctionPath(target): FunctionPath,
) -> Result<Json<Value>, LambdaError> {
    let status = state.status(&target).await?;
    Ok(Json(json!({ "Tags": model::tags_of(&status) })))
}
