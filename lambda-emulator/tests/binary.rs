//! The `faas-lambda-emulator` binary: `--zip` extraction, serving, Ctrl-C shutdown.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use test_support::images;
use test_support::sandbox::task_dir;
use zip::write::SimpleFileOptions;

/// Zip `dir` like the packager lays it out (unix modes, symlinks as symlink entries).
fn zip_dir(dir: &Path, out: &Path) {
    let mut writer = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&current)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode() & 0o7777;
            let options = SimpleFileOptions::default().unix_permissions(mode);
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                writer
                    .add_symlink(name, target.to_string_lossy(), options)
                    .unwrap();
            } else if meta.is_dir() {
                writer.add_directory(format!("{name}/"), options).unwrap();
                stack.push(path);
            } else {
                writer.start_file(name, options).unwrap();
                writer.write_all(&std::fs::read(&path).unwrap()).unwrap();
            }
        }
    }
    writer.finish().unwrap();
}

#[tokio::test]
async fn the_binary_serves_a_zip_until_interrupted() {
    let task = task_dir(&images::DYNAMIC);
    let work = tempfile::tempdir().unwrap();
    let zip = work.path().join("fn.zip");
    zip_dir(task.path(), &zip);

    let mut child = Command::new(env!("CARGO_BIN_EXE_faas-lambda-emulator"))
        .args(["--zip"])
        .arg(&zip)
        .args(["--name", "dyn", "--port", "0", "--timeout", "30"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start faas-lambda-emulator");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("faas-lambda-emulator: POST ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    assert!(
        url.ends_with("/2015-03-31/functions/dyn/invocations"),
        "{url}"
    );

    let response = reqwest::Client::new()
        .post(&url)
        .body(r#""from a zip""#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), r#"dynamic: "from a zip""#);

    // The sandbox: the bootstrap child of the emulator process.
    let emulator_pid = child.id().to_string();
    let sandbox: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            let after = stat.rsplit(')').next().unwrap_or("");
            after.split_whitespace().nth(1) == Some(emulator_pid.as_str())
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(sandbox.len(), 1, "one bootstrap process: {sandbox:?}");

    kill(
        Pid::from_raw(i32::try_from(child.id()).unwrap()),
        Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    // Its sandbox went with it.
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", sandbox[0])).unwrap_or_default();
    let state = stat.rsplit(')').next().unwrap_or("").trim_start();
    assert!(
        stat.is_empty() || state.starts_with('Z'),
        "the bootstrap survived: {stat}"
    );
}

#[test]
fn the_binary_refuses_bad_arguments() {
    let out = Command::new(env!("CARGO_BIN_EXE_faas-lambda-emulator"))
        .args(["--dir", "/nonexistent-task-dir", "--port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bootstrap"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_faas-lambda-emulator"))
        .output()
        .unwrap();
    assert!(!out.status.success());
}
