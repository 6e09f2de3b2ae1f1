//! The provider's state, as it lives in the engine: container labels.
//!
//! Every container the provider creates carries:
//!
//! | label | value |
//! |---|---|
//! | `faas.docker.scope` | the provider's scope (several providers can share one engine) |
//! | `faas.docker.function` / `faas.docker.namespace` | the function |
//! | `faas.docker.role` | `spec` (the spec holder) or `replica` |
//! | `faas.docker.generation` | spec generation: 1 at deploy, +1 per update |
//! | `faas.docker.created` | the function's creation time (RFC 3339), kept across updates |
//! | `faas.docker.spec` | the whole `FunctionDeployment` as JSON |
//! | `faas.docker.replica` | replica index (replicas only) |
//! | `faas.docker.port` | host port of the watchdog (replicas, host networking only) |
//! | `com.openfaas.standby` | `true`: created as a standby replica (warm pool) |
//!
//! A function is the set of containers with its scope, namespace and name. Its spec is the one
//! of the highest generation; its desired replica count is the number of `replica` containers
//! that are not standbys; the spec holder (created, never started) keeps the spec while there
//! are no replicas.
//!
//! **Standby replicas** (the warm pool of a function at zero, `com.openfaas.scale.warm`) are
//! replica containers labelled `com.openfaas.standby=true`, started, checked healthy, then
//! paused. Labels cannot change once a container exists, so a standby is told by its label
//! *and its state*: while it is prepared its name ends in `.warming-<generation>-<index>-<id>`
//! (never counted, probed or routed to, even running); once paused it is renamed to a
//! replica's name (`.<generation>-<index>-<id>`), and from then on a labelled replica is a
//! standby while it is paused and an ordinary replica once it runs. Waking one is an unpause:
//! no rename on that path. The name and the state are in the engine, so a restarted provider
//! tells standbys from replicas as the one that made them. (A standby the engine restarts
//! unpaused, after a daemon restart, is thereby a replica: the function has one more.)

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};

use bollard::models::{ContainerSummary, ContainerSummaryStateEnum};
use chrono::{DateTime, Utc};
use faas_provider::{FunctionDeployment, FunctionRef};

use crate::config::{Networking, WATCHDOG_PORT};

/// Prefix of every label the provider owns; user labels may not use it.
pub const PREFIX: &str = "faas.docker.";
/// The provider's scope.
pub const SCOPE: &str = "faas.docker.scope";
/// Function name.
pub const FUNCTION: &str = "faas.docker.function";
/// Function namespace.
pub const NAMESPACE: &str = "faas.docker.namespace";
/// `spec` or `replica`.
pub const ROLE: &str = "faas.docker.role";
/// Spec generation.
pub const GENERATION: &str = "faas.docker.generation";
/// Function creation time.
pub const CREATED: &str = "faas.docker.created";
/// The deployment as JSON.
pub const SPEC: &str = "faas.docker.spec";
/// Replica index.
pub const REPLICA: &str = "faas.docker.replica";
/// Host port (host networking).
pub const PORT: &str = "faas.docker.port";
/// `true` on a container created as a standby replica (it stays when the standby is woken:
/// labelled and paused is a standby, labelled and running a woken one).
pub const STANDBY: &str = "com.openfaas.standby";
/// The function label asking for standby replicas while at zero: a count.
pub const SCALE_WARM: &str = "com.openfaas.scale.warm";
/// How the container name suffix (after the last `.`) of a standby being prepared starts.
pub(crate) const WARMING_PREFIX: &str = "warming-";

/// What a container is to its function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Created, never started: keeps the spec while there are no replicas.
    Spec,
    /// A running (or restarting) copy of the function.
    Replica,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Spec => "spec",
            Role::Replica => "replica",
        }
    }
}

/// One of the provider's containers, decoded from its labels.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) function: FunctionRef,
    pub(crate) role: Role,
    pub(crate) generation: u64,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) spec: FunctionDeployment,
    pub(crate) replica: u32,
    /// A standby replica (warm pool), not yet woken: never counted, never routed to.
    pub(crate) standby: bool,
    /// A standby still being prepared (not yet paused and renamed): never woken.
    pub(crate) warming: bool,
    pub(crate) state: ContainerSummaryStateEnum,
    /// Where its watchdog listens (replicas that have an address).
    pub(crate) address: Option<SocketAddr>,
}

