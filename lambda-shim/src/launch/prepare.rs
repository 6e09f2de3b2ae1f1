//! The launch spec and what the bootstrap makes of it: the watchdog configuration that runs the
//! image's program from the rootfs, and the process environment it gets.

use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::time::Duration;

use watchdog::{ConfigError, WatchdogConfig};

use super::error::LaunchError;
use super::rootfs::Rootfs;
use crate::spec::{LAUNCH_SPEC_FILE, LaunchSpec, ROOTFS_DIR};

/// The `PATH` used when the image sets none (Docker's default).
pub const DEFAULT_IMAGE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Read `<task_root>/faas-launch.json`.
pub fn load_spec(task_root: &Path) -> Result<LaunchSpec, LaunchError> {
    let path = task_root.join(LAUNCH_SPEC_FILE);
    let bytes = std::fs::read(&path).map_err(|source| LaunchError::ReadSpec {
        path: path.clone(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| LaunchError::ParseSpec { path, source })
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

    let rootfs = image_rootfs(task_root, spec)?;
    let image_ld = spec.env_var("LD_LIBRARY_PATH");
    let working_dir = rootfs.working_dir()?;
    let relocated = rootfs.relocate(&command[0], &command[1..])?;

    let env = process_env(spec, &rootfs, lambda_env, image_ld.is_some());
    config.fprocess = relocated.argv;
    config.argv0 = relocated.argv0;
    config.working_dir = Some(working_dir);
    config.process_env = Some(env);
    Ok(config)
}

/// The image's relocated rootfs under `task_root` (it must exist), with the image's `PATH`,
/// `WorkingDir` and `LD_LIBRARY_PATH`.
pub(super) fn image_rootfs(task_root: &Path, spec: &LaunchSpec) -> Result<Rootfs, LaunchError> {
    let rootfs_dir = if spec.rootfs.is_empty() {
        ROOTFS_DIR
    } else {
        spec.rootfs.as_str()
    };
    let image_path = spec
        .env_var("PATH")
        .filter(|p| !p.is_empty())
        .unwrap_or(DEFAULT_IMAGE_PATH);
    let rootfs = Rootfs::new(
        task_root.join(rootfs_dir),
        image_path,
        &spec.working_dir,
        spec.env_var("LD_LIBRARY_PATH").unwrap_or(""),
    );
    if !rootfs.root().is_dir() {
        return Err(LaunchError::ReadSpec {
            path: rootfs.root().to_path_buf(),
            source: io::Error::new(io::ErrorKind::NotFound, "the rootfs directory is missing"),
        });
    }
    Ok(rootfs)
}

/// The function's process environment: the image Env with `PATH` and `LD_LIBRARY_PATH` rebased
/// into the rootfs, overlaid with Lambda's environment minus `PATH`, `AWS_LAMBDA_RUNTIME_API`
/// and (when the image sets its own) `LD_LIBRARY_PATH`.
fn process_env(
    spec: &LaunchSpec,
    rootfs: &Rootfs,
    lambda_env: &[(String, String)],
    image_sets_ld: bool,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = spec.env_pairs();
    let mut has_path = false;
    for (name, value) in &mut env {
        if name == "PATH" {
            has_path = true;
            *value = rootfs.host_path();
        } else if name == "LD_LIBRARY_PATH" {
            *value = rootfs.host_ld_library_path();
        }
    }
    if !has_path {
        env.push(("PATH".to_string(), rootfs.host_path()));
    }
    for (name, value) in lambda_env {
        let skip = name == "PATH"
            || name == "AWS_LAMBDA_RUNTIME_API"
            || (name == "LD_LIBRARY_PATH" && image_sets_ld);
        if skip {
            continue;
        }
        match env.iter_mut().find(|(k, _)| k == name) {
            Some(pair) => pair.1 = value.clone(),
            None => env.push((name.clone(), value.clone())),
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::test_fixture::fixture;

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
