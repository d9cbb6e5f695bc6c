//! AWS Signature Version 4 for the IAM and STS query APIs, header form
//! only (`Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
//! Signature=…`). Presigned URLs are not accepted: these APIs are driven
//! by SDKs, which always sign headers.
//!
//! `parse_authorization` reads everything the header and the date headers
//! say without any secret, so the caller can look the access key up;
//! `verify` then recomputes the signature with the secret.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use crate::action::Service;
use crate::error::IamError;
use crate::percent::{aws_uri_encode, lenient_decode};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SCOPE_TERMINATOR: &str = "aws4_request";

/// AWS accepts a request whose time is within 15 minutes of its own clock.
const MAX_CLOCK_SKEW: Duration = Duration::minutes(15);

/// Bounds on the pieces of the `Authorization` header. Real values are far
/// smaller; the bounds keep a hostile header from costing anything.
const MAX_AUTHORIZATION_BYTES: usize = 8 * 1024;
const MAX_SIGNED_HEADERS: usize = 64;
const MAX_ACCESS_KEY_ID_CHARS: usize = 128;
const MAX_REGION_CHARS: usize = 64;
const MAX_SIGNATURE_CHARS: usize = 128;

/// The parts of an HTTP request that SigV4 covers, as received.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    pub method: &'a str,
    /// The path, still percent-encoded, without the query string.
    pub path: &'a str,
    /// The raw query string without the leading `?`; empty if none.
    pub query: &'a str,
    /// Every header as received. Names compare case-insensitively; a
    /// repeated header appears as repeated pairs.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// What a request's `Authorization` and date headers claim, before the
/// secret is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigV4Auth {
    pub access_key_id: String,
    /// `YYYYMMDD` from the credential scope.
    pub scope_date: String,
    pub region: String,
    pub service: Service,
    /// Header names exactly as listed in `SignedHeaders`, in that order.
    pub signed_headers: Vec<String>,
    pub signature: String,
    /// The request time from `X-Amz-Date` (or `Date`), in the ISO-8601
    /// basic format the string to sign uses, e.g. `20150830T123600Z`.
    pub request_timestamp: String,
    pub request_time: OffsetDateTime,
    /// `X-Amz-Security-Token`, present for temporary credentials. The
    /// caller must check it belongs to `access_key_id`.
    pub session_token: Option<String>,
}

/// All values of header `name`, in order received.
fn header_values<'a>(
    headers: &'a [(&'a str, &'a str)],
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .filter(move |(header_name, _)| header_name.eq_ignore_ascii_case(name))
        .map(|(_, value)| *value)
}

/// The value of a header that must appear at most once.
fn single_header<'a>(
    headers: &'a [(&'a str, &'a str)],
    name: &'a str,
) -> Result<Option<&'a str>, IamError> {
    let mut values = header_values(headers, name);
    let first = values.next();
    if values.next().is_some() {
        return Err(IamError::incomplete_signature(format!(
            "The request must not repeat the '{name}' header."
        )));
    }
    Ok(first)
}

fn basic_timestamp(time: OffsetDateTime) -> String {
    let time = time.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

/// The request time from `X-Amz-Date`, else from `Date` (RFC 1123).
fn request_time(headers: &[(&str, &str)]) -> Result<OffsetDateTime, IamError> {
    if let Some(amz_date) = single_header(headers, "x-amz-date")? {
        let format = format_description!("[year][month][day]T[hour][minute][second]Z");
        return PrimitiveDateTime::parse(amz_date.trim(), format)
            .map(PrimitiveDateTime::assume_utc)
            .map_err(|_| {
                let shown: String = amz_date.chars().take(64).collect();
                IamError::incomplete_signature(format!(
                    "Date must be in ISO-8601 'basic format'. Got '{shown}'. \
                     See http://en.wikipedia.org/wiki/ISO_8601"
                ))
            });
    }
    if let Some(date) = single_header(headers, "date")? {
        let format = format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        return PrimitiveDateTime::parse(date.trim(), format)
            .map(PrimitiveDateTime::assume_utc)
            .map_err(|_| {
                IamError::incomplete_signature("The Date header is not an RFC 1123 date.")
            });
    }
    Err(IamError::incomplete_signature(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    ))
}

/// The credential scope `AKID/YYYYMMDD/region/service/aws4_request`.
struct Scope<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: Service,
}

