//! Read preconditions (GET/HEAD and copy sources) in AWS's order, and the
//! resolution of a Range or partNumber against an object.

use coffer_meta::ObjectVersion;
use coffer_types::{ErrorCode, S3Error, UnixMillis};

use crate::api::{RangeRequest, ReadConditions};
use crate::checksum::strip_etag;
use crate::errors;

/// Whether an `If-Match` / `If-None-Match` list names this ETag. Quotes are
/// ignored, `*` matches anything, and lists are comma-separated.
pub(crate) fn etag_list_matches(list: &str, etag: &str) -> bool {
    let etag = strip_etag(etag);
    list.split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || strip_etag(candidate) == etag)
}

fn seconds(ms: UnixMillis) -> i64 {
    ms.div_euclid(1000)
}

/// Evaluate the four conditions. On GET/HEAD a failed If-None-Match or
/// If-Modified-Since is 304; for a copy source every failure is 412
/// (`copy_source == true`).
pub(crate) fn check(
    conditions: &ReadConditions,
    version: &ObjectVersion,
    copy_source: bool,
) -> Result<(), S3Error> {
    let modified_s = seconds(version.last_modified_ms);
    if let Some(if_match) = &conditions.if_match {
        if !etag_list_matches(if_match, &version.etag) {
            return Err(ErrorCode::PreconditionFailed.into());
        }
    } else if let Some(since) = conditions.if_unmodified_since_ms {
        if modified_s > seconds(since) {
            return Err(ErrorCode::PreconditionFailed.into());
        }
    }
    let not_modified = || -> S3Error {
        if copy_source {
            ErrorCode::PreconditionFailed.into()
        } else {
            S3Error::new(ErrorCode::NotModified, "Not Modified")
        }
    };
    if let Some(if_none_match) = &conditions.if_none_match {
        if etag_list_matches(if_none_match, &version.etag) {
            return Err(not_modified());
        }
    } else if let Some(since) = conditions.if_modified_since_ms {
        if modified_s <= seconds(since) {
            return Err(not_modified());
        }
    }
    Ok(())
}

/// The selected bytes `start..end` (end exclusive) and whether this is a
/// partial response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Selection {
    pub start: u64,
    pub end: u64,
    pub partial: bool,
    pub parts_count: Option<u32>,
}

fn invalid_range() -> S3Error {
    ErrorCode::InvalidRange.into()
}

/// Resolve a Range header against an object of `size_bytes`.
pub(crate) fn resolve_range(range: RangeRequest, size_bytes: u64) -> Result<Selection, S3Error> {
    let whole = Selection {
        start: 0,
        end: size_bytes,
        partial: false,
        parts_count: None,
    };
    let (start, end) = match range {
        // `first > last` is a syntactically invalid range; AWS ignores it.
        RangeRequest::FromTo { first, last } if first > last => return Ok(whole),
        RangeRequest::FromTo { first, last } => {
            if first >= size_bytes {
                return Err(invalid_range());
            }
            (first, last.min(size_bytes - 1) + 1)
        }
        RangeRequest::From { first } => {
            if first >= size_bytes {
                return Err(invalid_range());
            }
            (first, size_bytes)
        }
        RangeRequest::Suffix { length } => {
            if length == 0 || size_bytes == 0 {
                return Err(invalid_range());
            }
            (size_bytes.saturating_sub(length), size_bytes)
        }
    };
    Ok(Selection {
        start,
        end,
        partial: true,
        parts_count: None,
    })
}

/// Resolve `partNumber` against the object's parts.
pub(crate) fn resolve_part(
    part_number: u32,
    version: &ObjectVersion,
) -> Result<Selection, S3Error> {
    if part_number == 0 || part_number > coffer_types::limits::PART_NUMBER_MAX {
        return Err(errors::invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive",
        ));
    }
    if !version.multipart {
        if part_number != 1 {
            return Err(S3Error::new(
                ErrorCode::InvalidPartNumber,
                "The requested partnumber is not satisfiable",
            ));
        }
        // An empty object has no byte range to report as partial.
        return Ok(Selection {
            start: 0,
            end: version.size_bytes,
            partial: version.size_bytes > 0,
            parts_count: None,
        });
    }
    let index = (part_number - 1) as usize;
    if index >= version.parts.len() {
        return Err(S3Error::new(
            ErrorCode::InvalidPartNumber,
            "The requested partnumber is not satisfiable",
        ));
    }
    let start: u64 = version.parts[..index]
        .iter()
        .map(|part| part.size_bytes)
        .sum();
    let end = start + version.parts[index].size_bytes;
    let parts_count = u32::try_from(version.parts.len()).ok();
    Ok(Selection {
        start,
        end,
        partial: true,
        parts_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_like_s3() {
        let ok = |range, size| resolve_range(range, size).map(|s| (s.start, s.end));
        assert_eq!(
            ok(RangeRequest::FromTo { first: 0, last: 9 }, 100),
            Ok((0, 10))
        );
        assert_eq!(
            ok(
                RangeRequest::FromTo {
                    first: 90,
                    last: 200
                },
                100
            ),
            Ok((90, 100))
        );
        assert_eq!(ok(RangeRequest::From { first: 99 }, 100), Ok((99, 100)));
        assert_eq!(ok(RangeRequest::Suffix { length: 10 }, 100), Ok((90, 100)));
        assert_eq!(ok(RangeRequest::Suffix { length: 1000 }, 100), Ok((0, 100)));
        for bad in [
            RangeRequest::FromTo {
                first: 100,
                last: 200,
            },
            RangeRequest::From { first: 100 },
            RangeRequest::Suffix { length: 0 },
        ] {
            assert_eq!(
                resolve_range(bad, 100).unwrap_err().code,
                ErrorCode::InvalidRange
            );
        }
        assert_eq!(
            resolve_range(RangeRequest::Suffix { length: 5 }, 0)
                .unwrap_err()
                .code,
            ErrorCode::InvalidRange
        );
        assert_eq!(
            resolve_range(RangeRequest::FromTo { first: 0, last: 0 }, 0)
                .unwrap_err()
                .code,
            ErrorCode::InvalidRange
        );
        assert!(
            !resolve_range(RangeRequest::FromTo { first: 5, last: 1 }, 100)
                .expect("ignored")
                .partial
        );
    }

    #[test]
    fn etag_lists() {
        assert!(etag_list_matches("*", "\"abc\""));
        assert!(etag_list_matches("\"x\", \"abc\"", "\"abc\""));
        assert!(etag_list_matches("abc", "\"abc\""));
        assert!(!etag_list_matches("\"abd\"", "\"abc\""));
    }
}
