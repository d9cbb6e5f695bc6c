//! ARNs: building the ones coffer's principals and resources have, and
//! `ArnLike` matching, which compares the six colon-separated segments one
//! by one (a `*` never spans a colon before the resource segment).

use crate::pattern::Pattern;

/// The partition coffer answers for.
pub const PARTITION: &str = "aws";

/// `arn:aws:s3:::bucket`.
pub fn bucket_arn(bucket: &str) -> String {
    format!("arn:{PARTITION}:s3:::{bucket}")
}

/// `arn:aws:s3:::bucket/key`.
pub fn object_arn(bucket: &str, key: &str) -> String {
    format!("arn:{PARTITION}:s3:::{bucket}/{key}")
}

/// `arn:aws:iam::123456789012:root`.
pub fn account_root_arn(account: &str) -> String {
    format!("arn:{PARTITION}:iam::{account}:root")
}

/// `arn:aws:iam::123456789012:user/path/name` (`path` is `/` or `/a/b/`).
pub fn user_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:{PARTITION}:iam::{account}:user{path}{name}")
}

pub fn role_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:{PARTITION}:iam::{account}:role{path}{name}")
}

pub fn group_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:{PARTITION}:iam::{account}:group{path}{name}")
}

pub fn managed_policy_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:{PARTITION}:iam::{account}:policy{path}{name}")
}

/// `arn:aws:sts::123456789012:assumed-role/name/session`.
pub fn assumed_role_arn(account: &str, role_name: &str, session: &str) -> String {
    format!("arn:{PARTITION}:sts::{account}:assumed-role/{role_name}/{session}")
}

/// The six segments of an ARN, or `None` if `text` is not one.
pub fn segments(text: &str) -> Option<[&str; 6]> {
    let mut parts = text.splitn(6, ':');
    let segments = [
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    ];
    (segments[0] == "arn").then_some(segments)
}

/// `ArnLike` / `ArnEquals`: every segment of `value` matches the same
/// segment of `pattern` (globs allowed, case-sensitive).
pub fn arn_like(pattern: &str, value: &str) -> bool {
    match (segments(pattern), segments(value)) {
        (Some(pattern), Some(value)) => pattern
            .iter()
            .zip(value.iter())
            .all(|(pattern, value)| Pattern::glob(pattern).matches(value)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_like_matches_per_segment() {
        let cases: &[(&str, &str, bool)] = &[
            (
                "arn:aws:iam::111122223333:user/*",
                "arn:aws:iam::111122223333:user/alice",
                true,
            ),
            (
                "arn:aws:iam::111122223333:user/*",
                "arn:aws:iam::444455556666:user/alice",
                false,
            ),
            (
                "arn:aws:iam::*:role/admin",
                "arn:aws:iam::444455556666:role/admin",
                true,
            ),
            ("arn:aws:s3:::b/*", "arn:aws:s3:::b/a:b:c", true),
            // A `*` does not reach across the account's colon.
            ("arn:aws:iam::*", "arn:aws:iam::1:root", false),
            ("arn:aws:iam::1:root", "arn:aws:iam::1:root", true),
            ("arn:aws:iam::1:root", "not-an-arn", false),
            ("*", "arn:aws:iam::1:root", false),
        ];
        for (pattern, value, expected) in cases {
            assert_eq!(arn_like(pattern, value), *expected, "{pattern} ~ {value}");
        }
    }

    #[test]
    fn builders() {
        assert_eq!(user_arn("1", "/", "bob"), "arn:aws:iam::1:user/bob");
        assert_eq!(user_arn("1", "/ops/", "bob"), "arn:aws:iam::1:user/ops/bob");
        assert_eq!(
            assumed_role_arn("1", "r", "s"),
            "arn:aws:sts::1:assumed-role/r/s"
        );
        assert_eq!(object_arn("b", "k/x"), "arn:aws:s3:::b/k/x");
    }
}
