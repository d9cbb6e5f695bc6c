//! Authentication of the admin API: each request is signed with a root
//! access key as HMAC-SHA256 over the method, path and query, a timestamp
//! and the body's SHA-256 (`sign`). The server recomputes it with the
//! stored secret and compares in constant time; a timestamp more than
//! `CLOCK_SKEW_SECONDS_MAX` away from the server's clock is refused, so a
//! captured request cannot be replayed later. `coffer admin` signs with
//! the same function.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const AUTHORIZATION_SCHEME: &str = "COFFER-HMAC-SHA256";
pub const DATE_HEADER: &str = "x-coffer-date";
pub const CLOCK_SKEW_SECONDS_MAX: i64 = 300;

/// The hex signature of one request.
pub fn sign(
    secret: &str,
    method: &str,
    path_and_query: &str,
    unix_seconds: i64,
    body: &[u8],
) -> String {
    let body_hash = hex::encode(Sha256::digest(body));
    let text =
        format!("{AUTHORIZATION_SCHEME}\n{method}\n{path_and_query}\n{unix_seconds}\n{body_hash}");
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(text.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The `Authorization` header value for a signature.
pub fn authorization(access_key_id: &str, signature: &str) -> String {
    format!("{AUTHORIZATION_SCHEME} Credential={access_key_id}, Signature={signature}")
}

/// (access key id, signature) from an `Authorization` header.
pub(crate) fn parse_authorization(value: &str) -> Option<(&str, &str)> {
    let rest = value.strip_prefix(AUTHORIZATION_SCHEME)?.trim_start();
    let (credential, signature) = rest.split_once(',')?;
    let access_key_id = credential.trim().strip_prefix("Credential=")?;
    let signature = signature.trim().strip_prefix("Signature=")?;
    (!access_key_id.is_empty() && signature.len() == 64).then_some((access_key_id, signature))
}

pub(crate) fn signatures_match(expected: &str, given: &str) -> bool {
    expected.as_bytes().ct_eq(given.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_every_part() {
        let base = sign("secret", "GET", "/admin/v1/nodes", 100, b"");
        assert_eq!(base.len(), 64);
        assert_eq!(base, sign("secret", "GET", "/admin/v1/nodes", 100, b""));
        for other in [
            sign("other", "GET", "/admin/v1/nodes", 100, b""),
            sign("secret", "DELETE", "/admin/v1/nodes", 100, b""),
            sign("secret", "GET", "/admin/v1/nodes?x", 100, b""),
            sign("secret", "GET", "/admin/v1/nodes", 101, b""),
            sign("secret", "GET", "/admin/v1/nodes", 100, b"x"),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn parses_the_header() {
        let signature = "a".repeat(64);
        let header = authorization("AKID", &signature);
        assert_eq!(
            parse_authorization(&header),
            Some(("AKID", signature.as_str()))
        );
        assert_eq!(parse_authorization("AWS4-HMAC-SHA256 Credential=x"), None);
        assert_eq!(
            parse_authorization(&format!(
                "{AUTHORIZATION_SCHEME} Credential=, Signature={signature}"
            )),
            None
        );
        assert_eq!(
            parse_authorization(&format!(
                "{AUTHORIZATION_SCHEME} Credential=A, Signature=abc"
            )),
            None
        );
        assert!(signatures_match(&signature, &signature));
        assert!(!signatures_match(&signature, &"b".repeat(64)));
    }
}
