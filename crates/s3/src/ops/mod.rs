//! The `s3s::S3` implementation: each method converts the s3s input to an
//! engine request, calls the engine, and converts the outcome back. The
//! methods live in per-feature files; this file only dispatches.

mod access_config;
mod bucket;
mod list;
mod multipart;
mod object;
mod tagging;

use std::sync::Arc;

use coffer_engine::{BodyStream, DataStream, Engine};
use coffer_meta::AccountRecord;
use coffer_types::{BucketName, ErrorCode, ObjectKey, S3Error, VersionId};
use futures::{Stream, TryStreamExt};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};

use crate::context::Principal;
use crate::error;
use crate::GatewayConfig;

pub struct Gateway {
    pub(crate) engine: Arc<Engine>,
    pub(crate) config: GatewayConfig,
}

pub(crate) type Result<T> = std::result::Result<T, S3Error>;

impl Gateway {
    pub fn new(engine: Arc<Engine>, config: GatewayConfig) -> Self {
        Self { engine, config }
    }
}

/// The account that acts (see `Principal::account`).
pub(crate) fn principal<T>(req: &S3Request<T>) -> Result<AccountRecord> {
    req.extensions
        .get::<Principal>()
        .and_then(|p| p.account.clone())
        .ok_or_else(|| error::code(ErrorCode::AccessDenied))
}

/// Everything the access check learned about the caller.
pub(crate) fn principal_facts<T>(req: &S3Request<T>) -> Result<Principal> {
    req.extensions
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| error::code(ErrorCode::AccessDenied))
}

/// A bucket named by an existing-bucket operation: an invalid name cannot
/// exist, so it is NoSuchBucket (AWS does the same).
pub(crate) fn existing_bucket(name: &str) -> Result<BucketName> {
    BucketName::parse(name).map_err(|_| error::code(ErrorCode::NoSuchBucket))
}

pub(crate) fn object_key(key: &str) -> Result<ObjectKey> {
    ObjectKey::parse(key)
}

/// A version id as S3 answers it: the null version of an unversioned
/// bucket is not named.
pub(crate) fn version_id_dto(version_id: &VersionId) -> Option<String> {
    (!version_id.is_null()).then(|| version_id.0.clone())
}

/// A request body as the engine reads it; bytes are counted as they pass.
pub(crate) fn body_stream(blob: Option<StreamingBlob>) -> BodyStream {
    match blob {
        Some(blob) => Box::pin(
            blob.map_err(std::io::Error::other)
                .inspect_ok(|chunk| crate::metrics::bytes_received(chunk.len())),
        ),
        None => Box::pin(futures::stream::empty()),
    }
}

/// The engine's `DataStream` is `Send` but not `Sync`; s3s wants both.
/// Polling needs only `&mut self`, so the mutex is never contended.
struct SyncStream(std::sync::Mutex<DataStream>);

impl Stream for SyncStream {
    type Item = std::result::Result<bytes::Bytes, std::io::Error>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let inner = self
            .get_mut()
            .0
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        inner.as_mut().poll_next(cx)
    }
}

pub(crate) fn response_body(stream: DataStream) -> StreamingBlob {
    let counted: DataStream =
        Box::pin(stream.inspect_ok(|chunk| crate::metrics::bytes_sent(chunk.len())));
    StreamingBlob::wrap(SyncStream(std::sync::Mutex::new(counted)))
}

fn done<T>(result: Result<T>) -> S3Result<S3Response<T>> {
    result.map(S3Response::new).map_err(error::to_s3s)
}

fn done_with<T>(result: Result<S3Response<T>>) -> S3Result<S3Response<T>> {
    result.map_err(error::to_s3s)
}

