//! The use cases of an S3 store — buckets, put/get/list/copy/delete,
//! multipart, tagging, garbage collection — over the metadata store (`meta`),
//! block files (`blob`) and encryption (`crypto`). Requests and outcomes are
//! plain Rust types (`api`); S3 errors come back as `coffer_types::S3Error`.
//!
//! This crate must not know about HTTP, XML, SigV4 or any s3s type; the
//! gateway converts at its edge.

pub mod api;

use std::sync::Arc;

use coffer_blob::BlockStore;
use coffer_crypto::RegionKeys;
use coffer_meta::{BucketRecord, MetaStore, ObjectVersion};
use coffer_types::{AccountId, BucketName, ObjectKey, S3Error, VersionId};

pub use api::*;

/// An access key's owner and secret, unwrapped for signature checks.
pub struct Credentials {
    pub account: coffer_meta::AccountRecord,
    /// Zeroized on drop; never logged.
    pub secret_access_key: zeroize::Zeroizing<String>,
}

pub type Result<T, E = S3Error> = std::result::Result<T, E>;

#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// This region's name (`us-east-1` by default); CreateBucket accepts a
    /// LocationConstraint only if it names this region.
    pub region: String,
    pub block_size_bytes: u64,
}

pub struct Engine {
    meta: Arc<MetaStore>,
    blocks: Arc<BlockStore>,
    keys: Arc<RegionKeys>,
    config: EngineConfig,
}

impl Engine {
    pub fn new(meta: Arc<MetaStore>, blocks: Arc<BlockStore>, keys: Arc<RegionKeys>, config: EngineConfig) -> Arc<Self> {
        Arc::new(Self { meta, blocks, keys, config })
    }

    pub fn meta(&self) -> &Arc<MetaStore> {
        &self.meta
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Delete block files that no committed record names (called at start,
    /// when no upload can be in flight) and start the GC worker that drains
    /// the GC queue. The worker stops when the returned handle is aborted.
    pub async fn start_background(self: &Arc<Self>) -> Result<tokio::task::JoinHandle<()>> { let _ = (&self.blocks, &self.keys); todo!() }

    pub fn blocks(&self) -> &Arc<BlockStore> {
        &self.blocks
    }

    /// Create the root account and its access key on first start; later
    /// starts leave an existing account alone (its key may be rotated by
    /// setting a new one: the given key is added if missing).
    pub async fn ensure_root_account(&self, access_key_id: &str, secret_access_key: &str) -> Result<coffer_meta::AccountRecord> { let _ = (access_key_id, secret_access_key); todo!() }

    /// The account and plaintext secret of an access key, for SigV4.
    pub fn credentials(&self, access_key_id: &str) -> Result<Option<Credentials>> { let _ = access_key_id; todo!() }

    // Buckets.
    pub async fn create_bucket(&self, owner: &AccountId, bucket: &BucketName, location_constraint: Option<&str>) -> Result<()> { let _ = (owner, bucket, location_constraint); todo!() }
    pub async fn delete_bucket(&self, bucket: &BucketName) -> Result<()> { let _ = bucket; todo!() }
    pub fn head_bucket(&self, bucket: &BucketName) -> Result<BucketRecord> { let _ = bucket; todo!() }
    pub fn list_buckets(&self, owner: &AccountId) -> Result<Vec<BucketRecord>> { let _ = owner; todo!() }

    // Objects.
    pub async fn put_object(&self, request: PutObjectRequest, body: BodyStream) -> Result<PutObjectOutcome> { let _ = (request, body); todo!() }
    /// GET when `with_body`, HEAD otherwise.
    pub async fn get_object(&self, request: GetObjectRequest, with_body: bool) -> Result<GetObjectOutcome> { let _ = (request, with_body); todo!() }
    pub async fn copy_object(&self, request: CopyObjectRequest) -> Result<CopyObjectOutcome> { let _ = request; todo!() }
    pub async fn delete_object(&self, bucket: &BucketName, key: &ObjectKey, version_id: Option<VersionId>) -> Result<DeleteObjectOutcome> { let _ = (bucket, key, version_id); todo!() }
    /// One result per key, in order; at most 1000 keys (checked by the caller).
    pub async fn delete_objects(&self, bucket: &BucketName, targets: Vec<coffer_meta::DeleteTarget>) -> Result<Vec<Result<DeleteObjectOutcome>>> { let _ = (bucket, targets); todo!() }
    pub fn list_objects(&self, request: ListObjectsRequest) -> Result<ListObjectsPage> { let _ = request; todo!() }
    pub fn list_object_versions(&self, request: ListVersionsRequest) -> Result<ListVersionsPage> { let _ = request; todo!() }

    // Tagging.
    pub fn get_object_tagging(&self, bucket: &BucketName, key: &ObjectKey, version_id: Option<VersionId>) -> Result<(ObjectVersion, Vec<(String, String)>)> { let _ = (bucket, key, version_id); todo!() }
    pub async fn put_object_tagging(&self, bucket: &BucketName, key: &ObjectKey, version_id: Option<VersionId>, tags: Vec<(String, String)>) -> Result<VersionId> { let _ = (bucket, key, version_id, tags); todo!() }

    // Multipart.
    pub async fn create_upload(&self, request: CreateUploadRequest) -> Result<coffer_meta::UploadRecord> { let _ = request; todo!() }
    pub async fn upload_part(&self, request: UploadPartRequest, body: BodyStream) -> Result<coffer_meta::PartRecord> { let _ = (request, body); todo!() }
    pub async fn upload_part_copy(&self, request: UploadPartCopyRequest) -> Result<(coffer_meta::PartRecord, VersionId)> { let _ = request; todo!() }
    pub async fn complete_upload(&self, request: CompleteUploadRequest) -> Result<ObjectVersion> { let _ = request; todo!() }
    pub async fn abort_upload(&self, bucket: &BucketName, key: &ObjectKey, upload_id: &coffer_types::UploadId) -> Result<()> { let _ = (bucket, key, upload_id); todo!() }
    pub fn list_parts(&self, request: ListPartsRequest) -> Result<ListPartsPage> { let _ = request; todo!() }
    pub fn list_uploads(&self, request: ListUploadsRequest) -> Result<ListUploadsPage> { let _ = request; todo!() }
}

/// Validate tags as S3 does (≤ 10, key ≤ 128 chars, value ≤ 256 chars, no
/// duplicate keys) → InvalidTag.
pub fn validate_tags(tags: &[(String, String)]) -> Result<()> { let _ = tags; todo!() }
