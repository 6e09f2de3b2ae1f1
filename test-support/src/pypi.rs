//! Command-line tools from PyPI (moto, cargo-lambda), each installed once into its own venv
//! under `<workspace>/target/`, under a file lock so parallel test processes install it once.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::assets::{tail, workspace_root};

/// A PyPI package and the program it provides.
#[derive(Debug, Clone, Copy)]
pub struct PypiTool {
    /// The pip requirement, e.g. `moto[server,awslambda]`.
    pub requirement: &'static str,
    /// The program in the venv's `bin/`, e.g. `moto_server`.
    pub program: &'static str,
    /// Env var naming a ready program instead (skips the install).
    pub program_env: &'static str,
    /// Env var naming the venv directory instead of the default.
    pub venv_env: &'static str,
    /// The default venv directory's name under `<workspace>/target/`.
    pub venv_name: &'static str,
}

impl PypiTool {
    /// The venv: `$venv_env` or `<workspace>/target/<venv_name>`.
    pub fn venv_dir(&self) -> PathBuf {
        match std::env::var_os(self.venv_env) {
            Some(dir) => PathBuf::from(dir),
            None => workspace_root().join("target").join(self.venv_name),
        }
    }

    /// The program: `$program_env`, else installed once (`python3 -m venv` + `pip install`)
    /// and returned. Panics with pip's output when it cannot be installed.
    pub fn program(&self) -> PathBuf {
        if let Some(path) = std::env::var_os(self.program_env) {
            return PathBuf::from(path);
        }
        let venv = self.venv_dir();
        let program = venv.join("bin").join(self.program);
        if venv.join(".faas-ready").exists() && program.exists() {
            return program;
        }
        if let Some(parent) = venv.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
        }
        // One installer at a time (test processes run in parallel): python's fcntl lock.
        const INSTALL: &str = r#"
import fcntl, os, subprocess, sys
venv, requirement = sys.argv[1], sys.argv[2]
with open(venv + ".lock", "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    ready = os.path.join(venv, ".faas-ready")
    if not os.path.exists(ready):
        subprocess.check_call([sys.executable, "-m", "venv", venv])
        subprocess.check_call([os.path.join(venv, "bin", "pip"), "install", "--quiet",
                               "--disable-pip-version-check", requirement])
        open(ready, "w").close()
"#;
        let output = Command::new("python3")
            .arg("-c")
            .arg(INSTALL)
            .arg(&venv)
            .arg(self.requirement)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run python3 to install {}: {e} (apt-get install python3 python3-venv)",
                    self.requirement
                )
            });
        if !output.status.success() {
            panic!(
                "installing {} into {} failed ({}):\n{}\n{}",
                self.requirement,
                venv.display(),
                output.status,
                tail(&String::from_utf8_lossy(&output.stdout), 20),
                tail(&String::from_utf8_lossy(&output.stderr), 40)
            );
        }
        assert!(
            program.exists(),
            "{} installed but {} is missing",
            self.requirement,
            program.display()
        );
        program
    }
}
