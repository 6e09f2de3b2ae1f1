//! Test fixtures for the workspace, and the one place that starts real services.
//!
//! - [`oci`]: a reproducible OCI / Docker v2s2 image writer (tar + gzip layers, whiteouts,
//!   configs, manifests).
//! - [`images`]: the test function images (static `fwatchdog` + busybox) as stable constants,
//!   e.g. [`images::ECHO`], built with [`images::build_all`].
//! - [`middlewares`]: three Serverless Open Runtime middlewares as busybox scripts (a response
//!   header, a CloudEvents envelope, an HMAC check), used by [`images::MIDDLEWARE`] and
//!   [`images::MIDDLEWARES_LAYER`].
//! - [`assets`]: the static `fwatchdog` build ([`assets::static_fwatchdog`], cached in
//!   `target/static`), busybox, the dynamically linked fixture program.
//! - [`Registry`]: a real distribution registry on a free 127.0.0.1 port (optionally with basic
//!   auth), stopped on drop.
//! - [`engine_floor`]: watchdog containers run straight on the engine (created, started,
//!   paused), the engine-only floor the warm-pool benchmarks measure a wake beside.
//! - [`docker_engine`]: a Docker Engine (`DOCKER_HOST`, or a private `dockerd` started as root),
//!   shared per process, stopped and cleaned when the last handle drops.
//! - [`push`]: push the images with oci-client, `docker load` / `docker pull` them with bollard.
//! - [`moto`]: a moto server (the Lambda control plane) on a free 127.0.0.1 port, installed into
//!   `target/moto-venv` when missing, stopped on drop.
//! - [`boto3`]: boto3 (the AWS SDK for Python) installed into `target/boto3-venv`, a real
//!   client of the federation's Lambda API.
//! - [`nats`]: a NATS server with JetStream on a free 127.0.0.1 port (file store in a temp dir),
//!   restartable on the same port and store, stopped on drop.
//! - [`sandbox`]: Lambda task dirs built from the test images (static `bootstrap` + rootfs +
//!   `faas-launch.json`), the busybox-only sandbox image, and cargo-lambda's Runtime API
//!   emulator (installed into `target/cargo-lambda-venv`).
//!
//! A service that cannot start is a panic with its log tail, never a skip.
//!
//! ```no_run
//! # async fn demo() {
//! use test_support::{images, push, docker_engine, Registry};
//! let registry = Registry::start();
//! let pushed = push::push_all(&registry.host(), &registry.auth(), images::build_all())
//!     .await
//!     .unwrap();
//! let engine = docker_engine();
//! let docker = engine.client().await;
//! push::docker_pull(&docker, &pushed[0].by_digest()).await.unwrap();
//! # }
//! ```

pub mod archive;
pub mod assets;
pub mod boto3;
mod docker;
pub mod engine_floor;
pub mod images;
pub mod middlewares;
pub mod moto;
pub mod nats;
pub mod net;
pub mod oci;
pub mod oci_index;
mod process;
pub mod push;
pub mod pypi;
mod registry;
pub mod sandbox;

pub use docker::{DockerEngine, docker_engine, labelled_containers, remove_labelled_blocking};
pub use registry::Registry;
