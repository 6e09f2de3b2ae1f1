//! AWS Signature Version 4 checking for service `lambda`, in both forms AWS accepts:
//!
//! - header form: `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/lambda/aws4_request,
//!   SignedHeaders=host;x-amz-date;..., Signature=HEX` with `X-Amz-Date`; the request time may be
//!   at most 15 minutes away from now (AWS's bound);
//! - query form (presigned): `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
//!   `X-Amz-SignedHeaders`, `X-Amz-Signature` in the query; valid from the date (15 minutes early
//!   at most) until date + expires.
//!
//! The expected signature is computed with the `aws-sigv4` crate's own signer from the received
//! request: its method, raw path, query (without the signature), exactly the headers the client
//! listed as signed, and the SHA-256 of the body (or `UNSIGNED-PAYLOAD` when the client said so),
//! at the client's timestamp, with the secret of its access key id. It is compared in constant
//! time. An unknown key id is `UnrecognizedClientException`, a wrong signature (or secret, scope,
//! time) `InvalidSignatureException`, a malformed one `IncompleteSignatureException`, none at
//! all `MissingAuthenticationTokenException`.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningParams, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use chrono::{DateTime, NaiveDateTime, Utc};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::LambdaError;

/// The service name requests are signed for.
pub const SERVICE: &str = "lambda";
/// How far a request's time may be from now (AWS's bound).
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Longest `X-Amz-Expires` (7 days).
const MAX_EXPIRES: u64 = 604_800;
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Query parameters of the query form that the signer adds itself.
const QUERY_SIGNING_PARAMS: [&str; 7] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
];

/// Access key ids and their secrets.
#[derive(Clone, Default)]
pub struct Keys {
    keys: Vec<(String, String)>,
    /// Signing keys derived lately, by access key id, scope date and region: a day's key is
    /// derived once (four HMACs), not for every request.
    derived: Arc<Mutex<Vec<Derived>>>,
}

/// A derived signing key and what it was derived for.
struct Derived {
    access_key_id: String,
    date: String,
    region: String,
    key: [u8; 32],
}

/// How many derived keys are kept (the oldest goes first).
const DERIVED_KEPT: usize = 16;

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("Keys")
            .field("access_key_ids", &ids)
            .finish()
    }
}

impl Keys {
    /// The keys (access key id, secret access key).
    pub fn new(keys: Vec<(String, String)>) -> Self {
        Self {
            keys,
            derived: Arc::default(),
        }
    }

    /// True when no key is configured (signatures are then not checked).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The signing key of `access_key_id` (secret `secret`) for `date` (YYYYMMDD, the day of
    /// `time`) and `region`, service `lambda`.
    fn signing_key(
        &self,
        access_key_id: &str,
        secret: &str,
        date: &str,
        time: SystemTime,
        region: &str,
    ) -> [u8; 32] {
        let mut derived = self.derived.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = derived
            .iter()
            .find(|d| d.access_key_id == access_key_id && d.date == date && d.region == region)
        {
            return found.key;
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(v4::generate_signing_key(secret, time, region, SERVICE).as_ref());
        if derived.len() >= DERIVED_KEPT {
            derived.remove(0);
        }
        derived.push(Derived {
            access_key_id: access_key_id.to_string(),
            date: date.to_string(),
            region: region.to_string(),
            key,
        });
        key
    }

    fn secret(&self, access_key_id: &str) -> Option<&str> {
        self.keys
            .iter()
            .find(|(id, _)| id == access_key_id)
            .map(|(_, secret)| secret.as_str())
    }
}

/// What the request says about its signature.
struct Claim<'a> {
    access_key_id: &'a str,
    scope_date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
    date: &'a str,
    /// `Some(expires)` for the query form.
    expires: Option<u64>,
    security_token: Option<&'a str>,
}

fn incomplete(message: impl Into<String>) -> LambdaError {
    LambdaError::incomplete_signature(message)
}

