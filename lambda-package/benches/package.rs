//! Packaging benchmark, one run, loopback only: a ~100 MB image (incompressible, compressible
//! and many small files across 3 gzip layers) in a local registry, packaged by the
//! `faas-lambda` CLI (a child process, so its peak RSS is its own `VmHWM`) against the
//! baseline of fetching the same layer blobs, `tar -xzf` each into a directory and
//! `zip -qry -6` of the result (Info-ZIP, same deflate level). Rounds alternate; medians are
//! compared. Goals: time ratio ≤ 1.5, peak RSS ≤ 64 MiB whatever the image size.
//!
//! `cargo bench -p lambda-package --bench package -- [--size-mb N] [--rounds N]`
//! (`tests/bench_smoke.rs` runs it tiny so it cannot rot).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use oci_client::manifest::OciDescriptor;
use test_support::Registry;
use test_support::oci::{ImageConfig, LayerBuilder};
use test_support::oci_index::{LayerCompression, RawImage, RawLayer, push_raw};

/// What to measure.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Uncompressed bytes of file data in the image.
    pub total_bytes: u64,
    /// Rounds of (packager, baseline).
    pub rounds: usize,
}

/// What was measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// Uncompressed file bytes in the image.
    pub image_bytes: u64,
    /// Compressed layer bytes.
    pub layer_bytes: u64,
    /// The packager's zip size.
    pub zipped_bytes: u64,
    /// The baseline zip size.
    pub baseline_zipped_bytes: u64,
    /// Wall time of each packager run.
    pub packager: Vec<Duration>,
    /// Wall time of each baseline run.
    pub baseline: Vec<Duration>,
    /// The packager's peak RSS (largest over rounds), KiB.
    pub peak_rss_kib: u64,
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

impl Report {
    /// Packager median time / baseline median time.
    pub fn ratio(&self) -> f64 {
        median(&self.packager).as_secs_f64() / median(&self.baseline).as_secs_f64()
    }

    /// A table.
    pub fn render(&self) -> String {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        let times = |t: &[Duration]| {
            t.iter()
                .map(|d| format!("{:.3}s", d.as_secs_f64()))
                .collect::<Vec<_>>()
                .join(" ")
        };
        format!(
            "image      {:.1} MiB of files, {:.1} MiB of gzip layers (3 layers)\n\
             packager   median {:.3}s  [{}]  zip {:.1} MiB  peak RSS {:.1} MiB (goal <= 64)\n\
             baseline   median {:.3}s  [{}]  zip {:.1} MiB  (fetch + tar -xzf + zip -qry -6)\n\
             RATIO      packager/baseline {:.2}x (goal <= 1.5)\n",
            mib(self.image_bytes),
            mib(self.layer_bytes),
            median(&self.packager).as_secs_f64(),
            times(&self.packager),
            mib(self.zipped_bytes),
            self.peak_rss_kib as f64 / 1024.0,
            median(&self.baseline).as_secs_f64(),
            times(&self.baseline),
            mib(self.baseline_zipped_bytes),
            self.ratio(),
        )
    }
}

/// xorshift64*: reproducible bytes without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn random(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(len);
        out
    }

    fn text(&mut self, len: usize) -> Vec<u8> {
        const WORDS: &[&str] = &[
            "function", "lambda", "image", "layer", "registry", "watchdog", "request", "response",
            "the", "of", "and", "to", "in", "provider", "openfaas", "zip",
        ];
        let mut out = Vec::with_capacity(len + 32);
        while out.len() < len {
            let word = WORDS[(self.next() % WORDS.len() as u64) as usize];
            out.extend_from_slice(word.as_bytes());
            out.push(if self.next() % 12 == 0 { b'\n' } else { b' ' });
            if self.next() % 40 == 0 {
                out.extend_from_slice(format!("{} ", self.next() % 100_000).as_bytes());
            }
        }
        out.truncate(len);
        out
    }
}

/// Three layers: 40% incompressible files, 40% text files, 20% small mixed files.
fn build_image(total: u64) -> (RawImage, u64) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut bytes = 0u64;
    let big = (total / 50).clamp(4096, 2 << 20) as usize;

    let mut random = LayerBuilder::new("bench: incompressible");
    random.dir("/opt", 0o755).dir("/opt/blobs", 0o755);
    let mut i = 0;
    while bytes < total * 2 / 5 {
        random.file(
            &format!("/opt/blobs/blob{i:04}.bin"),
            0o644,
            &rng.random(big),
        );
        bytes += big as u64;
        i += 1;
    }

    let mut text = LayerBuilder::new("bench: compressible");
    text.dir("/usr", 0o755)
        .dir("/usr/share", 0o755)
        .dir("/usr/share/doc", 0o755);
    let mut i = 0;
    while bytes < total * 4 / 5 {
        text.file(
            &format!("/usr/share/doc/text{i:04}.txt"),
            0o644,
            &rng.text(big),
        );
        bytes += big as u64;
        i += 1;
    }

    let mut small = LayerBuilder::new("bench: small files");
    small.dir("/app", 0o755);
    let mut i = 0;
    while bytes < total {
        if i % 100 == 0 {
            small.dir(&format!("/app/d{:03}", i / 100), 0o755);
        }
        let len = 4096 + (rng.next() % 12_288) as usize;
        let data = if i % 3 == 0 {
            rng.random(len)
        } else {
            rng.text(len)
        };
        let mode = if i % 10 == 0 { 0o755 } else { 0o644 };
        small.file(&format!("/app/d{:03}/f{i:05}", i / 100), mode, &data);
        bytes += len as u64;
        i += 1;
    }

    let layers = [random, text, small]
        .into_iter()
        .map(|l| RawLayer::from_builder(l, LayerCompression::Gzip))
        .collect();
    let config = ImageConfig {
        cmd: vec!["/app/d000/f00000".into()],
        ..Default::default()
    };
    (RawImage::new("amd64", None, &config, layers), bytes)
}

