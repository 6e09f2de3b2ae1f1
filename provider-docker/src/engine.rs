//! Container operations on the engine: images, spec holders, replicas, ports, readiness.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::time::Duration;

use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, Mount, MountType, NetworkingConfig,
    RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, ListContainersOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, RenameContainerOptionsBuilder,
    StopContainerOptionsBuilder,
};
use chrono::{DateTime, SecondsFormat, Utc};
use faas_provider::{FunctionRef, ProviderError, Result};
use futures::{StreamExt, TryStreamExt};

use crate::auth;
use crate::config::{DockerConfig, Networking, PullPolicy, WATCHDOG_PORT};
use crate::error::{
    EngineResultExt, Subject, from_engine, is_connection_error, status, unavailable,
};
use crate::labels::{self, FunctionView, Record, Role};
use crate::routes::{HttpClient, probe};
use crate::spec::{EngineFacts, Plan, SECRETS_MOUNT_DIR};
use crate::store::Store;

/// Pauses between `/_/health` polls of a new replica: the first poll at once, then the first
/// pause doubled up to the longest (a refused connection on loopback costs microseconds).
const READY_STEP_FIRST: Duration = Duration::from_millis(1);
const READY_STEP_MAX: Duration = Duration::from_millis(5);
/// How often the engine is asked whether a new replica that is not ready yet still runs.
const STATE_CHECK: Duration = Duration::from_millis(100);
/// How often a woken standby's `/_/health` is polled (it passed it before it was paused).
const WAKE_POLL: Duration = Duration::from_millis(1);
/// Log lines quoted when a replica dies before becoming ready.
const FAILURE_LOG_LINES: &str = "20";

/// Why a new replica did not become ready.
#[derive(Debug)]
pub(crate) struct ReadyFailure {
    pub(crate) error: ProviderError,
    /// Its watchdog found its host port taken (another process won a race for it): worth
    /// another try on another port.
    pub(crate) port_conflict: bool,
}

impl From<ProviderError> for ReadyFailure {
    fn from(error: ProviderError) -> Self {
        Self {
            error,
            port_conflict: false,
        }
    }
}

/// Records how long one engine call or wait took: a `debug` event of target `faas_timing`
/// (fields `op`, `us`), what `faas-bench-wake` breaks a scale from zero down by.
pub(crate) fn timed(op: &'static str, began: tokio::time::Instant) {
    tracing::debug!(target: "faas_timing", op, us = began.elapsed().as_micros() as u64);
}

/// A replica just started.
#[derive(Debug, Clone)]
pub(crate) struct Started {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) addr: SocketAddr,
}

/// The engine and what the provider knows of it.
pub(crate) struct Engine {
    pub(crate) docker: Docker,
    pub(crate) config: DockerConfig,
    pub(crate) facts: EngineFacts,
    pub(crate) store: Store,
    pub(crate) client: HttpClient,
    /// Held from choosing a host port until the container holding it (in its label) exists,
    /// so two replicas never get the same port.
    port_lock: tokio::sync::Mutex<()>,
}

/// Splits an image reference into the `fromImage` and `tag` of the pull API (a digest goes in
/// `tag`; no tag means `latest`).
pub(crate) fn split_reference(image: &str) -> (String, String) {
    if let Some((repo, digest)) = image.split_once('@') {
        return (repo.to_string(), digest.to_string());
    }
    let last_slash = image.rfind('/').map(|i| i + 1).unwrap_or(0);
    match image[last_slash..].rfind(':') {
        Some(colon) => {
            let colon = last_slash + colon;
            (image[..colon].to_string(), image[colon + 1..].to_string())
        }
        None => (image.to_string(), "latest".to_string()),
    }
}

