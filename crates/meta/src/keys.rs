//! Key layout of the state-machine column family. Every record lives under a
//! short ASCII tag that ends in `/`, so no tag is a prefix of another:
//!
//! | tag | key after the tag | value |
//! |---|---|---|
//! | `acct/` | account id | `AccountRecord` |
//! | `akey/` | access key id | `AccessKeyRecord` |
//! | `bkt/` | bucket name | `BucketRecord` |
//! | `obj/` | bucket `/` esc(key) `00 01` inv(last_modified_ms) version id | `ObjectVersion` |
//! | `upl/` | bucket `/` esc(key) `00 01` upload id | `UploadRecord` |
//! | `part/` | upload id `/` part number (u32 BE) | `PartRecord` |
//! | `gc/` | ord(enqueued_ms) data id (16 bytes) | `GcEntry` |
//! | `ref/` | data id (16 bytes) | `DataRef` |
//! | `bcfg/` | bucket name | `BucketAccess` (policy, PAB, ownership, ACL) |
//! | `apab/` | account id | `PublicAccessBlockRecord` (account level) |
//! | `aprof/` | account id | `AccountProfile` |
//! | `email/` | lower-cased e-mail address | `AccountId` |
//! | `oacl/` | the object version's key after `obj/` | `ObjectAclRecord` |
//! | `uacl/` | upload id | `ObjectAclRecord` (given at CreateMultipartUpload) |
//!
//! IAM users, their keys and managed policies (`iusr/`, `ikey/`, `ipol/`)
//! are laid out in `iam`.
//!
//! Bucket names are `[a-z0-9.-]`, so the `/` after one is unambiguous.
//! `esc` replaces each 0x00 of the key's bytes by `00 FF` and the key ends in
//! `00 01`: escaped keys compare like the raw keys (binary UTF-8 order, a
//! key before its extensions) and keys containing NUL work. `ord(ms)` maps an
//! `i64` to a big-endian `u64` with the same order; `inv` is its complement,
//! so within a key the newest version comes first. Upload ids start with
//! their creation time in hex, so uploads of a key sort by initiation.
//!
//! The `ref/` index holds one entry per data id still named by an object
//! version, a part of an upload in progress or a GC entry, so
//! `data_is_referenced` is one point lookup.

use coffer_types::{BucketName, DataId, UnixMillis, UploadId, VersionId};
use serde::{Deserialize, Serialize};

use crate::MetaError;

pub const ACCOUNT: &[u8] = b"acct/";
pub const ACCESS_KEY: &[u8] = b"akey/";
pub const BUCKET: &[u8] = b"bkt/";
pub const OBJECT: &[u8] = b"obj/";
pub const UPLOAD: &[u8] = b"upl/";
pub const PART: &[u8] = b"part/";
pub const GC: &[u8] = b"gc/";
pub const DATA_REF: &[u8] = b"ref/";
pub const BUCKET_ACCESS: &[u8] = b"bcfg/";
pub const ACCOUNT_PUBLIC_ACCESS_BLOCK: &[u8] = b"apab/";
pub const ACCOUNT_PROFILE: &[u8] = b"aprof/";
pub const EMAIL: &[u8] = b"email/";
pub const OBJECT_ACL: &[u8] = b"oacl/";
pub const UPLOAD_ACL: &[u8] = b"uacl/";

/// The ACL a multipart upload asked for, applied to the object its
/// completion installs.
pub fn upload_acl(upload_id: &UploadId) -> Vec<u8> {
    concat(&[UPLOAD_ACL, upload_id.0.as_bytes()])
}

/// The ACL record of the object version stored under `version_key` (a key
/// under `obj/`): the same suffix under `oacl/`, so a replaced version
/// (new timestamp) never inherits an old ACL, and the two are removed
/// together.
pub fn object_acl(version_key: &[u8]) -> Vec<u8> {
    let suffix = version_key.strip_prefix(OBJECT).unwrap_or(version_key);
    concat(&[OBJECT_ACL, suffix])
}

pub fn bucket_access(bucket: &BucketName) -> Vec<u8> {
    concat(&[BUCKET_ACCESS, bucket.as_str().as_bytes()])
}

pub fn account_public_access_block(account_id: &str) -> Vec<u8> {
    concat(&[ACCOUNT_PUBLIC_ACCESS_BLOCK, account_id.as_bytes()])
}

pub fn account_profile(account_id: &str) -> Vec<u8> {
    concat(&[ACCOUNT_PROFILE, account_id.as_bytes()])
}

