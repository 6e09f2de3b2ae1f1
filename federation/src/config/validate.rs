//! What makes a [`FederationConfig`] usable, whatever it was read from: valid, unique backend
//! names, positive timeouts and a default backend that is one of them.

use std::collections::BTreeSet;
use std::time::Duration;

use super::error::{ConfigError, invalid};
use super::model::FederationConfig;

impl FederationConfig {
    /// Checks names (non-empty, `[A-Za-z0-9._-]`, unique ignoring case) and the default
    /// backend (must name one; normalised to its spelling), and returns the config.
    pub fn validate(mut self) -> Result<Self, ConfigError> {
        if self.backends.is_empty() {
            return Err(invalid("at least one backend is required"));
        }
        let mut seen = BTreeSet::new();
        for backend in &self.backends {
            validate_name(&backend.name)?;
            if !seen.insert(backend.name.to_ascii_lowercase()) {
                return Err(invalid(format!(
                    "backend name {:?} is used twice (names are compared ignoring case)",
                    backend.name
                )));
            }
            let optional = [backend.invoke_timeout, backend.deploy_timeout];
            if backend.timeout.is_zero() || optional.iter().flatten().any(Duration::is_zero) {
                return Err(invalid(format!(
                    "backend {}: timeouts must be greater than zero",
                    backend.name
                )));
            }
        }
        match self
            .backends
            .iter()
            .find(|b| b.name.eq_ignore_ascii_case(&self.default_backend))
        {
            Some(backend) => self.default_backend = backend.name.clone(),
            None => {
                return Err(invalid(format!(
                    "default_backend {:?} is not a backend; backends: {}",
                    self.default_backend,
                    self.backends
                        .iter()
                        .map(|b| b.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        if self.health_interval.is_zero() {
            return Err(invalid("health_interval must be greater than zero"));
        }
        Ok(self)
    }
}

fn validate_name(name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "backend name {name:?} is invalid: use 1 to 253 letters, digits, '-', '_' or '.'"
        )))
    }
}
