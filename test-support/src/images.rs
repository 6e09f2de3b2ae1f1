//! The test function images: the static `fwatchdog` + busybox, configured like the OpenFaaS
//! certifier's functions. Names and tags are stable constants; contents are built from this repo
//! (plus the host's busybox-static and, for [`DYNAMIC`], the host's C compiler and glibc).
//!
//! Every image: `Entrypoint ["/usr/bin/fwatchdog"]`, `WorkingDir /home/app`, `ExposedPorts
//! 8080/tcp`, `Env [PATH=/usr/local/bin:/usr/bin:/bin, fprocess=…, mode=…]`; `/bin` holds busybox
//! and its applet links (`sh`, `cat`, `env`, `sha512sum`, `sleep`, `httpd`...), `/tmp` is 1777,
//! `/etc/passwd` knows `root`, `app` (1000) and `nobody`. Run a container with env `port=<free
//! port>` and `bind_address=127.0.0.1` on the host network.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::assets::{self, DynamicFile};
use crate::middlewares;
use crate::oci::{Image, ImageConfig, Layer, LayerBuilder};

/// Tag of every test image (bump when an image's behaviour changes).
pub const TAG: &str = "1";

/// Suffix added to the tag for the Docker v2 schema 2 copy pushed next to the OCI one.
pub const DOCKER_TAG_SUFFIX: &str = "-v2s2";

/// Where the watchdog lives in every image.
pub const WATCHDOG_PATH: &str = "/usr/bin/fwatchdog";

/// [`REDIRECT`]'s default `upstream_url`. Its server listens on the port of whatever
/// `upstream_url` the container gets, so replicas sharing the host network each set their own.
pub const REDIRECT_UPSTREAM_URL: &str = "http://127.0.0.1:8082";

/// Where [`REDIRECT`] redirects (env `redirect_location` overrides it).
pub const REDIRECT_LOCATION: &str = "/redirected";

/// Body of [`REDIRECT`]'s `GET /redirected`.
pub const REDIRECT_TARGET_BODY: &str = "redirected\n";

/// [`FAIL`]'s stderr line (part of the 500 body).
pub const FAIL_MESSAGE: &str = "failing on purpose";

/// [`SLOW`] sleeps this many seconds unless `Http_X_Sleep_Seconds` (request header
/// `X-Sleep-Seconds`) or env `sleep_seconds` say otherwise.
pub const SLOW_DEFAULT_SECONDS: u32 = 5;

/// What [`WHITEOUT`] answers: `find /data | sort` after its whiteout layer is applied.
pub const WHITEOUT_LISTING: &str =
    "/data\n/data/added.txt\n/data/keep.txt\n/data/opaque\n/data/opaque/new.txt\n";

/// Paths of [`WHITEOUT`]'s lower layer that the top layer deletes.
pub const WHITEOUT_DELETED: [&str; 5] = [
    "/data/deleted.txt",
    "/data/gone",
    "/data/gone/inner.txt",
    "/data/opaque/old.txt",
    "/data/opaque/sub/old2.txt",
];

/// A test image: repository name and tag (registry-independent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TestImage {
    /// Repository path, e.g. `faas-test/echo`.
    pub name: &'static str,
    /// Tag.
    pub tag: &'static str,
    /// One line on what it does.
    pub summary: &'static str,
}

impl TestImage {
    /// `REGISTRY/NAME:TAG` (OCI manifest).
    pub fn reference(&self, registry: &str) -> String {
        format!("{registry}/{}:{}", self.name, self.tag)
    }

    /// `REGISTRY/NAME:TAG-v2s2` (Docker v2 schema 2 manifest over the same blobs).
    pub fn docker_reference(&self, registry: &str) -> String {
        format!("{registry}/{}:{}{DOCKER_TAG_SUFFIX}", self.name, self.tag)
    }

    /// `NAME:TAG`, the repo tag used by `docker load` archives without a registry prefix.
    pub fn local_reference(&self) -> String {
        format!("{}:{}", self.name, self.tag)
    }