#[async_trait::async_trait]
impl s3s::S3 for Gateway {
    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        done(self.list_buckets_impl(req).await)
    }

    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        done(self.create_bucket_impl(req).await)
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        done(self.head_bucket_impl(req).await)
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        done(self.delete_bucket_impl(req).await)
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        done(self.get_bucket_location_impl(req).await)
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        done(self.put_object_impl(req).await)
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        done_with(self.get_object_impl(req).await)
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        done_with(self.head_object_impl(req).await)
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        done(self.delete_object_impl(req).await)
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        done(self.delete_objects_impl(req).await)
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        done(self.copy_object_impl(req).await)
    }

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        done(self.list_objects_impl(req).await)
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        done(self.list_objects_v2_impl(req).await)
    }

    async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        done(self.list_object_versions_impl(req).await)
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        done(self.create_multipart_upload_impl(req).await)
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        done(self.upload_part_impl(req).await)
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        done(self.upload_part_copy_impl(req).await)
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        done(self.complete_multipart_upload_impl(req).await)
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        done(self.abort_multipart_upload_impl(req).await)
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        done(self.list_parts_impl(req).await)
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        done(self.list_multipart_uploads_impl(req).await)
    }

    async fn get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        done(self.get_object_tagging_impl(req).await)
    }

    async fn put_object_tagging(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        done(self.put_object_tagging_impl(req).await)
    }

    async fn delete_object_tagging(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        done(self.delete_object_tagging_impl(req).await)
    }

    async fn get_bucket_policy(
        &self,
        req: S3Request<GetBucketPolicyInput>,
    ) -> S3Result<S3Response<GetBucketPolicyOutput>> {
        done(self.get_bucket_policy_impl(req).await)
    }

    async fn put_bucket_policy(
        &self,
        req: S3Request<PutBucketPolicyInput>,
    ) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        done(self.put_bucket_policy_impl(req).await)
    }

    async fn delete_bucket_policy(
        &self,
        req: S3Request<DeleteBucketPolicyInput>,
    ) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
        done(self.delete_bucket_policy_impl(req).await)
    }

    async fn get_bucket_policy_status(
        &self,
        req: S3Request<GetBucketPolicyStatusInput>,
    ) -> S3Result<S3Response<GetBucketPolicyStatusOutput>> {
        done(self.get_bucket_policy_status_impl(req).await)
    }

    async fn get_public_access_block(
        &self,
        req: S3Request<GetPublicAccessBlockInput>,
    ) -> S3Result<S3Response<GetPublicAccessBlockOutput>> {
        done(self.get_public_access_block_impl(req).await)
    }

    async fn put_public_access_block(
        &self,
        req: S3Request<PutPublicAccessBlockInput>,
    ) -> S3Result<S3Response<PutPublicAccessBlockOutput>> {
        done(self.put_public_access_block_impl(req).await)
    }

    async fn delete_public_access_block(
        &self,
        req: S3Request<DeletePublicAccessBlockInput>,
    ) -> S3Result<S3Response<DeletePublicAccessBlockOutput>> {
        done(self.delete_public_access_block_impl(req).await)
    }

    async fn get_bucket_ownership_controls(
        &self,
        req: S3Request<GetBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<GetBucketOwnershipControlsOutput>> {
        done(self.get_bucket_ownership_controls_impl(req).await)
    }

    async fn put_bucket_ownership_controls(
        &self,
        req: S3Request<PutBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<PutBucketOwnershipControlsOutput>> {
        done(self.put_bucket_ownership_controls_impl(req).await)
    }

    async fn delete_bucket_ownership_controls(
        &self,
        req: S3Request<DeleteBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<DeleteBucketOwnershipControlsOutput>> {
        done(self.delete_bucket_ownership_controls_impl(req).await)
    }

    async fn get_bucket_acl(
        &self,
        req: S3Request<GetBucketAclInput>,
    ) -> S3Result<S3Response<GetBucketAclOutput>> {
        done(self.get_bucket_acl_impl(req).await)
    }

    async fn put_bucket_acl(
        &self,
        req: S3Request<PutBucketAclInput>,
    ) -> S3Result<S3Response<PutBucketAclOutput>> {
        done(self.put_bucket_acl_impl(req).await)
    }

    async fn get_object_acl(
        &self,
        req: S3Request<GetObjectAclInput>,
    ) -> S3Result<S3Response<GetObjectAclOutput>> {
        done(self.get_object_acl_impl(req).await)
    }

    async fn put_object_acl(
        &self,
        req: S3Request<PutObjectAclInput>,
    ) -> S3Result<S3Response<PutObjectAclOutput>> {
        done(self.put_object_acl_impl(req).await)
    }
}
