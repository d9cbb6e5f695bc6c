//! GetObjectTagging, PutObjectTagging, DeleteObjectTagging.

use coffer_types::VersionId;
use s3s::dto::*;
use s3s::S3Request;

use super::{existing_bucket, object_key, version_id_dto, Gateway, Result};

impl Gateway {
    pub(super) async fn get_object_tagging_impl(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> Result<GetObjectTaggingOutput> {
        let input = &req.input;
        let bucket = existing_bucket(&input.bucket)?;
        let key = object_key(&input.key)?;
        let (version, tags) = self
            .engine
            .get_object_tagging(&bucket, &key, input.version_id.clone().map(VersionId))
            .await?;
        Ok(GetObjectTaggingOutput {
            tag_set: tags
                .into_iter()
                .map(|(key, value)| Tag {
                    key: Some(key),
                    value: Some(value),
                })
                .collect(),
            version_id: version_id_dto(&version.version_id),
        })
    }

    pub(super) async fn put_object_tagging_impl(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> Result<PutObjectTaggingOutput> {
        let input = &req.input;
        let bucket = existing_bucket(&input.bucket)?;
        let key = object_key(&input.key)?;
        let tags: Vec<(String, String)> = input
            .tagging
            .tag_set
            .iter()
            .map(|t| {
                (
                    t.key.clone().unwrap_or_default(),
                    t.value.clone().unwrap_or_default(),
                )
            })
            .collect();
        coffer_engine::validate_tags(&tags)?;
        let version_id = self
            .engine
            .put_object_tagging(&bucket, &key, input.version_id.clone().map(VersionId), tags)
            .await?;
        Ok(PutObjectTaggingOutput {
            version_id: version_id_dto(&version_id),
        })
    }

    /// The engine has no separate delete: replacing the tag set with an
    /// empty one is exactly what DeleteObjectTagging does.
    pub(super) async fn delete_object_tagging_impl(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> Result<DeleteObjectTaggingOutput> {
        let input = &req.input;
        let bucket = existing_bucket(&input.bucket)?;
        let key = object_key(&input.key)?;
        let version_id = self
            .engine
            .put_object_tagging(
                &bucket,
                &key,
                input.version_id.clone().map(VersionId),
                Vec::new(),
            )
            .await?;
        Ok(DeleteObjectTaggingOutput {
            version_id: version_id_dto(&version_id),
        })
    }
}
