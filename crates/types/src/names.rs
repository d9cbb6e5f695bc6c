//! Validated bucket names and object keys. Constructing one is the only way
//! to get one, so every later layer can rely on the rules below.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, S3Error};
use crate::limits::KEY_LENGTH_BYTES_MAX;

/// A bucket name that follows AWS's general-purpose bucket naming rules:
/// 3–63 characters of lowercase letters, digits, `.` and `-`; starts and ends
/// with a letter or digit; no `..`; not an IPv4 address; none of the
/// reserved prefixes and suffixes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BucketName(String);

impl BucketName {
    pub fn parse(name: &str) -> Result<Self, S3Error> {
        if Self::is_valid(name) {
            Ok(Self(name.to_owned()))
        } else {
            Err(S3Error::new(
                ErrorCode::InvalidBucketName,
                "The specified bucket is not valid.",
            ))
        }
    }

    fn is_valid(name: &str) -> bool {
        let bytes = name.as_bytes();
        if !(3..=63).contains(&bytes.len()) {
            return false;
        }
        let allowed =
            |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-';
        let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if !bytes.iter().all(|&b| allowed(b)) || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1])
        {
            return false;
        }
        if name.contains("..") || name.contains(".-") || name.contains("-.") {
            return false;
        }
        if name.parse::<std::net::Ipv4Addr>().is_ok() {
            return false;
        }
        const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
        const RESERVED_SUFFIXES: [&str; 3] = ["-s3alias", "--ol-s3", "--x-s3"];
        !RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
            && !RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An object key: 1–1024 bytes of UTF-8. It is only ever a string in the
/// metadata store — never a filesystem path — so `../../etc/passwd` and
/// control characters are ordinary keys.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectKey(String);

impl ObjectKey {
    pub fn parse(key: &str) -> Result<Self, S3Error> {
        if key.is_empty() {
            return Err(S3Error::new(
                ErrorCode::InvalidArgument,
                "Object key must not be empty",
            ));
        }
        if key.len() > KEY_LENGTH_BYTES_MAX {
            return Err(S3Error::new(
                ErrorCode::KeyTooLongError,
                "Your key is too long",
            ));
        }
        Ok(Self(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_naming_rules() {
        let cases = [
            ("abc", true),
            ("my-bucket.data-01", true),
            ("ab", false),
            (&"a".repeat(64) as &str, false),
            (&"a".repeat(63) as &str, true),
            ("Upper", false),
            ("-start", false),
            ("end-", false),
            ("a..b", false),
            ("a.-b", false),
            ("192.168.5.4", false),
            ("xn--bucket", false),
            ("bucket-s3alias", false),
            ("under_score", false),
        ];
        for (name, valid) in cases {
            assert_eq!(BucketName::parse(name).is_ok(), valid, "{name}");
        }
    }

    #[test]
    fn keys_are_bounded_but_otherwise_opaque() {
        assert!(ObjectKey::parse("../../etc/passwd").is_ok());
        assert!(ObjectKey::parse("tab\tand\u{1}control").is_ok());
        assert!(ObjectKey::parse(&"k".repeat(1024)).is_ok());
        assert_eq!(
            ObjectKey::parse(&"k".repeat(1025)).unwrap_err().code,
            ErrorCode::KeyTooLongError
        );
        assert!(ObjectKey::parse("").is_err());
    }
}
