//! Decoding list bodies with Go's rules: `null` (or nothing) is an empty list, and each
//! element's keys are matched case-insensitively like [`GoJson::from_go_json`] does.

use serde_json::Value;

use crate::types::GoJson;
use crate::types::gojson::{fold_keys, shape_of};
use crate::types::keyscan;

/// A JSON array of wire objects; `null` or an empty body → `[]`. A list whose keys are all
/// canonical (what every provider of this workspace and the Go ones send) is decoded straight
/// into the type; only one needing case folding goes through a `serde_json::Value` tree.
pub(super) fn list<T: GoJson>(body: &[u8]) -> Result<Vec<T>, serde_json::Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    if keyscan::canonical(body, shape_of::<T>(), true)
        && let Ok(items) = serde_json::from_slice::<Option<Vec<T>>>(body)
    {
        return Ok(items.unwrap_or_default());
    }
    list_folding(body)
}

/// A list body as the JSON array the server answers: the body itself when its keys are all
/// canonical (one pass that checks the syntax and the keys, without decoding a value), `[]` for
/// `null` or nothing, and otherwise [`list`]'s decoding (keys folded) encoded again.
pub(super) fn list_json<T: GoJson + serde::Serialize>(
    body: bytes::Bytes,
) -> Result<Vec<u8>, serde_json::Error> {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() || trimmed == b"null" {
        return Ok(b"[]".to_vec());
    }
    if trimmed.first() == Some(&b'[') && keyscan::canonical(&body, shape_of::<T>(), true) {
        return Ok(Vec::from(body));
    }
    serde_json::to_vec(&list_folding::<T>(&body)?)
}

/// [`list`] through a `serde_json::Value` tree, each element's keys folded.
fn list_folding<T: GoJson>(body: &[u8]) -> Result<Vec<T>, serde_json::Error> {
    match serde_json::from_slice::<Value>(body)? {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .into_iter()
            .filter(|item| !item.is_null())
            .map(|mut item| {
                if let Value::Object(object) = &mut item {
                    fold_keys(object, T::KEYS);
                    T::fold_nested(object);
                }
                serde_json::from_value(item)
            })
            .collect(),
        // Not an array: let serde say so.
        other => serde_json::from_value(other),
    }
}

/// A JSON array of strings; `null` or an empty body → `[]`.
pub(super) fn strings(body: &[u8]) -> Result<Vec<String>, serde_json::Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    Ok(serde_json::from_slice::<Option<Vec<String>>>(body)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{FunctionStatus, Secret};

    #[test]
    fn null_and_empty_are_empty_lists() {
        assert!(list::<FunctionStatus>(b"null").unwrap().is_empty());
        assert!(list::<FunctionStatus>(b"  \n").unwrap().is_empty());
        assert!(list::<Secret>(b"[]").unwrap().is_empty());
        assert!(strings(b"null").unwrap().is_empty());
        assert!(list::<Secret>(b"{}").is_err());
    }

    #[test]
    fn canonical_lists_decode_as_the_folding_path_does() {
        let bodies: [&[u8]; 6] = [
            br#"[{"name":"a","image":"i","namespace":"ns","envVars":{"K":"v"},"labels":{"Name":"x"},"annotations":{},"limits":{"memory":"5Mi"},"requests":null,"invocationCount":3,"replicas":2,"availableReplicas":1,"createdAt":"2024-05-06T07:08:09.12Z","usage":{"cpu":0.5,"totalMemoryBytes":1024},"unknown":{"Name":1}}]"#,
            br#"[{"name":"a","createdAt":null,"labels":null,"secrets":null}]"#,
            br#"[null,{"name":"b"}]"#,
            br#"[{"name":"a","name":"b"}]"#,
            br#"[{"name":"a","Name":"b","limits":{"Memory":"1Mi"}}]"#,
            b"null",
        ];
        for body in bodies {
            let fast: Vec<FunctionStatus> = list(body).unwrap();
            let folded: Vec<FunctionStatus> = list_folding(body).unwrap();
            assert_eq!(fast, folded, "{}", String::from_utf8_lossy(body));
        }
        let bad: &[u8] = br#"[{"name":"a","replicas":"two"}]"#;
        assert!(list::<FunctionStatus>(bad).is_err());
    }

    #[test]
    fn canonical_list_bodies_pass_through_as_they_are() {
        let json = |body: &'static [u8]| {
            String::from_utf8(list_json::<FunctionStatus>(bytes::Bytes::from_static(body)).unwrap())
                .unwrap()
        };
        let canonical = r#"[{"name":"a","image":"i","labels":{"Name":"x"},"replicas":2}]"#;
        assert_eq!(json(canonical.as_bytes()), canonical);
        // Values are not decoded: passed through as the remote sent them, as the OpenFaaS
        // gateway proxies a provider's list.
        assert_eq!(
            json(br#"[{"name":"a","replicas":"two"}]"#),
            r#"[{"name":"a","replicas":"two"}]"#
        );
        assert_eq!(json(b"null"), "[]");
        assert_eq!(json(b" "), "[]");
        // Go's key variants are folded, then the list is encoded again.
        let folded: Vec<FunctionStatus> =
            serde_json::from_str(&json(br#"[{"Name":"a","IMAGE":"i"}]"#)).unwrap();
        assert_eq!(
            (folded[0].name.as_str(), folded[0].image.as_str()),
            ("a", "i")
        );
        // Not a list, or not JSON: refused.
        for bad in [&b"{}"[..], b"[{\"name\":", b"[1] x"] {
            assert!(list_json::<FunctionStatus>(bytes::Bytes::from_static(bad)).is_err());
        }
    }

    #[test]
    fn elements_fold_go_key_variants() {
        let items: Vec<FunctionStatus> = list(
            br#"[{"Name":"a","IMAGE":"i","availablereplicas":2,"Limits":{"Memory":"5Mi"},"labels":null}]"#,
        )
        .unwrap();
        assert_eq!(items[0].name, "a");
        assert_eq!(items[0].image, "i");
        assert_eq!(items[0].available_replicas, 2);
        assert_eq!(items[0].limits.as_ref().unwrap().memory, "5Mi");
    }
}
