//! The middleware scripts run directly: busybox `sh SCRIPT HOOK` with only the test images'
//! applets on `PATH` (as in the images), on sample events and responses.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use test_support::images::APPLETS;
use test_support::middlewares::{
    self, ADDED_HEADER, ADDED_HEADER_VALUE, CLOUDEVENTS_CONTENT_TYPE, HMAC_SECRET_ENV, NAMES,
    SIGNATURE_HEADER, signature,
};

/// A directory with the three scripts and `bin/` holding the images' applets.
struct Sandbox {
    dir: tempfile::TempDir,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        assert_eq!(self.code, 0, "stderr: {}", self.stderr);
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}: not JSON: {:?}", self.stdout))
    }
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let busybox = test_support::assets::busybox();
        for applet in APPLETS {
            std::os::unix::fs::symlink(busybox, bin.join(applet)).unwrap();
        }
        for name in NAMES {
            std::fs::write(dir.path().join(name), middlewares::script(name)).unwrap();
        }
        Sandbox { dir }
    }

    fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    /// `sh NAME HOOK` with `input` on stdin and `env` (besides PATH) only.
    fn run(&self, name: &str, hook: &str, input: &str, env: &[(&str, &OsStr)]) -> Run {
        let mut child = Command::new(self.bin().join("sh"))
            .arg(self.dir.path().join(name))
            .arg(hook)
            .env_clear()
            .env("PATH", self.bin())
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // A script may exit before reading its input (a missing secret).
        if let Err(e) = std::io::Write::write_all(&mut stdin, input.as_bytes()) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn hmac(&self, event: &Value, secret: &[u8]) -> Run {
        self.run(
            "hmac",
            "before",
            &event.to_string(),
            &[(HMAC_SECRET_ENV, OsStr::from_bytes(secret))],
        )
    }
}

/// An API Gateway v2 event as the shared codec writes it.
fn event(headers: Value, body: Option<&str>, base64: bool) -> Value {
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/orders/7",
        "rawQueryString": "x=1",
        "headers": headers,
        "queryStringParameters": {"x": "1"},
        "requestContext": {
            "accountId": "anonymous",
            "domainName": "127.0.0.1",
            "http": {"method": "POST", "path": "/orders/7", "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "test"},
            "requestId": "req-42",
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": 1_700_000_000_000_i64
        },
        "isBase64Encoded": base64,
        "pathParameters": null,
        "stageVariables": null
    });
    if let Some(body) = body {
        event["body"] = json!(body);
    }
    event
}

#[test]
fn hmac_accepts_a_valid_signature_over_the_decoded_body() {
    let sandbox = Sandbox::new();
    // RFC 4231 test case 2, through the event.
    let rfc = event(
        json!({SIGNATURE_HEADER: "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"}),
        Some("what do ya want for nothing?"),
        false,
    );
    let run = sandbox.hmac(&rfc, b"Jefe");
    assert_eq!(run.json(), rfc, "the event passes unchanged");

    // Text with JSON escapes (quote, backslash, newline, tab, control, non-ASCII, an emoji
    // written as a surrogate pair by some encoders): the HMAC is over the bytes they stand for.
    let text = "{\"q\":\"a\\\\b\"}\n\ttab \u{1} é 😀";
    let secret = b"a secret with spaces";
    let signed = event(
        json!({"content-type": "application/json", SIGNATURE_HEADER: signature(secret, text.as_bytes())}),
        Some(text),
        false,
    );
    assert_eq!(sandbox.hmac(&signed, secret).json(), signed);
    let escaped = signed
        .to_string()
        .replace("😀", "\\ud83d\\ude00")
        .replace('é', "\\u00e9");
    let run = sandbox.run(
        "hmac",
        "before",
        &escaped,
        &[(HMAC_SECRET_ENV, OsStr::new("a secret with spaces"))],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim_end(), escaped, "passed through verbatim");

    // A binary body (NUL bytes included) as base64; upper-case hex is accepted.
    let binary: Vec<u8> = (0..=255u8).rev().chain([0, 0, 1]).collect();
    let b64 = BASE64.encode(&binary);
    let upper = signature(secret, &binary)
        .to_uppercase()
        .replace("SHA256=", "sha256=");
    let signed = event(json!({ SIGNATURE_HEADER: upper }), Some(&b64), true);
    assert_eq!(sandbox.hmac(&signed, secret).json(), signed);

    // No body: the HMAC of nothing. A key longer than the block (hashed first).
    let long_key = [b'k'; 100];
    let signed = event(
        json!({ SIGNATURE_HEADER: signature(&long_key, b"") }),
        None,
        false,
    );
    assert_eq!(sandbox.hmac(&signed, &long_key).json(), signed);

    // `after` passes anything.
    let run = sandbox.run("hmac", "after", "{\"statusCode\":200}", &[]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "{\"statusCode\":200}"));
}