/// Checks the signature of a request (see the module docs). `body` is the whole body.
pub fn verify(
    keys: &Keys,
    region: &str,
    parts: &http::request::Parts,
    body: &[u8],
    now: SystemTime,
) -> Result<(), LambdaError> {
    // The query form's parameters (read only when there is no Authorization header).
    let query: Vec<(Cow<'_, str>, Cow<'_, str>)> =
        if parts.headers.contains_key(http::header::AUTHORIZATION) {
            Vec::new()
        } else {
            form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes()).collect()
        };
    let authorization = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .map(|value| {
            value
                .to_str()
                .map_err(|_| incomplete("Authorization header is not ASCII"))
        })
        .transpose()?;
    let claim = match authorization {
        Some(value) => header_claim(parts, value)?,
        None if query.iter().any(|(k, _)| k == "X-Amz-Algorithm") => query_claim(&query)?,
        None => return Err(LambdaError::missing_authentication()),
    };
    let Some(secret) = keys.secret(claim.access_key_id) else {
        return Err(LambdaError::unrecognized_client());
    };
    if claim.service != SERVICE {
        return Err(LambdaError::invalid_signature(format!(
            "Credential should be scoped to correct service: '{SERVICE}'."
        )));
    }
    if claim.region != region {
        return Err(LambdaError::invalid_signature(format!(
            "Credential should be scoped to a valid region, not '{}'. Use '{region}'.",
            claim.region
        )));
    }
    let time = parse_date(claim.date)?;
    if !claim.date.starts_with(claim.scope_date) || claim.scope_date.len() != 8 {
        return Err(LambdaError::invalid_signature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '{}' != '{}'",
            claim.scope_date,
            &claim.date[..8.min(claim.date.len())]
        )));
    }
    check_time(time, claim.expires, now)?;

    let signed = claim.signed_headers.clone();
    if !signed.contains(&"host") {
        return Err(incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    if let Some(signature) = quick_signature(keys, &claim, secret, region, time, parts, body)
        && bool::from(signature.as_bytes().ct_eq(claim.signature.as_bytes()))
    {
        return Ok(());
    }
    let mut headers: Vec<(&str, &str)> = Vec::new();
    let mut session_token = claim.security_token;
    for name in &signed {
        if claim.expires.is_none() && *name == "x-amz-date" {
            continue; // the signer writes it from the time
        }
        if claim.expires.is_none() && *name == "x-amz-security-token" {
            // The signer writes it from the credentials.
            session_token = parts
                .headers
                .get(*name)
                .and_then(|value| value.to_str().ok());
            continue;
        }
        let values = parts.headers.get_all(*name);
        let mut any = false;
        for value in values {
            let value = value.to_str().map_err(|_| {
                LambdaError::invalid_signature(format!("signed header {name} is not ASCII"))
            })?;
            headers.push((name, value));
            any = true;
        }
        if !any {
            return Err(LambdaError::invalid_signature(format!(
                "signed header {name} is missing from the request"
            )));
        }
    }

    let path = parts.uri.path();
    let raw_query: Vec<&str> = parts
        .uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or_default();
            let key = form_urlencoded::parse(key.as_bytes())
                .next()
                .map(|(k, _)| k.into_owned())
                .unwrap_or_default();
            if claim.expires.is_some() {
                !QUERY_SIGNING_PARAMS.contains(&key.as_str())
            } else {
                true
            }
        })
        .collect();
    let uri = if raw_query.is_empty() {
        format!("http://localhost{path}")
    } else {
        format!("http://localhost{path}?{}", raw_query.join("&"))
    };

    let declared_hash = parts
        .headers
        .get("x-amz-content-sha256")
        .and_then(|value| value.to_str().ok());
    let bodies: Vec<SignableBody<'_>> = match (declared_hash, claim.expires) {
        (Some(UNSIGNED_PAYLOAD), _) => vec![SignableBody::UnsignedPayload],
        (_, Some(_)) => vec![SignableBody::Bytes(body), SignableBody::UnsignedPayload],
        (_, None) => vec![SignableBody::Bytes(body)],
    };

    let identity: Identity = Credentials::new(
        claim.access_key_id,
        secret,
        session_token.map(str::to_string),
        None,
        "faas-federation-lambda-api",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.excluded_headers = None;
    if let Some(expires) = claim.expires {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(expires));
    }
    let params: SigningParams<'_> = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| LambdaError::service(format!("signature check: {e}")))?
        .into();
    for body in bodies {
        let request = SignableRequest::new(
            parts.method.as_str(),
            uri.as_str(),
            headers.iter().copied(),
            body,
        )
        .map_err(|e| incomplete(format!("the request cannot be signed: {e}")))?;
        let expected = sign(request, &params)
            .map_err(|e| incomplete(format!("the request cannot be signed: {e}")))?
            .signature()
            .to_string();
        if bool::from(expected.as_bytes().ct_eq(claim.signature.as_bytes())) {
            return Ok(());
        }
    }
    Err(LambdaError::invalid_signature(
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. Consult the service \
         documentation for details.",
    ))
}

