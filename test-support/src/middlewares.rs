//! Three Serverless Open Runtime middlewares written as busybox shell scripts (sources in
//! `assets/middlewares/`), the image layer that installs them in `/opt/middlewares`, and the
//! HMAC the `hmac` middleware checks.
//!
//! The contract they follow: `NAME before` reads the API Gateway v2 HTTP event on stdin and
//! writes the event to use on stdout; `NAME after` does the same with the API Gateway v2
//! response (`{"statusCode":..,"headers":{..},"body":"..","isBase64Encoded":..}`); a non-zero
//! exit stops the call, with stderr as the reason.
//!
//! - `add-header` (after): sets [`ADDED_HEADER`]: [`ADDED_HEADER_VALUE`] on the response.
//! - `cloudevents` (before): the body becomes a CloudEvents 1.0 JSON envelope
//!   (`{"specversion":"1.0","type":"dev.faas-rs.http.<method>","source":"<rawPath>","id":
//!   "<requestId>","datacontenttype":..,"data":<body>}`; `data_base64` for a base64 body), the
//!   content type [`CLOUDEVENTS_CONTENT_TYPE`].
//! - `hmac` (before): refuses (exit 1) an event without a valid [`SIGNATURE_HEADER`]
//!   (`sha256=<hex HMAC-SHA256 of the body>`, see [`signature`]) keyed with the environment
//!   variable [`HMAC_SECRET_ENV`].
//!
//! They use only the busybox applets of the test images ([`crate::images::APPLETS`]) found on
//! `PATH`, and no absolute path, so they also run from a relocated rootfs (the Lambda shim).
//! The JSON reader they share (`assets/middlewares/json.awk`) is copied into each script.

use sha2::{Digest, Sha256};

use crate::oci::{Layer, LayerBuilder};

/// A middleware script (for a runner that passes the hook, `before` or `after`, as `$1`) that
/// fails the way its input asks, in the hook it names: `exit-before` exits 3, `json-after`
/// prints non-JSON, `shape-before` prints valid JSON that is no event, `slow-before` sleeps
/// 30 s; any other input passes through unchanged. See [`GATE_FAILURES`].
pub const GATE: &str = r#"event=$(cat)
case "$event" in
  *exit-$1*) echo "gate refused the $1 call" >&2; exit 3;;
  *json-$1*) echo "gate printed junk" >&2; echo 'not json'; exit 0;;
  *shape-$1*) echo '{"shape":"wrong"}'; exit 0;;
  *slow-$1*) echo "gate sleeping" >&2; sleep 30; exit 0;;
esac
printf '%s' "$event""#;

/// The failures of [`GATE`] installed as `gate` that every runner reports alike: what the input
/// asks for, whether the function still runs, and the start of the error message.
pub const GATE_FAILURES: [(&str, bool, &str); 5] = [
    (
        "exit-before",
        false,
        r#"middleware "gate" (before) failed: exit status 3; stderr: gate refused the before call"#,
    ),
    (
        "exit-after",
        true,
        r#"middleware "gate" (after) failed: exit status 3; stderr: gate refused the after call"#,
    ),
    (
        "json-before",
        false,
        r#"middleware "gate" (before) failed: its output is not valid JSON"#,
    ),
    (
        "json-after",
        true,
        r#"middleware "gate" (after) failed: its output is not valid JSON"#,
    ),
    (
        "slow-before",
        false,
        r#"middleware "gate" (before) failed: it outlived the call's remaining time and was killed; stderr: gate sleeping"#,
    ),
];

/// Where the middlewares are installed.
pub const MIDDLEWARES_DIR: &str = "/opt/middlewares";

/// The middlewares, in the order [`SLSMIDDLEWARES`] lists them.
pub const NAMES: [&str; 3] = ["add-header", "hmac", "cloudevents"];

/// The `SLSMIDDLEWARES` value running all three: `add-header` (its `before` passes), then
/// `hmac` (checks the body as sent), then `cloudevents` (wraps it); after hooks in reverse, so
/// `add-header` sees the final response.
pub const SLSMIDDLEWARES: &str = "add-header,hmac,cloudevents";

/// The header `add-header` sets on every response.
pub const ADDED_HEADER: &str = "x-middleware";

/// Its value.
pub const ADDED_HEADER_VALUE: &str = "add-header";

/// The header `hmac` checks: `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// The environment variable holding the key `hmac` checks with.
pub const HMAC_SECRET_ENV: &str = "HMAC_SECRET";

/// The key set in [`crate::images::MIDDLEWARE`]'s Env.
pub const TEST_HMAC_SECRET: &str = "slsmiddlewares-test-secret";

/// The content type of the event `cloudevents` produces.
pub const CLOUDEVENTS_CONTENT_TYPE: &str = "application/cloudevents+json; charset=utf-8";

const JSON_AWK: &str = include_str!("../assets/middlewares/json.awk");

/// The script of middleware `name` (one of [`NAMES`]), its JSON reader included.
pub fn script(name: &str) -> String {
    let source = match name {
        "add-header" => include_str!("../assets/middlewares/add-header"),
        "hmac" => include_str!("../assets/middlewares/hmac"),
        "cloudevents" => include_str!("../assets/middlewares/cloudevents"),
        other => panic!("no middleware named {other:?}"),
    };
    assert!(
        !JSON_AWK.contains('\''),
        "json.awk is embedded in single quotes: it must not contain one"
    );
    source.replace("@JSON_AWK@", JSON_AWK)
}

/// A layer holding `/opt/middlewares/NAME` (0755) for each of [`NAMES`].
pub fn layer() -> Layer {
    let mut l = LayerBuilder::new("test-support: middlewares in /opt/middlewares");
    l.dir("/opt", 0o755).dir(MIDDLEWARES_DIR, 0o755);
    for name in NAMES {
        l.file(
            &format!("{MIDDLEWARES_DIR}/{name}"),
            0o755,
            script(name).as_bytes(),
        );
    }
    l.finish()
}

/// HMAC-SHA256 (RFC 2104) of `data` keyed with `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(data)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// The [`SIGNATURE_HEADER`] value for `body`: `sha256=<lower-case hex HMAC-SHA256>`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mac = hmac_sha256(secret, body);
    let mut out = String::from("sha256=");
    for byte in mac {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2: a short key.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block is hashed first.
        assert_eq!(
            signature(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "sha256=60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn scripts_embed_the_json_reader() {
        for name in NAMES {
            let script = script(name);
            assert!(script.starts_with("#!/bin/sh\n"), "{name}");
            assert!(!script.contains("@JSON_AWK@"), "{name}");
            assert!(script.contains("function jmembers("), "{name}");
        }
    }
}
