//! Reserved concurrency ↔ replicas, the mapping provider-lambda uses the other way round:
//! `PutFunctionConcurrency(n)` scales to `n` replicas (0 stops every replica: invokes are then
//! throttled, as a reservation of 0 throttles them in Lambda), `GetFunctionConcurrency` reports
//! the replica count (every OpenFaaS function has one, so there is always a value), and
//! `DeleteFunctionConcurrency` scales back to the function's default: its
//! `com.openfaas.scale.min` label, else 1.

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use serde_json::{Value, json};

use super::error::LambdaError;
use super::model;
use super::state::{ApiState, FunctionPath, Payload};

/// `PUT /2017-10-31/functions/{name}/concurrency`.
pub(crate) async fn put(
    State(state): State<ApiState>,
    FunctionPath(target): FunctionPath,
    Payload(body): Payload,
) -> Result<Json<Value>, LambdaError> {
    let request: model::Concurrency = model::parse_json(&body)?;
    let Some(reserved) = request.reserved_concurrent_executions else {
        return Err(LambdaError::invalid(
            "ReservedConcurrentExecutions is required",
        ));
    };
    let replicas = u64::try_from(reserved).map_err(|_| {
        LambdaError::invalid(format!(
            "1 validation error detected: Value '{reserved}' at 'reservedConcurrentExecutions' \
             failed to satisfy constraint: Member must have value greater than or equal to 0"
        ))
    })?;
    state
        .provider
        .scale(&target.function, replicas)
        .await
        .map_err(|e| LambdaError::from_provider(e, &target.arn))?;
    Ok(Json(json!({ "ReservedConcurrentExecutions": replicas })))
}

/// `GET /2019-09-30/functions/{name}/concurrency`.
pub(crate) async fn get(
    State(state): State<ApiState>,
    FunctionPath(target): FunctionPath,
) -> Result<Json<Value>, LambdaError> {
    let status = state.status(&target).await?;
    Ok(Json(
        json!({ "ReservedConcurrentExecutions": status.replicas }),
    ))
}

/// `DELETE /2017-10-31/functions/{name}/concurrency`.
pub(crate) async fn delete(
    State(state): State<ApiState>,
    FunctionPath(target): FunctionPath,
) -> Result<StatusCode, LambdaError> {
    let status = state.status(&target).await?;
    let replicas = model::spec_of(&status).min_replicas();
    state
        .provider
        .scale(&target.function, replicas)
        .await
        .map_err(|e| LambdaError::from_provider(e, &target.arn))?;
    Ok(StatusCode::NO_CONTENT)
}
