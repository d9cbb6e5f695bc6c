//! Pure conversions between s3s DTOs / HTTP headers and engine types. No
//! IO here, so every function is unit-testable.

use base64::Engine as _;
use coffer_engine::{RangeRequest, ReadConditions};
use coffer_meta::{AccountRecord, ChecksumAlgorithm, ContentHeaders, ObjectVersion};
use coffer_types::{ErrorCode, S3Error, UnixMillis};
use http::HeaderMap;
use s3s::dto;

/// `"abc"` (stored, with quotes) → the s3s ETag, which adds quotes itself.
pub fn etag(stored: &str) -> dto::ETag {
    let inner = stored
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(stored);
    dto::ETag::Strong(inner.to_owned())
}

pub fn timestamp(millis: UnixMillis) -> dto::Timestamp {
    let nanos = i128::from(millis) * 1_000_000;
    let time = time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    dto::Timestamp::from(time)
}

pub fn millis(timestamp: &dto::Timestamp) -> UnixMillis {
    let time = time::OffsetDateTime::from(timestamp.clone());
    (time.unix_timestamp_nanos() / 1_000_000) as UnixMillis
}

pub fn owner(account: &AccountRecord) -> dto::Owner {
    dto::Owner {
        display_name: Some(account.display_name.clone()),
        id: Some(account.canonical_id.0.clone()),
    }
}

pub fn checksum_algorithm(
    algorithm: &dto::ChecksumAlgorithm,
) -> Result<ChecksumAlgorithm, S3Error> {
    match algorithm.as_str().to_ascii_uppercase().as_str() {
        dto::ChecksumAlgorithm::CRC32 => Ok(ChecksumAlgorithm::Crc32),
        dto::ChecksumAlgorithm::CRC32C => Ok(ChecksumAlgorithm::Crc32c),
        dto::ChecksumAlgorithm::CRC64NVME => Ok(ChecksumAlgorithm::Crc64Nvme),
        dto::ChecksumAlgorithm::SHA1 => Ok(ChecksumAlgorithm::Sha1),
        dto::ChecksumAlgorithm::SHA256 => Ok(ChecksumAlgorithm::Sha256),
        other => Err(S3Error::new(
            ErrorCode::InvalidRequest,
            format!("Checksum algorithm {other} is not supported"),
        )),
    }
}

pub fn checksum_algorithm_dto(algorithm: ChecksumAlgorithm) -> dto::ChecksumAlgorithm {
    dto::ChecksumAlgorithm::from_static(match algorithm {
        ChecksumAlgorithm::Crc32 => dto::ChecksumAlgorithm::CRC32,
        ChecksumAlgorithm::Crc32c => dto::ChecksumAlgorithm::CRC32C,
        ChecksumAlgorithm::Crc64Nvme => dto::ChecksumAlgorithm::CRC64NVME,
        ChecksumAlgorithm::Sha1 => dto::ChecksumAlgorithm::SHA1,
        ChecksumAlgorithm::Sha256 => dto::ChecksumAlgorithm::SHA256,
    })
}

/// The header (and trailer) name carrying a checksum of this algorithm.
pub fn checksum_header(algorithm: ChecksumAlgorithm) -> &'static str {
    match algorithm {
        ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
        ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
        ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
        ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
        ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
    }
}

pub const CHECKSUM_ALGORITHMS: [ChecksumAlgorithm; 5] = [
    ChecksumAlgorithm::Crc32,
    ChecksumAlgorithm::Crc32c,
    ChecksumAlgorithm::Crc64Nvme,
    ChecksumAlgorithm::Sha1,
    ChecksumAlgorithm::Sha256,
];

/// The algorithm named in `x-amz-trailer`, if it names a checksum.
pub fn trailer_checksum_algorithm(headers: &HeaderMap) -> Option<ChecksumAlgorithm> {
    let trailer = headers
        .get("x-amz-trailer")?
        .to_str()
        .ok()?
        .trim()
        .to_ascii_lowercase();
    CHECKSUM_ALGORITHMS.into_iter().find(|&a| {
        trailer
            .split(',')
            .any(|name| name.trim() == checksum_header(a))
    })
}

/// Checksum values to put on a response, by algorithm.
#[derive(Default)]
pub struct ChecksumFields {
    pub crc32: Option<String>,
    pub crc32c: Option<String>,
    pub crc64nvme: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
}

impl ChecksumFields {
    pub fn from_checksum(checksum: Option<&coffer_meta::Checksum>) -> Self {
        let mut fields = Self::default();
        if let Some(checksum) = checksum {
            let value = Some(checksum.value_base64.clone());
            match checksum.algorithm {
                ChecksumAlgorithm::Crc32 => fields.crc32 = value,
                ChecksumAlgorithm::Crc32c => fields.crc32c = value,
                ChecksumAlgorithm::Crc64Nvme => fields.crc64nvme = value,
                ChecksumAlgorithm::Sha1 => fields.sha1 = value,
                ChecksumAlgorithm::Sha256 => fields.sha256 = value,
            }
        }
        fields
    }
}

