//! ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation.

use coffer_types::BucketName;
use s3s::dto::*;
use s3s::S3Request;

use super::{existing_bucket, principal, Gateway, Result};
use crate::convert;

impl Gateway {
    pub(super) async fn list_buckets_impl(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> Result<ListBucketsOutput> {
        let account = principal(&req)?;
        let prefix = req.input.prefix.clone();
        let buckets = self
            .engine
            .list_buckets(&account.id)
            .await?
            .into_iter()
            .filter(|b| {
                prefix
                    .as_deref()
                    .is_none_or(|p| b.name.as_str().starts_with(p))
            })
            .map(|b| Bucket {
                bucket_region: Some(b.region.clone()),
                creation_date: Some(convert::timestamp(b.created_at_ms)),
                name: Some(b.name.as_str().to_owned()),
            })
            .collect();
        Ok(ListBucketsOutput {
            buckets: Some(buckets),
            continuation_token: None,
            owner: Some(convert::owner(&account)),
            prefix,
        })
    }

    pub(super) async fn create_bucket_impl(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> Result<CreateBucketOutput> {
        let account = principal(&req)?;
        let bucket = BucketName::parse(&req.input.bucket)?;
        let constraint = req
            .input
            .create_bucket_configuration
            .as_ref()
            .and_then(|c| c.location_constraint.as_ref())
            .map(|c| c.as_str().to_owned())
            .filter(|c| !c.is_empty());
        let access = self.new_bucket_access(&req, &account)?;
        self.engine
            .create_bucket(&account.id, &bucket, constraint.as_deref(), access)
            .await?;
        Ok(CreateBucketOutput {
            location: Some(format!("/{bucket}")),
        })
    }

    /// AWS's defaults for a new bucket, changed by `x-amz-object-ownership`
    /// and ACL headers: an ACL other than the owner's own needs ACLs
    /// enabled (else InvalidBucketAclWithObjectOwnership, decided in
    /// apply), and a public one is refused because a new bucket blocks
    /// public ACLs.
    fn new_bucket_access(
        &self,
        req: &S3Request<CreateBucketInput>,
        account: &coffer_meta::AccountRecord,
    ) -> Result<coffer_meta::BucketAccess> {
        let mut access = coffer_meta::BucketAccess::new_bucket_defaults();
        let owner = account.canonical_id.0.as_str();
        let acl = crate::acl_convert::acl_from_headers(&req.headers, owner, None, &*self.engine)?;
        let ownership = req
            .input
            .object_ownership
            .as_ref()
            .map(|ownership| super::access_config::parse_ownership(ownership.as_str()))
            .transpose()
            .map_err(|_| {
                crate::error::with_message(
                    coffer_types::ErrorCode::InvalidArgument,
                    "Invalid x-amz-object-ownership header",
                )
            })?;
        if let Some(acl) = &acl {
            if acl.is_public() {
                return Err(crate::error::code(
                    coffer_types::ErrorCode::InvalidBucketAclWithBlockPublicAccessError,
                ));
            }
            // AWS gives a bucket created with an ACL (even `private`) and no
            // ownership header BucketOwnerPreferred, so that ACLs work.
            access.ownership =
                Some(ownership.unwrap_or(coffer_meta::OwnershipRecord::BucketOwnerPreferred));
            access.acl = acl
                .grants
                .iter()
                .map(crate::acl_convert::grant_record)
                .collect();
        } else if let Some(ownership) = ownership {
            access.ownership = Some(ownership);
        }
        Ok(access)
    }

    pub(super) async fn head_bucket_impl(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> Result<HeadBucketOutput> {
        let bucket = existing_bucket(&req.input.bucket)?;
        let record = self.engine.head_bucket(&bucket).await?;
        Ok(HeadBucketOutput {
            bucket_region: Some(record.region),
            ..HeadBucketOutput::default()
        })
    }

    pub(super) async fn delete_bucket_impl(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> Result<DeleteBucketOutput> {
        let bucket = existing_bucket(&req.input.bucket)?;
        self.engine.delete_bucket(&bucket).await?;
        Ok(DeleteBucketOutput {})
    }

    pub(super) async fn get_bucket_location_impl(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> Result<GetBucketLocationOutput> {
        let bucket = existing_bucket(&req.input.bucket)?;
        let record = self.engine.head_bucket(&bucket).await?;
        // Buckets are created in this region; an empty record predates
        // the field and means the same.
        let region = if record.region.is_empty() {
            self.config.region.clone()
        } else {
            record.region
        };
        // AWS answers an empty LocationConstraint for us-east-1.
        let location_constraint =
            (region != "us-east-1").then(|| BucketLocationConstraint::from(region));
        Ok(GetBucketLocationOutput {
            location_constraint,
        })
    }
}
