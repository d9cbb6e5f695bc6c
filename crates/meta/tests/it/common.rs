//! Builders for records and small helpers shared by the tests.

use std::sync::Arc;

use coffer_meta::*;
use coffer_types::{
    AccountId, BucketName, CanonicalId, DataId, ErrorCode, ObjectKey, UnixMillis, UploadId,
    VersionId,
};

pub const OWNER: &str = "111122223333";
pub const OTHER_OWNER: &str = "444455556666";
pub const BLOCK_SIZE_BYTES: u64 = 4 * 1024 * 1024;
pub const MIB: u64 = 1024 * 1024;

pub async fn open_store() -> (tempfile::TempDir, Arc<MetaStore>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = MetaStore::open(dir.path(), 1)
        .await
        .expect("open a fresh store");
    (dir, store)
}

pub fn owner() -> AccountId {
    AccountId(OWNER.to_owned())
}

pub fn bucket_name(name: &str) -> BucketName {
    BucketName::parse(name).expect("valid bucket name")
}

pub fn key(text: &str) -> ObjectKey {
    ObjectKey::parse(text).expect("valid key")
}

pub fn data_id(seed: u8) -> DataId {
    DataId([seed; 16])
}

pub fn layout(part_number: u32, data: DataId, size_bytes: u64, etag: &str) -> PartLayout {
    PartLayout {
        part_number,
        data_id: data,
        size_bytes,
        block_size_bytes: BLOCK_SIZE_BYTES,
        etag: etag.to_owned(),
        checksum: None,
    }
}

/// A `null` version of a single PUT.
pub fn version(
    last_modified_ms: UnixMillis,
    data: DataId,
    size_bytes: u64,
    etag: &str,
) -> ObjectVersion {
    ObjectVersion {
        version_id: VersionId::null(),
        last_modified_ms,
        size_bytes,
        etag: etag.to_owned(),
        owner: owner(),
        headers: ContentHeaders::default(),
        user_metadata: vec![("color".to_owned(), "blue".to_owned())],
        tags: Vec::new(),
        checksum: None,
        encryption: Encryption::SseS3 {
            dek_wrapped: vec![1, 2, 3],
        },
        parts: vec![layout(1, data, size_bytes, etag)],
        multipart: false,
    }
}

pub fn upload_record(
    bucket: &BucketName,
    object_key: &ObjectKey,
    initiated_ms: UnixMillis,
) -> UploadRecord {
    UploadRecord {
        upload_id: UploadId::generate(initiated_ms),
        bucket: bucket.clone(),
        key: object_key.clone(),
        initiated_ms,
        owner: owner(),
        headers: ContentHeaders::default(),
        user_metadata: Vec::new(),
        tags: Vec::new(),
        checksum_algorithm: None,
        encryption: Encryption::SseS3 {
            dek_wrapped: vec![9],
        },
    }
}

pub fn part(
    part_number: u32,
    data: DataId,
    size_bytes: u64,
    etag: &str,
    last_modified_ms: UnixMillis,
) -> PartRecord {
    PartRecord {
        layout: layout(part_number, data, size_bytes, etag),
        last_modified_ms,
    }
}

pub async fn create_bucket(store: &MetaStore, name: &str) -> BucketName {
    let bucket = bucket_name(name);
    let record = BucketRecord {
        name: bucket.clone(),
        owner: owner(),
        region: "us-east-1".to_owned(),
        created_at_ms: 1_000,
        versioning: VersioningState::Unversioned,
    };
    let result = store
        .propose(Command::CreateBucket { bucket: record })
        .await
        .expect("propose");
    assert_eq!(result, CommandResult::Ok);
    bucket
}

pub async fn put(
    store: &MetaStore,
    bucket: &BucketName,
    object_key: &ObjectKey,
    object: ObjectVersion,
) -> CommandResult {
    let command = Command::PutObject {
        bucket: bucket.clone(),
        key: object_key.clone(),
        version: object,
        precondition: None,
    };
    store.propose(command).await.expect("propose")
}

pub fn account_record(id: &str, display_name: &str) -> AccountRecord {
    AccountRecord {
        id: AccountId(id.to_owned()),
        canonical_id: CanonicalId("ab".repeat(32)),
        display_name: display_name.to_owned(),
        created_at_ms: 5,
    }
}

pub fn access_key_record(access_key_id: &str, account: &str) -> AccessKeyRecord {
    AccessKeyRecord {
        access_key_id: access_key_id.to_owned(),
        account: AccountId(account.to_owned()),
        secret_wrapped: vec![7; 32],
        created_at_ms: 5,
    }
}

#[track_caller]
pub fn assert_failed(result: &CommandResult, code: ErrorCode) {
    match result {
        CommandResult::Failed(error) => assert_eq!(error.code, code, "{error}"),
        other => panic!("expected {code}, got {other:?}"),
    }
}

/// GC entries as (data id, block count, enqueued ms).
pub fn gc_entries(store: &MetaStore) -> Vec<(DataId, u64, UnixMillis)> {
    store
        .gc_batch(10_000)
        .expect("gc batch")
        .into_iter()
        .map(|entry| (entry.data_id, entry.block_count, entry.enqueued_ms))
        .collect()
}