/// E-mail addresses are matched case-insensitively.
pub fn email(address: &str) -> Vec<u8> {
    concat(&[EMAIL, address.to_lowercase().as_bytes()])
}

/// Ends an escaped key; sorts before any escaped byte that may follow.
const KEY_TERMINATOR: [u8; 2] = [0x00, 0x01];
/// Sorts after `KEY_TERMINATOR` and every suffix behind it, but before any
/// longer key: seeking here skips all records of one key.
const KEY_SUCCESSOR: [u8; 2] = [0x00, 0x02];

/// Who holds a data id in the reference index. Only a GC entry needs to be
/// found again by data id (for `GcDone`), so only it carries its queue key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataRef {
    /// An object version or a part of an upload in progress.
    Live,
    /// A GC entry enqueued at this time.
    Gc { enqueued_ms: UnixMillis },
}

fn concat(parts: &[&[u8]]) -> Vec<u8> {
    let mut key = Vec::with_capacity(parts.iter().map(|part| part.len()).sum());
    for part in parts {
        key.extend_from_slice(part);
    }
    key
}

/// Append `raw` with every 0x00 escaped as `00 FF` (no terminator).
pub fn escape_into(key: &mut Vec<u8>, raw: &[u8]) {
    for &byte in raw {
        key.push(byte);
        if byte == 0x00 {
            key.push(0xFF);
        }
    }
}

/// Split an escaped, terminated key off the front of `bytes`: returns the
/// raw key and the rest after the terminator.
pub fn unescape_prefix(bytes: &[u8]) -> Result<(Vec<u8>, &[u8]), MetaError> {
    let mut raw = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte != 0x00 {
            raw.push(byte);
            index += 1;
            continue;
        }
        match bytes.get(index + 1) {
            Some(0xFF) => {
                raw.push(0x00);
                index += 2;
            }
            Some(0x01) => return Ok((raw, &bytes[index + 2..])),
            _ => break,
        }
    }
    Err(MetaError::Storage(
        "escaped key without terminator".to_owned(),
    ))
}

/// Order-preserving map of a signed time to eight big-endian bytes.
pub fn ordered_ms(ms: UnixMillis) -> [u8; 8] {
    ((ms as u64) ^ (1 << 63)).to_be_bytes()
}

#[cfg(test)]
fn ordered_ms_from(bytes: [u8; 8]) -> UnixMillis {
    (u64::from_be_bytes(bytes) ^ (1 << 63)) as i64
}

pub fn account(id: &str) -> Vec<u8> {
    concat(&[ACCOUNT, id.as_bytes()])
}

pub fn access_key(id: &str) -> Vec<u8> {
    concat(&[ACCESS_KEY, id.as_bytes()])
}

pub fn bucket(name: &BucketName) -> Vec<u8> {
    concat(&[BUCKET, name.as_str().as_bytes()])
}

/// `tag bucket /`: every record of one bucket under `tag`.
pub fn bucket_scope(tag: &[u8], bucket: &BucketName) -> Vec<u8> {
    concat(&[tag, bucket.as_str().as_bytes(), b"/"])
}

/// Every record under `tag` of bucket keys that start with `prefix`.
pub fn key_prefix(tag: &[u8], bucket: &BucketName, prefix: &[u8]) -> Vec<u8> {
    let mut key = bucket_scope(tag, bucket);
    escape_into(&mut key, prefix);
    key
}

/// Every record under `tag` of exactly this object key.
pub fn key_exact(tag: &[u8], bucket: &BucketName, object_key: &[u8]) -> Vec<u8> {
    let mut key = key_prefix(tag, bucket, object_key);
    key.extend_from_slice(&KEY_TERMINATOR);
    key
}

/// The first position after every record of this object key.
pub fn key_successor(tag: &[u8], bucket: &BucketName, object_key: &[u8]) -> Vec<u8> {
    let mut key = key_prefix(tag, bucket, object_key);
    key.extend_from_slice(&KEY_SUCCESSOR);
    key
}

pub fn object_version(
    bucket: &BucketName,
    object_key: &[u8],
    last_modified_ms: UnixMillis,
    version_id: &VersionId,
) -> Vec<u8> {
    let mut key = key_exact(OBJECT, bucket, object_key);
    key.extend_from_slice(&(!u64::from_be_bytes(ordered_ms(last_modified_ms))).to_be_bytes());
    key.extend_from_slice(version_id.0.as_bytes());
    key
}

pub fn upload(bucket: &BucketName, object_key: &[u8], upload_id: &UploadId) -> Vec<u8> {
    let mut key = key_exact(UPLOAD, bucket, object_key);
    key.extend_from_slice(upload_id.0.as_bytes());
    key
}