impl Record {
    /// Decodes a container listed with the provider's labels; `None` for containers whose
    /// labels are not (or no longer) the provider's.
    pub(crate) fn from_summary(
        summary: &ContainerSummary,
        networking: &Networking,
    ) -> Option<Self> {
        let labels = summary.labels.as_ref()?;
        let id = summary.id.clone()?;
        let name = summary
            .names
            .as_ref()
            .and_then(|names| names.first())
            .map(|n| n.trim_start_matches('/').to_string())
            .unwrap_or_else(|| id.clone());
        let function = FunctionRef::new(labels.get(FUNCTION)?, labels.get(NAMESPACE)?);
        let role = match labels.get(ROLE)?.as_str() {
            "spec" => Role::Spec,
            "replica" => Role::Replica,
            _ => return None,
        };
        let generation = labels.get(GENERATION)?.parse().ok()?;
        let created_at = DateTime::parse_from_rfc3339(labels.get(CREATED)?)
            .ok()?
            .with_timezone(&Utc);
        let spec: FunctionDeployment = serde_json::from_str(labels.get(SPEC)?).ok()?;
        let replica = labels
            .get(REPLICA)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let port = labels.get(PORT).and_then(|v| v.parse().ok());
        let state = summary.state.unwrap_or(ContainerSummaryStateEnum::EMPTY);
        let born_standby =
            role == Role::Replica && labels.get(STANDBY).map(String::as_str) == Some("true");
        let warming = born_standby && is_warming_name(&name);
        let standby = warming || (born_standby && state == ContainerSummaryStateEnum::PAUSED);
        let address = match (role, networking) {
            (Role::Spec, _) => None,
            (Role::Replica, Networking::Host { bind, .. }) => {
                port.map(|p| SocketAddr::new(IpAddr::V4(*bind), p))
            }
            (Role::Replica, Networking::Network(network)) => summary
                .network_settings
                .as_ref()
                .and_then(|s| s.networks.as_ref())
                .and_then(|n| n.get(network))
                .and_then(|endpoint| endpoint.ip_address.as_deref())
                .and_then(|ip| ip.parse::<IpAddr>().ok())
                .map(|ip| SocketAddr::new(ip, WATCHDOG_PORT)),
        };
        Some(Self {
            id,
            name,
            function,
            role,
            generation,
            created_at,
            spec,
            replica,
            standby,
            warming,
            state,
            address,
        })
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.state == ContainerSummaryStateEnum::PAUSED
    }

    /// A standby ready to be woken: prepared (renamed) and paused.
    pub(crate) fn is_wakeable(&self) -> bool {
        self.standby && !self.warming && self.is_paused()
    }

    pub(crate) fn is_running(&self) -> bool {
        self.state == ContainerSummaryStateEnum::RUNNING
    }

    /// Still counts as a desired replica (not on its way out).
    pub(crate) fn is_live(&self) -> bool {
        !matches!(
            self.state,
            ContainerSummaryStateEnum::REMOVING | ContainerSummaryStateEnum::DEAD
        )
    }
}

/// A function as the engine holds it.
#[derive(Debug, Clone)]
pub(crate) struct FunctionView {
    pub(crate) function: FunctionRef,
    /// The spec of the highest generation.
    pub(crate) spec: FunctionDeployment,
    pub(crate) generation: u64,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) holders: Vec<Record>,
    /// Replicas, by index (standbys not included).
    pub(crate) replicas: Vec<Record>,
    /// Standby replicas (warm pool), by index.
    pub(crate) standbys: Vec<Record>,
}

impl FunctionView {
    /// Groups records by function.
    pub(crate) fn group(records: Vec<Record>) -> BTreeMap<FunctionRef, FunctionView> {
        let mut grouped: HashMap<FunctionRef, Vec<Record>> = HashMap::new();
        for record in records {
            grouped
                .entry(record.function.clone())
                .or_default()
                .push(record);
        }
        grouped
            .into_iter()
            .filter_map(|(function, records)| {
                Self::from_records(records).map(|view| (function, view))
            })
            .collect()
    }

