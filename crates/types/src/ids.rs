//! Identifiers. Every id is chosen by the proposer of a Raft command (never
//! inside `apply`), so replicas agree on it.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use rand::RngCore;
use serde::{Deserialize, Serialize};

/// A 12-digit AWS-style account id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AccountId(pub String);

/// The 64-hex canonical user id that S3 shows as an Owner ID.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CanonicalId(pub String);

/// Names one run of block files: one part of an upload, or the whole body of
/// a single PUT. Block `i` of a data id is its own file. 128 random bits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DataId(pub [u8; 16]);

impl DataId {
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(text: &str) -> Option<Self> {
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Self(bytes))
    }
}

impl fmt::Debug for DataId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataId({})", self.to_hex())
    }
}

impl fmt::Display for DataId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A multipart upload id. Starts with the creation time in hex so that ids
/// sort in initiation order, as ListMultipartUploads requires.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UploadId(pub String);

impl UploadId {
    pub fn generate(created_at_ms: i64) -> Self {
        // The leading 64 bits are the creation time shifted left by 12 bits,
        // bumped past the last id this process generated, so two uploads
        // created in the same millisecond still sort in creation order.
        static LAST_STAMP: AtomicU64 = AtomicU64::new(0);
        let time_stamp = (created_at_ms.max(0) as u64) << 12;
        let previous = LAST_STAMP
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
                Some(time_stamp.max(last + 1))
            })
            .expect("the update closure always returns Some");
        let stamp = time_stamp.max(previous + 1);
        let mut random = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut random);
        Self(format!("{stamp:016x}{}", hex::encode(random)))
    }

    /// Upload ids come from clients; accept only the shape we generate so an
    /// id can never be used to build a surprising storage key.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 40
            && text
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
        .then(|| Self(text.to_owned()))
    }
}

/// An object version id. Unversioned buckets hold exactly one version per
/// key, whose id is the literal `null`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct VersionId(pub String);

impl VersionId {
    pub const NULL: &'static str = "null";

    pub fn null() -> Self {
        Self(Self::NULL.to_owned())
    }

    pub fn is_null(&self) -> bool {
        self.0 == Self::NULL
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_ids_sort_by_creation_time() {
        let first = UploadId::generate(1_000);
        let second = UploadId::generate(2_000);
        assert!(first < second);
        let same_millisecond: Vec<UploadId> = (0..100).map(|_| UploadId::generate(3_000)).collect();
        assert!(same_millisecond.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(UploadId::parse(&first.0).is_some());
        assert!(UploadId::parse("../../etc/passwd").is_none());
        assert!(UploadId::parse(&first.0.to_uppercase()).is_none());
    }

    #[test]
    fn data_id_round_trips_through_hex() {
        let id = DataId::random();
        assert_eq!(DataId::from_hex(&id.to_hex()), Some(id));
        assert_eq!(DataId::from_hex("zz"), None);
    }
}
