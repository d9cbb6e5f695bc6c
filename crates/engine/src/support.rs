//! Helpers shared by the use cases: lookups with S3 error codes, data keys,
//! and proposing commands that make written blocks visible.

use coffer_crypto::DataKey;
use coffer_meta::{BucketRecord, Command, CommandResult, Encryption, MetaError, ObjectVersion};
use coffer_types::limits::SEGMENT_SIZE_BYTES;
use coffer_types::{BucketName, ErrorCode, ObjectKey, VersionId};

use crate::pipeline::WrittenBlocks;
use crate::{errors, Engine, Result};

/// The AAD of an object's wrapped data key: a wrapped key cannot be moved
/// to another object.
pub(crate) fn data_key_context(bucket: &BucketName, key: &ObjectKey) -> Vec<u8> {
    let mut context = b"coffer/v1/dek/".to_vec();
    context.extend_from_slice(bucket.as_str().as_bytes());
    context.push(b'/');
    context.extend_from_slice(key.as_str().as_bytes());
    context
}

impl Engine {
    /// Block size in use for new data: whole segments, at least one.
    pub(crate) fn block_size_bytes(&self) -> u64 {
        let segment = SEGMENT_SIZE_BYTES as u64;
        self.config.block_size_bytes.max(segment).div_ceil(segment) * segment
    }

    pub(crate) fn require_bucket(&self, bucket: &BucketName) -> Result<BucketRecord> {
        self.meta
            .bucket(bucket)
            .map_err(|error| errors::meta("read bucket", error))?
            .ok_or_else(|| ErrorCode::NoSuchBucket.into())
    }

    /// The current (or a given) version: NoSuchBucket, NoSuchKey, or
    /// NoSuchVersion when the key exists but not that version.
    pub(crate) fn lookup_object(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        version_id: Option<&VersionId>,
    ) -> Result<ObjectVersion> {
        self.require_bucket(bucket)?;
        let read = |version: Option<&VersionId>| {
            self.meta
                .object(bucket, key, version)
                .map_err(|error| errors::meta("read object", error))
        };
        if let Some(found) = read(version_id)? {
            return Ok(found);
        }
        if version_id.is_some() && read(None)?.is_some() {
            return Err(ErrorCode::NoSuchVersion.into());
        }
        Err(ErrorCode::NoSuchKey.into())
    }

    /// A fresh data key and its wrapped form for `bucket/key`.
    pub(crate) fn new_data_key(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
    ) -> (DataKey, Encryption) {
        let data_key = DataKey::generate();
        let dek_wrapped = self
            .keys
            .wrap_data_key(&data_key, &data_key_context(bucket, key));
        (data_key, Encryption::SseS3 { dek_wrapped })
    }

    pub(crate) fn data_key(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        encryption: &Encryption,
    ) -> Result<DataKey> {
        match encryption {
            Encryption::SseS3 { dek_wrapped } => self
                .keys
                .unwrap_data_key(dek_wrapped, &data_key_context(bucket, key))
                .map_err(|error| errors::crypto("unwrap data key", error)),
        }
    }

    /// Propose a command; a business failure comes back as `Err`.
    pub(crate) async fn propose(&self, command: Command) -> Result<CommandResult> {
        self.meta
            .propose(command)
            .await
            .map_err(|error| errors::meta("propose", error))?
            .into_result()
    }

    /// Propose the command that names freshly written blocks. The blocks are
    /// deleted when the command certainly did not commit (a business
    /// failure, or no leader to take it); after an ambiguous failure they are
    /// left to the sweep, which checks references.
    pub(crate) async fn propose_with_blocks(
        &self,
        mut blocks: WrittenBlocks,
        command: Command,
    ) -> Result<CommandResult> {
        blocks.defuse();
        match self.meta.propose(command).await {
            Ok(CommandResult::Failed(error)) => {
                blocks.discard().await;
                Err(error)
            }
            Ok(result) => {
                self.gc_wakeup.notify_one();
                Ok(result)
            }
            Err(error @ MetaError::NotLeader) => {
                blocks.discard().await;
                Err(errors::meta("propose", error))
            }
            Err(error) => Err(errors::meta("propose", error)),
        }
    }
}