fn run_checked(cmd: &mut Command) -> anyhow::Result<String> {
    let output = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !output.status.success() {
        bail!(
            "{cmd:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Info-ZIP's `zip`, installed with apt-get when missing.
fn zip_tool() -> anyhow::Result<PathBuf> {
    let find = || {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join("zip"))
                .find(|p| p.is_file())
        })
    };
    if let Some(zip) = find() {
        return Ok(zip);
    }
    let status = Command::new("apt-get")
        .args(["install", "-y", "--no-install-recommends", "zip"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("running apt-get to install zip")?;
    ensure!(status.success(), "apt-get install zip failed ({status})");
    find().context("zip is still missing after apt-get install zip")
}

/// Fetch every layer blob, untar each in order, zip the tree.
async fn baseline(
    client: &oci_client::Client,
    reference: &oci_client::Reference,
    image: &RawImage,
    dir: &Path,
    zip: &Path,
) -> anyhow::Result<(Duration, u64)> {
    let root = dir.join("rootfs");
    std::fs::create_dir_all(&root)?;
    let out = dir.join("baseline.zip");
    let start = Instant::now();
    for (i, layer) in image.layers.iter().enumerate() {
        let path = dir.join(format!("layer{i}.tar.gz"));
        let file = tokio::fs::File::create(&path).await?;
        let descriptor = OciDescriptor {
            media_type: layer.media_type.clone(),
            digest: layer.blob.digest.clone(),
            size: layer.blob.size() as i64,
            ..Default::default()
        };
        client
            .pull_blob(reference, &descriptor, file)
            .await
            .context("fetching a layer")?;
        run_checked(
            Command::new("tar")
                .arg("-xzf")
                .arg(&path)
                .arg("-C")
                .arg(&root),
        )?;
    }
    run_checked(
        Command::new(zip)
            .current_dir(&root)
            .args(["-qry", "-6"])
            .arg(&out)
            .arg("."),
    )?;
    let elapsed = start.elapsed();
    let size = std::fs::metadata(&out)?.len();
    std::fs::remove_dir_all(&root)?;
    Ok((elapsed, size))
}

/// Package with the CLI; returns the time, zip size and the CLI's reported peak RSS.
fn packager(reference: &str, registry: &str, dir: &Path) -> anyhow::Result<(Duration, u64, u64)> {
    let out = dir.join("fn.zip");
    let start = Instant::now();
    let stdout = run_checked(
        Command::new(env!("CARGO_BIN_EXE_faas-lambda"))
            .args([
                "package",
                reference,
                "--quiet",
                "--insecure-registry",
                registry,
            ])
            .arg("-o")
            .arg(&out)
            .arg("--bootstrap")
            .arg(test_support::assets::static_bootstrap())
            .arg("--work-dir")
            .arg(dir)
            // The bench measures speed: lift Lambda's direct-upload cap.
            .args(["--max-zipped-bytes", "10000000000"]),
    )?;
    let elapsed = start.elapsed();
    let rss = stdout
        .lines()
        .find_map(|l| l.strip_prefix("peak RSS"))
        .and_then(|rest| {
            rest.rsplit_once('(')?
                .1
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .with_context(|| format!("no peak RSS in the CLI output:\n{stdout}"))?;
    Ok((elapsed, std::fs::metadata(&out)?.len(), rss))
}

/// Build, push, measure.
pub async fn run(settings: &Settings) -> anyhow::Result<Report> {
    let zip = zip_tool()?;
    // Built before timing starts (the packager's bootstrap).
    test_support::assets::static_bootstrap();
    let registry = Registry::start();
    let (image, image_bytes) = tokio::task::spawn_blocking({
        let total = settings.total_bytes;
        move || build_image(total)
    })
    .await?;
    let reference = format!("{}/bench/package:1", registry.host());
    let client = test_support::push::oci_client();
    push_raw(&client, &reference, &registry.auth(), &image).await?;
    let parsed: oci_client::Reference = reference.parse()?;
    let dir = tempfile::tempdir()?;
    let mut report = Report {
        image_bytes,
        layer_bytes: image.layers.iter().map(|l| l.blob.size()).sum(),
        zipped_bytes: 0,
        baseline_zipped_bytes: 0,
        packager: Vec::new(),
        baseline: Vec::new(),
        peak_rss_kib: 0,
    };
    for _ in 0..settings.rounds.max(1) {
        let host = registry.host();
        let (time, size, rss) = tokio::task::spawn_blocking({
            let reference = reference.clone();
            let dir = dir.path().to_path_buf();
            move || packager(&reference, &host, &dir)
        })
        .await??;
        report.packager.push(time);
        report.zipped_bytes = size;
        report.peak_rss_kib = report.peak_rss_kib.max(rss);
        let (time, size) = baseline(&client, &parsed, &image, dir.path(), &zip).await?;
        report.baseline.push(time);
        report.baseline_zipped_bytes = size;
    }
    Ok(report)
}

#[allow(dead_code)]
fn main() -> anyhow::Result<()> {
    let mut settings = Settings {
        total_bytes: 100 << 20,
        rounds: 3,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--size-mb" => {
                settings.total_bytes = args.next().context("--size-mb N")?.parse::<u64>()? << 20
            }
            "--rounds" => settings.rounds = args.next().context("--rounds N")?.parse()?,
            // cargo bench passes --bench; ignore it and other harness flags.
            _ => {}
        }
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(run(&settings))?;
    print!("{}", report.render());
    Ok(())
}
