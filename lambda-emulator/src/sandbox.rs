//! Where a function's `bootstrap` runs: a child process, or a Docker container shaped like
//! Lambda's sandbox (busybox-only image, task dir read-only at `/var/task`, tmpfs `/tmp`,
//! non-root user, host network so the Runtime API on 127.0.0.1 is reachable).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    WaitContainerOptionsBuilder,
};
use futures::StreamExt;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::watch;

use crate::error::EmulatorError;

/// Where `/var/task` is inside a container sandbox.
pub const CONTAINER_TASK_ROOT: &str = "/var/task";

/// How to run the function's `bootstrap`.
#[derive(Debug, Clone)]
pub enum Sandbox {
    /// A child process of the emulator (its own process group), working dir = the task dir,
    /// `LAMBDA_TASK_ROOT` = the task dir. Fast; proves nothing about `/`.
    Process,
    /// A Docker container (see [`DockerSandbox`]).
    Docker(DockerSandbox),
}

/// The Lambda-like container sandbox.
#[derive(Debug, Clone)]
pub struct DockerSandbox {
    /// A client for the engine (API version already negotiated).
    pub docker: Docker,
    /// The image: something that holds no more than an OS would (e.g. only busybox). Its
    /// entrypoint is replaced by `/var/task/bootstrap`.
    pub image: String,
    /// `uid:gid` the bootstrap runs as (default `993:993`, like Lambda's sbx_user).
    pub user: String,
    /// Size of the tmpfs `/tmp` in MiB (Lambda's default ephemeral storage is 512).
    pub tmp_size_mb: u32,
    /// Apply the function's memory size as the container's memory limit.
    pub limit_memory: bool,
}

impl DockerSandbox {
    /// Defaults: user `993:993`, 512 MiB `/tmp`, memory limited.
    pub fn new(docker: Docker, image: impl Into<String>) -> Self {
        DockerSandbox {
            docker,
            image: image.into(),
            user: "993:993".to_string(),
            tmp_size_mb: 512,
            limit_memory: true,
        }
    }
}

/// A started sandbox.
pub(crate) struct Running {
    kind: RunningKind,
    exit: watch::Receiver<Option<String>>,
}

enum RunningKind {
    Process { pgid: Option<Pid> },
    Container { docker: Docker, id: String },
}

/// Forward a stream's lines to our stderr, prefixed.
fn forward_lines<R: AsyncRead + Unpin + Send + 'static>(prefix: String, stream: R) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("{prefix} {line}");
        }
    });
}

impl Running {
    /// Start `bootstrap` of `task_dir` with `env` (the full environment).
    pub(crate) async fn start(
        sandbox: &Sandbox,
        function_name: &str,
        task_dir: &Path,
        env: &[(String, String)],
        memory_mb: u32,
    ) -> Result<Running, EmulatorError> {
        match sandbox {
            Sandbox::Process => Self::start_process(function_name, task_dir, env),
            Sandbox::Docker(docker) => {
                Self::start_container(docker, function_name, task_dir, env, memory_mb).await
            }
        }
    }

    fn start_process(
        function_name: &str,
        task_dir: &Path,
        env: &[(String, String)],
    ) -> Result<Running, EmulatorError> {
        let bootstrap: PathBuf = task_dir.join("bootstrap");
        let mut command = Command::new(&bootstrap);
        command
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(task_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        let mut child = command.spawn().map_err(|source| EmulatorError::Spawn {
            what: bootstrap.display().to_string(),
            source,
        })?;
        let prefix = format!("[{function_name}]");
        if let Some(out) = child.stdout.take() {
            forward_lines(prefix.clone(), out);
        }
        if let Some(err) = child.stderr.take() {
            forward_lines(prefix, err);
        }
        let pgid = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw);
        let (tx, exit) = watch::channel(None);
        tokio::spawn(async move {
            let how = match child.wait().await {
                Ok(status) => describe_status(status),
                Err(e) => format!("wait failed: {e}"),
            };
            // Whatever the bootstrap left behind in its group goes too.
            if let Some(pgid) = pgid {
                let _ = killpg(pgid, Signal::SIGKILL);
            }
            tx.send_replace(Some(how));
        });
        Ok(Running {
            kind: RunningKind::Process { pgid },
            exit,
        })
    }