    /// The function made of `records` (all of one function); `None` when empty.
    pub(crate) fn from_records(records: Vec<Record>) -> Option<Self> {
        let newest = records.iter().max_by_key(|r| r.generation)?.clone();
        let created_at = records
            .iter()
            .map(|r| r.created_at)
            .min()
            .unwrap_or(newest.created_at);
        let (mut holders, mut replicas): (Vec<Record>, Vec<Record>) =
            records.into_iter().partition(|r| r.role == Role::Spec);
        replicas.retain(Record::is_live);
        let (mut standbys, mut replicas): (Vec<Record>, Vec<Record>) =
            replicas.into_iter().partition(|r| r.standby);
        replicas.sort_by_key(|r| (r.replica, r.generation));
        standbys.sort_by_key(|r| (r.replica, r.generation));
        holders.sort_by_key(|r| r.generation);
        Some(Self {
            function: newest.function.clone(),
            spec: newest.spec,
            generation: newest.generation,
            created_at,
            holders,
            replicas,
            standbys,
        })
    }

    /// The lowest replica indexes not in use (by replicas or standbys), `count` of them.
    pub(crate) fn free_indexes(&self, count: usize) -> Vec<u32> {
        let used: std::collections::HashSet<u32> = self
            .replicas
            .iter()
            .chain(&self.standbys)
            .map(|r| r.replica)
            .collect();
        (0..).filter(|i| !used.contains(i)).take(count).collect()
    }
}

/// Engine filters selecting the containers of `scope` (and optionally one namespace/function).
pub(crate) fn filters(
    scope: &str,
    namespace: Option<&str>,
    name: Option<&str>,
) -> HashMap<String, Vec<String>> {
    let mut labels = vec![format!("{SCOPE}={scope}")];
    if let Some(namespace) = namespace {
        labels.push(format!("{NAMESPACE}={namespace}"));
    }
    if let Some(name) = name {
        labels.push(format!("{FUNCTION}={name}"));
    }
    HashMap::from([("label".to_string(), labels)])
}

/// Whether a container name is a standby's being prepared (`….warming-<generation>-<index>-<id>`).
pub(crate) fn is_warming_name(name: &str) -> bool {
    name.rsplit('.')
        .next()
        .is_some_and(|suffix| suffix.starts_with(WARMING_PREFIX))
}

/// The name a prepared standby takes: its name without the `warming-` of its suffix.
pub(crate) fn prepared_name(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((head, suffix)) => format!(
            "{head}.{}",
            suffix.strip_prefix(WARMING_PREFIX).unwrap_or(suffix)
        ),
        None => name.to_string(),
    }
}

