//! `test-images`: build the test function images, push them to a registry, or load them into a
//! Docker Engine.
//!
//! ```text
//! test-images list
//! test-images build --out DIR              # OCI image layout + docker-archive.tar
//! test-images push --registry 127.0.0.1:5000 [--user U --password P]
//! test-images docker-load [--docker-host unix:///…] [--registry 127.0.0.1:5000]
//! ```

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use oci_client::secrets::RegistryAuth;
use test_support::{archive, images, push};

#[derive(Parser)]
#[command(about = "Build, push or load the faas-rs test function images")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// List the images.
    List,
    /// Write every image as an OCI image layout, plus a docker-archive tarball.
    Build {
        /// Output directory (created).
        #[arg(long)]
        out: PathBuf,
    },
    /// Push every image (OCI manifest as TAG, Docker v2s2 as TAG-v2s2).
    Push {
        /// Registry host:port on 127.0.0.0/8 (plain HTTP).
        #[arg(long)]
        registry: String,
        /// Basic-auth user.
        #[arg(long, requires = "password")]
        user: Option<String>,
        /// Basic-auth password.
        #[arg(long, requires = "user")]
        password: Option<String>,
    },
    /// `docker load` every image (tagged NAME:TAG, and REGISTRY/NAME:TAG with --registry).
    DockerLoad {
        /// Docker host (default: $DOCKER_HOST, else unix:///var/run/docker.sock).
        #[arg(long)]
        docker_host: Option<String>,
        /// Also tag the images as if pulled from this registry.
        #[arg(long)]
        registry: Option<String>,
    },
}

fn loopback_only(registry: &str) -> anyhow::Result<()> {
    let host = registry.rsplit_once(':').map_or(registry, |(h, _)| h);
    let ip: std::net::IpAddr = host
        .parse()
        .with_context(|| format!("registry {registry:?}: use an IP address on 127.0.0.0/8"))?;
    if !ip.is_loopback() {
        bail!("registry {registry}: only loopback registries are supported (plain HTTP)");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Cmd::List => {
            for image in images::ALL {
                println!("{}:{}\t{}", image.name, image.tag, image.summary);
            }
        }
        Cmd::Build { out } => {
            let built = images::build_all();
            let index = archive::write_oci_layout(&out, built)
                .with_context(|| format!("writing {}", out.display()))?;
            let tagged: Vec<_> = built
                .iter()
                .map(|b| (&b.content, vec![b.image.local_reference()]))
                .collect();
            let tarball = out.join("docker-archive.tar");
            std::fs::write(&tarball, archive::docker_archive(&tagged))
                .with_context(|| format!("writing {}", tarball.display()))?;
            for b in built {
                println!(
                    "{}\t{}",
                    b.image.local_reference(),
                    b.content.oci_manifest.digest
                );
            }
            println!(
                "index {} ; docker archive {}",
                index.digest,
                tarball.display()
            );
        }
        Cmd::Push {
            registry,
            user,
            password,
        } => {
            loopback_only(&registry)?;
            let auth = match (user, password) {
                (Some(u), Some(p)) => RegistryAuth::Basic(u, p),
                _ => RegistryAuth::Anonymous,
            };
            for pushed in push::push_all(&registry, &auth, images::build_all()).await? {
                println!("{}\t{}", pushed.reference, pushed.by_digest());
                println!("{}\t{}", pushed.docker_reference, pushed.docker_digest);
            }
        }
        Cmd::DockerLoad {
            docker_host,
            registry,
        } => {
            let host = docker_host
                .or_else(|| std::env::var("DOCKER_HOST").ok())
                .unwrap_or_else(|| "unix:///var/run/docker.sock".into());
            let docker = bollard::Docker::connect_with_host(&host)
                .with_context(|| format!("connecting to {host}"))?
                .negotiate_version()
                .await
                .with_context(|| format!("negotiating the API version with {host}"))?;
            let tags = push::docker_load(&docker, images::build_all(), registry.as_deref()).await?;
            for tag in tags {
                println!("{tag}");
            }
        }
    }
    Ok(())
}
