//! Replicas through the `Provider` trait (the OpenFaaS `/system/scale-function/{name}` route):
//! scale up and down, to zero and back.

use faas_provider::ProviderError;
use http::Method;

use crate::harness::{
    Call, Cleanup, deploy_echo, describe, describe_result, in_default, invoke, invoke_echo,
    is_no_endpoint, summary, unique_name, wait_for_status, wait_ready,
};
use crate::outcome::{Context, Outcome};
use crate::target::Target;
use crate::{ensure, ensure_eq, skip};

/// Scaling up reaches the replica count (desired at once, available eventually); scaling down
/// follows; availableReplicas never exceeds replicas on the way.
pub async fn scale_up_and_down(t: &Target) -> Outcome {
    let high = t.caps.max_replicas.unwrap_or(3).min(3);
    if high < 2 {
        skip!("max_replicas is below 2");
    }
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    t.provider
        .scale(&function, high)
        .await
        .context(format!("scale to {high}"))?;
    let status = wait_for_status(t, &function, &format!("replicas == {high}"), |s| {
        s.replicas == high
    })
    .await?;
    ensure!(
        status.available_replicas <= high,
        "availableReplicas {} > replicas {high}",
        status.available_replicas
    );
    wait_for_status(t, &function, &format!("availableReplicas == {high}"), |s| {
        s.available_replicas == high
    })
    .await?;
    t.provider.scale(&function, 1).await.context("scale to 1")?;
    wait_for_status(
        t,
        &function,
        "replicas == 1 and availableReplicas == 1",
        |s| s.replicas == 1 && s.available_replicas == 1,
    )
    .await?;
    invoke_echo(t, &function, Call::new(Method::GET)).await?;
    Ok(())
}

/// Every status read while scaling reports availableReplicas ≤ replicas.
pub async fn available_replicas_never_exceed_replicas(t: &Target) -> Outcome {
    let high = t.caps.max_replicas.unwrap_or(4).min(4);
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    let mut samples = 0usize;
    for target in [high, 1, high, 1] {
        t.provider
            .scale(&function, target)
            .await
            .context(format!("scale to {target}"))?;
        let what = format!("replicas == {target} (all ready)");
        let reached = wait_for_status(t, &function, &what, |s| {
            s.replicas == target && s.available_replicas == target
        });
        // Sample while converging: each read must be consistent.
        let mut poll = std::pin::pin!(reached);
        loop {
            tokio::select! {
                done = &mut poll => { done?; break; }
                status = async {
                    tokio::time::sleep(std::time::Duration::from_millis(25)).await;
                    t.provider.get(&function).await
                } => {
                    let status = status.context("get while scaling")?;
                    samples += 1;
                    ensure!(
                        status.available_replicas <= status.replicas,
                        "inconsistent status while scaling to {target}: {}", summary(&status)
                    );
                }
            }
        }
    }
    let status = t.provider.get(&function).await.context("get")?;
    ensure!(
        status.available_replicas <= status.replicas,
        "inconsistent final status: {} (after {samples} samples)",
        summary(&status)
    );
    let list = t.provider.list(&function.namespace).await.context("list")?;
    for status in list {
        ensure!(
            status.available_replicas <= status.replicas,
            "list entry {} is inconsistent: {}",
            status.name,
            summary(&status)
        );
    }
    Ok(())
}

/// Scaling a function that does not exist is `NotFound`.
pub async fn scale_missing_is_not_found(t: &Target) -> Outcome {
    let function = in_default(t, &unique_name());
    let result = t.provider.scale(&function, 1).await;
    ensure!(
        matches!(result, Err(ProviderError::NotFound { .. })),
        "scale of missing {function}: expected NotFound, got {}",
        describe_result(&result)
    );
    Ok(())
}

/// The scale-from-zero contract the OpenFaaS gateway relies on: at 0 replicas the status says
/// 0/0 and invoking answers "no endpoint" (503) — or, when the target wakes functions from zero
/// ([`Target::wakes_from_zero`]), answers the echo and leaves at least one available replica;
/// scaling back to 1 makes it ready and invocable again.
pub async fn scale_to_zero_and_back(t: &Target) -> Outcome {
    if !t.caps.scale_to_zero {
        skip!("scale_to_zero is not declared");
    }
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    t.provider.scale(&function, 0).await.context("scale to 0")?;
    let status = wait_for_status(
        t,
        &function,
        "replicas == 0 and availableReplicas == 0",
        |s| s.replicas == 0 && s.available_replicas == 0,
    )
    .await?;
    ensure_eq!(status.replicas, 0, "replicas at zero");
    let ready = t.provider.ready(&function).await.context("ready at zero")?;
    ensure!(!ready, "ready() is true with 0 replicas");
    if t.wakes_from_zero {
        let echo = invoke_echo(t, &function, Call::new(Method::GET)).await?;
        ensure_eq!(
            echo.method,
            "GET",
            "method echoed by the invocation at 0 replicas"
        );
        wait_for_status(
            t,
            &function,
            "availableReplicas >= 1 after the wake-up",
            |s| s.available_replicas >= 1,
        )
        .await?;
    } else {
        let result = invoke(t, &function, Call::new(Method::GET)).await?;
        ensure!(
            is_no_endpoint(&result),
            "invoke at 0 replicas: expected NotReady / 503, got {}",
            describe(&result)
        );
    }
    t.provider
        .scale(&function, 1)
        .await
        .context("scale back to 1")?;
    wait_ready(t, &function).await?;
    let echo = invoke_echo(t, &function, Call::new(Method::GET)).await?;
    ensure_eq!(echo.method, "GET", "method echoed after scaling from zero");
    Ok(())
}

/// A replica count above `max_replicas` is refused or clamped, never exceeded.
pub async fn scale_above_max_replicas_is_bounded(t: &Target) -> Outcome {
    let Some(max) = t.caps.max_replicas else {
        skip!("the provider declares no max_replicas");
    };
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    let result = t.provider.scale(&function, max + 1).await;
    let status = t.provider.get(&function).await.context("get")?;
    ensure!(
        status.replicas <= max,
        "scale to {} (max {max}) answered {} and now replicas = {}",
        max + 1,
        describe_result(&result),
        status.replicas
    );
    if let Err(e) = &result {
        ensure!(
            matches!(e, ProviderError::InvalidRequest(_)),
            "scale above max: expected Ok (clamped) or InvalidRequest, got {e:?}"
        );
    }
    Ok(())
}
