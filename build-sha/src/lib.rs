//! For build scripts: sets `FAAS_BUILD_SHA` (reported by `GET /system/info`) to the commit
//! being built, so every provider of this workspace reports it:
//!
//! ```text
//! // build.rs
//! fn main() {
//!     build_sha::emit();
//! }
//! ```
//!
//! The value is the `FAAS_BUILD_SHA` environment variable when set (builds outside a git
//! checkout, e.g. from a source archive), else `git rev-parse HEAD`, else `unknown`. Never
//! fails the build.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The variable the build script sets for the crate being built.
pub const VARIABLE: &str = "FAAS_BUILD_SHA";

fn git(dir: Option<&Path>, args: &[&str]) -> Option<String> {
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let output = command.args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    Some(text.trim().to_string()).filter(|text| !text.is_empty())
}

/// The commit checked out at `dir` (`git rev-parse HEAD`), if it is in a git checkout.
pub fn head(dir: impl AsRef<Path>) -> Option<String> {
    git(Some(dir.as_ref()), &["rev-parse", "HEAD"])
}

/// What a crate built at `dir` by [`emit`] reports, as far as a test can tell afterwards:
/// the `FAAS_BUILD_SHA` environment variable when set, else the commit checked out at `dir`;
/// `None` outside a git checkout.
pub fn expected(dir: impl AsRef<Path>) -> Option<String> {
    match std::env::var(VARIABLE) {
        Ok(sha) if !sha.trim().is_empty() => Some(sha.trim().to_string()),
        _ => head(dir),
    }
}

/// Prints the `cargo:` lines of a build script: `FAAS_BUILD_SHA` for the crate, and reruns
/// when the variable changes or HEAD moves.
pub fn emit() {
    println!("cargo:rerun-if-env-changed={VARIABLE}");
    let sha = match std::env::var(VARIABLE) {
        Ok(sha) if !sha.trim().is_empty() => sha.trim().to_string(),
        _ => {
            // Rebuild when HEAD moves: its file (per worktree), the branch it points to, and
            // the packed refs (where a branch can live). A watched file that does not exist
            // would rerun the script on every build, so only existing ones are watched.
            let mut watched = Vec::new();
            if let Some(dir) = git(None, &["rev-parse", "--git-dir"]) {
                watched.push(PathBuf::from(dir).join("HEAD"));
            }
            if let Some(common) = git(None, &["rev-parse", "--git-common-dir"]).map(PathBuf::from) {
                if let Some(branch) = git(None, &["symbolic-ref", "-q", "HEAD"]) {
                    watched.push(common.join(branch));
                }
                watched.push(common.join("packed-refs"));
            }
            for path in watched.iter().filter(|path| path.exists()) {
                println!("cargo:rerun-if-changed={}", path.display());
            }
            git(None, &["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_string())
        }
    };
    println!("cargo:rustc-env={VARIABLE}={sha}");
}