    async fn start_container(
        sandbox: &DockerSandbox,
        function_name: &str,
        task_dir: &Path,
        env: &[(String, String)],
        memory_mb: u32,
    ) -> Result<Running, EmulatorError> {
        let docker = &sandbox.docker;
        let task_dir = std::fs::canonicalize(task_dir).map_err(|source| EmulatorError::Io {
            what: format!("resolving {}", task_dir.display()),
            source,
        })?;
        let name = format!(
            "faas-lambda-{}-{}",
            sanitize(function_name),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let mut tmpfs = HashMap::new();
        tmpfs.insert(
            "/tmp".to_string(),
            format!("rw,size={}m,mode=1777", sandbox.tmp_size_mb),
        );
        let mut labels = HashMap::new();
        labels.insert(
            "faas-lambda-emulator".to_string(),
            function_name.to_string(),
        );
        let memory = i64::from(memory_mb) * 1024 * 1024;
        let body = ContainerCreateBody {
            image: Some(sandbox.image.clone()),
            entrypoint: Some(vec![format!("{CONTAINER_TASK_ROOT}/bootstrap")]),
            cmd: Some(Vec::new()),
            env: Some(env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            working_dir: Some(CONTAINER_TASK_ROOT.to_string()),
            user: Some(sandbox.user.clone()),
            labels: Some(labels),
            host_config: Some(HostConfig {
                network_mode: Some("host".to_string()),
                binds: Some(vec![format!(
                    "{}:{CONTAINER_TASK_ROOT}:ro",
                    task_dir.display()
                )]),
                tmpfs: Some(tmpfs),
                readonly_rootfs: Some(true),
                memory: sandbox.limit_memory.then_some(memory),
                memory_swap: sandbox.limit_memory.then_some(memory),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default().name(&name).build();
        let created = docker
            .create_container(Some(options), body)
            .await
            .map_err(|source| EmulatorError::Docker {
                what: format!("creating the sandbox container from {}", sandbox.image),
                source,
            })?;
        let id = created.id;
        if let Err(source) = docker.start_container(&id, None).await {
            remove(docker, &id).await;
            return Err(EmulatorError::Docker {
                what: "starting the sandbox container".to_string(),
                source,
            });
        }
        // Logs: follow stdout+stderr.
        {
            let docker = docker.clone();
            let id = id.clone();
            let prefix = format!("[{function_name}]");
            tokio::spawn(async move {
                let options = LogsOptionsBuilder::default()
                    .follow(true)
                    .stdout(true)
                    .stderr(true)
                    .build();
                let mut logs = docker.logs(&id, Some(options));
                while let Some(Ok(chunk)) = logs.next().await {
                    let text = chunk.to_string();
                    for line in text.lines() {
                        eprintln!("{prefix} {line}");
                    }
                }
            });
        }
        let (tx, exit) = watch::channel(None);
        {
            let docker = docker.clone();
            let id = id.clone();
            tokio::spawn(async move {
                let options = WaitContainerOptionsBuilder::default().build();
                let mut wait = docker.wait_container(&id, Some(options));
                let how = match wait.next().await {
                    Some(Ok(r)) => format!("exit status {}", r.status_code),
                    Some(Err(bollard::errors::Error::DockerContainerWaitError {
                        code, ..
                    })) => {
                        format!("exit status {code}")
                    }
                    Some(Err(e)) => format!("container gone: {e}"),
                    None => "container gone".to_string(),
                };
                tx.send_replace(Some(how));
            });
        }
        Ok(Running {
            kind: RunningKind::Container {
                docker: docker.clone(),
                id,
            },
            exit,
        })
    }

    /// Whether the bootstrap has exited already.
    pub(crate) fn has_exited(&self) -> bool {
        self.exit.borrow().is_some()
    }

    /// Resolves when the bootstrap has exited, with how.
    pub(crate) async fn exited(&self) -> String {
        let mut exit = self.exit.clone();
        match exit.wait_for(|e| e.is_some()).await {
            Ok(how) => how.clone().unwrap_or_default(),
            Err(_) => "sandbox monitor gone".to_string(),
        }
    }

    /// Kill everything in the sandbox and wait until it is gone.
    pub(crate) async fn kill(self) {
        match &self.kind {
            RunningKind::Process { pgid } => {
                if let Some(pgid) = pgid {
                    let _ = killpg(*pgid, Signal::SIGKILL);
                }
                self.exited().await;
            }
            RunningKind::Container { docker, id } => {
                remove(docker, id).await;
            }
        }
    }
}

async fn remove(docker: &Docker, id: &str) {
    let options = RemoveContainerOptionsBuilder::default().force(true).build();
    if let Err(e) = docker.remove_container(id, Some(options)).await {
        let gone = matches!(
            &e,
            bollard::errors::Error::DockerResponseServerError {
                status_code: 404 | 409,
                ..
            }
        );
        if !gone {
            eprintln!("faas-lambda-emulator: cannot remove container {id}: {e}");
        }
    }
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => match Signal::try_from(signal) {
            Ok(s) => format!("signal: {}", s.as_str()),
            Err(_) => format!("signal: {signal}"),
        },
        _ => status.to_string(),
    }
}