/// A container name for the engine: `faas.<scope>.<namespace>.<name>.<suffix>`.
pub(crate) fn container_name(scope: &str, function: &FunctionRef, suffix: &str) -> String {
    format!(
        "faas.{scope}.{}.{}.{suffix}",
        function.namespace, function.name
    )
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use bollard::models::{ContainerSummaryNetworkSettings, EndpointSettings};

    use super::*;

    fn summary(role: &str, generation: u64, replica: u32, port: u16) -> ContainerSummary {
        let mut spec = FunctionDeployment::new("echo", format!("img:{generation}"));
        spec.namespace = "openfaas-fn".into();
        let labels = HashMap::from([
            (SCOPE.to_string(), "s".to_string()),
            (FUNCTION.to_string(), "echo".to_string()),
            (NAMESPACE.to_string(), "openfaas-fn".to_string()),
            (ROLE.to_string(), role.to_string()),
            (GENERATION.to_string(), generation.to_string()),
            (CREATED.to_string(), "2024-05-01T10:00:00Z".to_string()),
            (SPEC.to_string(), serde_json::to_string(&spec).unwrap()),
            (REPLICA.to_string(), replica.to_string()),
            (PORT.to_string(), port.to_string()),
        ]);
        ContainerSummary {
            id: Some(format!("id-{role}-{generation}-{replica}")),
            names: Some(vec![format!("/name-{replica}")]),
            labels: Some(labels),
            state: Some(ContainerSummaryStateEnum::RUNNING),
            network_settings: Some(ContainerSummaryNetworkSettings {
                networks: Some(HashMap::from([(
                    "faas-net".to_string(),
                    EndpointSettings {
                        ip_address: Some("10.0.0.7".to_string()),
                        ..Default::default()
                    },
                )])),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn records_decode_addresses_per_networking() {
        let host = Networking::Host {
            bind: Ipv4Addr::LOCALHOST,
            ports: (1, 2),
        };
        let record = Record::from_summary(&summary("replica", 1, 0, 20001), &host).unwrap();
        assert_eq!(record.address, Some("127.0.0.1:20001".parse().unwrap()));
        assert_eq!(record.name, "name-0");
        assert_eq!(record.spec.image, "img:1");

        let network = Networking::Network("faas-net".into());
        let record = Record::from_summary(&summary("replica", 1, 0, 0), &network).unwrap();
        assert_eq!(record.address, Some("10.0.0.7:8080".parse().unwrap()));
        let holder = Record::from_summary(&summary("spec", 1, 0, 0), &network).unwrap();
        assert_eq!((holder.role, holder.address), (Role::Spec, None));

        let mut foreign = summary("replica", 1, 0, 1);
        foreign.labels.as_mut().unwrap().remove(SPEC);
        assert!(Record::from_summary(&foreign, &host).is_none());
    }

    #[test]
    fn the_newest_generation_gives_the_spec() {
        let host = Networking::Host {
            bind: Ipv4Addr::LOCALHOST,
            ports: (1, 2),
        };
        let records = [
            summary("spec", 1, 0, 0),
            summary("spec", 2, 0, 0),
            summary("replica", 1, 1, 20001),
            summary("replica", 2, 0, 20002),
        ]
        .iter()
        .map(|s| Record::from_summary(s, &host).unwrap())
        .collect();
        let view = FunctionView::from_records(records).unwrap();
        assert_eq!(view.generation, 2);
        assert_eq!(view.spec.image, "img:2");
        assert_eq!(view.holders.len(), 2);
        let indexes: Vec<u32> = view.replicas.iter().map(|r| r.replica).collect();
        assert_eq!(indexes, [0, 1]);
        assert_eq!(view.free_indexes(2), [2, 3]);
    }

    #[test]
    fn standbys_are_told_by_their_label_name_and_state() {
        let host = Networking::Host {
            bind: Ipv4Addr::LOCALHOST,
            ports: (1, 2),
        };
        let born_standby = |replica: u32, name: &str, state| {
            let mut s = summary("replica", 1, replica, 20001 + replica as u16);
            s.labels
                .as_mut()
                .unwrap()
                .insert(STANDBY.into(), "true".into());
            s.names = Some(vec![format!("/faas.a.b.openfaas-fn.echo.{name}")]);
            s.state = Some(state);
            Record::from_summary(&s, &host).unwrap()
        };
        use ContainerSummaryStateEnum::{PAUSED, RUNNING};
        let paused = born_standby(0, "1-0-abcdef", PAUSED);
        assert!(paused.standby && paused.is_wakeable());
        // Woken (unpaused, not renamed): an ordinary replica; the label stays.
        let woken = born_standby(1, "1-1-abcdef", RUNNING);
        assert!(!woken.standby && !woken.is_wakeable());
        // Being prepared: a standby whatever its state, never woken.
        for state in [RUNNING, PAUSED] {
            let warming = born_standby(2, "warming-1-2-abcdef", state);
            assert!(warming.standby && warming.warming && !warming.is_wakeable());
        }
        // Paused or warming-named without the label is not one.
        let mut plain = summary("replica", 1, 3, 20004);
        plain.names = Some(vec!["/faas.a.openfaas-fn.echo.warming-1-3-abcdef".into()]);
        plain.state = Some(PAUSED);
        assert!(!Record::from_summary(&plain, &host).unwrap().standby);

        let view = FunctionView::from_records(vec![paused, woken]).unwrap();
        assert_eq!(view.replicas.len(), 1);
        assert_eq!(view.standbys.len(), 1);
        assert_eq!(view.free_indexes(1), [2]);
        assert!(is_warming_name("faas.sc.ope.n.fn.warming-3-0-a1b2c3"));
        assert!(!is_warming_name("faas.sc.openfaas-fn.warming.3-0-a1b2c3"));
        assert_eq!(
            prepared_name("faas.sc.openfaas-fn.f.warming-3-0-a1b2c3"),
            "faas.sc.openfaas-fn.f.3-0-a1b2c3"
        );
    }
}