    /// The built image (built once per process; see [`build_all`]).
    pub fn build(&self) -> &'static Image {
        &build_all()
            .iter()
            .find(|b| b.image == *self)
            .expect("every TestImage constant is in ALL")
            .content
    }
}

/// `fprocess=cat`, serializing: answers the request body.
pub const ECHO: TestImage = TestImage {
    name: "faas-test/echo",
    tag: TAG,
    summary: "fprocess=cat (serializing): answers the request body",
};

/// `fprocess=env`, serializing: answers its environment (the `Http_*` variables included).
pub const ENV: TestImage = TestImage {
    name: "faas-test/env",
    tag: TAG,
    summary: "fprocess=env (serializing): answers its environment",
};

/// `fprocess=sha512sum`, serializing.
pub const SHA512SUM: TestImage = TestImage {
    name: "faas-test/sha512sum",
    tag: TAG,
    summary: "fprocess=sha512sum (serializing): answers `<hex>  -`",
};

/// Answers the request as text: every `Http_*` variable as `KEY=VALUE` lines sorted, one empty
/// line, then the request body verbatim (serializing).
pub const ECHO_REQUEST: TestImage = TestImage {
    name: "faas-test/echo-request",
    tag: TAG,
    summary: "sorted Http_* lines, an empty line, then the body (serializing)",
};

/// http mode: busybox httpd answering every path with `302 Location: /redirected`, except
/// `/redirected` itself (200 `redirected\n`).
pub const REDIRECT: TestImage = TestImage {
    name: "faas-test/redirect",
    tag: TAG,
    summary: "http mode (busybox httpd): 302 to /redirected",
};

/// Sleeps ([`SLOW_DEFAULT_SECONDS`]), then echoes the body (serializing).
pub const SLOW: TestImage = TestImage {
    name: "faas-test/slow",
    tag: TAG,
    summary: "sleeps, then echoes the body (serializing)",
};

/// Writes [`FAIL_MESSAGE`] to stderr and exits 1 (serializing → 500).
pub const FAIL: TestImage = TestImage {
    name: "faas-test/fail",
    tag: TAG,
    summary: "exits 1 with a message on stderr (serializing → 500)",
};

/// Three layers; the top one holds whiteouts (`.wh.deleted.txt`, `.wh.gone`) and an opaque
/// directory (`opaque/.wh..wh..opq`). Answers [`WHITEOUT_LISTING`].
pub const WHITEOUT: TestImage = TestImage {
    name: "faas-test/whiteout",
    tag: TAG,
    summary: "whiteouts and an opaque dir in its top layer; answers `find /data | sort`",
};

/// A dynamically linked (glibc) program with its `.so` files and loader copied from the host;
/// answers `dynamic: <body>`.
pub const DYNAMIC: TestImage = TestImage {
    name: "faas-test/dynamic",
    tag: TAG,
    summary: "glibc-linked fprocess with its libc and ld.so; answers `dynamic: <body>`",
};

/// `fprocess=cat` (serializing) with the three middlewares of [`crate::middlewares`] in
/// `/opt/middlewares`, Env `SLSMIDDLEWARES=`[`crate::middlewares::SLSMIDDLEWARES`] and
/// `HMAC_SECRET=`[`crate::middlewares::TEST_HMAC_SECRET`]: a signed request's body comes back
/// as a CloudEvents envelope with the `x-middleware` header; an unsigned one is refused.
pub const MIDDLEWARE: TestImage = TestImage {
    name: "faas-test/middleware",
    tag: TAG,
    summary: "cat behind the add-header, hmac and cloudevents middlewares (SLSMIDDLEWARES)",
};

/// Only the middlewares: one layer holding `/opt/middlewares/{add-header,hmac,cloudevents}`
/// (the same layer as [`MIDDLEWARE`]'s top one), no entrypoint. For `faas-lambda package
/// --layer` over a busybox-based function image (the scripts need its `sh` and applets).
pub const MIDDLEWARES_LAYER: TestImage = TestImage {
    name: "faas-test/middlewares",
    tag: TAG,
    summary: "only /opt/middlewares (add-header, hmac, cloudevents), for --layer",
};