impl Engine {
    pub(crate) fn new(
        docker: Docker,
        config: DockerConfig,
        facts: EngineFacts,
        store: Store,
    ) -> Self {
        Self {
            docker,
            config,
            facts,
            store,
            client: crate::routes::http_client(),
            port_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The provider's containers in its scope, optionally of one namespace or function.
    pub(crate) async fn records(
        &self,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Result<Vec<Record>> {
        let began = tokio::time::Instant::now();
        let filters = labels::filters(&self.config.scope, namespace, name);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let summaries =
            self.docker.list_containers(Some(options)).await.map_err(
                |e| match is_connection_error(&e) {
                    true => unavailable(&e),
                    false => from_engine(e, Subject::Container("containers")),
                },
            )?;
        timed(
            match name {
                Some(_) => "engine: list a function's containers",
                None => "engine: list the scope's containers",
            },
            began,
        );
        Ok(summaries
            .iter()
            .filter_map(|s| Record::from_summary(s, &self.config.networking))
            .collect())
    }

    /// A function as the engine holds it; `None` when it has no container.
    pub(crate) async fn view(&self, function: &FunctionRef) -> Result<Option<FunctionView>> {
        let records = self
            .records(Some(&function.namespace), Some(&function.name))
            .await?;
        Ok(FunctionView::from_records(records))
    }

    /// Host ports labelled on any container of the engine (every scope).
    async fn used_ports(&self) -> Result<HashSet<u16>> {
        let began = tokio::time::Instant::now();
        let filters = HashMap::from([("label".to_string(), vec![labels::PORT.to_string()])]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let summaries = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|e| from_engine(e, Subject::Container("containers")))?;
        timed("engine: list the host ports in use", began);
        Ok(summaries
            .iter()
            .filter_map(|s| s.labels.as_ref()?.get(labels::PORT)?.parse().ok())
            .collect())
    }

    /// A free host port for a new replica of `function`: not labelled on any container and
    /// bindable now. Call with `port_lock` held until the container is created.
    async fn free_port(
        &self,
        function: &FunctionRef,
        bind: std::net::Ipv4Addr,
        (first, last): (u16, u16),
    ) -> Result<u16> {
        let used = self.used_ports().await?;
        // Start the scan at a random port: providers in other processes scanning the same
        // range rarely collide (and a collision is retried, see `ReadyFailure::port_conflict`).
        let span = u32::from(last - first) + 1;
        let offset = (uuid::Uuid::new_v4().as_u128() % u128::from(span)) as u32;
        for step in 0..span {
            let port = (u32::from(first) + (offset + step) % span) as u16;
            if used.contains(&port) {
                continue;
            }
            if TcpListener::bind((bind, port)).is_err() {
                continue;
            }
            return Ok(port);
        }
        Err(ProviderError::Unavailable {
            backend: "docker".into(),
            reason: format!(
                "no free port in {bind}:{first}-{last} for a new replica of {function}: every port of the \
                 range is taken; widen port_range or remove replicas"
            ),
        })
    }

    /// Makes sure the engine has `image`, pulling it as the pull policy says (`only_if_absent`:
    /// as `IfNotPresent` at most, for scaling up a function whose image was pulled at deploy).
    pub(crate) async fn ensure_image(&self, image: &str, only_if_absent: bool) -> Result<()> {
        let began = tokio::time::Instant::now();
        let inspected = self.docker.inspect_image(image).await;
        timed("engine: inspect the image", began);
        let present = match inspected {
            Ok(_) => true,
            Err(e) if status(&e) == Some(404) => false,
            Err(e) if is_connection_error(&e) => return Err(unavailable(&e)),
            Err(e) => return Err(from_engine(e, Subject::Container(image))),
        };
        match self.config.pull_policy {
            PullPolicy::Never if present => return Ok(()),
            PullPolicy::Never => {
                return Err(ProviderError::invalid(format!(
                    "image {image} is not in the Docker Engine and image_pull_policy is Never"
                )));
            }
            PullPolicy::IfNotPresent | PullPolicy::Always if present && only_if_absent => {
                return Ok(());
            }
            PullPolicy::IfNotPresent if present => return Ok(()),
            _ => {}
        }
        self.pull(image).await
    }

    async fn pull(&self, image: &str) -> Result<()> {
        let failed = |reason: String| {
            ProviderError::invalid(format!("unable to pull image {image}: {reason}"))
        };
        let credentials = match self.config.credentials_file() {
            Some(path) => auth::credentials_for(&path, image, None)
                .await
                .map_err(|e| failed(format!("registry credentials: {e}")))?,
            None => None,
        };
        let (from_image, tag) = split_reference(image);
        let options = CreateImageOptionsBuilder::default()
            .from_image(&from_image)
            .tag(&tag)
            .build();
        let pull = self
            .docker
            .create_image(Some(options), None, credentials)
            .try_for_each(|_| async { Ok(()) });
        match tokio::time::timeout(self.config.pull_timeout, pull).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) if is_connection_error(&e) => Err(unavailable(&e)),
            Ok(Err(e)) => Err(failed(engine_message(&e))),
            Err(_) => Err(failed(format!(
                "did not finish within {:?} (pull_timeout)",
                self.config.pull_timeout
            ))),
        }
    }

    fn common_labels(
        &self,
        plan: &Plan,
        role: Role,
        generation: u64,
        created_at: DateTime<Utc>,
    ) -> Result<HashMap<String, String>> {
        let spec = &plan.spec;
        let mut labels: HashMap<String, String> = spec
            .labels
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let json = serde_json::to_string(spec).map_err(crate::error::internal)?;
        for (key, value) in [
            (labels::SCOPE, self.config.scope.clone()),
            (labels::FUNCTION, spec.service.clone()),
            (labels::NAMESPACE, spec.namespace.clone()),
            (labels::ROLE, role.as_str().to_string()),
            (labels::GENERATION, generation.to_string()),
            (
                labels::CREATED,
                created_at.to_rfc3339_opts(SecondsFormat::Nanos, true),
            ),
            (labels::SPEC, json),
        ] {
            labels.insert(key.to_string(), value);
        }
        Ok(labels)
    }

    /// Creates the spec holder of generation `generation` (never started).
    pub(crate) async fn create_holder(
        &self,
        plan: &Plan,
        generation: u64,
        created_at: DateTime<Utc>,
    ) -> Result<String> {
        let function = FunctionRef::new(&plan.spec.service, &plan.spec.namespace);
        let name =
            labels::container_name(&self.config.scope, &function, &format!("spec-{generation}"));
        let body = ContainerCreateBody {
            image: Some(plan.spec.image.clone()),
            labels: Some(self.common_labels(plan, Role::Spec, generation, created_at)?),
            host_config: Some(HostConfig {
                network_mode: Some("none".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default().name(&name).build();
        let created = self
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| create_error(e, &function))?;
        Ok(created.id)
    }

    /// Creates and starts replica `index` of `plan` at generation `generation` (a standby
    /// being prepared, `warming-` name and standby label, when `standby`). The image is not
    /// looked up first: an engine that does not have it (removed since the deploy) is told to
    /// get it as the pull policy says (as `IfNotPresent` at most), then the create is tried
    /// again. The caller waits for readiness with [`Engine::wait_ready`].
    pub(crate) async fn start_replica(
        &self,
        plan: &Plan,
        generation: u64,
        created_at: DateTime<Utc>,
        index: u32,
        standby: bool,
    ) -> Result<Started> {
        let function = FunctionRef::new(&plan.spec.service, &plan.spec.namespace);
        let subject = function.to_string();
        for secret in &plan.spec.secrets {
            if !self.store.secret_exists(&plan.spec.namespace, secret) {
                return Err(ProviderError::invalid(format!(
                    "unable to find secret: {secret}"
                )));
            }
        }
        let mut fetched = false;
        let (id, name, port) = loop {
            let mut labels = self.common_labels(plan, Role::Replica, generation, created_at)?;
            labels.insert(labels::REPLICA.to_string(), index.to_string());
            if standby {
                labels.insert(labels::STANDBY.to_string(), "true".to_string());
            }
            let mut env = plan.env.clone();
            let port_guard;
            let (network_mode, networking_config, port) = match &self.config.networking {
                Networking::Host { bind, ports } => {
                    port_guard = Some(self.port_lock.lock().await);
                    let port = self.free_port(&function, *bind, *ports).await?;
                    labels.insert(labels::PORT.to_string(), port.to_string());
                    env.insert("port".into(), port.to_string());
                    env.insert("bind_address".into(), bind.to_string());
                    ("host".to_string(), None, Some(port))
                }
                Networking::Network(network) => {
                    port_guard = None;
                    env.insert("port".into(), WATCHDOG_PORT.to_string());
                    let endpoint = EndpointSettings {
                        aliases: Some(vec![function.name.clone()]),
                        ..Default::default()
                    };
                    (
                        network.clone(),
                        Some(NetworkingConfig {
                            endpoints_config: Some(HashMap::from([(network.clone(), endpoint)])),
                        }),
                        None,
                    )
                }
            };
            let body = self.replica_body(plan, labels, env, network_mode, networking_config);
            let suffix = format!(
                "{}{generation}-{index}-{}",
                if standby { labels::WARMING_PREFIX } else { "" },
                &uuid::Uuid::new_v4().simple().to_string()[..6]
            );
            let name = labels::container_name(&self.config.scope, &function, &suffix);
            let options = CreateContainerOptionsBuilder::default().name(&name).build();
            let began = tokio::time::Instant::now();
            let created = self.docker.create_container(Some(options), body).await;
            timed("engine: create a container", began);
            drop(port_guard);
            match created {
                Ok(created) => break (created.id, name, port),
                Err(e) if !fetched && is_missing_image(&e) => {
                    fetched = true;
                    self.ensure_image(&plan.spec.image, true).await?;
                }
                Err(e) => return Err(create_error(e, &function)),
            }
        };
        let began = tokio::time::Instant::now();
        let start = self.docker.start_container(&id, None).await;
        timed("engine: start a container", began);
        if let Err(e) = start {
            self.remove(&id, Duration::ZERO).await;
            return Err(match status(&e) {
                Some(400 | 404 | 500) => ProviderError::invalid(format!(
                    "the Docker Engine cannot start a replica of {function}: {}",
                    engine_message(&e)
                )),
                _ => from_engine(e, Subject::Function(&subject)),
            });
        }
        let addr = match (port, &self.config.networking) {
            (Some(port), Networking::Host { bind, .. }) => SocketAddr::new(IpAddr::V4(*bind), port),
            (_, Networking::Network(network)) => match self.network_address(&id, network).await {
                Ok(addr) => addr,
                Err(e) => {
                    self.remove(&id, Duration::ZERO).await;
                    return Err(e);
                }
            },
            _ => return Err(crate::error::internal("host networking without a port")),
        };
        Ok(Started { id, name, addr })
    }

    /// The container settings of a replica.
    fn replica_body(
        &self,
        plan: &Plan,
        labels: HashMap<String, String>,
        env: BTreeMap<String, String>,
        network_mode: String,
        networking_config: Option<NetworkingConfig>,
    ) -> ContainerCreateBody {
        let spec = &plan.spec;
        let mounts: Vec<Mount> = spec
            .secrets
            .iter()
            .map(|secret| Mount {
                typ: Some(MountType::BIND),
                source: Some(
                    self.store
                        .secret_path(&spec.namespace, secret)
                        .to_string_lossy()
                        .into_owned(),
                ),
                target: Some(format!("{SECRETS_MOUNT_DIR}/{secret}")),
                read_only: Some(true),
                ..Default::default()
            })
            .collect();
        let tmpfs = spec.read_only_root_filesystem.then(|| {
            HashMap::from([("/tmp".to_string(), "rw,nosuid,nodev,mode=1777".to_string())])
        });
        let resources = plan.resources;
        ContainerCreateBody {
            image: Some(spec.image.clone()),
            env: Some(env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            labels: Some(labels),
            stop_timeout: Some(self.config.stop_timeout.as_secs() as i64),
            networking_config,
            host_config: Some(HostConfig {
                network_mode: Some(network_mode),
                restart_policy: Some(RestartPolicy {
                    name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
                    maximum_retry_count: None,
                }),
                mounts: (!mounts.is_empty()).then_some(mounts),
                readonly_rootfs: Some(spec.read_only_root_filesystem),
                tmpfs,
                memory: resources.memory,
                // No swap beyond the limit, as in Kubernetes.
                memory_swap: resources.memory,
                memory_reservation: resources.memory_reservation,
                nano_cpus: resources.nano_cpus,
                cpu_shares: resources.cpu_shares,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    async fn network_address(&self, id: &str, network: &str) -> Result<SocketAddr> {
        let inspect = self
            .docker
            .inspect_container(id, None)
            .await
            .on(Subject::Container(id))?;
        inspect
            .network_settings
            .and_then(|s| s.networks)
            .and_then(|n| n.get(network).cloned())
            .and_then(|e| e.ip_address)
            .and_then(|ip| ip.parse::<IpAddr>().ok())
            .map(|ip| SocketAddr::new(ip, WATCHDOG_PORT))
            .ok_or_else(|| {
                ProviderError::invalid(format!(
                    "replica {id} has no address on network {network}: does the network exist?"
                ))
            })
    }

    /// Waits until the replica passes `/_/health`, polled at once and then every few
    /// milliseconds ([`READY_STEP_FIRST`] doubling up to [`READY_STEP_MAX`]). A replica that
    /// exits (or restarts) first, looked at every [`STATE_CHECK`] while it is not ready, or
    /// stays unready past `startup_timeout`, is an error quoting its last log lines.
    pub(crate) async fn wait_ready(
        &self,
        function: &FunctionRef,
        started: &Started,
    ) -> std::result::Result<(), ReadyFailure> {
        let began = tokio::time::Instant::now();
        let deadline = began + self.config.startup_timeout;
        let mut next_state_check = began + STATE_CHECK;
        let mut step = READY_STEP_FIRST;
        loop {
            if probe(&self.client, started.addr).await {
                timed("wait: a new replica's first /_/health 200", began);
                return Ok(());
            }
            let now = tokio::time::Instant::now();
            if now >= next_state_check {
                next_state_check = now + STATE_CHECK;
                self.still_running(function, started).await?;
            }
            if now >= deadline {
                let logs = self.last_logs(&started.id).await;
                return Err(ProviderError::Timeout(format!(
                    "function {function}: replica {} did not pass /_/health on {} within {:?} \
                     (startup_timeout); last log lines:\n{logs}",
                    started.name, started.addr, self.config.startup_timeout
                ))
                .into());
            }
            tokio::time::sleep(step).await;
            step = (step * 2).min(READY_STEP_MAX);
        }
    }

    /// An error quoting its last log lines when the new replica `started` exited or restarted.
    async fn still_running(
        &self,
        function: &FunctionRef,
        started: &Started,
    ) -> std::result::Result<(), ReadyFailure> {
        let began = tokio::time::Instant::now();
        let inspect = self
            .docker
            .inspect_container(&started.id, None)
            .await
            .on(Subject::Container(&started.name))
            .map_err(ReadyFailure::from)?;
        timed("engine: inspect a container", began);
        let state = inspect.state.unwrap_or_default();
        let restarts = inspect.restart_count.unwrap_or(0);
        if state.running == Some(true) && state.restarting != Some(true) && restarts == 0 {
            return Ok(());
        }
        let code = state.exit_code.unwrap_or_default();
        let oom = if state.oom_killed == Some(true) {
            " (killed: out of memory)"
        } else {
            ""
        };
        let error = state
            .error
            .filter(|e| !e.is_empty())
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        let logs = self.last_logs(&started.id).await;
        let port_conflict = matches!(self.config.networking, Networking::Host { .. })
            && logs.contains("Address already in use");
        Err(ReadyFailure {
            error: ProviderError::invalid(format!(
                "function {function}: replica {} exited with code {code}{oom}{error} before passing \
                 /_/health; last log lines:\n{logs}",
                started.name
            )),
            port_conflict,
        })
    }

    /// Makes a standby just started and healthy (`warming-` name) a prepared one: pauses it,
    /// then renames it to a replica's name ([`labels`]: labelled, paused, not `warming-`).
    pub(crate) async fn prepare_standby(&self, started: &Started) -> Result<()> {
        self.docker
            .pause_container(&started.id)
            .await
            .on(Subject::Container(&started.name))?;
        let name = labels::prepared_name(&started.name);
        self.docker
            .rename_container(
                &started.id,
                RenameContainerOptionsBuilder::default().name(&name).build(),
            )
            .await
            .on(Subject::Container(&started.name))
    }

    /// Wakes a paused standby: unpauses it (from then on it is an ordinary replica, see
    /// [`labels`]) and waits until its watchdog answers `/_/health` (polled at once, then every
    /// [`WAKE_POLL`], bounded by `startup_timeout`). On an error the caller removes it.
    pub(crate) async fn wake(&self, function: &FunctionRef, standby: &Record) -> Result<Started> {
        let addr = standby.address.ok_or_else(|| {
            crate::error::internal(format!("standby {} has no address", standby.name))
        })?;
        let began = tokio::time::Instant::now();
        self.docker
            .unpause_container(&standby.id)
            .await
            .on(Subject::Container(&standby.name))?;
        timed("engine: unpause a standby", began);
        let began = tokio::time::Instant::now();
        let deadline = began + self.config.startup_timeout;
        while !probe(&self.client, addr).await {
            if tokio::time::Instant::now() >= deadline {
                return Err(ProviderError::Timeout(format!(
                    "function {function}: woken standby {} did not pass /_/health on {addr} \
                     within {:?} (startup_timeout)",
                    standby.name, self.config.startup_timeout
                )));
            }
            tokio::time::sleep(WAKE_POLL).await;
        }
        timed("wait: a woken standby's first /_/health 200", began);
        Ok(Started {
            id: standby.id.clone(),
            name: standby.name.clone(),
            addr,
        })
    }

    async fn last_logs(&self, id: &str) -> String {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(FAILURE_LOG_LINES)
            .build();
        let chunks: Vec<_> = self
            .docker
            .logs(id, Some(options))
            .take(200)
            .filter_map(|chunk| async move { chunk.ok() })
            .collect()
            .await;
        let text: String = chunks.iter().map(|c| c.to_string()).collect();
        if text.trim().is_empty() {
            "(none)".to_string()
        } else {
            text.trim_end().to_string()
        }
    }

    /// Stops (SIGTERM, then SIGKILL after `grace`) and removes a container; a container
    /// already gone is fine. Failures are logged: removal is best effort and retried by the
    /// next reconciliation.
    pub(crate) async fn remove(&self, id: &str, grace: Duration) {
        if !grace.is_zero() {
            let options = StopContainerOptionsBuilder::default()
                .t(grace.as_secs().max(1) as i32)
                .build();
            if let Err(e) = self.docker.stop_container(id, Some(options)).await
                && !matches!(status(&e), Some(304 | 404))
            {
                tracing::warn!(container = id, error = %e, "stopping a container failed");
            }
        }
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        if let Err(e) = self.docker.remove_container(id, Some(options)).await
            && status(&e) != Some(404)
        {
            tracing::warn!(container = id, error = %e, "removing a container failed");
        }
    }
}

/// A container creation refused by the engine: a name taken is the function existing; a
/// missing image or network is the caller's (or the configuration's) to fix, not a missing
/// function.
fn create_error(error: bollard::errors::Error, function: &FunctionRef) -> ProviderError {
    match status(&error) {
        Some(404 | 400) => ProviderError::invalid(format!(
            "the Docker Engine cannot create a container for {function}: {}",
            engine_message(&error)
        )),
        _ => from_engine(error, Subject::Function(&function.to_string())),
    }
}

/// The engine has no such image (a 404 naming it, as opposed to a missing network).
fn is_missing_image(error: &bollard::errors::Error) -> bool {
    status(error) == Some(404)
        && engine_message(error)
            .to_lowercase()
            .contains("no such image")
}

/// The engine's own words for an error (without bollard's wrapping).
fn engine_message(error: &bollard::errors::Error) -> String {
    match error {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message.clone(),
        bollard::errors::Error::DockerStreamError { error } => error.clone(),
        other => other.to_string(),
    }
}

/// Reads the facts constraints and limits are checked against.
pub(crate) async fn engine_facts(
    docker: &Docker,
) -> std::result::Result<EngineFacts, bollard::errors::Error> {
    let info = docker.info().await?;
    Ok(EngineFacts {
        os: info.os_type.unwrap_or_default(),
        arch: info.architecture.unwrap_or_default(),
        hostname: info.name.unwrap_or_default(),
        labels: info
            .labels
            .unwrap_or_default()
            .iter()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        cpus: info.ncpu.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_split_for_the_pull_api() {
        let cases = [
            ("alpine", ("alpine", "latest")),
            ("alpine:3.19", ("alpine", "3.19")),
            (
                "127.0.0.1:5000/fn/echo",
                ("127.0.0.1:5000/fn/echo", "latest"),
            ),
            (
                "127.0.0.1:5000/fn/echo:v2",
                ("127.0.0.1:5000/fn/echo", "v2"),
            ),
            ("ghcr.io/o/i@sha256:abcd", ("ghcr.io/o/i", "sha256:abcd")),
        ];
        for (image, (repo, tag)) in cases {
            assert_eq!(split_reference(image), (repo.to_string(), tag.to_string()));
        }
    }
}
