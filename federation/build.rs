//! Sets `FAAS_BUILD_SHA` (reported by `GET /system/info`) to the commit being built: the
//! `FAAS_BUILD_SHA` environment variable when set (builds outside a git checkout, e.g. from a
//! source archive), else `git rev-parse HEAD`, else `unknown`. Never fails the build.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    Some(text.trim().to_string()).filter(|text| !text.is_empty())
}

fn main() {
    println!("cargo:rerun-if-env-changed=FAAS_BUILD_SHA");
    let sha = match std::env::var("FAAS_BUILD_SHA") {
        Ok(sha) if !sha.trim().is_empty() => sha.trim().to_string(),
        _ => {
            // Rebuild when HEAD moves: its file (per worktree), the branch it points to, and
            // the packed refs (where a branch can live).
            // (A watched file that does not exist would rerun this script on every build.)
            let mut watched = Vec::new();
            if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
                watched.push(PathBuf::from(dir).join("HEAD"));
            }
            if let Some(common) = git(&["rev-parse", "--git-common-dir"]).map(PathBuf::from) {
                if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
                    watched.push(common.join(branch));
                }
                watched.push(common.join("packed-refs"));
            }
            for path in watched.iter().filter(|path| path.exists()) {
                println!("cargo:rerun-if-changed={}", path.display());
            }
            git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_string())
        }
    };
    println!("cargo:rustc-env=FAAS_BUILD_SHA={sha}");
}