/// The signature of a header-form request of the shape the AWS SDKs and CLI send (a path and
/// query of unreserved characters and percent escapes, sorted signed headers with single-spaced
/// values), computed here the way the SigV4 specification and aws-sigv4 do, without the
/// allocations of aws-sigv4's general signer (it took most of the checking's cost in
/// faas-bench-lambda-api). `None` for any other shape, and a request it does not match, go
/// through aws-sigv4's signer: this only ever accepts sooner, and what it accepts is signed over
/// every part of the request (method, path, query, the signed headers, the body's hash).
fn quick_signature(
    keys: &Keys,
    claim: &Claim<'_>,
    secret: &str,
    region: &str,
    time: SystemTime,
    parts: &http::request::Parts,
    body: &[u8],
) -> Option<String> {
    if claim.expires.is_some() || claim.security_token.is_some() {
        return None;
    }
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
    let mut canonical = String::with_capacity(512);
    canonical.push_str(parts.method.as_str());
    canonical.push('\n');
    // The path as sent, encoded once more (`%` → `%25`), as aws-sigv4 does for every service
    // but S3; only normalized paths (no empty, `.` or `..` segment).
    let path = parts.uri.path();
    if !path.starts_with('/')
        || path[1..]
            .split('/')
            .any(|segment| matches!(segment, "." | ".."))
        || path.contains("//")
        || !path
            .bytes()
            .all(|b| unreserved(b) || b == b'/' || b == b'%')
    {
        return None;
    }
    canonical.push_str(&path.replace('%', "%25"));
    canonical.push('\n');
    // The query: decoded pairs re-encoded (unreserved as they are, `$` as `%24`), sorted.
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (key, value) in form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes()) {
        let encode = |text: &str| -> Option<String> {
            let mut out = String::with_capacity(text.len());
            for b in text.bytes() {
                match b {
                    b if unreserved(b) => out.push(char::from(b)),
                    b'$' => out.push_str("%24"),
                    _ => return None,
                }
            }
            Some(out)
        };
        pairs.push((encode(&key)?, encode(&value)?));
    }
    pairs.sort();
    for (n, (key, value)) in pairs.iter().enumerate() {
        if n > 0 {
            canonical.push('&');
        }
        canonical.push_str(key);
        canonical.push('=');
        canonical.push_str(value);
    }
    canonical.push('\n');
    if !claim.signed_headers.is_sorted() {
        return None;
    }
    for name in &claim.signed_headers {
        canonical.push_str(name);
        canonical.push(':');
        for (n, value) in parts.headers.get_all(*name).iter().enumerate() {
            let value = value.to_str().ok()?.trim_matches(' ');
            if value.contains("  ") {
                return None;
            }
            if n > 0 {
                canonical.push(',');
            }
            canonical.push_str(value);
        }
        canonical.push('\n');
    }
    canonical.push('\n');
    canonical.push_str(&claim.signed_headers.join(";"));
    canonical.push('\n');
    match parts
        .headers
        .get("x-amz-content-sha256")
        .and_then(|value| value.to_str().ok())
    {
        Some(UNSIGNED_PAYLOAD) => canonical.push_str(UNSIGNED_PAYLOAD),
        _ => push_hex(&mut canonical, &Sha256::digest(body)),
    }
    let mut string_to_sign = String::with_capacity(160);
    string_to_sign.push_str(ALGORITHM);
    string_to_sign.push('\n');
    string_to_sign.push_str(claim.date);
    string_to_sign.push('\n');
    string_to_sign.push_str(&format!(
        "{}/{region}/{SERVICE}/aws4_request\n",
        claim.scope_date
    ));
    push_hex(&mut string_to_sign, &Sha256::digest(canonical.as_bytes()));
    let key = keys.signing_key(claim.access_key_id, secret, claim.scope_date, time, region);
    Some(v4::calculate_signature(key, string_to_sign.as_bytes()))
}