/// The checksum type S3 reports: composite for multipart objects whose
/// stored value is a checksum of checksums (`...-N`).
pub fn checksum_type(checksum: Option<&coffer_meta::Checksum>) -> Option<dto::ChecksumType> {
    let checksum = checksum?;
    let composite = checksum.value_base64.contains('-');
    Some(dto::ChecksumType::from_static(if composite {
        dto::ChecksumType::COMPOSITE
    } else {
        dto::ChecksumType::FULL_OBJECT
    }))
}

fn header_string(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Content-* headers, Cache-Control and Expires exactly as sent.
pub fn content_headers(headers: &HeaderMap) -> ContentHeaders {
    ContentHeaders {
        content_type: header_string(headers, "content-type"),
        content_encoding: header_string(headers, "content-encoding")
            // aws-chunked is transfer framing, not the object's encoding.
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|e| !e.eq_ignore_ascii_case("aws-chunked"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .filter(|v| !v.is_empty()),
        content_disposition: header_string(headers, "content-disposition"),
        content_language: header_string(headers, "content-language"),
        cache_control: header_string(headers, "cache-control"),
        expires: header_string(headers, "expires"),
    }
}

/// `x-amz-meta-*` pairs, names lowercased without the prefix, in the order
/// the headers arrived.
pub fn user_metadata(headers: &HeaderMap) -> Result<Vec<(String, String)>, S3Error> {
    let mut pairs = Vec::new();
    for (name, value) in headers {
        if let Some(key) = name.as_str().strip_prefix("x-amz-meta-") {
            let value = value.to_str().map_err(|_| {
                S3Error::new(
                    ErrorCode::InvalidArgument,
                    "User metadata values must be ASCII",
                )
            })?;
            pairs.push((key.to_owned(), value.to_owned()));
        }
    }
    Ok(pairs)
}

pub fn metadata_map(pairs: &[(String, String)]) -> Option<dto::Metadata> {
    (!pairs.is_empty()).then(|| pairs.iter().cloned().collect())
}

/// `x-amz-tagging: k1=v1&k2=v2`, URL-query-encoded.
pub fn parse_tag_query(query: &str) -> Result<Vec<(String, String)>, S3Error> {
    let decode = |s: &str| -> Result<String, S3Error> {
        let plus_as_space = s.replace('+', " ");
        percent_encoding::percent_decode_str(&plus_as_space)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| {
                S3Error::new(
                    ErrorCode::InvalidArgument,
                    "The tagging header is not valid UTF-8",
                )
            })
    };
    let mut tags = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        tags.push((decode(key)?, decode(value)?));
    }
    Ok(tags)
}

/// S3's `encoding-type=url`: percent-encode everything but unreserved
/// characters and `/`. Spaces become `%20`, which both plain and
/// plus-aware URL decoders read back as a space.
pub fn url_encode(text: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/');
    percent_encoding::utf8_percent_encode(text, KEEP).to_string()
}

/// List continuation tokens: opaque to clients, a version byte plus the
/// last returned key, base64url without padding.
const TOKEN_FORMAT_VERSION: u8 = 1;

