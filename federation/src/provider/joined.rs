//! The function list as JSON (what `GET /system/functions` sends), joined from the backends'
//! lists without decoding a remote's functions into the wire type and encoding them again,
//! which was most of the time a merged list of thousands of functions took:
//!
//! - a remote backend's list arrives as JSON ([`faas_provider::Provider::list_json`]); it is
//!   read once for the bounds of its items and their names, and the items are copied into the
//!   answer as the backend encoded them (as the OpenFaaS gateway proxies a provider's list);
//! - an in-process backend's list is typed already: each function is encoded once, straight
//!   into the answer's parts.
//!
//! The routing table learns every function it did not know (as
//! [`FederatedProvider::list_report`] does). A name listed by several backends (a move in
//! flight) appears once: the copy its route points to, else the first.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use faas_provider::{FunctionRef, FunctionStatus, ProviderError, Result};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::federated::{FederatedProvider, PROVIDER_NAME};
use super::merge::none_listed;
use crate::backends::BackendKind;
use crate::cache::BackendIndex;

/// One backend's list: the JSON of its items, and each item's name and bytes in it.
struct Part {
    json: Vec<u8>,
    items: Vec<(String, Range<usize>)>,
}

/// The one field of a listed function the join reads.
#[derive(Deserialize)]
struct Named<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

/// The name of an item: read straight off its start when it is the first key and holds no
/// escape (what every provider of this workspace sends), else by a pass over the item.
fn name_of(item: &str) -> serde_json::Result<String> {
    if let Some(rest) = item.strip_prefix(r#"{"name":""#)
        && let Some(end) = rest.find(['"', '\\'])
        && rest.as_bytes()[end] == b'"'
    {
        return Ok(rest[..end].to_string());
    }
    Ok(serde_json::from_str::<Named<'_>>(item)?.name.into_owned())
}

impl Part {
    /// A list encoded by its backend; `null` items are left out (as the typed list's decoding
    /// leaves them out).
    fn of_json(json: Vec<u8>) -> serde_json::Result<Self> {
        let items = {
            let list: Option<Vec<&RawValue>> = serde_json::from_slice(&json)?;
            let start = json.as_ptr() as usize;
            list.unwrap_or_default()
                .into_iter()
                .filter(|raw| raw.get() != "null")
                .map(|raw| {
                    let at = raw.get().as_ptr() as usize - start;
                    Ok((name_of(raw.get())?, at..at + raw.get().len()))
                })
                .collect::<serde_json::Result<Vec<_>>>()?
        };
        Ok(Self { json, items })
    }

    /// A typed list, each function encoded once.
    fn of_typed(functions: Vec<FunctionStatus>) -> serde_json::Result<Self> {
        let mut json = Vec::with_capacity(functions.len() * 256);
        let mut items = Vec::with_capacity(functions.len());
        for function in functions {
            let start = json.len();
            serde_json::to_writer(&mut json, &function)?;
            items.push((function.name, start..json.len()));
        }
        Ok(Self { json, items })
    }
}

/// `[` the items `,`-separated `]`.
fn join(items: &[&[u8]]) -> Vec<u8> {
    let bytes: usize = items.iter().map(|item| item.len() + 1).sum();
    let mut out = Vec::with_capacity(bytes + 2);
    out.push(b'[');
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.push(b']');
    out
}

impl FederatedProvider {
    /// Every backend's list of `namespace` joined as one JSON array, and the backends left out
    /// of it (could not answer, or answered something that is not a list of functions), with
    /// why. Fails only when no backend's list could be used.
    pub(super) async fn list_joined(
        &self,
        namespace: &str,
    ) -> Result<(Vec<u8>, Vec<(String, String)>)> {
        let (lists, mut missing) = self
            .gather(namespace, |b| {
                let (provider, kind, namespace) =
                    (b.provider().clone(), b.kind(), namespace.to_string());
                // A task per backend: one backend's list is read while another's is still
                // arriving, on either core.
                let task = tokio::spawn(async move {
                    Ok(match kind {
                        BackendKind::InProcess => Part::of_typed(provider.list(&namespace).await?),
                        BackendKind::Http => Part::of_json(provider.list_json(&namespace).await?),
                    })
                });
                async move {
                    task.await.unwrap_or_else(|error| {
                        Err(ProviderError::backend(
                            PROVIDER_NAME,
                            format!("listing: {error}"),
                        ))
                    })
                }
            })
            .await?;
        let mut parts: Vec<(BackendIndex, Part)> = Vec::with_capacity(lists.len());
        for (i, part) in lists {
            match part {
                Ok(part) => parts.push((i, part)),
                Err(error) => missing.push((
                    self.names[i].clone(),
                    format!("its list is not a JSON list of functions: {error}"),
                )),
            }
        }
        if parts.is_empty() {
            return Err(none_listed(namespace, &missing));
        }
        // Only names not yet routed are added, so the first listing backend wins there.
        self.table.learn(
            namespace,
            parts
                .iter()
                .flat_map(|(i, part)| part.items.iter().map(move |(name, _)| (name.as_str(), *i))),
        );
        let total = parts.iter().map(|(_, part)| part.items.len()).sum();
        let mut chosen: Vec<&[u8]> = Vec::with_capacity(total);
        let mut positions: HashMap<&str, usize> = HashMap::with_capacity(total);
        for (i, part) in &parts {
            for (name, range) in &part.items {
                let item = &part.json[range.clone()];
                match positions.get(name.as_str()) {
                    Some(&at) => {
                        let function = FunctionRef::new(name.as_str(), namespace);
                        if self.table.get(&function) == Some(*i) {
                            chosen[at] = item;
                        }
                    }
                    None => {
                        positions.insert(name.as_str(), chosen.len());
                        chosen.push(item);
                    }
                }
            }
        }
        Ok((join(&chosen), missing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(part: &Part) -> Vec<(&str, &str)> {
        part.items
            .iter()
            .map(|(name, range)| {
                (
                    name.as_str(),
                    std::str::from_utf8(&part.json[range.clone()]).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn remote_items_keep_their_bytes_and_names() {
        let body = br#"[{"name":"a","labels":{"k":"v"}}, null ,{"image":"i","name":"b\u0031"},{"name":"c\"d"}]"#;
        let part = Part::of_json(body.to_vec()).unwrap();
        assert_eq!(
            text(&part),
            [
                ("a", r#"{"name":"a","labels":{"k":"v"}}"#),
                ("b1", r#"{"image":"i","name":"b\u0031"}"#),
                ("c\"d", r#"{"name":"c\"d"}"#),
            ]
        );
        let items: Vec<&[u8]> = part
            .items
            .iter()
            .map(|(_, r)| &part.json[r.clone()])
            .collect();
        assert_eq!(
            String::from_utf8(join(&items)).unwrap(),
            r#"[{"name":"a","labels":{"k":"v"}},{"image":"i","name":"b\u0031"},{"name":"c\"d"}]"#
        );
        assert!(Part::of_json(b"null".to_vec()).unwrap().items.is_empty());
        assert_eq!(join(&[]), b"[]");
        for bad in [&b"{}"[..], b"[{\"image\":\"i\"}]", b"[1]", b"[{\"name\":"] {
            assert!(
                Part::of_json(bad.to_vec()).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn typed_items_are_encoded_as_the_wire_type() {
        let function = FunctionStatus {
            name: "f".into(),
            image: "i".into(),
            ..FunctionStatus::default()
        };
        let part = Part::of_typed(vec![function.clone()]).unwrap();
        assert_eq!(
            text(&part),
            [("f", serde_json::to_string(&function).unwrap().as_str())]
        );
    }
}
