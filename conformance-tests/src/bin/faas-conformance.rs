//! `faas-conformance`: runs every conformance case against an OpenFaaS provider's REST API,
//! through `HttpProvider` and raw HTTP, like the OpenFaaS certifier but feature-gated. The
//! command line lives in [`conformance_tests::cli`].

use clap::Parser;
use conformance_tests::cli::{Args, run};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut out = std::io::stdout().lock();
    let report = run(&args, &mut out).await?;
    drop(out);
    if report.is_some_and(|r| !r.success()) {
        std::process::exit(1);
    }
    Ok(())
}
