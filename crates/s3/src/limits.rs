//! Limits s3s does not enforce: XML body size (checked from Content-Length
//! before any byte is read), page sizes, and batch sizes.

use coffer_types::limits::{LIST_KEYS_MAX, XML_BODY_BYTES_MAX};
use coffer_types::{ErrorCode, S3Error};

use crate::operations::Operation;

/// Operations whose request body is an XML document that s3s buffers.
pub fn has_xml_body(operation: Operation) -> bool {
    matches!(
        operation,
        Operation::CreateBucket
            | Operation::DeleteObjects
            | Operation::CompleteMultipartUpload
            | Operation::PutObjectTagging
    )
}

/// Refuse an XML body larger than we parse, before reading it. Bodies
/// without Content-Length are still capped by s3s's own limit, which we set
/// to the same value.
pub fn check_xml_body_length(
    operation: Operation,
    content_length: Option<u64>,
) -> Result<(), S3Error> {
    if !has_xml_body(operation) {
        return Ok(());
    }
    match content_length {
        Some(length) if length > XML_BODY_BYTES_MAX as u64 => Err(S3Error::new(
            ErrorCode::EntityTooLarge,
            format!("Your XML request body exceeds the maximum of {XML_BODY_BYTES_MAX} bytes."),
        )),
        _ => Ok(()),
    }
}

/// max-keys / max-uploads / max-parts: absent → 1000, above 1000 → 1000,
/// negative → InvalidArgument.
pub fn page_size(requested: Option<i32>, name: &str) -> Result<usize, S3Error> {
    match requested {
        None => Ok(LIST_KEYS_MAX),
        Some(value) if value < 0 => Err(S3Error::new(
            ErrorCode::InvalidArgument,
            format!("Argument {name} must be an integer between 0 and 2147483647"),
        )),
        Some(value) => Ok((value as usize).min(LIST_KEYS_MAX)),
    }
}

/// `x-amz-copy-source-range: bytes=first-last` (both inclusive, required).
pub fn parse_copy_source_range(header: &str) -> Result<(u64, u64), S3Error> {
    let invalid = || {
        S3Error::new(
            ErrorCode::InvalidArgument,
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
        )
    };
    let range = header.trim().strip_prefix("bytes=").ok_or_else(invalid)?;
    let (first, last) = range.split_once('-').ok_or_else(invalid)?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(first) || !digits(last) {
        return Err(invalid());
    }
    let first: u64 = first.parse().map_err(|_| invalid())?;
    let last: u64 = last.parse().map_err(|_| invalid())?;
    if first > last {
        return Err(invalid());
    }
    Ok((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_clamp() {
        assert_eq!(page_size(None, "max-keys").expect("default"), 1000);
        assert_eq!(page_size(Some(0), "max-keys").expect("zero"), 0);
        assert_eq!(page_size(Some(5), "max-keys").expect("small"), 5);
        assert_eq!(page_size(Some(5000), "max-keys").expect("large"), 1000);
        assert_eq!(
            page_size(Some(-1), "max-keys").unwrap_err().code,
            ErrorCode::InvalidArgument
        );
    }

    #[test]
    fn copy_source_ranges() {
        assert_eq!(parse_copy_source_range("bytes=0-9").expect("valid"), (0, 9));
        assert_eq!(
            parse_copy_source_range("bytes=5-5").expect("one byte"),
            (5, 5)
        );
        for bad in [
            "bytes=9-0",
            "bytes=-5",
            "bytes=5-",
            "0-9",
            "bytes=a-b",
            "bytes=1-2-3",
        ] {
            assert_eq!(
                parse_copy_source_range(bad).unwrap_err().code,
                ErrorCode::InvalidArgument,
                "{bad}"
            );
        }
    }

    #[test]
    fn xml_bodies_are_capped_before_reading() {
        let too_big = Some(XML_BODY_BYTES_MAX as u64 + 1);
        assert_eq!(
            check_xml_body_length(Operation::DeleteObjects, too_big)
                .unwrap_err()
                .code,
            ErrorCode::EntityTooLarge
        );
        assert!(
            check_xml_body_length(Operation::DeleteObjects, Some(XML_BODY_BYTES_MAX as u64))
                .is_ok()
        );
        // Object bodies stream and have their own limits in the engine.
        assert!(check_xml_body_length(Operation::PutObject, too_big).is_ok());
    }
}
