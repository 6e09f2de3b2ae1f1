//! Finding a program of the image inside its relocated rootfs and building the command line that
//! runs it from there: directly (static ELF), through the image's own dynamic loader, or through
//! a relocated `#!` interpreter.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::error::LaunchError;
use super::paths::{image_join, resolve_in_root};
use crate::elf::{self, Executable};

/// Interpreters followed for one program (`#!` → `#!` → ELF).
const MAX_INTERPRETERS: usize = 4;

/// Upper bound of a loader read to look for `--argv0` support.
const MAX_LOADER_SIZE: u64 = 16 * 1024 * 1024;

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

    /// The image `LD_LIBRARY_PATH` rebased to host directories.
    pub(super) fn host_ld_library_path(&self) -> String {
        self.host_dirs(&self.ld_library_path, false).join(":")
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    use super::super::test_fixture::{fixture, write_exec};
    use crate::spec::ROOTFS_DIR;

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
}
