//! AWS Signature Version 2 (HMAC-SHA1), checked before s3s sees a request.
//!
//! s3s 0.14.1 verifies SigV2 itself but compares signatures with `!=` (a
//! timing oracle on the expected HMAC) and never checks the request date,
//! so a captured request could be replayed forever. This module does the
//! whole check first, as AWS documents it (RESTAuthentication.html): the
//! string-to-sign, HMAC-SHA1 with the account secret, a constant-time
//! comparison, the 15-minute skew window for header auth and the expiry of
//! query auth. A request that fails never reaches s3s; one that passes is
//! verified again by s3s, which then only ever compares equal strings.
//!
//! The canonicalization mirrors s3s's wherever AWS leaves room (which
//! sub-resources count, repeated parameters, non-UTF-8 header values), so
//! that what passes here also passes there. One AWS rule s3s lacks: a
//! path-style bucket request sent as `/bucket` is signed by botocore and the
//! AWS SDKs as `/bucket/`; we accept that form and append the slash to the
//! request path, so s3s (which signs the path as sent) agrees.

use std::sync::Arc;

use coffer_engine::Engine;
use coffer_types::{ErrorCode, S3Error};
use http::{HeaderMap, Uri};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::host::DomainHost;

mod canonical;
use canonical::{header_date_line, header_unique, query_pairs, string_to_sign_for_path, unique};
pub use canonical::{sign, string_to_sign, SignedRequest};

/// AWS refuses header-signed requests dated more than 15 minutes away from
/// its clock, in either direction.
pub const REQUEST_SKEW_SECONDS_MAX: i64 = 15 * 60;

/// Query parameters that mark a SigV4 presigned URL.
const SIGV4_QUERY_PARAMETERS: &[&str] = &["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"];

const HEADER_MALFORMED: &str =
    "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature";
const QUERY_INCOMPLETE: &str =
    "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters";
const ONE_MECHANISM: &str = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified";
const DATE_REQUIRED: &str = "AWS authentication requires a valid Date or x-amz-date header";

/// The SigV2 credentials a request carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SigV2Auth {
    /// `Authorization: AWS <access key>:<signature>`.
    Header {
        access_key: String,
        signature: String,
    },
    /// `?AWSAccessKeyId=…&Expires=…&Signature=…` (values decoded).
    Query {
        access_key: String,
        signature: String,
        expires: String,
    },
}

impl SigV2Auth {
    pub fn access_key(&self) -> &str {
        match self {
            Self::Header { access_key, .. } | Self::Query { access_key, .. } => access_key,
        }
    }
}

/// Which path the signature covered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignedPath {
    /// The path exactly as sent.
    AsSent,
    /// A path-style bucket request sent as `/bucket` but signed as
    /// `/bucket/`, the form AWS canonicalizes bucket resources to and that
    /// botocore and the AWS SDKs sign. The caller must append the slash to
    /// the request path so s3s (which signs the path as sent) agrees.
    BucketSlashAdded,
}

/// The gateway's SigV2 check: finds the secret through the engine and the
/// virtual-hosted bucket through the same domains s3s is configured with.
pub struct SigV2Verifier {
    engine: Arc<Engine>,
    host: Option<DomainHost>,
}

impl SigV2Verifier {
    pub fn new(engine: Arc<Engine>, domains: &[String]) -> Self {
        let host = (!domains.is_empty()).then(|| DomainHost::new(domains));
        Self { engine, host }
    }

    /// Ok for requests that are not SigV2 (s3s handles those) and for SigV2
    /// requests whose signature, date and key all check out. A path-style
    /// bucket request signed as `/bucket/` gets that slash appended to its
    /// path, so s3s verifies the same string (the resource is the same).
    pub async fn check<B>(&self, request: &mut http::Request<B>) -> Result<(), S3Error> {
        let Some(auth) = detect(request.uri(), request.headers())? else {
            return Ok(());
        };
        let found = match self.engine.find_credentials(auth.access_key()).await {
            Ok(found) => found,
            Err(failure) => {
                tracing::error!(error = %failure, "credential lookup failed");
                return Err(failure);
            }
        };
        let signed = SignedRequest::of(request, self.host.as_ref());
        let signed_path = verify(&auth, &signed, OffsetDateTime::now_utc(), |_| {
            Ok(found.map(|credentials| credentials.secret_access_key))
        })?;
        if signed_path == SignedPath::BucketSlashAdded {
            *request.uri_mut() = with_slash_appended(request.uri())?;
        }
        Ok(())
    }
}

