//! The pipeline against real `#!/bin/sh` hooks in a temporary directory: order, rewrites, every
//! failure kind, the start check, large events.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use middleware::{Failure, Hook, Middleware, MiddlewareError, Pipeline, STDERR_LIMIT};
use tokio::time::Instant;

/// Write an executable hook script `name` into `dir`.
fn hook(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A hook that appends `NAME-HOOK` to the `trace` array of its JSON input (`{"trace":[...]}`).
fn tracer(dir: &Path, name: &str) {
    hook(
        dir,
        name,
        &format!("sed -e 's/\\]}}$/,\"{name}-'\"$1\"'\"]}}/' -e 's/\\[,/[/'"),
    );
}

fn pipeline(dir: &Path, names: &[&str]) -> Pipeline {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    Pipeline::in_dir(dir, &names).unwrap()
}

fn soon() -> Option<Instant> {
    Some(Instant::now() + Duration::from_secs(30))
}

#[tokio::test]
async fn before_runs_in_list_order_and_after_in_reverse() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a", "b", "c"] {
        tracer(dir.path(), name);
    }
    let p = pipeline(dir.path(), &["a", "b", "c"]);
    p.check().unwrap();
    assert_eq!(p.describe(), "a,b,c");
    let event = p
        .before(Bytes::from_static(br#"{"trace":[]}"#), soon())
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&event).trim(),
        r#"{"trace":["a-before","b-before","c-before"]}"#
    );
    let response = p.after(event, None).await.unwrap();
    assert_eq!(
        String::from_utf8_lossy(&response).trim(),
        r#"{"trace":["a-before","b-before","c-before","c-after","b-after","a-after"]}"#
    );
}

#[tokio::test]
async fn hooks_get_the_configured_environment_and_directory() {
    let dir = tempfile::tempdir().unwrap();
    hook(
        dir.path(),
        "env",
        "cat >/dev/null; printf '{\"x\":\"%s\",\"home\":\"%s\",\"pwd\":\"%s\"}' \"$X\" \"$HOME\" \"$(pwd)\"",
    );
    let work = tempfile::tempdir().unwrap();
    let p = pipeline(dir.path(), &["env"])
        .with_env(Some(vec![
            ("X".into(), "set".into()),
            ("PATH".into(), "/usr/bin:/bin".into()),
        ]))
        .with_working_dir(Some(work.path().to_path_buf()));
    let out = p.before(Bytes::from_static(b"{}"), soon()).await.unwrap();
    let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(value["x"], "set");
    assert_eq!(value["home"], "", "the caller's HOME must not leak in");
    assert_eq!(
        Path::new(value["pwd"].as_str().unwrap())
            .canonicalize()
            .unwrap(),
        work.path().canonicalize().unwrap()
    );
}

#[tokio::test]
async fn a_large_event_streams_through_without_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    hook(dir.path(), "cat", "exec cat");
    let p = pipeline(dir.path(), &["cat", "cat"]);
    // Far beyond a pipe buffer both ways (and on stderr too).
    let big = format!("\"{}\"", "x".repeat(4 * 1024 * 1024));
    let out = p.before(Bytes::from(big.clone()), soon()).await.unwrap();
    assert_eq!(out.len(), big.len());
    hook(
        dir.path(),
        "noisy",
        "head -c 300000 /dev/zero | tr '\\0' e >&2; cat",
    );
    let p = pipeline(dir.path(), &["noisy"]);
    let out = p.before(Bytes::from(big.clone()), soon()).await.unwrap();
    assert_eq!(out.len(), big.len());
}

