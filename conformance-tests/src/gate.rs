//! The capability model: what a case needs of the target before it can say anything. A case
//! whose gates all hold runs; one whose gate does not hold is skipped with the gate named.
//! Under [`Target::strict`] a case that runs and then skips anyway fails: the target declared
//! everything the case needs, so the skip hides a broken promise.

use crate::target::Target;

/// One precondition of a case: a declared capability of the provider, or a part of the
/// target's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gate {
    /// The target has the provider's REST endpoint ([`Target::http`]; the binary's
    /// `--no-raw-http` removes it).
    RawHttp,
    /// Basic-auth credentials are configured for that endpoint.
    Credentials,
    /// `Capabilities::secrets`: secrets CRUD.
    Secrets,
    /// `Capabilities::logs`: function logs.
    Logs,
    /// `Capabilities::namespace_mutation`: namespaces can be created, updated and deleted.
    NamespaceMutation,
    /// `Capabilities::scale_to_zero`: `scale(0)` stops every replica.
    ScaleToZero,
    /// `Capabilities::max_replicas` is absent or at least 2.
    MultipleReplicas,
    /// `Capabilities::max_replicas` is declared.
    MaxReplicas,
    /// At least one optional capability (secrets, logs, namespace mutation) is declared off.
    OptionalOff,
    /// The provider runs the deployed image's code ([`Target::shell`] is set): what a
    /// deployment says (env vars, secrets, read-only root) can be seen from inside the function.
    RunsCode,
}

impl Gate {
    /// Every gate, in the order `--list` and the README show them.
    pub const ALL: [Gate; 10] = [
        Gate::RawHttp,
        Gate::Credentials,
        Gate::Secrets,
        Gate::Logs,
        Gate::NamespaceMutation,
        Gate::ScaleToZero,
        Gate::MultipleReplicas,
        Gate::MaxReplicas,
        Gate::OptionalOff,
        Gate::RunsCode,
    ];

    /// The short name shown by `--list` and in skip reasons.
    pub fn name(self) -> &'static str {
        match self {
            Gate::RawHttp => "raw_http",
            Gate::Credentials => "credentials",
            Gate::Secrets => "secrets",
            Gate::Logs => "logs",
            Gate::NamespaceMutation => "namespace_mutation",
            Gate::ScaleToZero => "scale_to_zero",
            Gate::MultipleReplicas => "replicas>=2",
            Gate::MaxReplicas => "max_replicas",
            Gate::OptionalOff => "optional_off",
            Gate::RunsCode => "runs_code",
        }
    }

    /// What is missing when the gate does not hold, for skip reasons.
    pub fn missing(self) -> &'static str {
        match self {
            Gate::RawHttp => "the target has no raw HTTP endpoint",
            Gate::Credentials => "the target has no basic-auth credentials configured",
            Gate::Secrets => "secrets are not declared",
            Gate::Logs => "logs are not declared",
            Gate::NamespaceMutation => "namespace mutation is not declared",
            Gate::ScaleToZero => "scale_to_zero is not declared",
            Gate::MultipleReplicas => "max_replicas is below 2",
            Gate::MaxReplicas => "the provider declares no max_replicas",
            Gate::OptionalOff => "every optional capability is declared",
            Gate::RunsCode => "runs_code is not declared (no shell function to deploy)",
        }
    }

    /// True when `t` satisfies the gate.
    pub fn holds(self, t: &Target) -> bool {
        let caps = &t.caps;
        match self {
            Gate::RawHttp => t.http.is_some(),
            Gate::Credentials => t.http.as_ref().is_some_and(|h| h.credentials.is_some()),
            Gate::Secrets => caps.secrets,
            Gate::Logs => caps.logs,
            Gate::NamespaceMutation => caps.namespace_mutation,
            Gate::ScaleToZero => caps.scale_to_zero,
            Gate::MultipleReplicas => caps.max_replicas.is_none_or(|max| max >= 2),
            Gate::MaxReplicas => caps.max_replicas.is_some(),
            Gate::OptionalOff => !(caps.secrets && caps.logs && caps.namespace_mutation),
            Gate::RunsCode => t.shell.is_some(),
        }
    }
}

impl std::fmt::Display for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