/// Checks the scope's shape and that its date is the request's date.
fn parse_scope<'a>(credential: &'a str, request_timestamp: &str) -> Result<Scope<'a>, IamError> {
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, scope_date, region, service, terminator] = scope[..] else {
        let shown: String = credential.chars().take(256).collect();
        return Err(IamError::incomplete_signature(format!(
            "Credential must have exactly 5 slash-delimited elements, \
             e.g. keyid/date/region/service/term, got '{shown}'"
        )));
    };
    if access_key_id.is_empty() || access_key_id.chars().count() > MAX_ACCESS_KEY_ID_CHARS {
        return Err(IamError::incomplete_signature(
            "Credential must name an access key id.",
        ));
    }
    if terminator != SCOPE_TERMINATOR {
        return Err(IamError::signature_does_not_match(format!(
            "Credential should be scoped with a valid terminator: '{SCOPE_TERMINATOR}', not '{terminator}'."
        )));
    }
    let service = Service::from_scope(service).ok_or_else(|| {
        IamError::signature_does_not_match(format!(
            "Credential should be scoped to correct service: 'iam' or 'sts', not '{service}'."
        ))
    })?;
    let region_ok = !region.is_empty()
        && region.len() <= MAX_REGION_CHARS
        && region
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    if !region_ok {
        return Err(IamError::signature_does_not_match(format!(
            "Credential should be scoped to a valid region, not '{region}'."
        )));
    }
    if request_timestamp.get(..8) != Some(scope_date) {
        return Err(IamError::signature_does_not_match(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '{scope_date}' != '{}', from '{request_timestamp}'.",
            request_timestamp.get(..8).unwrap_or_default()
        )));
    }

    Ok(Scope {
        access_key_id,
        date: scope_date,
        region,
        service,
    })
}

/// Reads the `Authorization` header and the request time. No secret is
/// needed; the result names the access key to look up.
///
/// Missing header → `MissingAuthenticationToken`; malformed header or date
/// → `IncompleteSignature`; a scope for the wrong service, terminator or
/// date → `SignatureDoesNotMatch`, as AWS answers.
pub fn parse_authorization(headers: &[(&str, &str)]) -> Result<SigV4Auth, IamError> {
    let authorization = single_header(headers, "authorization")?
        .ok_or_else(IamError::missing_authentication_token)?;
    if authorization.len() > MAX_AUTHORIZATION_BYTES {
        return Err(IamError::incomplete_signature(
            "The Authorization header is too long.",
        ));
    }
    let components = authorization
        .trim()
        .strip_prefix(ALGORITHM)
        .filter(|rest| rest.starts_with(' '))
        .ok_or_else(|| {
            IamError::incomplete_signature(format!(
                "Authorization header must use the {ALGORITHM} algorithm."
            ))
        })?;

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for component in components.split(',').map(str::trim) {
        let (name, value) = component.split_once('=').ok_or_else(|| {
            let shown: String = component.chars().take(64).collect();
            IamError::incomplete_signature(format!(
                "'{shown}' not a valid key=value pair (missing equal-sign) in Authorization header."
            ))
        })?;
        let slot = match name.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            // Unknown components carry nothing we sign with.
            _ => continue,
        };
        if slot.replace(value.trim()).is_some() {
            return Err(IamError::incomplete_signature(format!(
                "Authorization header repeats '{}'.",
                name.trim()
            )));
        }
    }

    let request_time = request_time(headers);
    // AWS lists every missing piece in one message; so do we.
    let mut problems: Vec<String> = [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed_headers),
    ]
    .into_iter()
    .filter(|(_, value)| value.is_none_or(str::is_empty))
    .map(|(name, _)| format!("Authorization header requires '{name}' parameter."))
    .collect();
    if let Err(error) = &request_time {
        problems.push(error.message.clone());
    }
    let (Some(credential), Some(signed_headers), Some(signature), Ok(request_time), true) = (
        credential,
        signed_headers,
        signature,
        request_time,
        problems.is_empty(),
    ) else {
        return Err(IamError::incomplete_signature(problems.join(" ")));
    };

    let request_timestamp = basic_timestamp(request_time);
    let scope = parse_scope(credential, &request_timestamp)?;

    let signed_headers: Vec<String> = signed_headers.split(';').map(str::to_string).collect();
    if signed_headers.len() > MAX_SIGNED_HEADERS || signed_headers.iter().any(String::is_empty) {
        return Err(IamError::incomplete_signature(
            "SignedHeaders must list at most 64 non-empty header names.",
        ));
    }
    if !signed_headers.iter().any(|name| name == "host") {
        return Err(IamError::incomplete_signature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    if signature.chars().count() > MAX_SIGNATURE_CHARS {
        return Err(IamError::incomplete_signature("The Signature is too long."));
    }

    Ok(SigV4Auth {
        access_key_id: scope.access_key_id.to_string(),
        scope_date: scope.date.to_string(),
        region: scope.region.to_string(),
        service: scope.service,
        signed_headers,
        signature: signature.to_string(),
        request_timestamp,
        request_time,
        session_token: single_header(headers, "x-amz-security-token")?.map(str::to_string),
    })
}

/// Checks the request's time against `now` and its signature against the
/// one computed with `secret_access_key`, in constant time.
///
/// The body is always covered: if `X-Amz-Content-SHA256` is present it
/// must equal the body's hash, so `UNSIGNED-PAYLOAD` is refused. Unlike
/// S3, these APIs carry the whole request in the body.
pub fn verify(
    auth: &SigV4Auth,
    request: &HttpRequest,
    secret_access_key: &str,
    now: OffsetDateTime,
) -> Result<(), IamError> {
    // Saturating: a clock at the edge of time's range must not panic.
    let earliest = now.checked_sub(MAX_CLOCK_SKEW).unwrap_or(now);
    let latest = now.checked_add(MAX_CLOCK_SKEW).unwrap_or(now);
    if auth.request_time < earliest {
        return Err(IamError::signature_does_not_match(format!(
            "Signature expired: {} is now earlier than {} ({} - 15 min.)",
            auth.request_timestamp,
            basic_timestamp(earliest),
            basic_timestamp(now)
        )));
    }
    if auth.request_time > latest {
        return Err(IamError::signature_does_not_match(format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            auth.request_timestamp,
            basic_timestamp(latest),
            basic_timestamp(now)
        )));
    }
    let expected = compute_signature(auth, request, secret_access_key)?;
    if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        Ok(())
    } else {
        Err(IamError::signature_mismatch())
    }
}