#[tokio::test]
async fn each_failure_names_the_hook_and_keeps_the_start_of_stderr() {
    let dir = tempfile::tempdir().unwrap();
    hook(dir.path(), "ok", "cat");
    hook(
        dir.path(),
        "exit3",
        "echo \"refused $1\" >&2; head -c 10000 /dev/zero | tr '\\0' z >&2; exit 3",
    );
    hook(dir.path(), "notjson", "cat >/dev/null; echo 'not json'");
    hook(dir.path(), "empty", "cat >/dev/null");
    hook(
        dir.path(),
        "slow",
        "echo $$ > \"$(dirname \"$0\")/slow.pid\"; echo sleeping >&2; sleep 30 & wait",
    );
    let event = || Bytes::from_static(b"{}");

    let err = pipeline(dir.path(), &["ok", "exit3", "ok"])
        .before(event(), soon())
        .await
        .unwrap_err();
    assert_eq!(err.middleware, "exit3");
    assert_eq!(err.hook, Hook::Before);
    assert_eq!(err.failure, Failure::Exit("exit status 3".into()));
    assert!(err.stderr.starts_with("refused before\nzzz"), "{err}");
    assert_eq!(err.stderr.len(), STDERR_LIMIT);
    let message = err.to_string();
    assert!(
        message.starts_with(
            r#"middleware "exit3" (before) failed: exit status 3; stderr: refused before"#
        ),
        "{message}"
    );

    let err = pipeline(dir.path(), &["exit3"])
        .after(event(), soon())
        .await
        .unwrap_err();
    assert_eq!(err.hook, Hook::After);
    assert!(err.stderr.starts_with("refused after"), "{err}");

    for name in ["notjson", "empty"] {
        let err = pipeline(dir.path(), &[name])
            .before(event(), soon())
            .await
            .unwrap_err();
        assert_eq!(err.middleware, name);
        assert!(
            matches!(err.failure, Failure::InvalidJson(_)),
            "{name}: {err}"
        );
        assert!(err.to_string().contains("not valid JSON"), "{err}");
    }

    let err = pipeline(dir.path(), &["slow"])
        .before(event(), Some(Instant::now() + Duration::from_millis(300)))
        .await
        .unwrap_err();
    assert_eq!(err.failure, Failure::Timeout);
    assert_eq!(err.stderr, "sleeping\n");
    assert!(err.to_string().contains("remaining time"), "{err}");
    let pid = std::fs::read_to_string(dir.path().join("slow.pid")).unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    assert!(
        stat.is_empty(),
        "the hook {pid} outlived its deadline: {stat}"
    );
}

#[tokio::test]
async fn the_start_check_names_a_missing_or_unusable_middleware() {
    let dir = tempfile::tempdir().unwrap();
    hook(dir.path(), "ok", "cat");
    std::fs::write(dir.path().join("plain"), "#!/bin/sh\ncat\n").unwrap();
    std::fs::create_dir(dir.path().join("adir")).unwrap();

    let err = pipeline(dir.path(), &["ok", "gone"]).check().unwrap_err();
    assert!(matches!(err, MiddlewareError::Missing { .. }), "{err}");
    assert_eq!(err.name(), "gone");
    assert!(err.to_string().contains("gone"), "{err}");
    for (name, reason) in [
        ("plain", "no execute permission"),
        ("adir", "not a regular file"),
    ] {
        let err = pipeline(dir.path(), &[name]).check().unwrap_err();
        assert!(
            matches!(err, MiddlewareError::NotExecutable { .. }),
            "{err}"
        );
        assert!(
            err.to_string().contains(name) && err.to_string().contains(reason),
            "{err}"
        );
    }
    // A file removed after the check: the run fails to start, naming it.
    let p = pipeline(dir.path(), &["ok"]);
    p.check().unwrap();
    std::fs::remove_file(dir.path().join("ok")).unwrap();
    let err = p.before(Bytes::from_static(b"{}"), None).await.unwrap_err();
    assert!(matches!(err.failure, Failure::Spawn(_)), "{err}");

    // Refused names never reach the file system.
    for bad in ["../ok", "a/b", ""] {
        let err = Pipeline::in_dir(dir.path(), &[bad.to_string()]).unwrap_err();
        assert!(matches!(err, MiddlewareError::InvalidName { .. }), "{err}");
    }
}

#[tokio::test]
async fn an_embedder_can_run_a_middleware_through_its_own_command() {
    let dir = tempfile::tempdir().unwrap();
    // Not executable itself: run through `sh FILE`, as the Lambda shim runs a relocated script.
    let file = dir.path().join("script");
    std::fs::write(
        &file,
        "printf '{\"hook\":\"%s\",\"argv0\":\"%s\"}' \"$1\" \"$0\"",
    )
    .unwrap();
    let mut m = Middleware::new("via-sh", &file);
    m.argv = vec!["/bin/sh".into(), file.to_string_lossy().into_owned()];
    let out = Pipeline::new(vec![m])
        .after(Bytes::from_static(b"{}"), soon())
        .await
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(value["hook"], "after");
    assert_eq!(value["argv0"], file.to_string_lossy().as_ref());
}