pub fn encode_continuation_token(last_returned: &str) -> String {
    let mut bytes = Vec::with_capacity(1 + last_returned.len());
    bytes.push(TOKEN_FORMAT_VERSION);
    bytes.extend_from_slice(last_returned.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn decode_continuation_token(token: &str) -> Result<String, S3Error> {
    let invalid = || {
        S3Error::new(
            ErrorCode::InvalidArgument,
            "The continuation token provided is incorrect",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| invalid())?;
    match bytes.split_first() {
        Some((&TOKEN_FORMAT_VERSION, key))
            if key.len() <= coffer_types::limits::KEY_LENGTH_BYTES_MAX =>
        {
            String::from_utf8(key.to_vec()).map_err(|_| invalid())
        }
        _ => Err(invalid()),
    }
}

pub fn range(range: &dto::Range) -> RangeRequest {
    match *range {
        dto::Range::Int {
            first,
            last: Some(last),
        } => RangeRequest::FromTo { first, last },
        dto::Range::Int { first, last: None } => RangeRequest::From { first },
        dto::Range::Suffix { length } => RangeRequest::Suffix { length },
    }
}

/// An ETag condition as the engine compares it: `*` or the quoted ETag.
pub fn etag_condition(condition: &dto::ETagCondition) -> String {
    match condition {
        dto::ETagCondition::Any => "*".to_owned(),
        dto::ETagCondition::ETag(tag) => format!("\"{}\"", tag.value()),
    }
}

pub fn read_conditions(
    if_match: Option<&dto::ETagCondition>,
    if_none_match: Option<&dto::ETagCondition>,
    if_modified_since: Option<&dto::Timestamp>,
    if_unmodified_since: Option<&dto::Timestamp>,
) -> ReadConditions {
    ReadConditions {
        if_match: if_match.map(etag_condition),
        if_none_match: if_none_match.map(etag_condition),
        if_modified_since_ms: if_modified_since.map(millis),
        if_unmodified_since_ms: if_unmodified_since.map(millis),
    }
}

/// `If-None-Match: *` / `If-Match: "etag"` on a write.
pub fn write_precondition(
    if_match: Option<&dto::ETagCondition>,
    if_none_match: Option<&dto::ETagCondition>,
) -> Result<Option<coffer_meta::WritePrecondition>, S3Error> {
    match (if_match, if_none_match) {
        (Some(_), Some(_)) => Err(S3Error::new(
            ErrorCode::NotImplemented,
            "If-Match and If-None-Match together are not supported on writes",
        )),
        (Some(condition), None) => Ok(Some(coffer_meta::WritePrecondition::IfMatch(
            etag_condition(condition),
        ))),
        (None, Some(dto::ETagCondition::Any)) => {
            Ok(Some(coffer_meta::WritePrecondition::IfNoneMatchAny))
        }
        (None, Some(_)) => Err(S3Error::new(
            ErrorCode::NotImplemented,
            "If-None-Match on writes supports only the value *",
        )),
        (None, None) => Ok(None),
    }
}

/// A copy source as the engine names it.
pub fn copy_source(
    source: &dto::CopySource,
) -> Result<
    (
        coffer_types::BucketName,
        coffer_types::ObjectKey,
        Option<coffer_types::VersionId>,
    ),
    S3Error,
> {
    match source {
        dto::CopySource::Bucket {
            bucket,
            key,
            version_id,
        } => {
            // An unknown source bucket answers NoSuchBucket, as for any
            // other operation on a name that cannot exist.
            let bucket = coffer_types::BucketName::parse(bucket)
                .map_err(|_| S3Error::from(ErrorCode::NoSuchBucket))?;
            let key = coffer_types::ObjectKey::parse(key)?;
            let version_id = version_id
                .as_deref()
                .map(|v| coffer_types::VersionId(v.to_owned()));
            Ok((bucket, key, version_id))
        }
        _ => Err(S3Error::new(
            ErrorCode::NotImplemented,
            "Access point and outpost copy sources are not supported",
        )),
    }
}

/// The standard response fields of an object version (GET/HEAD).
pub fn is_checksum_mode_enabled(mode: Option<&dto::ChecksumMode>) -> bool {
    mode.is_some_and(|m| m.as_str().eq_ignore_ascii_case(dto::ChecksumMode::ENABLED))
}

pub fn version_id_dto(version: &ObjectVersion) -> Option<String> {
    // Unversioned buckets do not send x-amz-version-id.
    (!version.version_id.is_null()).then(|| version.version_id.0.clone())
}

pub fn sse() -> Option<dto::ServerSideEncryption> {
    Some(dto::ServerSideEncryption::from_static(
        dto::ServerSideEncryption::AES256,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_tokens_round_trip() {
        for key in [
            "a",
            "photos/2024/01.jpg",
            "ünïcødé key with spaces",
            "../../etc/passwd",
        ] {
            let token = encode_continuation_token(key);
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{token}"
            );
            assert_eq!(decode_continuation_token(&token).expect("round trip"), key);
        }
    }

    #[test]
    fn garbage_tokens_are_invalid_argument() {
        let wrong_version = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([9u8, b'a']);
        let not_utf8 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([1u8, 0xff, 0xfe]);
        for token in ["", "!!!", "a b", wrong_version.as_str(), not_utf8.as_str()] {
            assert_eq!(
                decode_continuation_token(token).unwrap_err().code,
                ErrorCode::InvalidArgument,
                "{token:?}"
            );
        }
    }

    #[test]
    fn tag_queries_decode() {
        let tags =
            parse_tag_query("project=coffer&team=storage%20ops&empty=&a%2Bb=c+d").expect("valid");
        assert_eq!(
            tags,
            vec![
                ("project".into(), "coffer".into()),
                ("team".into(), "storage ops".into()),
                ("empty".into(), "".into()),
                ("a+b".into(), "c d".into()),
            ]
        );
        assert!(parse_tag_query("").expect("empty").is_empty());
        assert_eq!(
            parse_tag_query("k=%ff").unwrap_err().code,
            ErrorCode::InvalidArgument
        );
    }

    #[test]
    fn list_output_url_encoding() {
        let cases = [
            ("plain/key.txt", "plain/key.txt"),
            ("with space", "with%20space"),
            ("a+b&c=d", "a%2Bb%26c%3Dd"),
            ("ünï", "%C3%BCn%C3%AF"),
            ("tab\there", "tab%09here"),
            ("~tilde-_", "~tilde-_"),
        ];
        for (raw, encoded) in cases {
            assert_eq!(url_encode(raw), encoded, "{raw:?}");
        }
    }

    #[test]
    fn copy_sources_parse() {
        let cases: [(&str, &str, &str, Option<&str>); 4] = [
            ("src-bucket/key.txt", "src-bucket", "key.txt", None),
            ("/src-bucket/dir/key.txt", "src-bucket", "dir/key.txt", None),
            (
                "src-bucket/with%20space%2Bplus.txt",
                "src-bucket",
                "with space+plus.txt",
                None,
            ),
            (
                "src-bucket/k?versionId=abc123",
                "src-bucket",
                "k",
                Some("abc123"),
            ),
        ];
        for (header, bucket, key, version) in cases {
            let parsed = dto::CopySource::parse(header).expect("s3s parses it");
            let (b, k, v) = copy_source(&parsed).expect("valid");
            assert_eq!(b.as_str(), bucket, "{header}");
            assert_eq!(k.as_str(), key, "{header}");
            assert_eq!(v.map(|v| v.0).as_deref(), version, "{header}");
        }
        assert!(dto::CopySource::parse("no-slash").is_err());
    }

    #[test]
    fn etags_lose_and_regain_quotes() {
        assert_eq!(etag("\"abc\""), dto::ETag::Strong("abc".into()));
        assert_eq!(etag("\"abc-3\"").value(), "abc-3");
        assert_eq!(
            etag_condition(&dto::ETagCondition::ETag(dto::ETag::Strong("abc".into()))),
            "\"abc\""
        );
        assert_eq!(etag_condition(&dto::ETagCondition::Any), "*");
    }

    #[test]
    fn ranges_convert() {
        assert_eq!(
            range(&dto::Range::Int {
                first: 0,
                last: Some(9)
            }),
            RangeRequest::FromTo { first: 0, last: 9 }
        );
        assert_eq!(
            range(&dto::Range::Int {
                first: 5,
                last: None
            }),
            RangeRequest::From { first: 5 }
        );
        assert_eq!(
            range(&dto::Range::Suffix { length: 3 }),
            RangeRequest::Suffix { length: 3 }
        );
        let parsed = dto::Range::parse("bytes=10-").expect("valid");
        assert_eq!(range(&parsed), RangeRequest::From { first: 10 });
    }

    #[test]
    fn write_preconditions() {
        use coffer_meta::WritePrecondition;
        let tag = dto::ETagCondition::ETag(dto::ETag::Strong("e1".into()));
        assert_eq!(
            write_precondition(None, Some(&dto::ETagCondition::Any)).expect("ok"),
            Some(WritePrecondition::IfNoneMatchAny)
        );
        assert_eq!(
            write_precondition(Some(&tag), None).expect("ok"),
            Some(WritePrecondition::IfMatch("\"e1\"".into()))
        );
        assert_eq!(write_precondition(None, None).expect("ok"), None);
        assert!(write_precondition(None, Some(&tag)).is_err());
    }

    #[test]
    fn timestamps_keep_milliseconds() {
        let ts = timestamp(1_700_000_000_123);
        assert_eq!(millis(&ts), 1_700_000_000_123);
    }

    #[test]
    fn metadata_and_headers_from_request() {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-meta-Color", "blue".parse().expect("static"));
        headers.insert("x-amz-meta-size", "L".parse().expect("static"));
        headers.insert("content-type", "text/plain".parse().expect("static"));
        headers.insert(
            "content-encoding",
            "aws-chunked,gzip".parse().expect("static"),
        );
        headers.insert("expires", "not a date".parse().expect("static"));
        let meta = user_metadata(&headers).expect("ascii");
        assert_eq!(
            meta,
            vec![("color".into(), "blue".into()), ("size".into(), "L".into())]
        );
        let content = content_headers(&headers);
        assert_eq!(content.content_type.as_deref(), Some("text/plain"));
        assert_eq!(content.content_encoding.as_deref(), Some("gzip"));
        assert_eq!(content.expires.as_deref(), Some("not a date"));
    }

    #[test]
    fn trailer_names_select_the_algorithm() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amz-trailer",
            "x-amz-checksum-crc32c".parse().expect("static"),
        );
        assert_eq!(
            trailer_checksum_algorithm(&headers),
            Some(ChecksumAlgorithm::Crc32c)
        );
        headers.insert("x-amz-trailer", "x-amz-foo".parse().expect("static"));
        assert_eq!(trailer_checksum_algorithm(&headers), None);
    }
}
