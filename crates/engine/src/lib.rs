//! The use cases of an S3 store — buckets, put/get/list/copy/delete,
//! multipart, tagging, garbage collection — over the metadata store (`meta`),
//! block files (`blob`) and encryption (`crypto`). Requests and outcomes are
//! plain Rust types (`api`); S3 errors come back as `coffer_types::S3Error`.
//!
//! This crate must not know about HTTP, XML, SigV4 or any s3s type; the
//! gateway converts at its edge.

mod access;
pub mod api;
mod buckets;
mod checksum;
mod conditions;
mod copy;
mod errors;
mod gc;
mod iam;
mod jobs;
mod list;
mod multipart;
mod objects;
mod pipeline;
mod read;
mod scrub;
mod support;
mod validate;

use std::sync::Arc;

use coffer_blob::BlockStore;
use coffer_crypto::RegionKeys;
use coffer_meta::{BucketRecord, MetaStore, ObjectVersion};
use coffer_types::{AccountId, BucketName, ObjectKey, S3Error, VersionId};

pub use access::NewAccount;
pub use api::*;
pub use iam::{NewSession, NewUserKey};
pub use jobs::{JobState, JobView};

/// An access key's owner and secret, unwrapped for signature checks.
pub struct Credentials {
    pub account: coffer_meta::AccountRecord,
    /// The IAM user the key belongs to; `None` for the account's root.
    pub user: Option<coffer_meta::iam::IamUser>,
    /// Temporary credentials from STS: the session (its token must come
    /// with every request; it may have expired).
    pub session: Option<coffer_meta::iam::SessionRecord>,
    /// Zeroized on drop; never logged.
    pub secret_access_key: zeroize::Zeroizing<String>,
}

pub type Result<T, E = S3Error> = std::result::Result<T, E>;

#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// This region's name (`us-east-1` by default); CreateBucket accepts a
    /// LocationConstraint only if it names this region.
    pub region: String,
    /// Plaintext bytes per block file. Rounded up to a whole number of
    /// 64 KiB segments, since a segment never spans two blocks.
    pub block_size_bytes: u64,
}

pub struct Engine {
    meta: Arc<MetaStore>,
    blocks: Arc<BlockStore>,
    keys: Arc<RegionKeys>,
    config: EngineConfig,
    /// Poked after writes that may queue garbage, so the GC worker need not
    /// poll often.
    gc_wakeup: tokio::sync::Notify,
    /// How long garbage stays on disk after it was queued, so that reads
    /// streaming a version that was just replaced or deleted can finish.
    gc_grace_ms: std::sync::atomic::AtomicU64,
    jobs: jobs::Jobs,
    /// Time between scrub passes (region members only).
    scrub_interval_ms: std::sync::atomic::AtomicU64,
}

