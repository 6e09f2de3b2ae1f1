//! A quick pass over a JSON body answering one question: are its object keys already spelled
//! as the wire type's fields (or unknown)? Then Go's case-insensitive key matching has nothing
//! to do, and the body is decoded straight into the type, without the `serde_json::Value`
//! tree that folding needs (a list of thousands of functions decodes several times faster).
//!
//! The pass allocates nothing for keys and skips values it does not need to look into; any
//! key that matches a field only ignoring case (or anything unexpected) answers `false`, and
//! the caller takes the folding path.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The keys of a wire object, and of the nested objects whose keys are folded too.
#[derive(Clone, Copy)]
pub(crate) struct Shape<'a> {
    pub(crate) keys: &'a [&'static str],
    pub(crate) nested: &'a [(&'static str, &'static [&'static str])],
}

/// True when `body` is one JSON value whose objects (at the top, or the elements of a top
/// array when `list`) use only canonical or unknown keys.
pub(crate) fn canonical(body: &[u8], shape: Shape<'_>, list: bool) -> bool {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let scanned = if list {
        deserializer.deserialize_any(ListScan(shape))
    } else {
        deserializer.deserialize_any(ObjectScan(shape))
    };
    scanned.is_ok() && deserializer.end().is_ok()
}

/// The error that ends a scan: folding is needed (or the body is not what it should be).
fn fold<E: de::Error>() -> E {
    E::custom("a key needs Go's case-insensitive matching")
}

/// What a key is.
enum Key {
    /// Exactly the field `keys[i]`.
    Field(usize),
    /// No field, even ignoring case: ignored when decoding.
    Unknown,
}

struct KeySeed<'a>(&'a [&'static str]);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        if let Some(i) = self.0.iter().position(|k| *k == key) {
            Ok(Key::Field(i))
        } else if self.0.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            Err(fold())
        } else {
            Ok(Key::Unknown)
        }
    }
}

/// One wire object (or `null`, or any value that decoding will judge).
struct ObjectScan<'a>(Shape<'a>);

impl<'de> DeserializeSeed<'de> for ObjectScan<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ObjectScan<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(KeySeed(self.0.keys))? {
            let nested = match key {
                Key::Field(i) => self
                    .0
                    .nested
                    .iter()
                    .find(|(field, _)| *field == self.0.keys[i]),
                Key::Unknown => None,
            };
            match nested {
                Some((_, keys)) => map.next_value_seed(ObjectScan(Shape { keys, nested: &[] }))?,
                None => map.next_value::<IgnoredAny>().map(drop)?,
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

/// A JSON array of wire objects (or `null`).
struct ListScan<'a>(Shape<'a>);

impl<'de> Visitor<'de> for ListScan<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(ObjectScan(self.0))?.is_some() {}
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPE: Shape<'static> = Shape {
        keys: &["name", "limits", "labels"],
        nested: &[("limits", &["memory", "cpu"])],
    };

    #[test]
    fn canonical_and_unknown_keys_pass() {
        assert!(canonical(
            br#"{"name":"a","other":{"Name":1}}"#,
            SHAPE,
            false
        ));
        assert!(canonical(
            br#"{"limits":{"memory":"1Mi","x":2}}"#,
            SHAPE,
            false
        ));
        assert!(canonical(
            br#"{"limits":null,"labels":{"NAME":"kept"}}"#,
            SHAPE,
            false
        ));
        assert!(canonical(br#"[{"name":"a"},{"name":"b"}]"#, SHAPE, true));
        assert!(canonical(b"null", SHAPE, true));
        assert!(canonical(br#"{"n\u0061me":"escaped"}"#, SHAPE, false));
    }

    #[test]
    fn keys_needing_folding_fail() {
        assert!(!canonical(br#"{"Name":"a"}"#, SHAPE, false));
        assert!(!canonical(br#"{"limits":{"Memory":"1Mi"}}"#, SHAPE, false));
        assert!(!canonical(br#"[{"name":"a"},{"NAME":"b"}]"#, SHAPE, true));
        assert!(!canonical(br#"{"N\u0061me":"escaped"}"#, SHAPE, false));
    }

    #[test]
    fn malformed_bodies_fail() {
        assert!(!canonical(br#"{"name":"a""#, SHAPE, false));
        assert!(!canonical(br#"{"name":"a"} trailing"#, SHAPE, false));
        assert!(!canonical(br#"{"name":"a"}"#, SHAPE, true));
    }
}