/// Every test image.
pub const ALL: [TestImage; 11] = [
    ECHO,
    ENV,
    SHA512SUM,
    ECHO_REQUEST,
    REDIRECT,
    SLOW,
    FAIL,
    WHITEOUT,
    DYNAMIC,
    MIDDLEWARE,
    MIDDLEWARES_LAYER,
];

/// busybox applets linked in `/bin`.
pub const APPLETS: &[&str] = &[
    "[",
    "awk",
    "base64",
    "basename",
    "cat",
    "chmod",
    "cp",
    "cut",
    "date",
    "dd",
    "dirname",
    "echo",
    "env",
    "expr",
    "false",
    "find",
    "grep",
    "head",
    "hostname",
    "httpd",
    "id",
    "kill",
    "ln",
    "ls",
    "md5sum",
    "mkdir",
    "mv",
    "nc",
    "od",
    "printf",
    "ps",
    "pwd",
    "readlink",
    "rm",
    "sed",
    "seq",
    "sh",
    "sha256sum",
    "sha512sum",
    "sleep",
    "sort",
    "stat",
    "tail",
    "tee",
    "test",
    "timeout",
    "touch",
    "tr",
    "true",
    "uname",
    "wc",
    "wget",
    "xargs",
];

const ECHO_REQUEST_SCRIPT: &str = "#!/bin/sh\n\
# Prints the request as text: sorted Http_* variables, an empty line, the body verbatim.\n\
env | grep '^Http_' | sort\n\
echo\n\
exec cat\n";

const SLOW_SCRIPT: &str = "#!/bin/sh\n\
sleep \"${Http_X_Sleep_Seconds:-${sleep_seconds:-5}}\"\n\
exec cat\n";

const FAIL_SCRIPT: &str = "#!/bin/sh\n\
echo 'failing on purpose' >&2\n\
exit 1\n";

const REDIRECT_SERVER: &str = "#!/bin/sh\n\
# Listens where upstream_url points (each replica may get its own port).\n\
url=\"${upstream_url:-${http_upstream_url:-http://127.0.0.1:8082}}\"\n\
hostport=\"${url#http://}\"\n\
hostport=\"${hostport%%/*}\"\n\
exec httpd -f -p \"$hostport\" -h /home/app/www\n";

const REDIRECT_CGI: &str = "#!/bin/sh\n\
printf 'Status: 302 Found\\r\\nLocation: %s\\r\\nContent-Type: text/plain\\r\\n\\r\\n' \"${redirect_location:-/redirected}\"\n\
echo 'see elsewhere'\n";

const WHITEOUT_SCRIPT: &str = "#!/bin/sh\nfind /data | sort\n";

fn base_layer() -> Layer {
    let mut l = LayerBuilder::new("test-support: fwatchdog + busybox-static");
    let busybox = std::fs::read(assets::busybox()).expect("read busybox");
    let fwatchdog = std::fs::read(assets::static_fwatchdog()).expect("read fwatchdog");
    l.dir("/bin", 0o755).file("/bin/busybox", 0o755, &busybox);
    for applet in APPLETS {
        l.symlink(&format!("/bin/{applet}"), "busybox");
    }
    l.dir("/etc", 0o755)
        .file(
            "/etc/passwd",
            0o644,
            b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n\
              nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        )
        .file(
            "/etc/group",
            0o644,
            b"root:x:0:\napp:x:1000:\nnogroup:x:65534:\n",
        )
        .dir("/home", 0o755)
        .dir("/home/app", 0o755)
        .dir("/root", 0o700)
        .dir("/tmp", 0o1777)
        .dir("/usr", 0o755)
        .dir("/usr/bin", 0o755)
        .file(WATCHDOG_PATH, 0o755, &fwatchdog)
        .dir("/usr/local", 0o755)
        .dir("/usr/local/bin", 0o755);
    l.finish()
}

fn app_layer(comment: &str, files: &[(&str, u32, &[u8])]) -> Layer {
    let mut l = LayerBuilder::new(comment);
    l.dir("/home", 0o755).dir("/home/app", 0o755);
    for (path, mode, data) in files {
        if path.ends_with('/') {
            l.dir(path, *mode);
        } else {
            l.file(path, *mode, data);
        }
    }
    l.finish()
}

