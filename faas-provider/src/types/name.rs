//! Name validation for functions, namespaces and secrets.

use crate::error::{ProviderError, Result};

/// Longest DNS-1123 label.
const MAX_LABEL: usize = 63;

/// True when `name` is a DNS-1123 label: `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, at most 63 characters.
pub fn is_dns1123_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_LABEL
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// Validates a function name given on deploy (`service`).
pub fn validate_service(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(ProviderError::invalid(
            "validation failed: service: is required",
        ));
    }
    if !is_dns1123_label(name) {
        return Err(ProviderError::invalid(format!(
            "validation failed: service: {name:?} must be a DNS-1123 label (lowercase letters, digits and '-', \
             starting and ending with a letter or digit, at most 63 characters)"
        )));
    }
    Ok(())
}

/// Validates a function name taken from a path or a body on other routes.
pub fn validate_function_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(ProviderError::invalid("function name is required"));
    }
    if !is_dns1123_label(name) {
        return Err(ProviderError::invalid(format!(
            "invalid function name {name:?}: must be a DNS-1123 label"
        )));
    }
    Ok(())
}

/// Validates a namespace name (DNS-1123 label).
pub fn validate_namespace(name: &str) -> Result<()> {
    if !is_dns1123_label(name) {
        return Err(ProviderError::invalid(format!(
            "namespace {name:?} not valid: must be a DNS-1123 label"
        )));
    }
    Ok(())
}

/// Validates a secret name: it becomes a file name, so it must be a plain name with no path parts.
pub fn validate_secret_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.starts_with('.')
        && !name.contains("..");
    if ok {
        Ok(())
    } else {
        Err(ProviderError::invalid(format!(
            "invalid secret name {name:?}: use letters, digits, '-', '_' and '.', not starting with '.'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns1123() {
        for good in ["a", "echo", "a-b", "f1", "0x"] {
            assert!(is_dns1123_label(good), "{good}");
        }
        let long = "a".repeat(64);
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", "a b", long.as_str()] {
            assert!(!is_dns1123_label(bad), "{bad}");
        }
    }

    #[test]
    fn secret_names() {
        assert!(validate_secret_name("api-key.v2").is_ok());
        for bad in ["", "../x", "a/b", ".hidden", "a..b"] {
            assert!(validate_secret_name(bad).is_err(), "{bad}");
        }
    }
}
