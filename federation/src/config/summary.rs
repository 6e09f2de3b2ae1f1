//! What a configuration would build, one line per backend (`faas-federation --check-config`).

use std::fmt::Write;
use std::time::Duration;

use super::model::{BackendConfig, BackendSpec, FederationConfig};

/// `30s`, `1m30s`, `250ms`: the shortest Go-style text of `duration`.
fn text(duration: Duration) -> String {
    if duration.subsec_nanos() != 0 {
        return format!("{}ms", duration.as_millis());
    }
    let seconds = duration.as_secs();
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    let mut text = String::new();
    for (value, unit) in [(hours, "h"), (minutes, "m"), (seconds, "s")] {
        if value != 0 {
            let _ = write!(text, "{value}{unit}");
        }
    }
    if text.is_empty() { "0s".into() } else { text }
}

/// Where a backend is: a URL for remote and Docker backends, the AWS endpoint or region for
/// Lambda ones, `in-process` for memory ones.
fn location(backend: &BackendConfig) -> String {
    match &backend.spec {
        BackendSpec::Memory => "in-process".into(),
        BackendSpec::Http { url, .. } => url.clone(),
        #[cfg(feature = "docker")]
        BackendSpec::Docker(docker) => docker
            .docker_host
            .clone()
            .unwrap_or_else(|| "the local Docker Engine".into()),
        #[cfg(feature = "lambda")]
        BackendSpec::Lambda(launch) => {
            let config = &launch.config;
            let place = match (&config.endpoint_url, &config.region) {
                (Some(url), _) => url.clone(),
                (None, Some(region)) => format!("AWS region {region}"),
                (None, None) => "the SDK's default AWS region".into(),
            };
            if launch.local.is_some() {
                format!("{place} (functions run locally)")
            } else {
                place
            }
        }
    }
}

impl FederationConfig {
    /// One line per backend (kind, name, where, timeouts; `default` marks the default one),
    /// then the health interval.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for backend in &self.backends {
            let default = if backend.name.eq_ignore_ascii_case(&self.default_backend) {
                " (default)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "backend {name}{default}: kind {kind}, {location}, timeout {timeout}, invoke_timeout {invoke}, deploy_timeout {deploy}",
                name = backend.name,
                kind = backend.spec.kind(),
                location = location(backend),
                timeout = text(backend.timeout),
                invoke = text(
                    backend
                        .invoke_timeout
                        .unwrap_or(self.settings.timeouts.upstream)
                ),
                deploy = text(
                    backend
                        .deploy_timeout
                        .unwrap_or(self.settings.timeouts.deploy)
                ),
            );
        }
        let _ = writeln!(out, "health_interval {}", text(self.health_interval));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_go_style() {
        assert_eq!(text(Duration::from_secs(30)), "30s");
        assert_eq!(text(Duration::from_secs(5400)), "1h30m");
        assert_eq!(text(Duration::from_secs(61)), "1m1s");
        assert_eq!(text(Duration::from_millis(250)), "250ms");
        assert_eq!(text(Duration::ZERO), "0s");
    }

    #[test]
    fn one_line_per_backend_with_kind_location_and_timeouts() {
        let text = "default_backend = \"remote\"\n[[backends]]\nname = \"local\"\nkind = \"memory\"\n[[backends]]\nname = \"remote\"\nkind = \"http\"\nurl = \"http://127.0.0.1:8081\"\ntimeout = \"2s\"\ninvoke_timeout = \"1h30m\"\n";
        let config = FederationConfig::from_toml(text, std::path::Path::new(".")).unwrap();
        assert_eq!(
            config.summary(),
            "backend local: kind memory, in-process, timeout 10s, invoke_timeout 1m, deploy_timeout 10m\n\
             backend remote (default): kind http, http://127.0.0.1:8081, timeout 2s, invoke_timeout 1h30m, deploy_timeout 10m\n\
             health_interval 5s\n"
        );
    }
}