fn whiteout_layers() -> (Layer, Layer) {
    let mut lower = LayerBuilder::new("test-support: whiteout fixture (lower)");
    lower
        .dir("/data", 0o755)
        .file("/data/keep.txt", 0o644, b"keep\n")
        .file("/data/deleted.txt", 0o644, b"deleted\n")
        .dir("/data/gone", 0o755)
        .file("/data/gone/inner.txt", 0o644, b"inner\n")
        .dir("/data/opaque", 0o755)
        .file("/data/opaque/old.txt", 0o644, b"old\n")
        .dir("/data/opaque/sub", 0o755)
        .file("/data/opaque/sub/old2.txt", 0o644, b"old2\n")
        .dir("/home", 0o755)
        .dir("/home/app", 0o755)
        .file("/home/app/list.sh", 0o755, WHITEOUT_SCRIPT.as_bytes());
    let mut upper = LayerBuilder::new("test-support: whiteout fixture (whiteouts, opaque dir)");
    upper
        .dir("/data", 0o755)
        .whiteout("/data/deleted.txt")
        .whiteout("/data/gone")
        .file("/data/added.txt", 0o644, b"added\n")
        .dir("/data/opaque", 0o755)
        .opaque("/data/opaque")
        .file("/data/opaque/new.txt", 0o644, b"new\n");
    (lower.finish(), upper.finish())
}

fn dynamic_layer() -> Layer {
    let mut l = LayerBuilder::new("test-support: hello-dyn + glibc from the host");
    let mut dirs: Vec<String> = Vec::new();
    for file in assets::dynamic_program() {
        let path = match file {
            DynamicFile::File { path, .. } | DynamicFile::Symlink { path, .. } => path,
        };
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut parent = String::new();
        for part in &parts[..parts.len() - 1] {
            parent.push('/');
            parent.push_str(part);
            if !dirs.contains(&parent) {
                dirs.push(parent.clone());
                l.dir(&parent, 0o755);
            }
        }
        match file {
            DynamicFile::File { path, data, mode } => l.file(path, *mode, data),
            DynamicFile::Symlink { path, target } => l.symlink(path, target),
        };
    }
    l.finish()
}

fn config(image: &TestImage, fprocess: &str, mode: &str, extra_env: &[&str]) -> ImageConfig {
    let mut env = vec![
        "PATH=/usr/local/bin:/usr/bin:/bin".to_string(),
        format!("fprocess={fprocess}"),
        format!("mode={mode}"),
    ];
    env.extend(extra_env.iter().map(|e| e.to_string()));
    let mut labels = BTreeMap::new();
    labels.insert("org.opencontainers.image.title".into(), image.name.into());
    labels.insert(
        "org.opencontainers.image.description".into(),
        image.summary.into(),
    );
    ImageConfig {
        env,
        entrypoint: vec![WATCHDOG_PATH.into()],
        cmd: Vec::new(),
        working_dir: "/home/app".into(),
        user: String::new(),
        exposed_ports: vec!["8080/tcp".into()],
        labels,
    }
}

/// A test image with its built content.
#[derive(Debug, Clone)]
pub struct BuiltImage {
    /// Which one.
    pub image: TestImage,
    /// Its blobs and manifests.
    pub content: Image,
}

/// Build every image in [`ALL`] (once per process; the base layer is shared). Builds the static
/// watchdog first (see [`assets::static_fwatchdog`]); panics when a host asset is missing.
pub fn build_all() -> &'static [BuiltImage] {
    static BUILT: OnceLock<Vec<BuiltImage>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let base = base_layer();
        ALL.iter()
            .map(|image| {
                let content = build_one(image, &base);
                BuiltImage {
                    image: *image,
                    content,
                }
            })
            .collect()
    })
}

