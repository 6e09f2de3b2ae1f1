//! Turning a packaged image (`faas-launch.json` + `rootfs/`) into a watchdog configuration that
//! runs the image's program from the relocated rootfs.
//!
//! Lambda's `/` is Amazon Linux, not the image, so nothing in the image can be found at its
//! absolute path. The launch therefore:
//!
//! 1. takes the program from `fprocess` (image Env, overridable by the function's environment),
//!    or else from Entrypoint + Cmd (an Entrypoint that is the image's own `fwatchdog` is
//!    replaced by the in-process executor, so `fprocess` is then required);
//! 2. resolves it on the image's `PATH` inside the rootfs, following symlinks *inside* the
//!    rootfs ([`resolve_in_root`]: an absolute link target is rebased, `..` stops at the root);
//! 3. a static ELF is run directly (with `argv[0]` as written in `fprocess`); a dynamically
//!    linked one through the image's own loader: `<rootfs><PT_INTERP> --library-path <rootfs
//!    lib dirs> [--argv0 NAME] <program> args` (`--argv0` when the loader knows it, glibc ≥
//!    2.33); a `#!` script through its relocated interpreter, the same way;
//! 4. arguments that are absolute paths existing in the image are rebased into the rootfs;
//! 5. the working directory is `<rootfs><WorkingDir>`; the process environment is the image Env
//!    (with `PATH` and `LD_LIBRARY_PATH` rebased) overlaid with Lambda's environment (minus
//!    `PATH` and `AWS_LAMBDA_RUNTIME_API`; the runtime has already replaced the provider's
//!    reserved `OPENFAAS_SECRETS` / `OPENFAAS_ENV` there, see [`crate::reserved`]).
//!
//! Paths hard-coded inside the program or its scripts (`/etc/...`, `find /data`) still point at
//! Lambda's root: relocation cannot rewrite them.

use std::collections::HashMap;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use watchdog::{ConfigError, WatchdogConfig};

use crate::elf::{self, ElfError, Executable};
use crate::spec::{LAUNCH_SPEC_FILE, LaunchSpec, ROOTFS_DIR};

