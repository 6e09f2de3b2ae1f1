//! Decoding list bodies with Go's rules: `null` (or nothing) is an empty list, and each
//! element's keys are matched case-insensitively like [`GoJson::from_go_json`] does.

use serde_json::Value;

use crate::types::GoJson;
use crate::types::gojson::fold_keys;

/// A JSON array of wire objects; `null` or an empty body → `[]`.
pub(super) fn list<T: GoJson>(body: &[u8]) -> Result<Vec<T>, serde_json::Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
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