/// Appends `bytes` as lower-case hex.
fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
}

/// The claim of an `Authorization` header.
fn header_claim<'a>(
    parts: &'a http::request::Parts,
    authorization: &'a str,
) -> Result<Claim<'a>, LambdaError> {
    let Some(rest) = authorization.strip_prefix(ALGORITHM) else {
        return Err(incomplete(format!(
            "Authorization header requires the '{ALGORITHM}' algorithm"
        )));
    };
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for field in rest.split(',') {
        let field = field.trim();
        if let Some(value) = field.strip_prefix("Credential=") {
            credential = Some(value);
        } else if let Some(value) = field.strip_prefix("SignedHeaders=") {
            signed_headers = Some(value);
        } else if let Some(value) = field.strip_prefix("Signature=") {
            signature = Some(value);
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(incomplete(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'",
        ));
    };
    let date = parts
        .headers
        .get("x-amz-date")
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| incomplete("Authorization header requires an X-Amz-Date header"))?;
    let (access_key_id, scope_date, region, service) = scope(credential)?;
    Ok(Claim {
        access_key_id,
        scope_date,
        region,
        service,
        signed_headers: signed_headers.split(';').collect(),
        signature,
        date,
        expires: None,
        security_token: None,
    })
}

/// The claim of a presigned URL's query.
fn query_claim<'a>(query: &'a [(Cow<'a, str>, Cow<'a, str>)]) -> Result<Claim<'a>, LambdaError> {
    let param = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_ref())
    };
    let required =
        |name: &str| param(name).ok_or_else(|| incomplete(format!("the query requires '{name}'")));
    if required("X-Amz-Algorithm")? != ALGORITHM {
        return Err(incomplete(format!("X-Amz-Algorithm must be '{ALGORITHM}'")));
    }
    let (access_key_id, scope_date, region, service) = scope(required("X-Amz-Credential")?)?;
    let expires = required("X-Amz-Expires")?
        .parse::<u64>()
        .ok()
        .filter(|e| *e <= MAX_EXPIRES)
        .ok_or_else(|| incomplete(format!("X-Amz-Expires must be 0 to {MAX_EXPIRES}")))?;
    Ok(Claim {
        access_key_id,
        scope_date,
        region,
        service,
        signed_headers: required("X-Amz-SignedHeaders")?.split(';').collect(),
        signature: required("X-Amz-Signature")?,
        date: required("X-Amz-Date")?,
        expires: Some(expires),
        security_token: param("X-Amz-Security-Token"),
    })
}

/// `AKID/YYYYMMDD/REGION/SERVICE/aws4_request`.
fn scope(credential: &str) -> Result<(&str, &str, &str, &str), LambdaError> {
    match credential.split('/').collect::<Vec<_>>().as_slice() {
        [id, date, region, service, "aws4_request"] if !id.is_empty() => {
            Ok((id, date, region, service))
        }
        _ => Err(incomplete(format!(
            "Credential must have the form KEY/YYYYMMDD/REGION/SERVICE/aws4_request, not \
             '{credential}'"
        ))),
    }
}

fn parse_date(date: &str) -> Result<SystemTime, LambdaError> {
    let naive = NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| incomplete(format!("X-Amz-Date '{date}' is not YYYYMMDD'T'HHMMSS'Z'")))?;
    Ok(SystemTime::from(naive.and_utc()))
}