impl Engine {
    pub fn new(
        meta: Arc<MetaStore>,
        blocks: Arc<BlockStore>,
        keys: Arc<RegionKeys>,
        config: EngineConfig,
    ) -> Arc<Self> {
        Arc::new(Self {
            meta,
            blocks,
            keys,
            config,
            gc_wakeup: tokio::sync::Notify::new(),
            gc_grace_ms: std::sync::atomic::AtomicU64::new(gc::GRACE_MS_DEFAULT),
            jobs: jobs::Jobs::default(),
            scrub_interval_ms: std::sync::atomic::AtomicU64::new(scrub::SCRUB_INTERVAL_MS_DEFAULT),
        })
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
    pub async fn start_background(self: &Arc<Self>) -> Result<tokio::task::JoinHandle<()>> {
        let gc = gc::start(self).await?;
        if !self.blocks.is_clustered() {
            return Ok(gc);
        }
        // In a region, the leader also keeps every block's replicas whole.
        let repair = tokio::spawn(jobs::repair_worker(self.clone()));
        let scrub = tokio::spawn(scrub::scrub_worker(self.clone()));
        Ok(tokio::spawn(async move {
            // Aborting this task drops both handles' futures only if they
            // are aborted too: do so when either ends or this is dropped.
            struct AbortOnDrop(Vec<tokio::task::AbortHandle>);
            impl Drop for AbortOnDrop {
                fn drop(&mut self) {
                    for handle in &self.0 {
                        handle.abort();
                    }
                }
            }
            let _guard = AbortOnDrop(vec![
                gc.abort_handle(),
                repair.abort_handle(),
                scrub.abort_handle(),
            ]);
            let _ = tokio::join!(gc, repair, scrub);
        }))
    }

    /// Copy every block to where it belongs once `node_id` has left the
    /// region (a "drain" job); true when no block failed. Run before the
    /// node is removed, while it can still serve as a source.
    pub async fn drain_node(&self, node_id: u64) -> (u64, bool) {
        jobs::drain_pass(self, node_id).await
    }

    /// Time between scrub passes of a region member (default a day).
    pub fn set_scrub_interval_ms(&self, interval_ms: u64) {
        self.scrub_interval_ms
            .store(interval_ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// Recent background jobs (repair, rebalance), oldest first.
    pub fn jobs(&self) -> Vec<JobView> {
        self.jobs.list()
    }

    /// Change how long queued garbage is kept before deletion (default one
    /// minute; tests use 0).
    pub fn set_gc_grace_ms(&self, grace_ms: u64) {
        self.gc_grace_ms
            .store(grace_ms, std::sync::atomic::Ordering::Relaxed);
        self.gc_wakeup.notify_one();
    }

    pub fn blocks(&self) -> &Arc<BlockStore> {
        &self.blocks
    }

    /// Create the root account and its access key on first start; later
    /// starts leave an existing account alone (its key may be rotated by
    /// setting a new one: the given key is added if missing).
    pub async fn ensure_root_account(
        &self,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> Result<coffer_meta::AccountRecord> {
        buckets::ensure_root_account(self, access_key_id, secret_access_key).await
    }

    /// The account and plaintext secret of an access key, for SigV4.
    pub fn credentials(&self, access_key_id: &str) -> Result<Option<Credentials>> {
        buckets::credentials(self, access_key_id)
    }

    /// `credentials`, but a miss is not trusted until this node has caught
    /// up: it waits for the read barrier and looks again. A node that is
    /// still installing a snapshot (or lags) then never calls a key unknown
    /// that the region has; a hit answers from local state at no cost.
    pub async fn find_credentials(&self, access_key_id: &str) -> Result<Option<Credentials>> {
        if let Some(found) = self.credentials(access_key_id)? {
            return Ok(Some(found));
        }
        self.read_barrier().await?;
        self.credentials(access_key_id)
    }

    // Buckets.
    /// Create a bucket with its initial access settings (AWS's defaults
    /// are `BucketAccess::new_bucket_defaults()`).
    pub async fn create_bucket(
        &self,
        owner: &AccountId,
        bucket: &BucketName,
        location_constraint: Option<&str>,
        access: coffer_meta::BucketAccess,
    ) -> Result<()> {
        buckets::create_bucket(self, owner, bucket, location_constraint, access).await
    }
    pub async fn delete_bucket(&self, bucket: &BucketName) -> Result<()> {
        buckets::delete_bucket(self, bucket).await
    }
    pub async fn head_bucket(&self, bucket: &BucketName) -> Result<BucketRecord> {
        self.read_barrier().await?;
        self.require_bucket(bucket)
    }
    /// The bucket record as this node has applied it, without a read
    /// barrier: for access checks, whose handler then reads with one.
    pub fn bucket_record(&self, bucket: &BucketName) -> Result<BucketRecord> {
        self.require_bucket(bucket)
    }
    pub async fn list_buckets(&self, owner: &AccountId) -> Result<Vec<BucketRecord>> {
        self.read_barrier().await?;
        buckets::list_buckets(self, owner)
    }

    // Objects.
    pub async fn put_object(
        &self,
        request: PutObjectRequest,
        body: BodyStream,
    ) -> Result<PutObjectOutcome> {
        self.check_writable()?;
        objects::put_object(self, request, body).await
    }
    /// GET when `with_body`, HEAD otherwise.
    pub async fn get_object(
        &self,
        request: GetObjectRequest,
        with_body: bool,
    ) -> Result<GetObjectOutcome> {
        self.read_barrier().await?;
        objects::get_object(self, request, with_body)
    }
    pub async fn copy_object(&self, request: CopyObjectRequest) -> Result<CopyObjectOutcome> {
        self.check_writable()?;
        copy::copy_object(self, request).await
    }
    pub async fn delete_object(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        version_id: Option<VersionId>,
    ) -> Result<DeleteObjectOutcome> {
        objects::delete_object(self, bucket, key, version_id).await
    }
    /// One result per key, in order; at most 1000 keys (checked by the caller).
    pub async fn delete_objects(
        &self,
        bucket: &BucketName,
        targets: Vec<coffer_meta::DeleteTarget>,
    ) -> Result<Vec<Result<DeleteObjectOutcome>>> {
        objects::delete_objects(self, bucket, targets).await
    }
    pub async fn list_objects(&self, request: ListObjectsRequest) -> Result<ListObjectsPage> {
        self.read_barrier().await?;
        list::list_objects(self, request)
    }
    pub async fn list_object_versions(
        &self,
        request: ListVersionsRequest,
    ) -> Result<ListVersionsPage> {
        self.read_barrier().await?;
        list::list_object_versions(self, request)
    }

    // Tagging.
    pub async fn get_object_tagging(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        version_id: Option<VersionId>,
    ) -> Result<(ObjectVersion, Vec<(String, String)>)> {
        self.read_barrier().await?;
        let version = self.lookup_object(bucket, key, version_id.as_ref())?;
        let tags = version.tags.clone();
        Ok((version, tags))
    }
    pub async fn put_object_tagging(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        version_id: Option<VersionId>,
        tags: Vec<(String, String)>,
    ) -> Result<VersionId> {
        objects::put_object_tagging(self, bucket, key, version_id, tags).await
    }

    // Multipart.
    pub async fn create_upload(
        &self,
        request: CreateUploadRequest,
    ) -> Result<coffer_meta::UploadRecord> {
        multipart::create_upload(self, request).await
    }
    pub async fn upload_part(
        &self,
        request: UploadPartRequest,
        body: BodyStream,
    ) -> Result<coffer_meta::PartRecord> {
        self.check_writable()?;
        multipart::upload_part(self, request, body).await
    }
    pub async fn upload_part_copy(
        &self,
        request: UploadPartCopyRequest,
    ) -> Result<(coffer_meta::PartRecord, VersionId)> {
        self.check_writable()?;
        copy::upload_part_copy(self, request).await
    }
    pub async fn complete_upload(&self, request: CompleteUploadRequest) -> Result<ObjectVersion> {
        multipart::complete_upload(self, request).await
    }
    pub async fn abort_upload(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        upload_id: &coffer_types::UploadId,
    ) -> Result<()> {
        multipart::abort_upload(self, bucket, key, upload_id).await
    }
    pub async fn list_parts(&self, request: ListPartsRequest) -> Result<ListPartsPage> {
        self.read_barrier().await?;
        multipart::list_parts(self, request)
    }
    pub async fn list_uploads(&self, request: ListUploadsRequest) -> Result<ListUploadsPage> {
        self.read_barrier().await?;
        list::list_uploads(self, request)
    }

    /// Fail fast with 503, before any body is read, when this node is cut
    /// off from a quorum: the write could not be committed anyway.
    fn check_writable(&self) -> Result<()> {
        if self.meta.status().has_quorum {
            Ok(())
        } else {
            Err(S3Error::from(coffer_types::ErrorCode::ServiceUnavailable))
        }
    }

    /// Make the reads that follow see every write acknowledged before this
    /// call, on any node of the region (Raft read-index); 503 when this
    /// node cannot reach a quorum.
    pub async fn read_barrier(&self) -> Result<()> {
        self.meta
            .read_barrier()
            .await
            .map_err(|error| errors::meta("read barrier", error))
    }
}

/// Validate tags as S3 does (≤ 10, key ≤ 128 chars, value ≤ 256 chars, no
/// duplicate keys) → InvalidTag.
pub fn validate_tags(tags: &[(String, String)]) -> Result<()> {
    validate::tags(tags)
}

/// The gateway drives these futures from multi-threaded servers: they must
/// stay `Send`. This fails to compile if one stops being so.
#[allow(dead_code, clippy::too_many_arguments)]
fn assert_futures_are_send(
    engine: Arc<Engine>,
    put: PutObjectRequest,
    part: UploadPartRequest,
    get: GetObjectRequest,
    copy: CopyObjectRequest,
    part_copy: UploadPartCopyRequest,
    create: CreateUploadRequest,
    complete: CompleteUploadRequest,
    body: BodyStream,
    body2: BodyStream,
) {
    fn is_send<T: Send>(_: &T) {}
    let bucket = BucketName::parse("bucket").expect("valid name");
    let key = ObjectKey::parse("key").expect("valid key");
    is_send(&engine.put_object(put, body));
    is_send(&engine.upload_part(part, body2));
    is_send(&engine.get_object(get, true));
    is_send(&engine.copy_object(copy));
    is_send(&engine.upload_part_copy(part_copy));
    is_send(&engine.create_upload(create));
    is_send(&engine.complete_upload(complete));
    is_send(&engine.delete_object(&bucket, &key, None));
    is_send(&engine.delete_objects(&bucket, Vec::new()));
    is_send(&engine.put_object_tagging(&bucket, &key, None, Vec::new()));
    is_send(&engine.create_bucket(
        &AccountId(String::new()),
        &bucket,
        None,
        coffer_meta::BucketAccess::legacy(),
    ));
    is_send(&engine.delete_bucket(&bucket));
    is_send(&engine.ensure_root_account("a", "b"));
    is_send(&engine.start_background());
}
