//! The conformance suite against the federation over two memory backends: `local` (in-process)
//! and `remote` (a MemoryProvider served on 127.0.0.1 and reached through HttpProvider).
//!
//! - `default_local`: un-annotated functions (what the cases deploy) live in-process;
//! - `default_remote`: they live on the remote backend, so every case crosses the wire twice.
//!
//! Both serve the federation on a real socket too, enabling the raw-HTTP cases.

mod common;

use std::sync::Arc;

use conformance_tests::{EchoFunction, HttpTarget, Target};
use provider_memory::MemoryProvider;

async fn target(default: &str) -> Target {
    let remote = common::RemoteMemory::start().await;
    let federation =
        common::federation(Arc::new(MemoryProvider::new()), &remote.url(), default).await;
    let served = common::serve(federation.clone()).await;
    Target::from_provider(federation, EchoFunction::memory())
        .with_http(HttpTarget::new(served.url.clone()))
        .keep_alive(served)
        .keep_alive(remote)
}

async fn default_local() -> Target {
    target("local").await
}

async fn default_remote() -> Target {
    target("remote").await
}

mod default_local {
    conformance_tests::suite!(super::default_local);
}

mod default_remote {
    conformance_tests::suite!(super::default_remote);
}
