//! Authorization until the policy engine lands (issue 5): anonymous
//! requests are denied, and an authenticated principal may act only on
//! buckets its own account owns. The check also records the operation and
//! bucket for metrics and tracing, and hands the principal to handlers.

use std::sync::Arc;

use coffer_engine::Engine;
use coffer_types::{BucketName, ErrorCode, S3Error};
use s3s::access::{S3Access, S3AccessContext};
use s3s::dto::{CopyObjectInput, CopySource, UploadPartCopyInput};
use s3s::path::S3Path;
use s3s::{S3Request, S3Result};

use crate::context::{Principal, RequestInfo};
use crate::error;
use crate::limits;
use crate::operations::Operation;

pub struct OwnerOnlyAccess {
    engine: Arc<Engine>,
}

impl OwnerOnlyAccess {
    pub fn new(engine: Arc<Engine>) -> Self {
        Self { engine }
    }

    /// Deny unless `account` owns `bucket`. A bucket that does not exist (or
    /// whose name is invalid) is left to the handler, which answers
    /// NoSuchBucket as AWS does for the owner of the request.
    fn check_owner(&self, account: &coffer_types::AccountId, bucket: &str) -> Result<(), S3Error> {
        let Ok(name) = BucketName::parse(bucket) else {
            return Ok(());
        };
        match self.engine.bucket_record(&name) {
            Ok(record) if &record.owner == account => Ok(()),
            Ok(_) => Err(error::code(ErrorCode::AccessDenied)),
            Err(failure) if failure.code == ErrorCode::NoSuchBucket => Ok(()),
            Err(failure) => Err(failure),
        }
    }

    fn check_copy_source(
        &self,
        principal: Option<&Principal>,
        source: &CopySource,
    ) -> S3Result<()> {
        let Some(principal) = principal else {
            return Err(error::to_s3s(error::code(ErrorCode::AccessDenied)));
        };
        match source {
            CopySource::Bucket { bucket, .. } => self
                .check_owner(&principal.account.id, bucket)
                .map_err(error::to_s3s),
            _ => Err(error::to_s3s(error::with_message(
                ErrorCode::NotImplemented,
                "Access point and outpost copy sources are not supported",
            ))),
        }
    }
}

fn bucket_of(path: &S3Path) -> Option<&str> {
    match path {
        S3Path::Root => None,
        S3Path::Bucket { bucket } | S3Path::Object { bucket, .. } => Some(bucket),
    }
}

#[async_trait::async_trait]
impl S3Access for OwnerOnlyAccess {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let operation = Operation::from_s3s_name(cx.s3_op().name());
        let bucket = bucket_of(cx.s3_path()).map(str::to_owned);
        if let Some(info) = cx.extensions_mut().get::<RequestInfo>() {
            // Operations we do not implement share one label, so a client
            // cannot grow the metric's cardinality.
            info.set_operation(
                operation.map_or("NotImplemented", Operation::name),
                bucket.as_deref(),
            );
        }

        let Some(access_key) = cx.credentials().map(|c| c.access_key.clone()) else {
            return Err(error::to_s3s(error::code(ErrorCode::AccessDenied)));
        };
        let account = match self.engine.credentials(&access_key) {
            Ok(Some(credentials)) => credentials.account,
            // The key vanished between signature check and now.
            Ok(None) => return Err(error::to_s3s(error::code(ErrorCode::InvalidAccessKeyId))),
            Err(failure) => return Err(error::to_s3s(failure)),
        };

        if let Some(operation) = operation {
            let content_length = cx
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            limits::check_xml_body_length(operation, content_length).map_err(error::to_s3s)?;

            if operation != Operation::CreateBucket {
                if let Some(bucket) = &bucket {
                    self.check_owner(&account.id, bucket)
                        .map_err(error::to_s3s)?;
                }
            }
        }

        cx.extensions_mut().insert(Principal { account });
        Ok(())
    }

    async fn copy_object(&self, req: &mut S3Request<CopyObjectInput>) -> S3Result<()> {
        let principal = req.extensions.get::<Principal>().cloned();
        self.check_copy_source(principal.as_ref(), &req.input.copy_source)
    }

    async fn upload_part_copy(&self, req: &mut S3Request<UploadPartCopyInput>) -> S3Result<()> {
        let principal = req.extensions.get::<Principal>().cloned();
        self.check_copy_source(principal.as_ref(), &req.input.copy_source)
    }
}
