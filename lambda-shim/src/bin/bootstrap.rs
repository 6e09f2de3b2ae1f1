//! The Lambda `bootstrap` of a packaged OpenFaaS image: speaks the Runtime API and runs the
//! image's function from `$LAMBDA_TASK_ROOT/rootfs` through the watchdog executor. See
//! `lambda_shim::runtime`.

use anyhow::Context as _;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    lambda_shim::runtime::main_from_env()
        .await
        .context("bootstrap stopped")
}
