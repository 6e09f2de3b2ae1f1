//! Shared by the provider's test files (included with `#[path]`): a moto-backed provider and a
//! packager that writes a given zip without pulling any image.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_lambda::config::Credentials;
use faas_provider::Result;
use provider_lambda::provider::{Arch, PackageRequest, Packaged, Packager, Parts};
use provider_lambda::{LambdaConfig, LambdaProvider};
use test_support::moto::{ACCESS_KEY, Moto, SECRET_KEY};

/// The smallest valid zip: an empty archive (just the end-of-central-directory record).
pub const EMPTY_ZIP: [u8; 22] = [
    0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// Writes an empty zip (or a sparse file of `size` bytes, to exercise size limits) instead of
/// packaging an image; reports the requested architecture (x86_64 by default).
#[derive(Debug, Clone, Default)]
pub struct FakePackager {
    pub size: Option<u64>,
}

#[async_trait]
impl Packager for FakePackager {
    async fn package(&self, image: &str, request: &PackageRequest, out: &Path) -> Result<Packaged> {
        match self.size {
            Some(size) => {
                let file = std::fs::File::create(out).unwrap();
                file.set_len(size).unwrap();
            }
            None => std::fs::write(out, EMPTY_ZIP).unwrap(),
        }
        Ok(Packaged {
            zipped_bytes: std::fs::metadata(out).unwrap().len(),
            architecture: request.architecture.unwrap_or(Arch::X86_64),
            image_digest: format!("sha256:fake-{image}"),
        })
    }
}

/// AWS configuration for `moto`: its endpoint, region and static credentials (no process env).
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_lambda::config::Region::new(
            test_support::moto::REGION,
        ))
        .credentials_provider(Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "test"))
        .load()
        .await
}

/// The provider's configuration against `moto`: its role, fast polling bounds.
pub fn config(moto: &Moto) -> LambdaConfig {
    let mut config = LambdaConfig::new(moto.role_arn());
    config.ready_timeout = std::time::Duration::from_secs(60);
    config
}

/// A provider on moto (control plane and invoke), with `packager`.
pub async fn provider_with(
    moto: &Moto,
    config: LambdaConfig,
    packager: Arc<dyn Packager>,
) -> LambdaProvider {
    let sdk = sdk_config(&moto.url()).await;
    LambdaProvider::aws(config, &sdk, packager)
}

/// A provider on moto with the fake packager.
pub async fn provider(moto: &Moto) -> LambdaProvider {
    provider_with(moto, config(moto), Arc::new(FakePackager::default())).await
}

/// A provider whose control plane and secrets are moto but whose invocations go to `invoker`.
pub async fn provider_invoking(
    moto: &Moto,
    invoker: Arc<dyn provider_lambda::provider::Invoker>,
) -> LambdaProvider {
    let sdk = sdk_config(&moto.url()).await;
    let config = config(moto);
    LambdaProvider::from_parts(
        config.clone(),
        Parts {
            lambda: provider_lambda::provider::lambda_client(&sdk, &config),
            secrets: provider_lambda::provider::secrets_client(&sdk, &config),
            invoker,
            packager: Arc::new(FakePackager::default()),
            orchestration: "lambda",
        },
    )
}

/// Local mode on moto, packaging the real test images from a loopback registry with the real
/// static shim; emulators run the zips as child processes. Everything stops on drop.
pub struct LocalSetup {
    pub provider: LambdaProvider,
    pub registry: test_support::Registry,
    pub moto: Moto,
    pub cache: tempfile::TempDir,
}

impl LocalSetup {
    /// The reference of a test image in this setup's registry.
    pub fn image(&self, image: &test_support::images::TestImage) -> String {
        image.reference(&self.registry.host())
    }
}

/// Starts moto and a registry, pushes the test images, builds the static shim.
pub async fn local_setup() -> LocalSetup {
    let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
    let registry = tokio::task::spawn_blocking(test_support::Registry::start)
        .await
        .unwrap();
    let images = tokio::task::spawn_blocking(test_support::images::build_all)
        .await
        .unwrap();
    test_support::push::push_all(&registry.host(), &registry.auth(), images)
        .await
        .expect("pushing the test images");
    let bootstrap = tokio::task::spawn_blocking(test_support::assets::static_bootstrap)
        .await
        .unwrap();
    let mut config = config(&moto);
    config.bootstrap_x86_64 = Some(bootstrap.to_path_buf());
    config.insecure_registries = vec![registry.host()];
    let sdk = sdk_config(&moto.url()).await;
    let packager = Arc::new(provider_lambda::provider::ImagePackager::from_config(
        &config,
    ));
    let cache = tempfile::tempdir().expect("code cache");
    let provider = LambdaProvider::local(
        config,
        &sdk,
        packager,
        provider_lambda::local::LocalOptions::new(cache.path()),
    );
    LocalSetup {
        provider,
        registry,
        moto,
        cache,
    }
}

/// Serves `provider` on a loopback port: `(base URL, shutdown sender)`.
pub async fn serve(
    provider: Arc<dyn faas_provider::Provider>,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let url = format!("http://{}", listener.local_addr().expect("local address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        faas_provider::server::serve(
            listener,
            provider,
            &faas_provider::ServerConfig::default(),
            shutdown,
        )
        .await
        .expect("the provider server failed");
    });
    (url, stop)
}