/// The `PATH` used when the image sets none (Docker's default).
pub const DEFAULT_IMAGE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Symlinks followed while resolving one path (Linux's limit).
const MAX_SYMLINKS: usize = 40;

/// Interpreters followed for one program (`#!` → `#!` → ELF).
const MAX_INTERPRETERS: usize = 4;

/// Upper bound of a loader read to look for `--argv0` support.
const MAX_LOADER_SIZE: u64 = 16 * 1024 * 1024;

/// Why the function cannot be launched (reported to `/runtime/init/error`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    /// `faas-launch.json` is missing or unreadable.
    #[error("cannot read {path}: {source}")]
    ReadSpec {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// `faas-launch.json` is not a launch spec.
    #[error("invalid {path}: {source}")]
    ParseSpec {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The watchdog variables are invalid (or `fprocess` is missing).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No `fprocess` and no Entrypoint/Cmd.
    #[error("the image has no fprocess, Entrypoint or Cmd: nothing to run")]
    NoProgram,
    /// The program is not in the image.
    #[error("{name:?} is not an executable file in the image (searched {searched})")]
    NotFound {
        /// The program as written.
        name: String,
        /// Where it was looked for.
        searched: String,
    },
    /// The program exists but cannot be launched.
    #[error("cannot launch {path}: {source}")]
    Format {
        /// The file in the rootfs.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: ElfError,
    },
    /// The program is built for another CPU.
    #[error("{path} is built for ELF machine {found}, this runtime runs on {host}")]
    WrongArchitecture {
        /// The file in the rootfs.
        path: PathBuf,
        /// Its `e_machine`.
        found: u16,
        /// This host's architecture.
        host: &'static str,
    },
    /// The dynamic loader named by `PT_INTERP` is not in the image.
    #[error("the loader {interpreter} of {program} is not in the image")]
    MissingLoader {
        /// The loader path in the image.
        interpreter: String,
        /// The program needing it.
        program: String,
    },
    /// `WorkingDir` does not exist in the image.
    #[error("the working directory {0:?} does not exist in the image")]
    WorkingDir(String),
    /// `#!` interpreters nest too deeply.
    #[error("too many nested #! interpreters for {0:?}")]
    TooDeep(String),
    /// Resolving a path in the rootfs failed.
    #[error("cannot resolve {path:?} in the rootfs: {source}")]
    Resolve {
        /// The image path.
        path: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

impl LaunchError {
    /// The Lambda `errorType` reported for this failure.
    pub fn error_type(&self) -> &'static str {
        match self {
            LaunchError::WorkingDir(_) => "Runtime.InvalidWorkingDir",
            LaunchError::NoProgram
            | LaunchError::NotFound { .. }
            | LaunchError::Format { .. }
            | LaunchError::WrongArchitecture { .. }
            | LaunchError::MissingLoader { .. }
            | LaunchError::TooDeep(_) => "Runtime.InvalidEntrypoint",
            _ => "Runtime.InitError",
        }
    }
}

/// Read `<task_root>/faas-launch.json`.
pub fn load_spec(task_root: &Path) -> Result<LaunchSpec, LaunchError> {
    let path = task_root.join(LAUNCH_SPEC_FILE);
    let bytes = std::fs::read(&path).map_err(|source| LaunchError::ReadSpec {
        path: path.clone(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| LaunchError::ParseSpec { path, source })
}

/// Resolve the image path `path` inside `root` like the kernel would if `root` were `/`:
/// symlinks are followed, absolute targets restart at `root`, `..` never leaves `root`. Missing
/// components are kept as they are (the caller checks existence). Fails on symlink loops.
pub fn resolve_in_root(root: &Path, path: &str) -> io::Result<PathBuf> {
    let mut pending: Vec<String> = components(path).into_iter().rev().collect();
    let mut resolved: Vec<String> = Vec::new();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        if part == ".." {
            resolved.pop();
            continue;
        }
        let mut candidate = root.to_path_buf();
        candidate.extend(&resolved);
        candidate.push(&part);
        match std::fs::symlink_metadata(&candidate) {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(io::Error::other(format!(
                        "too many levels of symbolic links at {}",
                        candidate.display()
                    )));
                }
                let target = std::fs::read_link(&candidate)?;
                let target = target.to_string_lossy();
                if target.starts_with('/') {
                    resolved.clear();
                }
                pending.extend(components(&target).into_iter().rev());
            }
            Ok(_) => resolved.push(part),
            Err(e) if e.kind() == io::ErrorKind::NotFound => resolved.push(part),
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => resolved.push(part),
            Err(e) => return Err(e),
        }
    }
    let mut out = root.to_path_buf();
    out.extend(&resolved);
    Ok(out)
}

/// Normal components and `..` of a slash path (`.` and empty parts dropped).
fn components(path: &str) -> Vec<String> {
    Path::new(path)
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".to_string()),
            _ => None,
        })
        .collect()
}

/// Join an image directory and a relative path lexically (`/home/app` + `./x` → `/home/app/x`).
fn image_join(dir: &str, rel: &str) -> String {
    let mut parts = components(dir);
    for part in components(rel) {
        if part == ".." {
            parts.pop();
        } else {
            parts.push(part);
        }
    }
    format!("/{}", parts.join("/"))
}

fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// What to run: the final argv (absolute host paths) and the `argv[0]` to show the process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relocated {
    /// Program and arguments, the program as a path on the host.
    pub argv: Vec<String>,
    /// `argv[0]` for the process (`None`: the program path).
    pub argv0: Option<String>,
}

/// Everything needed to relocate programs of one image.
#[derive(Debug, Clone)]
pub struct Rootfs {
    root: PathBuf,
    path_dirs: Vec<String>,
    working_dir: String,
    ld_library_path: Vec<String>,
}

impl Rootfs {
    /// A rootfs at `root` with the image's `PATH`, `WorkingDir` and `LD_LIBRARY_PATH`.
    pub fn new(root: PathBuf, image_path: &str, working_dir: &str, ld_library_path: &str) -> Self {
        let split = |v: &str| {
            v.split(':')
                .filter(|d| d.starts_with('/'))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let working_dir = if working_dir.trim().is_empty() {
            "/".to_string()
        } else if working_dir.starts_with('/') {
            working_dir.to_string()
        } else {
            image_join("/", working_dir)
        };
        Rootfs {
            root,
            path_dirs: split(image_path),
            working_dir,
            ld_library_path: split(ld_library_path),
        }
    }

    /// The rootfs directory on the host.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn resolve(&self, image_path: &str) -> Result<PathBuf, LaunchError> {
        resolve_in_root(&self.root, image_path).map_err(|source| LaunchError::Resolve {
            path: image_path.to_string(),
            source,
        })
    }