/// The raw object key of an `obj/` or `upl/` record of `bucket_scope`.
pub fn object_key_of(scope: &[u8], record_key: &[u8]) -> Result<Vec<u8>, MetaError> {
    let rest = record_key
        .strip_prefix(scope)
        .ok_or_else(|| MetaError::Storage("record key outside its bucket".to_owned()))?;
    Ok(unescape_prefix(rest)?.0)
}

pub fn parts_of(upload_id: &UploadId) -> Vec<u8> {
    concat(&[PART, upload_id.0.as_bytes(), b"/"])
}

pub fn part(upload_id: &UploadId, part_number: u32) -> Vec<u8> {
    concat(&[&parts_of(upload_id), &part_number.to_be_bytes()])
}

pub fn gc(enqueued_ms: UnixMillis, data_id: &DataId) -> Vec<u8> {
    concat(&[GC, &ordered_ms(enqueued_ms), &data_id.0])
}

/// The enqueue time encoded in a `gc/` key.
#[cfg(test)]
pub fn gc_enqueued_ms(key: &[u8]) -> Option<UnixMillis> {
    let bytes: [u8; 8] = key.strip_prefix(GC)?.get(..8)?.try_into().ok()?;
    Some(ordered_ms_from(bytes))
}

pub fn data_ref(data_id: &DataId) -> Vec<u8> {
    concat(&[DATA_REF, &data_id.0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket_name() -> BucketName {
        BucketName::parse("bucket").expect("valid name")
    }

    #[test]
    fn escaped_keys_sort_like_raw_keys() {
        let raw: Vec<&[u8]> = vec![
            b"",
            b"\x00",
            b"\x00\x00",
            b"\x00\x01",
            b"\x01",
            b"a",
            b"a\x00",
            b"a\x00b",
            b"a\x01",
            b"a/",
            b"a/b",
            b"ab",
            "é".as_bytes(),
            "日本".as_bytes(),
            b"\x7f",
        ];
        let bucket = bucket_name();
        for left in &raw {
            for right in &raw {
                let left_key = object_version(&bucket, left, 5, &VersionId::null());
                let right_key = object_version(&bucket, right, 5, &VersionId::null());
                assert_eq!(
                    left.cmp(right),
                    left_key.cmp(&right_key),
                    "{left:?} vs {right:?}"
                );
                // All versions of `left` sort before the successor of `left`, which sorts
                // before every key greater than `left`.
                let successor = key_successor(OBJECT, &bucket, left);
                assert!(left_key < successor);
                if right > left {
                    assert!(successor <= right_key, "{left:?} successor vs {right:?}");
                }
            }
        }
    }

    #[test]
    fn newest_version_first_and_key_round_trips() {
        let bucket = bucket_name();
        let older = object_version(&bucket, b"k\x00ey", -5, &VersionId::null());
        let newer = object_version(&bucket, b"k\x00ey", 1_700_000_000_000, &VersionId::null());
        assert!(newer < older);
        let scope = bucket_scope(OBJECT, &bucket);
        assert_eq!(object_key_of(&scope, &older).expect("decodes"), b"k\x00ey");
        assert!(object_key_of(&scope, b"obj/bucket/no-terminator").is_err());
    }

    #[test]
    fn gc_keys_sort_by_time() {
        let id = DataId([7; 16]);
        assert!(gc(-1, &id) < gc(0, &id));
        assert!(gc(0, &id) < gc(1_000, &DataId([0; 16])));
        assert_eq!(gc_enqueued_ms(&gc(-42, &id)), Some(-42));
    }

    fn interesting_bytes() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        proptest::collection::vec(
            prop_oneof![
                Just(0x00u8),
                Just(0x01),
                Just(0xFF),
                Just(b'/'),
                any::<u8>()
            ],
            0..8,
        )
    }

    proptest::proptest! {
        #[test]
        fn escaping_preserves_order_and_round_trips(left in interesting_bytes(), right in interesting_bytes()) {
            let bucket = bucket_name();
            let left_key = key_exact(OBJECT, &bucket, &left);
            let right_key = key_exact(OBJECT, &bucket, &right);
            proptest::prop_assert_eq!(left.cmp(&right), left_key.cmp(&right_key));
            let scope = bucket_scope(OBJECT, &bucket);
            proptest::prop_assert_eq!(object_key_of(&scope, &left_key).expect("decodes"), left.clone());
            if right > left {
                proptest::prop_assert!(key_successor(OBJECT, &bucket, &left) <= right_key);
            }
        }
    }
}
