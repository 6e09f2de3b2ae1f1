//! Go `encoding/json` compatibility helpers.
//!
//! OpenFaaS clients and servers are written in Go, so the wire format follows Go's rules:
//! object keys match struct fields case-insensitively, `null` leaves a field at its zero value,
//! unknown keys are ignored, `float64` values print without a trailing `.0`, and `time.Time`
//! is RFC 3339 with trailing zeros of the fraction trimmed, never omitted.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serializer};
use serde_json::{Map, Value};

use super::keyscan;

/// A wire type whose JSON object keys are matched like Go's `encoding/json` does.
pub trait GoJson: DeserializeOwned {
    /// The canonical JSON keys of the type's fields.
    const KEYS: &'static [&'static str];

    /// The nested wire objects whose keys are folded too (field, its keys), e.g. `limits`.
    const NESTED: &'static [(&'static str, &'static [&'static str])] = &[];

    /// Folds the keys of nested wire objects ([`GoJson::NESTED`]) after the top level is folded.
    fn fold_nested(object: &mut Map<String, Value>) {
        for (field, keys) in Self::NESTED {
            fold_field(object, field, keys);
        }
    }

    /// Decodes a JSON body the way a Go server would. A body whose keys are all canonical (or
    /// unknown) is decoded straight into the type; only one that needs case folding goes
    /// through a `serde_json::Value` tree.
    fn from_go_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        if keyscan::canonical(bytes, shape_of::<Self>(), false)
            && let Ok(decoded) = serde_json::from_slice(bytes)
        {
            return Ok(decoded);
        }
        let mut value: Value = serde_json::from_slice(bytes)?;
        if let Value::Object(object) = &mut value {
            fold_keys(object, Self::KEYS);
            Self::fold_nested(object);
        }
        serde_json::from_value(value)
    }
}

/// The keys of `T` that [`keyscan`] checks.
pub(crate) fn shape_of<T: GoJson>() -> keyscan::Shape<'static> {
    keyscan::Shape {
        keys: T::KEYS,
        nested: T::NESTED,
    }
}

/// Renames keys that match one of `keys` case-insensitively to the canonical spelling.
/// An exact match always wins over a case-insensitive one, as in Go.
pub fn fold_keys(object: &mut Map<String, Value>, keys: &[&str]) {
    let renames: Vec<(String, &str)> = object
        .keys()
        .filter(|k| !keys.contains(&k.as_str()))
        .filter_map(|k| {
            keys.iter()
                .find(|canonical| canonical.eq_ignore_ascii_case(k))
                .map(|canonical| (k.clone(), *canonical))
        })
        .collect();
    for (from, to) in renames {
        if let Some(value) = object.remove(&from) {
            object.entry(to.to_string()).or_insert(value);
        }
    }
}

/// Folds the keys of the nested object at `field`, if it is an object.
pub fn fold_field(object: &mut Map<String, Value>, field: &str, keys: &[&str]) {
    if let Some(Value::Object(inner)) = object.get_mut(field) {
        fold_keys(inner, keys);
    }
}

/// Deserializes `null` as the type's default, as Go leaves a field at its zero value.
pub fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Serializes an `f64` as Go does: integral values without a fraction (`1`, not `1.0`).
pub fn go_float<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        serializer.serialize_i64(*value as i64)
    } else {
        serializer.serialize_f64(*value)
    }
}

/// True when a float is Go's zero value (for `omitempty`).
pub fn is_zero_f64(value: &f64) -> bool {
    *value == 0.0
}

/// True when an integer is Go's zero value (for `omitempty`).
pub fn is_zero_u64(value: &u64) -> bool {
    *value == 0
}

/// True for `false` (for `omitempty`).
pub fn is_false(value: &bool) -> bool {
    !*value
}

/// Go's zero `time.Time`: `0001-01-01T00:00:00Z`.
pub fn zero_time() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Formats a time as Go's `time.RFC3339Nano` (fraction with trailing zeros trimmed).
pub fn format_time(time: &DateTime<Utc>) -> String {
    let text = time.to_rfc3339_opts(SecondsFormat::Nanos, true);
    // "...:05.120000000Z" -> "...:05.12Z"; "...:05.000000000Z" -> "...:05Z"
    match text.rfind('.') {
        Some(dot) => {
            let (head, tail) = text.split_at(dot);
            let fraction = tail[1..tail.len() - 1].trim_end_matches('0');
            if fraction.is_empty() {
                format!("{head}Z")
            } else {
                format!("{head}.{fraction}Z")
            }
        }
        None => text,
    }
}

/// Parses an RFC 3339 time (any offset, optional fraction) into UTC.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc))
}

/// Serde adapter for Go's `time.Time` fields.
pub mod go_time {
    use super::*;

    /// Serializes as RFC 3339 with nanoseconds trimmed.
    pub fn serialize<S: Serializer>(
        time: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_time(time))
    }

    /// Deserializes RFC 3339; `null` gives the zero time.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(zero_time()),
            Some(text) => parse_time(&text).map_err(serde::de::Error::custom),
        }
    }
}

/// Serde adapter for Go `[]byte` fields: standard base64 strings.
pub mod go_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes bytes as standard base64.
    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    /// Deserializes standard base64; `null` gives no bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(Vec::new()),
            Some(text) => STANDARD.decode(text.as_bytes()).map_err(|e| {
                serde::de::Error::custom(format!("rawValue is not valid base64: {e}"))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_format_trims_like_go() {
        assert_eq!(format_time(&zero_time()), "0001-01-01T00:00:00Z");
        let t = parse_time("2024-05-06T07:08:09.120Z").unwrap();
        assert_eq!(format_time(&t), "2024-05-06T07:08:09.12Z");
        let t = parse_time("2024-05-06T09:08:09.000000001+02:00").unwrap();
        assert_eq!(format_time(&t), "2024-05-06T07:08:09.000000001Z");
    }

    #[test]
    fn keys_fold_case_insensitively_with_exact_match_preferred() {
        let mut object: Map<String, Value> =
            serde_json::from_str(r#"{"SERVICE":"a","Image":"b","other":1}"#).unwrap();
        fold_keys(&mut object, &["service", "image"]);
        assert_eq!(object["service"], "a");
        assert_eq!(object["image"], "b");
        assert_eq!(object["other"], 1);

        let mut both: Map<String, Value> =
            serde_json::from_str(r#"{"Service":"x","service":"y"}"#).unwrap();
        fold_keys(&mut both, &["service"]);
        assert_eq!(both["service"], "y");
    }
}