#[test]
fn hmac_refuses_missing_wrong_or_unverifiable_signatures() {
    let sandbox = Sandbox::new();
    let secret = b"s3cret";
    let refused = |run: Run, reason: &str| {
        assert_eq!(run.code, 1, "stdout: {}", run.stdout);
        assert!(run.stderr.starts_with("hmac: "), "{}", run.stderr);
        assert!(run.stderr.contains(reason), "{reason} in {}", run.stderr);
        assert_eq!(run.stdout, "", "nothing on stdout");
    };
    refused(
        sandbox.hmac(&event(json!({}), Some("hi"), false), secret),
        "missing x-hub-signature-256 header",
    );
    refused(
        sandbox.hmac(
            &event(
                json!({"x-hub-signature-256": "sha256=00"}),
                Some("hi"),
                false,
            ),
            secret,
        ),
        "signature mismatch",
    );
    // Signed with another key, or over another body.
    for (key, body) in [(&b"other"[..], &b"hi"[..]), (&secret[..], &b"ho"[..])] {
        let run = sandbox.hmac(
            &event(
                json!({ SIGNATURE_HEADER: signature(key, body) }),
                Some("hi"),
                false,
            ),
            secret,
        );
        refused(run, "signature mismatch");
    }
    let good = event(
        json!({ SIGNATURE_HEADER: signature(secret, b"hi") }),
        Some("hi"),
        false,
    );
    refused(
        sandbox.run("hmac", "before", &good.to_string(), &[]),
        "HMAC_SECRET is not set",
    );
    refused(
        sandbox.run(
            "hmac",
            "before",
            "not json",
            &[(HMAC_SECRET_ENV, OsStr::new("s3cret"))],
        ),
        "the event is not a JSON object",
    );
    let bad_base64 = event(
        json!({ SIGNATURE_HEADER: signature(secret, b"") }),
        Some("%%%"),
        true,
    );
    refused(
        sandbox.hmac(&bad_base64, secret),
        "the body is not valid base64",
    );
    let run = sandbox.run("hmac", "around", "{}", &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown hook 'around'"),
        "{}",
        run.stderr
    );
}

fn envelope_of(run: &Run) -> (Value, Value) {
    let event = run.json();
    let body = event["body"].as_str().expect("a text body");
    let envelope: Value = serde_json::from_str(body).expect("the body is JSON");
    (event, envelope)
}