    /// The working directory on the host (must exist).
    pub fn working_dir(&self) -> Result<PathBuf, LaunchError> {
        let dir = self.resolve(&self.working_dir)?;
        if dir.is_dir() {
            Ok(dir)
        } else {
            Err(LaunchError::WorkingDir(self.working_dir.clone()))
        }
    }

    /// The image `PATH` rebased to host directories.
    pub fn host_path(&self) -> String {
        self.host_dirs(&self.path_dirs, false).join(":")
    }

    /// Image directories → host directories (resolved; only existing ones when `existing`).
    fn host_dirs(&self, dirs: &[String], existing: bool) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for dir in dirs {
            let Ok(host) = resolve_in_root(&self.root, dir) else {
                continue;
            };
            if existing && !host.is_dir() {
                continue;
            }
            let host = host.to_string_lossy().into_owned();
            if !out.contains(&host) {
                out.push(host);
            }
        }
        out
    }

    /// Find `name` like `execvp` in the image: a name with a `/` is a path (relative to
    /// `WorkingDir`), else the first executable file on the image `PATH`. Returns the image path.
    pub fn find_program(&self, name: &str) -> Result<String, LaunchError> {
        if name.contains('/') {
            let image_path = if name.starts_with('/') {
                name.to_string()
            } else {
                image_join(&self.working_dir, name)
            };
            if is_executable_file(&self.resolve(&image_path)?) {
                return Ok(image_path);
            }
            return Err(LaunchError::NotFound {
                name: name.to_string(),
                searched: image_path,
            });
        }
        for dir in &self.path_dirs {
            let image_path = image_join(dir, name);
            if is_executable_file(&self.resolve(&image_path)?) {
                return Ok(image_path);
            }
        }
        Err(LaunchError::NotFound {
            name: name.to_string(),
            searched: format!("PATH={}", self.path_dirs.join(":")),
        })
    }

    /// The loader's library search path for a program of `machine`: the image's
    /// `LD_LIBRARY_PATH`, its `/etc/ld.so.conf` (and `include`d files), musl's
    /// `/etc/ld-musl-*.path`, then the standard and multiarch directories, as existing host dirs.
    pub fn library_path(&self, machine: u16) -> String {
        let mut dirs = self.ld_library_path.clone();
        dirs.extend(self.ld_so_conf("/etc/ld.so.conf", 0));
        if let Ok(entries) = std::fs::read_dir(self.root.join("etc")) {
            let mut musl: Vec<PathBuf> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("ld-musl-") && n.ends_with(".path"))
                })
                .collect();
            musl.sort();
            for file in musl {
                if let Ok(text) = std::fs::read_to_string(file) {
                    dirs.extend(
                        text.split([':', '\n'])
                            .map(str::trim)
                            .filter(|d| d.starts_with('/'))
                            .map(str::to_string),
                    );
                }
            }
        }
        if let Some(triplet) = elf::multiarch_triplet(machine) {
            dirs.push(format!("/lib/{triplet}"));
            dirs.push(format!("/usr/lib/{triplet}"));
            dirs.push(format!("/usr/local/lib/{triplet}"));
        }
        for dir in ["/lib", "/usr/lib", "/lib64", "/usr/lib64", "/usr/local/lib"] {
            dirs.push(dir.to_string());
        }
        self.host_dirs(&dirs, true).join(":")
    }

    fn ld_so_conf(&self, file: &str, depth: usize) -> Vec<String> {
        let mut dirs = Vec::new();
        if depth > 3 {
            return dirs;
        }
        let Ok(host) = resolve_in_root(&self.root, file) else {
            return dirs;
        };
        let Ok(text) = std::fs::read_to_string(host) else {
            return dirs;
        };
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if let Some(pattern) = line.strip_prefix("include") {
                let pattern = pattern.trim();
                let pattern = if pattern.starts_with('/') {
                    pattern.to_string()
                } else {
                    image_join("/etc", pattern)
                };
                for included in self.glob_conf(&pattern) {
                    dirs.extend(self.ld_so_conf(&included, depth + 1));
                }
            } else if line.starts_with('/') {
                dirs.push(line.to_string());
            }
        }
        dirs
    }

    /// `dir/*.conf`-style patterns (a `*` in the file name only) → image paths, sorted.
    fn glob_conf(&self, pattern: &str) -> Vec<String> {
        let (dir, name) = pattern.rsplit_once('/').unwrap_or(("/", pattern));
        let Some((prefix, suffix)) = name.split_once('*') else {
            return vec![pattern.to_string()];
        };
        let Ok(host_dir) = resolve_in_root(&self.root, dir) else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(host_dir) else {
            return Vec::new();
        };
        let mut out: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.starts_with(prefix) && n.ends_with(suffix))
            .map(|n| image_join(dir, &n))
            .collect();
        out.sort();
        out
    }

    /// Rebase an argument that is an absolute path existing in the image.
    fn rebase_arg(&self, arg: &str) -> String {
        if !arg.starts_with('/') {
            return arg.to_string();
        }
        match resolve_in_root(&self.root, arg) {
            Ok(host) if host.symlink_metadata().is_ok() => host.to_string_lossy().into_owned(),
            _ => arg.to_string(),
        }
    }

    /// Relocate `name args...` (as written in `fprocess` or Entrypoint/Cmd).
    pub fn relocate(&self, name: &str, args: &[String]) -> Result<Relocated, LaunchError> {
        let args: Vec<String> = args.iter().map(|a| self.rebase_arg(a)).collect();
        self.relocate_at(name, args, 0)
    }

    fn relocate_at(
        &self,
        name: &str,
        args: Vec<String>,
        depth: usize,
    ) -> Result<Relocated, LaunchError> {
        if depth > MAX_INTERPRETERS {
            return Err(LaunchError::TooDeep(name.to_string()));
        }
        let image_path = self.find_program(name)?;
        let host = self.resolve(&image_path)?;
        // The lexical path keeps the name a multi-call binary (busybox) dispatches on, when it
        // reaches the same file through relative links.
        let lexical = self.root.join(image_path.trim_start_matches('/'));
        let shown = match (
            std::fs::canonicalize(&lexical),
            std::fs::canonicalize(&host),
        ) {
            (Ok(a), Ok(b)) if a == b => lexical,
            _ => host.clone(),
        };
        let format = elf::inspect(&host).map_err(|source| LaunchError::Format {
            path: host.clone(),
            source,
        })?;
        match format {
            Executable::Elf {
                machine,
                interpreter,
            } => {
                if Some(machine) != elf::host_machine() {
                    return Err(LaunchError::WrongArchitecture {
                        path: host,
                        found: machine,
                        host: std::env::consts::ARCH,
                    });
                }
                let Some(interpreter) = interpreter else {
                    let mut argv = vec![host.to_string_lossy().into_owned()];
                    argv.extend(args);
                    return Ok(Relocated {
                        argv,
                        argv0: Some(name.to_string()),
                    });
                };
                let loader = self.resolve(&interpreter)?;
                if !loader.is_file() {
                    return Err(LaunchError::MissingLoader {
                        interpreter,
                        program: image_path,
                    });
                }
                let mut argv = vec![
                    loader.to_string_lossy().into_owned(),
                    "--library-path".to_string(),
                    self.library_path(machine),
                ];
                if loader_knows_argv0(&loader) {
                    argv.push("--argv0".to_string());
                    argv.push(name.to_string());
                }
                argv.push(shown.to_string_lossy().into_owned());
                argv.extend(args);
                Ok(Relocated { argv, argv0: None })
            }
            Executable::Script {
                interpreter,
                argument,
            } => {
                let mut inner: Vec<String> = argument.into_iter().collect();
                inner.push(shown.to_string_lossy().into_owned());
                inner.extend(args);
                let mut relocated = self.relocate_at(&interpreter, inner, depth + 1)?;
                if relocated.argv0.is_some() {
                    relocated.argv0 = Some(interpreter);
                }
                Ok(relocated)
            }
        }
    }
}