fn format_time(time: SystemTime) -> String {
    DateTime::<Utc>::from(time)
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

fn check_time(time: SystemTime, expires: Option<u64>, now: SystemTime) -> Result<(), LambdaError> {
    let too_old = match expires {
        None => time + MAX_SKEW < now,
        Some(expires) => time + Duration::from_secs(expires) < now,
    };
    if too_old {
        return Err(LambdaError::invalid_signature(format!(
            "Signature expired: {} is now earlier than {}",
            format_time(time),
            format_time(now - MAX_SKEW.min(now.duration_since(time).unwrap_or_default()))
        )));
    }
    if time > now + MAX_SKEW {
        return Err(LambdaError::invalid_signature(format!(
            "Signature not yet current: {} is still later than {}",
            format_time(time),
            format_time(now + MAX_SKEW)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AKIDLAMBDATEST";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn keys() -> Keys {
        Keys::new(vec![
            ("other".into(), "other-secret".into()),
            (KEY.into(), SECRET.into()),
        ])
    }

    /// A request signed by aws-sigv4 as a client would (header or query form).
    fn signed(
        secret: &str,
        time: SystemTime,
        location: SignatureLocation,
        body: &'static [u8],
    ) -> (http::request::Parts, Vec<u8>) {
        let mut request = http::Request::builder()
            .method("POST")
            .uri("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A0%3Afunction%3Aecho/invocations?Qualifier=%24LATEST")
            .header("host", "127.0.0.1:9000")
            .header("content-type", "application/json")
            .header("x-amz-invocation-type", "RequestResponse")
            .body(())
            .unwrap();
        let identity: Identity = Credentials::new(KEY, secret, None, None, "test").into();
        let mut settings = SigningSettings::default();
        settings.signature_location = location;
        settings.expires_in = Some(Duration::from_secs(300));
        let params: SigningParams<'_> = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("lambda")
            .time(time)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let uri = format!("http://127.0.0.1:9000{}", request.uri());
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .collect();
        let signable = SignableRequest::new(
            "POST",
            uri,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(&mut request);
        (request.into_parts().0, body.to_vec())
    }

    #[test]
    fn a_request_signed_by_aws_sigv4_verifies() {
        let now = SystemTime::now();
        let (parts, body) = signed(SECRET, now, SignatureLocation::Headers, b"{\"a\":1}");
        verify(&keys(), "us-east-1", &parts, &body, now).unwrap();
        // Within the skew either way.
        verify(
            &keys(),
            "us-east-1",
            &parts,
            &body,
            now + Duration::from_secs(600),
        )
        .unwrap();
        verify(
            &keys(),
            "us-east-1",
            &parts,
            &body,
            now - Duration::from_secs(600),
        )
        .unwrap();
    }

    #[test]
    fn a_modified_request_does_not_verify() {
        let now = SystemTime::now();
        let (parts, _) = signed(SECRET, now, SignatureLocation::Headers, b"{\"a\":1}");
        let error = verify(&keys(), "us-east-1", &parts, b"{\"a\":2}", now).unwrap_err();
        assert_eq!(error.code, "InvalidSignatureException");
        assert_eq!(error.status, 403);

        let (mut parts, body) = signed(SECRET, now, SignatureLocation::Headers, b"{}");
        parts
            .headers
            .insert("x-amz-invocation-type", "Event".parse().unwrap());
        let error = verify(&keys(), "us-east-1", &parts, &body, now).unwrap_err();
        assert_eq!(error.code, "InvalidSignatureException");

        let (mut parts, body) = signed(SECRET, now, SignatureLocation::Headers, b"{}");
        parts.uri = "/2015-03-31/functions/other/invocations?Qualifier=%24LATEST"
            .parse()
            .unwrap();
        let error = verify(&keys(), "us-east-1", &parts, &body, now).unwrap_err();
        assert_eq!(error.code, "InvalidSignatureException");
    }

    #[test]
    fn wrong_secret_unknown_key_and_missing_signature_are_refused() {
        let now = SystemTime::now();
        let (parts, body) = signed("not-the-secret", now, SignatureLocation::Headers, b"{}");
        let error = verify(&keys(), "us-east-1", &parts, &body, now).unwrap_err();
        assert_eq!(error.code, "InvalidSignatureException");

        let (parts, body) = signed(SECRET, now, SignatureLocation::Headers, b"{}");
        let only_other = Keys::new(vec![("other".into(), SECRET.into())]);
        let error = verify(&only_other, "us-east-1", &parts, &body, now).unwrap_err();
        assert_eq!(
            (error.code, error.status.as_u16()),
            ("UnrecognizedClientException", 403)
        );

        let error = verify(&keys(), "eu-west-1", &parts, &body, now).unwrap_err();
        assert_eq!(error.code, "InvalidSignatureException");

        let (mut parts, body) = signed(SECRET, now, SignatureLocation::Headers, b"{}");
        parts.headers.remove(http::header::AUTHORIZATION);
        let error = verify(&keys(), "us-east-1", &parts, &body, now).unwrap_err();
        assert_eq!(error.code, "MissingAuthenticationTokenException");

        let (mut parts, body) = signed(SECRET, now, SignatureLocation::Headers, b"{}");
        parts.headers.insert(
            http::header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 x".parse().unwrap(),
        );
        let error = verify(&keys(), "us-east-1", &parts, &body, now).unwrap_err();
        assert_eq!(error.code, "IncompleteSignatureException");
    }

    #[test]
    fn clock_skew_is_bounded() {
        let signed_at = SystemTime::now() - Duration::from_secs(16 * 60);
        let (parts, body) = signed(SECRET, signed_at, SignatureLocation::Headers, b"{}");
        let error = verify(&keys(), "us-east-1", &parts, &body, SystemTime::now()).unwrap_err();
        assert_eq!(error.code, "InvalidSignatureException");
        assert!(error.message.starts_with("Signature expired"), "{error}");

        let signed_at = SystemTime::now() + Duration::from_secs(16 * 60);
        let (parts, body) = signed(SECRET, signed_at, SignatureLocation::Headers, b"{}");
        let error = verify(&keys(), "us-east-1", &parts, &body, SystemTime::now()).unwrap_err();
        assert!(
            error.message.starts_with("Signature not yet current"),
            "{error}"
        );
    }

    #[test]
    fn query_string_form_verifies_until_it_expires() {
        let now = SystemTime::now();
        let (parts, body) = signed(SECRET, now, SignatureLocation::QueryParams, b"{}");
        assert!(parts.uri.query().unwrap().contains("X-Amz-Signature="));
        assert!(!parts.headers.contains_key(http::header::AUTHORIZATION));
        verify(&keys(), "us-east-1", &parts, &body, now).unwrap();
        // Expires after 300 s.
        let error = verify(
            &keys(),
            "us-east-1",
            &parts,
            &body,
            now + Duration::from_secs(301),
        )
        .unwrap_err();
        assert!(error.message.starts_with("Signature expired"), "{error}");
        // A changed query parameter breaks it.
        let mut changed = parts.clone();
        changed.uri = parts
            .uri
            .to_string()
            .replace("Qualifier=%24LATEST", "Qualifier=1")
            .parse()
            .unwrap();
        let error = verify(&keys(), "us-east-1", &changed, &body, now).unwrap_err();
        assert_eq!(error.code, "InvalidSignatureException");
    }

    #[test]
    fn the_quick_signature_is_aws_sigv4s_for_sdk_shaped_requests() {
        let now = SystemTime::now();
        let keys = keys();
        let (parts, body) = signed(SECRET, now, SignatureLocation::Headers, b"{\"x\":1}");
        let auth = parts.headers[http::header::AUTHORIZATION].to_str().unwrap();
        let claim = header_claim(&parts, auth).unwrap();
        let time = parse_date(claim.date).unwrap();
        // The ARN's escapes in the path, `$LATEST` in the query: aws-sigv4's signature.
        let quick = quick_signature(&keys, &claim, SECRET, "us-east-1", time, &parts, &body);
        assert_eq!(quick.as_deref(), Some(claim.signature));
        // The day's signing key is derived once.
        verify(&keys, "us-east-1", &parts, &body, now).unwrap();
        verify(&keys, "us-east-1", &parts, &body, now).unwrap();
        assert_eq!(keys.derived.lock().unwrap().len(), 1);
        // Another shape (a query character outside its set) is left to aws-sigv4, which
        // accepts the same request; the presigned form too.
        let mut odd = parts.clone();
        odd.uri = "/2015-03-31/functions/echo/invocations?Qualifier=%24LATEST&x=a%2Bb"
            .parse()
            .unwrap();
        assert!(quick_signature(&keys, &claim, SECRET, "us-east-1", time, &odd, &body).is_none());
        let (query_form, body) = signed(SECRET, now, SignatureLocation::QueryParams, b"{}");
        verify(&keys, "us-east-1", &query_form, &body, now).unwrap();
        // A request changed after signing fails both ways.
        let mut changed = parts.clone();
        changed.method = http::Method::PUT;
        assert!(verify(&keys, "us-east-1", &changed, b"{\"x\":1}", now).is_err());
        assert!(verify(&keys, "us-east-1", &parts, b"{\"x\":2}", now).is_err());
    }
}
