//! Which backend a function belongs to: a pure function of its spec.

use faas_provider::{FunctionDeployment, ProviderError};

/// The annotation naming a function's backend (faas-federation's key). Absent or empty → the
/// default backend; a value naming no backend → 400.
///
/// faas-federation compared the value with each provider URL's host; here it is compared with
/// backend names (ignoring ASCII case). Name backends after those hosts (or configure through
/// faas-federation's `providers` variable, which does) to keep existing annotations working.
pub const GATEWAY_ANNOTATION: &str = "com.openfaas.federation.gateway";

/// The backend for `spec`: the one its [`GATEWAY_ANNOTATION`] names, else `default`.
///
/// Returns the matching entry of `backends` (its configured spelling). An annotation naming no
/// backend is an [`ProviderError::InvalidRequest`] listing the valid names — never a silent
/// fallback, so a typo cannot deploy a function somewhere unexpected.
pub fn pick_backend<'a>(
    spec: &FunctionDeployment,
    backends: &[&'a str],
    default: &'a str,
) -> Result<&'a str, ProviderError> {
    let wanted = match spec.annotation(GATEWAY_ANNOTATION).map(str::trim) {
        None | Some("") => return Ok(default),
        Some(value) => value,
    };
    backends
        .iter()
        .find(|name| **name == wanted)
        .or_else(|| {
            backends
                .iter()
                .find(|name| name.eq_ignore_ascii_case(wanted))
        })
        .copied()
        .ok_or_else(|| {
            ProviderError::invalid(format!(
                "annotation {GATEWAY_ANNOTATION}={wanted:?} names no backend; valid backends: {}",
                backends.join(", ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(annotation: Option<&str>) -> FunctionDeployment {
        let mut spec = FunctionDeployment::new("f", "img");
        if let Some(value) = annotation {
            spec.annotations = Some(
                [(GATEWAY_ANNOTATION.to_string(), value.to_string())]
                    .into_iter()
                    .collect(),
            );
        }
        spec
    }

    const BACKENDS: &[&str] = &["local", "k8s", "Lambda"];

    #[test]
    fn absent_or_empty_annotation_picks_the_default() {
        assert_eq!(
            pick_backend(&spec(None), BACKENDS, "local").unwrap(),
            "local"
        );
        assert_eq!(
            pick_backend(&spec(Some("")), BACKENDS, "k8s").unwrap(),
            "k8s"
        );
        assert_eq!(
            pick_backend(&spec(Some("  ")), BACKENDS, "k8s").unwrap(),
            "k8s"
        );
        let mut other = spec(None);
        other.annotations = Some([("x".to_string(), "k8s".to_string())].into_iter().collect());
        assert_eq!(pick_backend(&other, BACKENDS, "local").unwrap(), "local");
    }

    #[test]
    fn the_annotation_names_the_backend() {
        assert_eq!(
            pick_backend(&spec(Some("k8s")), BACKENDS, "local").unwrap(),
            "k8s"
        );
        assert_eq!(
            pick_backend(&spec(Some(" k8s ")), BACKENDS, "local").unwrap(),
            "k8s"
        );
        // Case-insensitive, as faas-federation; the configured spelling is returned.
        assert_eq!(
            pick_backend(&spec(Some("lambda")), BACKENDS, "local").unwrap(),
            "Lambda"
        );
        assert_eq!(
            pick_backend(&spec(Some("LOCAL")), BACKENDS, "k8s").unwrap(),
            "local"
        );
    }

    #[test]
    fn an_unknown_name_is_a_400_listing_the_valid_ones() {
        let error = pick_backend(&spec(Some("k9s")), BACKENDS, "local").unwrap_err();
        assert!(
            matches!(error, ProviderError::InvalidRequest(_)),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(message.contains("k9s"), "{message}");
        assert!(message.contains("local, k8s, Lambda"), "{message}");
    }
}