impl<'a> SignedRequest<'a> {
    /// The request as s3s will see it: the bucket comes from the Host
    /// header only when virtual-hosted domains are configured and the host
    /// is a name, not a literal address (as in s3s's `prepare`).
    pub fn of<B>(request: &'a http::Request<B>, host: Option<&DomainHost>) -> Self {
        let virtual_host_bucket = match (host, host_of(request)) {
            (Some(domains), Some(name)) if !is_address(name) => domains.bucket_of(name),
            _ => None,
        };
        Self {
            method: request.method(),
            uri: request.uri(),
            headers: request.headers(),
            virtual_host_bucket,
        }
    }
}

/// The Host header, or the HTTP/2 authority, as s3s reads it.
fn host_of<B>(request: &http::Request<B>) -> Option<&str> {
    if let Some(value) = request.headers().get(http::header::HOST) {
        return value.to_str().ok();
    }
    if matches!(
        request.version(),
        http::Version::HTTP_2 | http::Version::HTTP_3
    ) {
        return request
            .uri()
            .authority()
            .map(|authority| authority.as_str());
    }
    None
}

/// `/bucket?query` → `/bucket/?query`.
fn with_slash_appended(uri: &Uri) -> Result<Uri, S3Error> {
    let path_and_query = match uri.query() {
        Some(query) => format!("{}/?{query}", uri.path()),
        None => format!("{}/", uri.path()),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(
        path_and_query
            .parse()
            .map_err(|_| S3Error::new(ErrorCode::InvalidArgument, "Invalid URI"))?,
    );
    Uri::from_parts(parts).map_err(|_| S3Error::new(ErrorCode::InvalidArgument, "Invalid URI"))
}

/// A path-style bucket-level path without its trailing slash: `/bucket`.
fn is_bare_bucket_path(request: &SignedRequest<'_>) -> bool {
    let path = request.uri.path();
    request.virtual_host_bucket.is_none()
        && path.len() > 1
        && path.starts_with('/')
        && !path[1..].contains('/')
}

fn is_address(host: &str) -> bool {
    host.parse::<std::net::SocketAddr>().is_ok() || host.parse::<std::net::IpAddr>().is_ok()
}

/// Which SigV2 form, if any, the request uses. Malformed SigV2 credentials
/// and SigV2 mixed with another mechanism are errors, as at AWS.
pub fn detect(uri: &Uri, headers: &HeaderMap) -> Result<Option<SigV2Auth>, S3Error> {
    let query = query_pairs(uri.query().unwrap_or(""));
    let has = |name: &str| query.iter().any(|(key, _)| key == name);
    let query_v2 = has("Signature") || has("AWSAccessKeyId");
    let query_v4 = SIGV4_QUERY_PARAMETERS.iter().any(|name| has(name));
    let authorizations: Vec<&[u8]> = headers
        .get_all(http::header::AUTHORIZATION)
        .iter()
        .map(|value| value.as_bytes())
        .collect();
    let header_v2 = authorizations
        .iter()
        .any(|value| value.starts_with(b"AWS "));

    if query_v2 {
        if !authorizations.is_empty() || query_v4 {
            return Err(S3Error::new(ErrorCode::InvalidArgument, ONE_MECHANISM));
        }
        let incomplete = || S3Error::new(ErrorCode::AccessDenied, QUERY_INCOMPLETE);
        let access_key = unique(&query, "AWSAccessKeyId").ok_or_else(incomplete)?;
        let signature = unique(&query, "Signature").ok_or_else(incomplete)?;
        let expires = unique(&query, "Expires").ok_or_else(incomplete)?;
        if access_key.is_empty() || signature.is_empty() {
            return Err(incomplete());
        }
        return Ok(Some(SigV2Auth::Query {
            access_key: access_key.to_owned(),
            signature: signature.to_owned(),
            expires: expires.to_owned(),
        }));
    }
    if !header_v2 {
        return Ok(None);
    }
    if authorizations.len() > 1 || query_v4 {
        return Err(S3Error::new(ErrorCode::InvalidArgument, ONE_MECHANISM));
    }
    let malformed = || S3Error::new(ErrorCode::InvalidArgument, HEADER_MALFORMED);
    let value = std::str::from_utf8(authorizations[0]).map_err(|_| malformed())?;
    let credentials = value.strip_prefix("AWS ").ok_or_else(malformed)?;
    let (access_key, signature) = credentials.split_once(':').ok_or_else(malformed)?;
    if access_key.is_empty() || signature.is_empty() {
        return Err(malformed());
    }
    Ok(Some(SigV2Auth::Header {
        access_key: access_key.to_owned(),
        signature: signature.to_owned(),
    }))
}

/// Check time, key and signature. `secret_of` answers the secret of an
/// access key, `None` if the key does not exist.
pub fn verify<S: AsRef<str>>(
    auth: &SigV2Auth,
    request: &SignedRequest<'_>,
    now: OffsetDateTime,
    secret_of: impl FnOnce(&str) -> Result<Option<S>, S3Error>,
) -> Result<SignedPath, S3Error> {
    // The time checks need no secret, so they come first and cost nothing.
    let (access_key, signature, date_line) = match auth {
        SigV2Auth::Header {
            access_key,
            signature,
        } => {
            check_request_date(request.headers, now)?;
            (access_key, signature, header_date_line(request.headers))
        }
        SigV2Auth::Query {
            access_key,
            signature,
            expires,
        } => {
            check_expires(expires, now)?;
            (access_key, signature, expires.as_str())
        }
    };
    let Some(secret) = secret_of(access_key)? else {
        return Err(S3Error::new(
            ErrorCode::InvalidAccessKeyId,
            "The AWS Access Key Id you provided does not exist in our records.",
        ));
    };
    let string_to_sign = string_to_sign(request, date_line);
    if signature_matches(secret.as_ref(), &string_to_sign, signature) {
        return Ok(SignedPath::AsSent);
    }
    if is_bare_bucket_path(request) {
        let with_slash = format!("{}/", request.uri.path());
        let alternative = string_to_sign_for_path(request, date_line, &with_slash);
        if signature_matches(secret.as_ref(), &alternative, signature) {
            return Ok(SignedPath::BucketSlashAdded);
        }
    }
    tracing::debug!(?string_to_sign, "SigV2 signature mismatch");
    Err(S3Error::new(
        ErrorCode::SignatureDoesNotMatch,
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    ))
}

/// Lengths are public (a base64 HMAC-SHA1 is always 28 characters); the
/// bytes are compared without an early exit.
pub(crate) fn signature_matches(secret: &str, string_to_sign: &str, provided: &str) -> bool {
    let expected = sign(secret, string_to_sign);
    bool::from(expected.as_bytes().ct_eq(provided.as_bytes()))
}

/// Header auth: the request time is x-amz-date if present, else Date; it
/// must parse and lie within 15 minutes of `now`.
fn check_request_date(headers: &HeaderMap, now: OffsetDateTime) -> Result<(), S3Error> {
    let value = header_unique(headers, "x-amz-date").or_else(|| header_unique(headers, "date"));
    let date = value
        .and_then(parse_http_date)
        .ok_or_else(|| S3Error::new(ErrorCode::AccessDenied, DATE_REQUIRED))?;
    let skew_seconds = (now - date).whole_seconds().abs();
    if skew_seconds > REQUEST_SKEW_SECONDS_MAX {
        return Err(S3Error::new(
            ErrorCode::RequestTimeTooSkewed,
            "The difference between the request time and the current time is too large.",
        ));
    }
    Ok(())
}

/// Query auth: Expires is seconds since the epoch, and the request must
/// arrive before it.
fn check_expires(expires: &str, now: OffsetDateTime) -> Result<(), S3Error> {
    let invalid = || {
        S3Error::new(
            ErrorCode::AccessDenied,
            format!("Invalid date (should be seconds since epoch): {expires}"),
        )
    };
    if expires.is_empty() || !expires.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let expires_seconds: i64 = expires.parse().map_err(|_| invalid())?;
    if now.unix_timestamp() >= expires_seconds {
        return Err(S3Error::new(ErrorCode::AccessDenied, "Request has expired"));
    }
    Ok(())
}

/// RFC 1123 / RFC 2822 (`Tue, 27 Mar 2007 19:36:42 +0000` or `… GMT`, what
/// s3cmd and botocore send), or ISO 8601 basic (`20070327T193642Z`), which
/// some clients put in x-amz-date.
pub fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::{Iso8601, Rfc2822};
    let value = value.trim();
    OffsetDateTime::parse(value, &Rfc2822)
        .or_else(|_| OffsetDateTime::parse(value, &Iso8601::DEFAULT))
        .ok()
}

#[cfg(test)]
mod tests;
