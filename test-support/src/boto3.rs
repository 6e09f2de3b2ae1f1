//! boto3 (PyPI), the AWS SDK for Python, as a real client of the federation's Lambda API:
//! installed once into `<workspace>/target/boto3-venv` (`python3 -m venv` + `pip install boto3`,
//! under a lock like [`crate::moto`]); `FAAS_TEST_BOTO3_PYTHON` names a Python that already has
//! boto3 instead.
//!
//! ```no_run
//! let output = test_support::boto3::run(
//!     "import boto3, sys; print(boto3.__version__)",
//!     &[],
//!     &[("AWS_ACCESS_KEY_ID", "testing")],
//! );
//! assert!(output.status.success());
//! ```

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use crate::pypi::PypiTool;

/// boto3 from PyPI, in its own venv.
pub const BOTO3: PypiTool = PypiTool {
    requirement: "boto3",
    program: "python",
    program_env: "FAAS_TEST_BOTO3_PYTHON",
    venv_env: "FAAS_TEST_BOTO3_VENV",
    venv_name: "boto3-venv",
};

/// The venv's Python (boto3 importable), installed when missing.
pub fn python() -> PathBuf {
    BOTO3.program()
}

/// Runs `script` (`python -c`) with `args` and extra environment `env`, stdin closed. The
/// environment is otherwise inherited, minus the AWS profile, and no AWS config or credentials
/// file is read (`AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE` point nowhere).
pub fn run(script: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let python = python();
    let mut command = Command::new(&python);
    command
        .arg("-c")
        .arg(script)
        .args(args)
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent/faas-test-aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/faas-test-aws-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()))
}
