//! Request checks that need no state: tags and user metadata.

use std::collections::HashSet;

use coffer_types::limits::{
    OBJECT_TAGS_MAX, TAG_KEY_LENGTH_MAX, TAG_VALUE_LENGTH_MAX, USER_METADATA_BYTES_MAX,
};
use coffer_types::{ErrorCode, S3Error};

fn invalid_tag(message: &str) -> S3Error {
    S3Error::new(ErrorCode::InvalidTag, message)
}

/// S3's tag rules: at most 10 tags, keys 1–128 and values 0–256 Unicode
/// characters, keys unique.
pub(crate) fn tags(tags: &[(String, String)]) -> Result<(), S3Error> {
    if tags.len() > OBJECT_TAGS_MAX {
        return Err(invalid_tag("Object tags cannot be greater than 10"));
    }
    let mut seen = HashSet::with_capacity(tags.len());
    for (key, value) in tags {
        let key_length = key.chars().count();
        if key_length == 0 || key_length > TAG_KEY_LENGTH_MAX {
            return Err(invalid_tag("The TagKey you have provided is invalid"));
        }
        if value.chars().count() > TAG_VALUE_LENGTH_MAX {
            return Err(invalid_tag("The TagValue you have provided is invalid"));
        }
        if !seen.insert(key.as_str()) {
            return Err(invalid_tag(
                "Cannot provide multiple Tags with the same key",
            ));
        }
    }
    Ok(())
}

/// User metadata: the UTF-8 bytes of every name and value together ≤ 2 KB.
pub(crate) fn user_metadata(pairs: &[(String, String)]) -> Result<(), S3Error> {
    let size_bytes: usize = pairs
        .iter()
        .map(|(name, value)| name.len() + value.len())
        .sum();
    if size_bytes > USER_METADATA_BYTES_MAX {
        return Err(ErrorCode::MetadataTooLarge.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(key: &str, value: &str) -> (String, String) {
        (key.to_owned(), value.to_owned())
    }

    #[test]
    fn tag_rules() {
        assert!(tags(&[]).is_ok());
        assert!(tags(&[pair(&"k".repeat(128), &"v".repeat(256))]).is_ok());
        let eleven: Vec<_> = (0..11).map(|i| pair(&format!("k{i}"), "v")).collect();
        let cases = [
            eleven,
            vec![pair(&"k".repeat(129), "v")],
            vec![pair("k", &"v".repeat(257))],
            vec![pair("k", "a"), pair("k", "b")],
            vec![pair("", "v")],
        ];
        for case in cases {
            assert_eq!(
                tags(&case).unwrap_err().code,
                ErrorCode::InvalidTag,
                "{case:?}"
            );
        }
        // Limits are in characters, not bytes.
        assert!(tags(&[pair(&"é".repeat(128), "v")]).is_ok());
    }

    #[test]
    fn metadata_limit() {
        assert!(user_metadata(&[pair("a", &"v".repeat(2047))]).is_ok());
        assert_eq!(
            user_metadata(&[pair("a", &"v".repeat(2048))])
                .unwrap_err()
                .code,
            ErrorCode::MetadataTooLarge
        );
    }
}