/// Whether a dynamic loader accepts `--argv0` (glibc ≥ 2.33 does; the option string is in
/// the binary exactly when it is supported).
fn loader_knows_argv0(loader: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(loader) else {
        return false;
    };
    if meta.len() > MAX_LOADER_SIZE {
        return false;
    }
    let Ok(bytes) = std::fs::read(loader) else {
        return false;
    };
    bytes.windows(8).any(|w| w == b"--argv0\0")
}

/// The watchdog configuration for the packaged image at `task_root`, given Lambda's environment
/// (`lambda_env`, normally the bootstrap's own): watchdog variables from the environment first,
/// then the image Env; the program relocated into the rootfs (see the module docs).
///
/// `exec_timeout` and `write_timeout` default to 0 (off) unless set, so the Lambda deadline is
/// the function's timeout; the lock file is never written.
pub fn prepare(
    task_root: &Path,
    spec: &LaunchSpec,
    lambda_env: &[(String, String)],
) -> Result<WatchdogConfig, LaunchError> {
    let lambda: HashMap<&str, &str> = lambda_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let lookup = |name: &str| -> Option<String> {
        lambda
            .get(name)
            .copied()
            .or_else(|| spec.env_var(name))
            .map(str::to_string)
            .filter(|v| !v.trim().is_empty())
    };
    let fprocess = lookup("fprocess").or_else(|| lookup("function_process"));
    let command: Vec<String> = match &fprocess {
        Some(line) => line.split_whitespace().map(str::to_string).collect(),
        None => {
            let argv: Vec<String> = spec.entrypoint.iter().chain(&spec.cmd).cloned().collect();
            match argv.first() {
                None => return Err(LaunchError::NoProgram),
                Some(first) if first.rsplit('/').next() == Some("fwatchdog") => {
                    return Err(ConfigError::MissingFprocess.into());
                }
                Some(_) => argv,
            }
        }
    };
    if command.is_empty() {
        return Err(LaunchError::NoProgram);
    }
    let mut config = WatchdogConfig::from_lookup(|name| match name {
        // The program is taken apart above (Entrypoint/Cmd arguments may contain spaces).
        "fprocess" | "function_process" => Some(command.join(" ")),
        other => lookup(other),
    })?;
    if lookup("exec_timeout").is_none() {
        config.exec_timeout = Duration::ZERO;
    }
    if lookup("write_timeout").is_none() {
        config.write_timeout = Duration::ZERO;
    }
    config.suppress_lock = true;

    let rootfs_dir = if spec.rootfs.is_empty() {
        ROOTFS_DIR
    } else {
        spec.rootfs.as_str()
    };
    let image_path = spec
        .env_var("PATH")
        .filter(|p| !p.is_empty())
        .unwrap_or(DEFAULT_IMAGE_PATH);
    let image_ld = spec.env_var("LD_LIBRARY_PATH");
    let rootfs = Rootfs::new(
        task_root.join(rootfs_dir),
        image_path,
        &spec.working_dir,
        image_ld.unwrap_or(""),
    );
    if !rootfs.root().is_dir() {
        return Err(LaunchError::ReadSpec {
            path: rootfs.root().to_path_buf(),
            source: io::Error::new(io::ErrorKind::NotFound, "the rootfs directory is missing"),
        });
    }
    let working_dir = rootfs.working_dir()?;
    let relocated = rootfs.relocate(&command[0], &command[1..])?;

    let mut env: Vec<(String, String)> = spec.env_pairs();
    let mut has_path = false;
    for (name, value) in &mut env {
        if name == "PATH" {
            has_path = true;
            *value = rootfs.host_path();
        } else if name == "LD_LIBRARY_PATH" {
            *value = rootfs.host_dirs(&rootfs.ld_library_path, false).join(":");
        }
    }
    if !has_path {
        env.push(("PATH".to_string(), rootfs.host_path()));
    }
    for (name, value) in lambda_env {
        let skip = name == "PATH"
            || name == "AWS_LAMBDA_RUNTIME_API"
            || (name == "LD_LIBRARY_PATH" && image_ld.is_some());
        if skip {
            continue;
        }
        match env.iter_mut().find(|(k, _)| k == name) {
            Some(pair) => pair.1 = value.clone(),
            None => env.push((name.clone(), value.clone())),
        }
    }
    config.fprocess = relocated.argv;
    config.argv0 = relocated.argv0;
    config.working_dir = Some(working_dir);
    config.process_env = Some(env);
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn write_exec(path: &Path, data: &[u8]) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// A rootfs with static busybox at /bin/busybox, /bin/{sh,cat} → busybox, /usr/bin →
    /// /bin (absolute link), a script at /home/app/run.sh and a dangling-outside link.
    fn fixture() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(ROOTFS_DIR);
        let busybox = std::fs::read("/bin/busybox").expect("Debian's busybox-static");
        write_exec(&root.join("bin/busybox"), &busybox);
        symlink("busybox", root.join("bin/sh")).unwrap();
        symlink("/bin/busybox", root.join("bin/cat")).unwrap();
        std::fs::create_dir_all(root.join("usr")).unwrap();
        symlink("/bin", root.join("usr/bin")).unwrap();
        write_exec(
            &root.join("home/app/run.sh"),
            b"#!/bin/sh -e\necho \"run:$0:$*\"\n",
        );
        symlink("../../../../../etc", root.join("home/app/escape")).unwrap();
        std::fs::create_dir_all(root.join("etc/ld.so.conf.d")).unwrap();
        std::fs::write(root.join("etc/ld.so.conf"), "include ld.so.conf.d/*.conf\n").unwrap();
        std::fs::write(
            root.join("etc/ld.so.conf.d/x.conf"),
            "# comment\n/opt/lib\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("opt/lib")).unwrap();
        std::fs::create_dir_all(root.join("lib")).unwrap();
        dir
    }

    #[test]
    fn resolution_stays_inside_the_root() {
        let dir = fixture();
        let root = dir.path().join(ROOTFS_DIR);
        assert_eq!(
            resolve_in_root(&root, "/usr/bin/cat").unwrap(),
            root.join("bin/busybox")
        );
        assert_eq!(
            resolve_in_root(&root, "/../../bin/sh").unwrap(),
            root.join("bin/busybox")
        );
        // `..` links are clamped at the root: this resolves to <root>/etc, not the host's.
        assert_eq!(
            resolve_in_root(&root, "/home/app/escape/passwd").unwrap(),
            root.join("etc/passwd")
        );
        assert_eq!(
            resolve_in_root(&root, "/nope/x").unwrap(),
            root.join("nope/x")
        );
        symlink("loop", root.join("loop")).unwrap();
        assert!(resolve_in_root(&root, "/loop").is_err());
    }

    #[test]
    fn programs_are_found_on_the_image_path() {
        let dir = fixture();
        let root = dir.path().join(ROOTFS_DIR);
        let rootfs = Rootfs::new(
            root.clone(),
            "/usr/local/bin:/usr/bin:/bin",
            "/home/app",
            "",
        );
        assert_eq!(rootfs.find_program("cat").unwrap(), "/usr/bin/cat");
        assert_eq!(rootfs.find_program("./run.sh").unwrap(), "/home/app/run.sh");
        assert!(matches!(
            rootfs.find_program("python3"),
            Err(LaunchError::NotFound { .. })
        ));
        assert_eq!(rootfs.working_dir().unwrap(), root.join("home/app"));
        assert_eq!(
            rootfs.host_path(),
            format!(
                "{}:{}",
                root.join("usr/local/bin").display(),
                root.join("bin").display()
            )
        );
        let libs = rootfs.library_path(elf::EM_X86_64);
        assert_eq!(
            libs,
            format!(
                "{}:{}",
                root.join("opt/lib").display(),
                root.join("lib").display()
            )
        );
        let missing = Rootfs::new(root, "/bin", "/srv", "");
        assert!(matches!(
            missing.working_dir(),
            Err(LaunchError::WorkingDir(_))
        ));
    }

    #[test]
    fn static_programs_and_scripts_are_relocated() {
        let dir = fixture();
        let root = dir.path().join(ROOTFS_DIR);
        let rootfs = Rootfs::new(root.clone(), "/usr/bin:/bin", "/home/app", "");
        let cat = rootfs
            .relocate("cat", &["/home/app/run.sh".into(), "-".into()])
            .unwrap();
        assert_eq!(
            cat.argv,
            vec![
                root.join("bin/busybox").display().to_string(),
                root.join("home/app/run.sh").display().to_string(),
                "-".to_string()
            ]
        );
        assert_eq!(cat.argv0.as_deref(), Some("cat"));

        let script = rootfs.relocate("./run.sh", &["a".into()]).unwrap();
        assert_eq!(
            script.argv,
            vec![
                root.join("bin/busybox").display().to_string(),
                "-e".to_string(),
                root.join("home/app/run.sh").display().to_string(),
                "a".to_string()
            ]
        );
        assert_eq!(script.argv0.as_deref(), Some("/bin/sh"));

        // Running it for real proves busybox dispatches on argv[0].
        let out = std::process::Command::new(&script.argv[0])
            .args(&script.argv[1..])
            .arg0(script.argv0.as_deref().unwrap())
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("run:{}:a\n", root.join("home/app/run.sh").display())
        );
    }

    use std::os::unix::process::CommandExt;

    #[test]
    fn dynamic_programs_run_through_their_own_loader() {
        // This test binary is a dynamically linked glibc program: copy it and its loader into a
        // rootfs at the same image paths and check the launch line.
        let me = std::env::current_exe().unwrap();
        let Executable::Elf {
            interpreter: Some(interp),
            ..
        } = elf::inspect(&me).unwrap()
        else {
            panic!("the test binary should be dynamically linked");
        };
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(ROOTFS_DIR);
        write_exec(
            &root.join("usr/local/bin/prog"),
            &std::fs::read(&me).unwrap(),
        );
        let loader_real = std::fs::canonicalize(&interp).unwrap();
        write_exec(
            &root.join(interp.trim_start_matches('/')),
            &std::fs::read(loader_real).unwrap(),
        );
        std::fs::create_dir_all(root.join("lib/x86_64-linux-gnu")).unwrap();
        let rootfs = Rootfs::new(root.clone(), "/usr/local/bin", "/", "/custom/lib");
        std::fs::create_dir_all(root.join("custom/lib")).unwrap();
        let r = rootfs.relocate("prog", &["--flag".into()]).unwrap();
        let loader = root.join(interp.trim_start_matches('/'));
        assert_eq!(r.argv[0], loader.display().to_string());
        assert_eq!(r.argv[1], "--library-path");
        assert!(
            r.argv[2].starts_with(&root.join("custom/lib").display().to_string()),
            "{}",
            r.argv[2]
        );
        assert!(r.argv[2].contains(&root.join("lib/x86_64-linux-gnu").display().to_string()));
        let rest: Vec<&str> = r.argv[3..].iter().map(String::as_str).collect();
        let prog = root.join("usr/local/bin/prog").display().to_string();
        if loader_knows_argv0(&loader) {
            assert_eq!(rest, ["--argv0", "prog", prog.as_str(), "--flag"]);
        } else {
            assert_eq!(rest, [prog.as_str(), "--flag"]);
        }
        assert_eq!(r.argv0, None);

        // Missing loader → a clear error.
        std::fs::remove_file(&loader).unwrap();
        assert!(matches!(
            rootfs.relocate("prog", &[]),
            Err(LaunchError::MissingLoader { .. })
        ));
    }

    #[test]
    fn not_executable_or_not_a_program() {
        let dir = fixture();
        let root = dir.path().join(ROOTFS_DIR);
        std::fs::write(root.join("bin/data"), b"just data").unwrap();
        std::fs::set_permissions(
            root.join("bin/data"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        std::fs::write(root.join("bin/noexec"), b"#!/bin/sh\n").unwrap();
        let rootfs = Rootfs::new(root, "/bin", "/", "");
        assert!(matches!(
            rootfs.relocate("data", &[]),
            Err(LaunchError::Format { .. })
        ));
        assert!(matches!(
            rootfs.relocate("noexec", &[]),
            Err(LaunchError::NotFound { .. })
        ));
    }

    fn spec(env: &[&str], entrypoint: &[&str], cmd: &[&str], workdir: &str) -> LaunchSpec {
        LaunchSpec {
            rootfs: ROOTFS_DIR.into(),
            architecture: "x86_64".into(),
            env: env.iter().map(|s| s.to_string()).collect(),
            entrypoint: entrypoint.iter().map(|s| s.to_string()).collect(),
            cmd: cmd.iter().map(|s| s.to_string()).collect(),
            working_dir: workdir.into(),
            image: "test".into(),
            image_digest: "sha256:0".into(),
        }
    }

    #[test]
    fn prepare_builds_the_watchdog_config() {
        let dir = fixture();
        let root = dir.path().join(ROOTFS_DIR);
        let s = spec(
            &[
                "PATH=/usr/bin:/bin",
                "fprocess=cat",
                "mode=serializing",
                "HOME=/home/app",
            ],
            &["/usr/bin/fwatchdog"],
            &[],
            "/home/app",
        );
        let lambda = vec![
            (
                "PATH".to_string(),
                "/usr/local/bin:/usr/bin/:/bin:/opt/bin".to_string(),
            ),
            (
                "AWS_LAMBDA_RUNTIME_API".to_string(),
                "127.0.0.1:9001".to_string(),
            ),
            ("AWS_LAMBDA_FUNCTION_NAME".to_string(), "fn".to_string()),
            ("HOME".to_string(), "/tmp".to_string()),
            ("exec_timeout".to_string(), "5s".to_string()),
        ];
        let c = prepare(dir.path(), &s, &lambda).unwrap();
        assert_eq!(c.mode, watchdog::Mode::Serializing);
        assert_eq!(
            c.fprocess,
            vec![root.join("bin/busybox").display().to_string()]
        );
        assert_eq!(c.argv0.as_deref(), Some("cat"));
        assert_eq!(
            c.working_dir.as_deref(),
            Some(root.join("home/app").as_path())
        );
        assert_eq!(
            c.exec_timeout,
            Duration::from_secs(5),
            "the function env wins"
        );
        assert_eq!(
            c.write_timeout,
            Duration::ZERO,
            "the Lambda deadline governs"
        );
        assert!(c.suppress_lock);
        let env: HashMap<_, _> = c.process_env.clone().unwrap().into_iter().collect();
        assert_eq!(env["PATH"], root.join("bin").display().to_string());
        assert_eq!(env["HOME"], "/tmp");
        assert_eq!(env["fprocess"], "cat");
        assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "fn");
        assert!(!env.contains_key("AWS_LAMBDA_RUNTIME_API"));

        // No fprocess: Entrypoint + Cmd is the program.
        let s = spec(&[], &["/home/app/run.sh"], &["x y"], "");
        let c = prepare(dir.path(), &s, &[]).unwrap();
        assert_eq!(c.fprocess.last().unwrap(), "x y");
        assert_eq!(c.working_dir.as_deref(), Some(root.as_path()));
        assert_eq!(c.mode, watchdog::Mode::Streaming);

        // fwatchdog without fprocess, nothing at all, missing program, bad working dir, bad mode.
        let err = |s: LaunchSpec| prepare(dir.path(), &s, &[]).unwrap_err();
        assert!(matches!(
            err(spec(&[], &["fwatchdog"], &[], "")),
            LaunchError::Config(ConfigError::MissingFprocess)
        ));
        assert!(matches!(
            err(spec(&[], &[], &[], "")),
            LaunchError::NoProgram
        ));
        let e = err(spec(&["fprocess=node index.js"], &[], &[], ""));
        assert_eq!(e.error_type(), "Runtime.InvalidEntrypoint");
        let e = err(spec(&["fprocess=cat"], &[], &[], "/srv"));
        assert_eq!(e.error_type(), "Runtime.InvalidWorkingDir");
        assert!(matches!(
            err(spec(&["fprocess=cat", "mode=static"], &[], &[], "")),
            LaunchError::Config(_)
        ));
        let missing = tempfile::tempdir().unwrap();
        assert!(matches!(
            load_spec(missing.path()),
            Err(LaunchError::ReadSpec { .. })
        ));
        std::fs::write(missing.path().join(LAUNCH_SPEC_FILE), "{").unwrap();
        assert!(matches!(
            load_spec(missing.path()),
            Err(LaunchError::ParseSpec { .. })
        ));
    }
}
