//! The whole conformance suite against LambdaProvider in local mode: moto as the control plane,
//! the test images packaged for real (registry → flattened rootfs + static shim → zip) and run
//! by the Runtime API emulator, through the real server on a loopback socket. The invoke cases
//! read the `echo-request` image's real answers; local mode runs code, so the runtime cases run
//! the same image with `envProcess` `sh`. `suite!` runs strict.

#[path = "provider_common.rs"]
mod common;

use std::sync::Arc;

use conformance_tests::{EchoFunction, HttpTarget, ShellFunction, Target};
use faas_provider::Provider;

async fn local() -> Target {
    let setup = common::local_setup().await;
    let provider: Arc<dyn Provider> = Arc::new(setup.provider.clone());
    let (url, stop) = common::serve(provider.clone()).await;
    let image = setup.image(&test_support::images::ECHO_REQUEST);
    let echo = EchoFunction::watchdog(image.clone(), "");
    Target::from_provider(provider, echo)
        .with_shell(ShellFunction::sh(image))
        .with_http(HttpTarget::new(url))
        .keep_alive(stop)
        .keep_alive(setup)
}

conformance_tests::suite!(local);
