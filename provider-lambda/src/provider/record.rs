//! A function's OpenFaaS spec, stored in Lambda itself so that `get` and `list` are rebuilt from
//! Lambda alone (no local state):
//!
//! - `Description`: `openfaas:<namespace>:<image>` (cut to Lambda's 256 characters). It marks the
//!   function as this provider's and is returned by `ListFunctions`, so listing needs no tag
//!   reads for foreign functions.
//! - tags (Lambda: at most 50, keys ≤ 128, values ≤ 256 characters from letters, digits, spaces
//!   and `+ - = . _ : / @`):
//!   - `openfaas:function` = name, `openfaas:namespace` = namespace,
//!     `openfaas:created` = creation time (RFC 3339; kept across updates);
//!   - `openfaas:spec:00`, `openfaas:spec:01`, … = the whole `FunctionDeployment` as JSON,
//!     deflated, base64 (standard alphabet, which tag values accept), cut into 256-character
//!     pieces. At most [`MAX_SPEC_TAGS`] pieces (≈ 11 KB of compressed spec); a spec that does
//!     not fit is refused with a 400 before anything is created.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, SecondsFormat, Utc};
use faas_provider::{FunctionDeployment, ProviderError, Result};

/// Tag: the OpenFaaS function name.
pub const TAG_FUNCTION: &str = "openfaas:function";
/// Tag: the namespace.
pub const TAG_NAMESPACE: &str = "openfaas:namespace";
/// Tag: creation time.
pub const TAG_CREATED: &str = "openfaas:created";
/// Tag key prefix of the spec pieces.
pub const TAG_SPEC_PREFIX: &str = "openfaas:spec:";
/// Description prefix marking this provider's functions.
pub const DESCRIPTION_PREFIX: &str = "openfaas:";

/// Lambda's tag limits.
pub const MAX_TAGS: usize = 50;
/// Longest tag value.
pub const MAX_TAG_VALUE: usize = 256;
/// Tags available for the spec (the rest: the three fixed tags, and one spare).
pub const MAX_SPEC_TAGS: usize = MAX_TAGS - 4;
/// Lambda's description limit.
const MAX_DESCRIPTION: usize = 256;

