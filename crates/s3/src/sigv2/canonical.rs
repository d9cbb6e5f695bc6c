//! The SigV2 string-to-sign (AWS RESTAuthentication.html, "Request
//! canonicalization for signing") and the HMAC-SHA1 signature over it.
//! Pure functions of the request; no secrets are looked up here.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::{HeaderMap, Method, Uri};

/// Query parameters that belong to the CanonicalizedResource, sorted by
/// byte order. AWS's documented list plus the later additions botocore and
/// s3s sign (tagging, delete, object-lock, ...). Sorted so that walking it
/// yields the required lexicographic order.
pub const SUB_RESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "defaultObjectAcl",
    "delete",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// What the signature covers: the request as received.
pub struct SignedRequest<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    /// The bucket taken from the Host header (virtual-hosted style).
    pub virtual_host_bucket: Option<&'a str>,
}

/// base64(HMAC-SHA1(secret, string_to_sign)).
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Header auth signs the Date header, or an empty line when x-amz-date is
/// present (x-amz-date is then signed among the x-amz-* headers).
pub fn header_date_line(headers: &HeaderMap) -> &str {
    if header_unique(headers, "x-amz-date").is_some() {
        return "";
    }
    header_unique(headers, "date").unwrap_or("")
}

/// The SigV2 string-to-sign: verb, Content-MD5, Content-Type, the date line
/// (Date or Expires), CanonicalizedAmzHeaders, CanonicalizedResource.
pub fn string_to_sign(request: &SignedRequest<'_>, date_line: &str) -> String {
    string_to_sign_for_path(request, date_line, request.uri.path())
}

pub fn string_to_sign_for_path(request: &SignedRequest<'_>, date_line: &str, path: &str) -> String {
    let headers = request.headers;
    let mut out = String::with_capacity(256);
    out.push_str(request.method.as_str());
    out.push('\n');
    out.push_str(header_unique(headers, "content-md5").unwrap_or(""));
    out.push('\n');
    out.push_str(header_unique(headers, "content-type").unwrap_or(""));
    out.push('\n');
    out.push_str(date_line);
    out.push('\n');
    out.push_str(&canonical_amz_headers(headers));
    out.push_str(&canonical_resource(request, path));
    out
}

/// Every `x-amz-*` header, lower-case, sorted by name, repeated values
/// joined with commas, each value trimmed; one `name:value\n` per header.
fn canonical_amz_headers(headers: &HeaderMap) -> String {
    let mut names: Vec<&str> = headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| name.starts_with("x-amz-"))
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut out = String::new();
    for name in names {
        // s3s skips values that are not UTF-8; so do we, to sign the same bytes.
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .map(str::trim)
            .collect();
        if values.is_empty() {
            continue;
        }
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out
}

/// `/bucket` for virtual-hosted requests, the path as sent (still
/// percent-encoded), then the signed sub-resources in sorted order with
/// their decoded values.
fn canonical_resource(request: &SignedRequest<'_>, path: &str) -> String {
    let mut out = String::new();
    if let Some(bucket) = request.virtual_host_bucket {
        out.push('/');
        out.push_str(bucket);
    }
    out.push_str(path);
    let query = query_pairs(request.uri.query().unwrap_or(""));
    let mut separator = '?';
    for name in SUB_RESOURCES {
        // A repeated parameter is not signed (s3s's `get_unique`).
        let Some(value) = unique(&query, name) else {
            continue;
        };
        out.push(separator);
        separator = '&';
        out.push_str(name);
        if !value.is_empty() {
            out.push('=');
            out.push_str(value);
        }
    }
    out
}

/// The one value of a header, if it occurs once with a UTF-8 value.
pub fn header_unique<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut values = headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok());
    let first = values.next()?;
    values.next().is_none().then_some(first)
}

/// The one value of a query parameter, if it occurs exactly once.
pub fn unique<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let mut values = query.iter().filter(|(key, _)| key == name);
    let (_, value) = values.next()?;
    values.next().is_none().then_some(value.as_str())
}

/// Decode a query string as `application/x-www-form-urlencoded`, the way
/// s3s does (serde_urlencoded): `+` is a space, `%XX` a byte, invalid UTF-8
/// replaced, empty pieces skipped.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    let decode = |text: &str| -> String {
        let spaced = text.replace('+', " ");
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8_lossy()
            .into_owned()
    };
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (decode(name), decode(value))
        })
        .collect()
}
