//! A blob streamed from the registry, counted and hashed as it arrives: more bytes than its
//! descriptor's size stop it at once, and size and digest are both checked at the end.

use bytes::Bytes;
use futures::StreamExt;
use oci_client::client::SizedStream;
use sha2::Digest as _;

use super::error::OciError;

/// A digest this client can verify: `sha256:` + 64 or `sha512:` + 128 lowercase hex digits.
/// Anything else is refused before it reaches a URL.
pub(crate) fn check_digest(digest: &str) -> Result<(), OciError> {
    let ok = match digest.split_once(':') {
        Some(("sha256", hex)) => hex.len() == 64,
        Some(("sha512", hex)) => hex.len() == 128,
        _ => false,
    } && digest
        .split_once(':')
        .is_some_and(|(_, hex)| hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    if ok {
        Ok(())
    } else {
        Err(OciError::InvalidImage(format!(
            "unsupported or malformed digest {digest:?}"
        )))
    }
}

/// A blob being streamed, counted and hashed.
pub struct Blob {
    stream: SizedStream,
    /// `None` once the end was verified.
    hasher: Option<Hasher>,
    received: u64,
    digest: String,
    size: u64,
    registry: String,
}

impl Blob {
    /// A blob of `size` bytes that must hash to `digest` (checked with [`check_digest`]),
    /// arriving on `stream` from `registry`; refused at once when the registry announces
    /// another length.
    pub(crate) fn new(
        stream: SizedStream,
        digest: &str,
        size: u64,
        registry: String,
    ) -> Result<Blob, OciError> {
        let blob = Blob {
            stream,
            hasher: Some(Hasher::for_digest(digest)),
            received: 0,
            digest: digest.to_string(),
            size,
            registry,
        };
        if let Some(announced) = blob.stream.content_length
            && announced != size
        {
            return Err(blob.mismatch(format!(
                "the registry announces {announced} bytes, the descriptor says {size}"
            )));
        }
        Ok(blob)
    }

    fn mismatch(&self, message: String) -> OciError {
        OciError::BlobMismatch {
            digest: self.digest.clone(),
            message,
        }
    }

    /// The next chunk; `None` at the end, once size and digest are verified.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, OciError> {
        let Some(hasher) = self.hasher.as_mut() else {
            return Ok(None);
        };
        match self.stream.next().await {
            Some(Ok(chunk)) => {
                self.received += chunk.len() as u64;
                if self.received > self.size {
                    return Err(self.mismatch(format!(
                        "more than the {} bytes its descriptor says",
                        self.size
                    )));
                }
                hasher.update(&chunk);
                Ok(Some(chunk))
            }
            Some(Err(e)) => {
                let digest_error = e
                    .get_ref()
                    .is_some_and(|inner| inner.is::<oci_client::errors::DigestError>());
                Err(if digest_error {
                    self.mismatch(e.to_string())
                } else {
                    OciError::Unreachable {
                        registry: self.registry.clone(),
                        message: format!("reading blob {}: {e}", self.digest),
                    }
                })
            }
            None => {
                if self.received != self.size {
                    return Err(self.mismatch(format!(
                        "{} bytes received, the descriptor says {}",
                        self.received, self.size
                    )));
                }
                let actual = self.hasher.take().expect("checked above").finish();
                if actual != self.digest {
                    return Err(self.mismatch(format!("its content hashes to {actual}")));
                }
                Ok(None)
            }
        }
    }
}

/// The running hash of a blob, by its digest's algorithm.
enum Hasher {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Hasher {
    fn for_digest(digest: &str) -> Hasher {
        if digest.starts_with("sha512:") {
            Hasher::Sha512(sha2::Sha512::new())
        } else {
            Hasher::Sha256(sha2::Sha256::new())
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    fn finish(self) -> String {
        let (algorithm, bytes) = match self {
            Hasher::Sha256(h) => ("sha256", h.finalize().to_vec()),
            Hasher::Sha512(h) => ("sha512", h.finalize().to_vec()),
        };
        let mut out = String::with_capacity(algorithm.len() + 1 + 2 * bytes.len());
        out.push_str(algorithm);
        out.push(':');
        for b in bytes {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_checked_before_use() {
        let good = format!("sha256:{}", "a".repeat(64));
        assert!(check_digest(&good).is_ok());
        for bad in [
            "sha256:../../v2/_catalog",
            "sha256:ABC",
            "md5:00",
            &format!("sha256:{}", "A".repeat(64)),
            &format!("sha256:{}/x", "a".repeat(62)),
        ] {
            assert!(check_digest(bad).is_err(), "{bad}");
        }
    }
}