#[test]
fn cloudevents_wraps_the_body() {
    let sandbox = Sandbox::new();
    let ce = |e: &Value| sandbox.run("cloudevents", "before", &e.to_string(), &[]);

    // A JSON body is embedded as JSON; content-type replaced, content-length dropped, every
    // other member and header kept.
    let original = event(
        json!({"content-type": "application/json", "content-length": "22", "x-keep": "yes"}),
        Some("{\"n\": [1, 2.5, \"é\\n\"]}"),
        false,
    );
    let (event_out, envelope) = envelope_of(&ce(&original));
    assert_eq!(
        envelope,
        json!({"specversion": "1.0", "type": "dev.faas-rs.http.post", "source": "/orders/7",
               "id": "req-42", "datacontenttype": "application/json",
               "data": {"n": [1, 2.5, "é\n"]}})
    );
    assert_eq!(
        event_out["headers"],
        json!({"x-keep": "yes", "content-type": CLOUDEVENTS_CONTENT_TYPE})
    );
    assert_eq!(event_out["isBase64Encoded"], json!(false));
    for key in [
        "version",
        "rawPath",
        "rawQueryString",
        "requestContext",
        "pathParameters",
    ] {
        assert_eq!(event_out[key], original[key], "{key}");
    }

    // Text (and JSON-typed text that is not JSON) becomes a string; no content type: text/plain.
    for (headers, body, content_type) in [
        (
            json!({"content-type": "text/plain"}),
            "he said \"hi\"\n",
            "text/plain",
        ),
        (
            json!({"content-type": "application/json"}),
            "{not json",
            "application/json",
        ),
        (json!({}), "plain", "text/plain; charset=utf-8"),
    ] {
        let (_, envelope) = envelope_of(&ce(&event(headers, Some(body), false)));
        assert_eq!(envelope["data"], json!(body), "{body}");
        assert_eq!(envelope["datacontenttype"], json!(content_type), "{body}");
    }

    // A base64 body is carried as data_base64; an empty one leaves data out.
    let (event_out, envelope) = envelope_of(&ce(&event(
        json!({"content-type": "image/png"}),
        Some("AAEC/w=="),
        true,
    )));
    assert_eq!(envelope["data_base64"], json!("AAEC/w=="));
    assert_eq!(envelope["datacontenttype"], json!("image/png"));
    assert!(envelope.get("data").is_none());
    assert_eq!(event_out["isBase64Encoded"], json!(false));
    let (_, envelope) = envelope_of(&ce(&event(json!({}), None, false)));
    assert_eq!(
        envelope,
        json!({"specversion": "1.0", "type": "dev.faas-rs.http.post", "source": "/orders/7",
               "id": "req-42"})
    );

    // Not an HTTP event: unchanged. Not JSON, or no request id: refused.
    let raw = "{\"order\": 7}";
    let run = sandbox.run("cloudevents", "before", raw, &[]);
    assert_eq!((run.code, run.stdout.trim_end()), (0, raw));
    let run = sandbox.run("cloudevents", "before", "[1,", &[]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("not a JSON object"), "{}", run.stderr);
    let mut anonymous = event(json!({}), Some("x"), false);
    anonymous["requestContext"]["requestId"] = json!("");
    let run = ce(&anonymous);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("requestId"), "{}", run.stderr);
    // `after` passes the response unchanged.
    let run = sandbox.run("cloudevents", "after", "{\"statusCode\":201}", &[]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "{\"statusCode\":201}"));
}

#[test]
fn add_header_sets_the_response_header() {
    let sandbox = Sandbox::new();
    let after = |text: &str| sandbox.run("add-header", "after", text, &[]);
    let response = json!({"statusCode": 201, "headers": {"X-Middleware": "old", "a": "b"},
                          "body": "aGk=", "isBase64Encoded": true, "cookies": ["c=1"]});
    let out = after(&response.to_string()).json();
    assert_eq!(
        out["headers"],
        json!({ADDED_HEADER: ADDED_HEADER_VALUE, "a": "b"})
    );
    for key in ["statusCode", "body", "isBase64Encoded", "cookies"] {
        assert_eq!(out[key], response[key], "{key}");
    }
    let out = after("{\"statusCode\":200,\"headers\":null}").json();
    assert_eq!(out["headers"], json!({ ADDED_HEADER: ADDED_HEADER_VALUE }));
    let out = after("{\"statusCode\":204}").json();
    assert_eq!(out["headers"], json!({ ADDED_HEADER: ADDED_HEADER_VALUE }));
    // Not a response object: unchanged; not JSON: refused.
    let run = after("{\"result\": 3}");
    assert_eq!((run.code, run.stdout.trim_end()), (0, "{\"result\": 3}"));
    let run = after("\"text\"");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("add-header: the response is not a JSON object")
    );
    // `before` passes the event unchanged.
    let e = event(json!({}), Some("x"), false).to_string();
    let run = sandbox.run("add-header", "before", &e, &[]);
    assert_eq!((run.code, run.stdout.as_str()), (0, e.as_str()));
}