/// The hex signature the client should have sent.
pub(crate) fn compute_signature(
    auth: &SigV4Auth,
    request: &HttpRequest,
    secret_access_key: &str,
) -> Result<String, IamError> {
    let canonical_request = canonical_request(auth, request)?;
    let scope = format!(
        "{}/{}/{}/{SCOPE_TERMINATOR}",
        auth.scope_date,
        auth.region,
        auth.service.as_str()
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        auth.request_timestamp,
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let secret = format!("AWS4{secret_access_key}");
    let date_key = hmac_sha256(secret.as_bytes(), auth.scope_date.as_bytes());
    let region_key = hmac_sha256(&date_key, auth.region.as_bytes());
    let service_key = hmac_sha256(&region_key, auth.service.as_str().as_bytes());
    let signing_key = hmac_sha256(&service_key, SCOPE_TERMINATOR.as_bytes());
    Ok(hex::encode(hmac_sha256(
        &signing_key,
        string_to_sign.as_bytes(),
    )))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn canonical_request(auth: &SigV4Auth, request: &HttpRequest) -> Result<String, IamError> {
    let body_hash = hex::encode(Sha256::digest(request.body));
    let payload_hash = match single_header(request.headers, "x-amz-content-sha256")? {
        Some(claimed) if claimed.trim().eq_ignore_ascii_case(&body_hash) => claimed.trim(),
        Some(_) => {
            return Err(IamError::signature_does_not_match(
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ))
        }
        None => body_hash.as_str(),
    };

    let mut canonical_headers = String::new();
    for name in &auth.signed_headers {
        let values: Vec<String> = header_values(request.headers, name)
            .map(canonical_header_value)
            .collect();
        // A signed header that is absent cannot match what the client
        // signed; say so rather than sign an empty value.
        if values.is_empty() {
            return Err(IamError::signature_does_not_match(format!(
                "The request is missing the signed header '{name}'."
            )));
        }
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(&values.join(","));
        canonical_headers.push('\n');
    }

    Ok(format!(
        "{}\n{}\n{}\n{canonical_headers}\n{}\n{payload_hash}",
        request.method,
        canonical_uri(request.path),
        canonical_query(request.query),
        auth.signed_headers.join(";"),
    ))
}

/// Trims and collapses runs of spaces, as SigV4 requires.
fn canonical_header_value(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The path with dot segments and empty segments removed, then encoded
/// once more (non-S3 services double-encode), as botocore computes it.
fn canonical_uri(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment),
        }
    }
    let trailing_slash = path.ends_with('/') && !segments.is_empty();
    let mut normalized = format!("/{}", segments.join("/"));
    if trailing_slash {
        normalized.push('/');
    }
    aws_uri_encode(normalized.as_bytes(), true)
}

/// Parameters decoded, re-encoded with SigV4's rules and sorted, so a
/// client's choice of escapes does not matter.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                aws_uri_encode(&lenient_decode(key), false),
                aws_uri_encode(&lenient_decode(value), false),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests;