fn build_one(image: &TestImage, base: &Layer) -> Image {
    let layers_with = |extra: Vec<Layer>| {
        let mut layers = vec![base.clone()];
        layers.extend(extra);
        layers
    };
    match *image {
        ECHO => Image::new(
            config(image, "cat", "serializing", &[]),
            layers_with(vec![]),
        ),
        ENV => Image::new(
            config(image, "env", "serializing", &[]),
            layers_with(vec![]),
        ),
        SHA512SUM => Image::new(
            config(image, "sha512sum", "serializing", &[]),
            layers_with(vec![]),
        ),
        ECHO_REQUEST => Image::new(
            config(image, "/home/app/echo-request.sh", "serializing", &[]),
            layers_with(vec![app_layer(
                "test-support: echo-request.sh",
                &[(
                    "/home/app/echo-request.sh",
                    0o755,
                    ECHO_REQUEST_SCRIPT.as_bytes(),
                )],
            )]),
        ),
        REDIRECT => {
            let upstream = format!("upstream_url={REDIRECT_UPSTREAM_URL}");
            Image::new(
                config(image, "/home/app/server.sh", "http", &[&upstream]),
                layers_with(vec![app_layer(
                    "test-support: busybox httpd redirecting server",
                    &[
                        ("/home/app/server.sh", 0o755, REDIRECT_SERVER.as_bytes()),
                        ("/home/app/www/", 0o755, b""),
                        ("/home/app/www/cgi-bin/", 0o755, b""),
                        (
                            "/home/app/www/cgi-bin/index.cgi",
                            0o755,
                            REDIRECT_CGI.as_bytes(),
                        ),
                        (
                            "/home/app/www/redirected",
                            0o644,
                            REDIRECT_TARGET_BODY.as_bytes(),
                        ),
                    ],
                )]),
            )
        }
        SLOW => Image::new(
            config(image, "/home/app/slow.sh", "serializing", &[]),
            layers_with(vec![app_layer(
                "test-support: slow.sh",
                &[("/home/app/slow.sh", 0o755, SLOW_SCRIPT.as_bytes())],
            )]),
        ),
        FAIL => Image::new(
            config(image, "/home/app/fail.sh", "serializing", &[]),
            layers_with(vec![app_layer(
                "test-support: fail.sh",
                &[("/home/app/fail.sh", 0o755, FAIL_SCRIPT.as_bytes())],
            )]),
        ),
        WHITEOUT => {
            let (lower, upper) = whiteout_layers();
            Image::new(
                config(image, "/home/app/list.sh", "serializing", &[]),
                layers_with(vec![lower, upper]),
            )
        }
        DYNAMIC => Image::new(
            config(image, assets::DYNAMIC_PROGRAM, "serializing", &[]),
            layers_with(vec![dynamic_layer()]),
        ),
        MIDDLEWARE => {
            let env = [
                format!("SLSMIDDLEWARES={}", middlewares::SLSMIDDLEWARES),
                format!(
                    "{}={}",
                    middlewares::HMAC_SECRET_ENV,
                    middlewares::TEST_HMAC_SECRET
                ),
            ];
            let env: Vec<&str> = env.iter().map(String::as_str).collect();
            Image::new(
                config(image, "cat", "serializing", &env),
                layers_with(vec![middlewares::layer()]),
            )
        }
        MIDDLEWARES_LAYER => {
            let mut labels = BTreeMap::new();
            labels.insert("org.opencontainers.image.title".into(), image.name.into());
            labels.insert(
                "org.opencontainers.image.description".into(),
                image.summary.into(),
            );
            let config = ImageConfig {
                labels,
                ..ImageConfig::default()
            };
            Image::new(config, vec![middlewares::layer()])
        }
        other => unreachable!("{} is not in ALL", other.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_references_stable() {
        let mut names: Vec<&str> = ALL.iter().map(|i| i.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        assert_eq!(
            ECHO.reference("127.0.0.1:5000"),
            "127.0.0.1:5000/faas-test/echo:1"
        );
        assert_eq!(
            ECHO.docker_reference("127.0.0.1:5000"),
            "127.0.0.1:5000/faas-test/echo:1-v2s2"
        );
        assert_eq!(ECHO.local_reference(), "faas-test/echo:1");
    }
}