/// The description of a function in `namespace` deployed from `image`.
pub fn description(namespace: &str, image: &str) -> String {
    let mut text = format!("{DESCRIPTION_PREFIX}{namespace}:{image}");
    if text.len() > MAX_DESCRIPTION {
        let mut cut = MAX_DESCRIPTION;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

/// The namespace named by a description of this provider, `None` for foreign functions.
pub fn namespace_of_description(description: &str) -> Option<&str> {
    let rest = description.strip_prefix(DESCRIPTION_PREFIX)?;
    let (namespace, _) = rest.split_once(':')?;
    (!namespace.is_empty()).then_some(namespace)
}

/// The tags holding `spec` (name, namespace, creation time and the spec pieces).
pub fn tags(spec: &FunctionDeployment, created: DateTime<Utc>) -> Result<BTreeMap<String, String>> {
    let json = serde_json::to_vec(spec)
        .map_err(|e| ProviderError::backend("faas-lambda", format!("encoding the spec: {e}")))?;
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(&json)
        .and_then(|_| encoder.try_finish())
        .map_err(|e| ProviderError::backend("faas-lambda", format!("compressing the spec: {e}")))?;
    let compressed = encoder
        .finish()
        .map_err(|e| ProviderError::backend("faas-lambda", format!("compressing the spec: {e}")))?;
    let encoded = BASE64.encode(compressed);
    let pieces: Vec<&str> = encoded
        .as_bytes()
        .chunks(MAX_TAG_VALUE)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    if pieces.len() > MAX_SPEC_TAGS {
        return Err(ProviderError::invalid(format!(
            "the function's spec is too large to be stored in Lambda tags: {} bytes of JSON compress to {} base64 characters, \
             at most {} fit ({MAX_SPEC_TAGS} tags of {MAX_TAG_VALUE}); shorten labels, annotations or envVars",
            json.len(),
            encoded.len(),
            MAX_SPEC_TAGS * MAX_TAG_VALUE
        )));
    }
    let mut tags = BTreeMap::new();
    tags.insert(TAG_FUNCTION.to_string(), spec.service.clone());
    tags.insert(TAG_NAMESPACE.to_string(), spec.namespace.clone());
    tags.insert(
        TAG_CREATED.to_string(),
        created.to_rfc3339_opts(SecondsFormat::Millis, true),
    );
    for (i, piece) in pieces.iter().enumerate() {
        tags.insert(format!("{TAG_SPEC_PREFIX}{i:02}"), piece.to_string());
    }
    Ok(tags)
}

/// The spec and creation time read back from a function's tags.
pub fn from_tags(
    tags: &HashMap<String, String>,
) -> std::result::Result<(FunctionDeployment, DateTime<Utc>), String> {
    let mut encoded = String::new();
    for i in 0..MAX_TAGS {
        match tags.get(&format!("{TAG_SPEC_PREFIX}{i:02}")) {
            Some(piece) => encoded.push_str(piece),
            None => break,
        }
    }
    if encoded.is_empty() {
        return Err("the function has no openfaas:spec tags".to_string());
    }
    let compressed = BASE64
        .decode(encoded.as_bytes())
        .map_err(|e| format!("openfaas:spec tags are not base64: {e}"))?;
    let mut json = Vec::new();
    flate2::read::DeflateDecoder::new(compressed.as_slice())
        .take(1 << 20)
        .read_to_end(&mut json)
        .map_err(|e| format!("openfaas:spec tags do not inflate: {e}"))?;
    let spec: FunctionDeployment = serde_json::from_slice(&json)
        .map_err(|e| format!("openfaas:spec is not a deployment: {e}"))?;
    let created = tags
        .get(TAG_CREATED)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    Ok((spec, created))
}

/// Tag keys of `old` that `new` does not set (stale spec pieces to remove on update).
pub fn stale_keys(old: &HashMap<String, String>, new: &BTreeMap<String, String>) -> Vec<String> {
    old.keys()
        .filter(|k| k.starts_with(TAG_SPEC_PREFIX) && !new.contains_key(*k))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use faas_provider::FunctionResources;

    use super::*;

    fn full() -> FunctionDeployment {
        let mut spec = FunctionDeployment::new("echo", "127.0.0.1:5000/faas-test/echo:1");
        spec.namespace = "openfaas-fn".into();
        spec.env_process = "cat".into();
        spec.env_vars.insert("A_B".into(), "two words".into());
        spec.constraints = vec!["node.platform.os == linux".into()];
        spec.secrets = vec!["api-key".into()];
        spec.labels = Some([("team".to_string(), "x".to_string())].into());
        spec.annotations =
            Some([("json".to_string(), "{\n \"a\": [1, 2]\n}\n".to_string())].into());
        spec.limits = Some(FunctionResources {
            memory: "128Mi".into(),
            cpu: "500m".into(),
        });
        spec.requests = Some(FunctionResources {
            memory: "64Mi".into(),
            cpu: "100m".into(),
        });
        spec.read_only_root_filesystem = true;
        spec
    }

    fn allowed_tag_char(c: char) -> bool {
        c.is_alphanumeric() || c == ' ' || "+-=._:/@".contains(c)
    }

    #[test]
    fn every_field_round_trips() {
        let spec = full();
        let created = Utc::now();
        let tags = tags(&spec, created).unwrap();
        for (key, value) in &tags {
            assert!(key.len() <= 128 && value.len() <= MAX_TAG_VALUE, "{key}");
            if key.starts_with(TAG_SPEC_PREFIX) {
                assert!(value.chars().all(allowed_tag_char), "{key}={value}");
            }
        }
        let map: HashMap<String, String> = tags.into_iter().collect();
        let (back, when) = from_tags(&map).unwrap();
        assert_eq!(back, spec);
        assert_eq!(when.timestamp_millis(), created.timestamp_millis());
    }

    #[test]
    fn large_specs_split_and_oversized_ones_are_refused() {
        let mut spec = full();
        // Incompressible values: many distinct random-looking labels.
        let mut labels = BTreeMap::new();
        for i in 0..120 {
            labels.insert(
                format!("label-{i}"),
                format!("{:x}", (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            );
        }
        spec.labels = Some(labels);
        let tags = tags(&spec, Utc::now()).unwrap();
        assert!(
            tags.keys()
                .filter(|k| k.starts_with(TAG_SPEC_PREFIX))
                .count()
                > 1
        );
        let map: HashMap<String, String> = tags.into_iter().collect();
        assert_eq!(from_tags(&map).unwrap().0, spec);

        let mut huge = full();
        huge.annotations = Some(
            (0..2000)
                .map(|i| {
                    (
                        format!("a{i}"),
                        format!("{:016x}", (i as u64).wrapping_mul(0xD1B5_4A32_D192_ED03)),
                    )
                })
                .collect(),
        );
        match super::tags(&huge, Utc::now()) {
            Err(ProviderError::InvalidRequest(m)) => assert!(m.contains("too large"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stale_pieces_are_found() {
        let old: HashMap<String, String> = [
            (format!("{TAG_SPEC_PREFIX}00"), "a".to_string()),
            (format!("{TAG_SPEC_PREFIX}01"), "b".to_string()),
            ("user".to_string(), "x".to_string()),
        ]
        .into();
        let new: BTreeMap<String, String> =
            [(format!("{TAG_SPEC_PREFIX}00"), "c".to_string())].into();
        assert_eq!(stale_keys(&old, &new), vec![format!("{TAG_SPEC_PREFIX}01")]);
    }

    #[test]
    fn descriptions_mark_the_namespace() {
        let d = description("openfaas-fn", "img:1");
        assert_eq!(namespace_of_description(&d), Some("openfaas-fn"));
        assert_eq!(namespace_of_description("someone else's function"), None);
        assert!(description("ns", &"x".repeat(400)).len() <= 256);
    }
}
