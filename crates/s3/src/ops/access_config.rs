//! Bucket policy (Get/Put/Delete, status), Block Public Access, Object
//! Ownership controls, and bucket and object ACLs. Authorization already
//! happened; these validate, apply Block Public Access to what is being
//! stored, and convert.

use coffer_meta::{BucketAccessChange, OwnershipRecord};
use coffer_policy::validate::validate_bucket_policy;
use coffer_policy::{Acl, Grant, Grantee, Group, Permission, Policy, PolicyKind};
use coffer_types::{ErrorCode, S3Error, VersionId};
use s3s::dto;
use s3s::dto::*;
use s3s::S3Request;

use super::{existing_bucket, object_key, Gateway, Result};
use crate::access::{request_bucket, BucketContext};
use crate::acl_convert::{self, EmailLookup};
use crate::caller::EngineDirectory;
use crate::convert;
use crate::error;

impl EmailLookup for coffer_engine::Engine {
    fn canonical_id_for_email(&self, email: &str) -> std::result::Result<Option<String>, S3Error> {
        Ok(self
            .account_by_email(email)?
            .map(|account| account.canonical_id.0))
    }
}

fn policy_error(failure: coffer_policy::PolicyError) -> S3Error {
    if failure.too_large {
        error::with_message(ErrorCode::PolicyTooLarge, failure.message)
    } else {
        error::with_message(ErrorCode::MalformedPolicy, failure.message)
    }
}

fn ownership_name(ownership: OwnershipRecord) -> &'static str {
    match ownership {
        OwnershipRecord::BucketOwnerEnforced => dto::ObjectOwnership::BUCKET_OWNER_ENFORCED,
        OwnershipRecord::BucketOwnerPreferred => dto::ObjectOwnership::BUCKET_OWNER_PREFERRED,
        OwnershipRecord::ObjectWriter => dto::ObjectOwnership::OBJECT_WRITER,
    }
}

pub(super) fn parse_ownership(value: &str) -> Result<OwnershipRecord> {
    match value {
        dto::ObjectOwnership::BUCKET_OWNER_ENFORCED => Ok(OwnershipRecord::BucketOwnerEnforced),
        dto::ObjectOwnership::BUCKET_OWNER_PREFERRED => Ok(OwnershipRecord::BucketOwnerPreferred),
        dto::ObjectOwnership::OBJECT_WRITER => Ok(OwnershipRecord::ObjectWriter),
        _ => Err(error::code(ErrorCode::MalformedXML)),
    }
}

fn grants_dto(acl: &Acl, owner_name: Option<&str>) -> Grants {
    acl.grants
        .iter()
        .map(|grant| {
            let grantee = match &grant.grantee {
                Grantee::CanonicalUser(id) => dto::Grantee {
                    display_name: (id == &acl.owner)
                        .then(|| owner_name.map(str::to_owned))
                        .flatten(),
                    email_address: None,
                    id: Some(id.clone()),
                    type_: dto::Type::from_static(dto::Type::CANONICAL_USER),
                    uri: None,
                },
                Grantee::Group(group) => dto::Grantee {
                    display_name: None,
                    email_address: None,
                    id: None,
                    type_: dto::Type::from_static(dto::Type::GROUP),
                    uri: Some(group.uri().to_owned()),
                },
            };
            dto::Grant {
                grantee: Some(grantee),
                permission: Some(dto::Permission::from(grant.permission.name().to_owned())),
            }
        })
        .collect()
}

/// An ACL from an `AccessControlPolicy` body.
fn acl_from_body(body: &AccessControlPolicy, owner: &str, emails: &dyn EmailLookup) -> Result<Acl> {
    let malformed = || error::code(ErrorCode::MalformedACLError);
    let mut acl = Acl {
        owner: owner.to_owned(),
        grants: Vec::new(),
    };
    for grant in body.grants.iter().flatten() {
        let grantee = grant.grantee.as_ref().ok_or_else(malformed)?;
        let permission = grant
            .permission
            .as_ref()
            .and_then(|permission| Permission::parse(permission.as_str()))
            .ok_or_else(malformed)?;
        let grantee = match grantee.type_.as_str() {
            dto::Type::CANONICAL_USER => {
                Grantee::CanonicalUser(grantee.id.clone().ok_or_else(malformed)?)
            }
            dto::Type::GROUP => Grantee::Group(
                grantee
                    .uri
                    .as_deref()
                    .and_then(Group::from_uri)
                    .ok_or_else(malformed)?,
            ),
            dto::Type::AMAZON_CUSTOMER_BY_EMAIL => {
                let email = grantee.email_address.as_deref().ok_or_else(malformed)?;
                Grantee::CanonicalUser(emails.canonical_id_for_email(email)?.ok_or_else(|| {
                    error::with_message(
                        ErrorCode::UnresolvableGrantByEmailAddress,
                        "The e-mail address you provided does not match any account on record.",
                    )
                })?)
            }
            _ => return Err(malformed()),
        };
        acl.grants.push(Grant {
            grantee,
            permission,
        });
    }
    if acl.grants.len() > coffer_policy::acl::GRANTS_MAX {
        return Err(malformed());
    }
    Ok(acl)
}

/// The bucket's context as the access check read it.
fn context<T>(
    req: &S3Request<T>,
    bucket: &coffer_types::BucketName,
) -> Result<std::sync::Arc<BucketContext>> {
    request_bucket(req, bucket)?.ok_or_else(|| error::code(ErrorCode::NoSuchBucket))
}

impl Gateway {
    pub(super) async fn get_bucket_policy_impl(
        &self,
        req: S3Request<GetBucketPolicyInput>,
    ) -> Result<GetBucketPolicyOutput> {
        let bucket = existing_bucket(&req.input.bucket)?;
        let (_, access) = self.engine.bucket_access(&bucket).await?;
        let policy = access
            .policy
            .ok_or_else(|| error::code(ErrorCode::NoSuchBucketPolicy))?;
        Ok(GetBucketPolicyOutput {
            policy: Some(policy),
        })
    }

    pub(super) async fn put_bucket_policy_impl(
        &self,
        req: S3Request<PutBucketPolicyInput>,
    ) -> Result<PutBucketPolicyOutput> {
        let bucket = existing_bucket(&req.input.bucket)?;
        let text = req.input.policy.clone();
        let policy = Policy::parse(&text, PolicyKind::Bucket).map_err(policy_error)?;
        validate_bucket_policy(&policy, bucket.as_str(), &EngineDirectory(&self.engine))
            .map_err(policy_error)?;
        let context = context(&req, &bucket)?;
        if context.block.block_public_policy && coffer_policy::policy_is_public(&policy) {
            return Err(error::code(ErrorCode::AccessDenied));
        }
        self.engine
            .change_bucket_access(&bucket, BucketAccessChange::Policy(Some(text)))
            .await?;
        Ok(PutBucketPolicyOutput {})
    }

    pub(super) async fn delete_bucket_policy_impl(
        &self,
        req: S3Request<DeleteBucketPolicyInput>,
    ) -> Result<DeleteBucketPolicyOutput> {
        let bucket = existing_bucket(&req.input.bucket)?;
        self.engine
            .change_bucket_access(&bucket, BucketAccessChange::Policy(None))
            .await?;
        Ok(DeleteBucketPolicyOutput {})
    }

    pub(super) async fn get_bucket_policy_status_impl(
        &self,
        req: S3Request<GetBucketPolicyStatusInput>,
    ) -> Result<GetBucketPolicyStatusOutput> {
        let bucket = existing_bucket(&req.input.bucket)?;
        let (_, access) = self.engine.bucket_access(&bucket).await?;
        let text = access
            .policy
            .ok_or_else(|| error::code(ErrorCode::NoSuchBucketPolicy))?;
        let is_public = Policy::parse(&text, PolicyKind::Bucket)
            .map(|policy| coffer_policy::policy_is_public(&policy))
            .map_err(policy_error)?;
        Ok(GetBucketPolicyStatusOutput {
            policy_status: Some(PolicyStatus {
                is_public: Some(is_public),
            }),
        })
    }

    pub(super) async fn get_public_access_block_impl(
        &self,
        req: S3Request<GetPublicAccessBlockInput>,
    ) -> Result<GetPublicAccessBlockOutput> {
        let bucket = existing_bucket(&req.input.bucket)?;
        let (_, access) = self.engine.bucket_access(&bucket).await?;
        let settings = access
            .public_access_block
            .ok_or_else(|| error::code(ErrorCode::NoSuchPublicAccessBlockConfiguration))?;
        Ok(GetPublicAccessBlockOutput {
            public_access_block_configuration: Some(PublicAccessBlockConfiguration {
                block_public_acls: Some(settings.block_public_acls),
                block_public_policy: Some(settings.block_public_policy),
                ignore_public_acls: Some(settings.ignore_public_acls),
                restrict_public_buckets: Some(settings.restrict_public_buckets),
            }),
        })
    }

    pub(super) async fn put_public_access_block_impl(
        &self,
        req: S3Request<PutPublicAccessBlockInput>,
    ) -> Result<PutPublicAccessBlockOutput> {
        let bucket = existing_bucket(&req.input.bucket)?;
        let configuration = &req.input.public_access_block_configuration;
        let settings = coffer_meta::PublicAccessBlockRecord {
            block_public_acls: configuration.block_public_acls.unwrap_or(false),
            ignore_public_acls: configuration.ignore_public_acls.unwrap_or(false),
            block_public_policy: configuration.block_public_policy.unwrap_or(false),
            restrict_public_buckets: configuration.restrict_public_buckets.unwrap_or(false),
        };
        self.engine
            .change_bucket_access(
                &bucket,
                BucketAccessChange::PublicAccessBlock(Some(settings)),
            )
            .await?;
        Ok(PutPublicAccessBlockOutput {})
    }

    pub(super) async fn delete_public_access_block_impl(
        &self,
        req: S3Request<DeletePublicAccessBlockInput>,
    ) -> Result<DeletePublicAccessBlockOutput> {
        let bucket = existing_bucket(&req.input.bucket)?;
        self.engine
            .change_bucket_access(&bucket, BucketAccessChange::PublicAccessBlock(None))
            .await?;
        Ok(DeletePublicAccessBlockOutput {})
    }

    pub(super) async fn get_bucket_ownership_controls_impl(
        &self,
        req: S3Request<GetBucketOwnershipControlsInput>,
    ) -> Result<GetBucketOwnershipControlsOutput> {
        let bucket = existing_bucket(&req.input.bucket)?;
        let (_, access) = self.engine.bucket_access(&bucket).await?;
        let ownership = access
            .ownership
            .ok_or_else(|| error::code(ErrorCode::OwnershipControlsNotFoundError))?;
        Ok(GetBucketOwnershipControlsOutput {
            ownership_controls: Some(OwnershipControls {
                rules: vec![OwnershipControlsRule {
                    object_ownership: dto::ObjectOwnership::from(
                        ownership_name(ownership).to_owned(),
                    ),
                }],
            }),
        })
    }

    pub(super) async fn put_bucket_ownership_controls_impl(
        &self,
        req: S3Request<PutBucketOwnershipControlsInput>,
    ) -> Result<PutBucketOwnershipControlsOutput> {
        let bucket = existing_bucket(&req.input.bucket)?;
        let rules = &req.input.ownership_controls.rules;
        let [rule] = rules.as_slice() else {
            return Err(error::code(ErrorCode::MalformedXML));
        };
        let ownership = parse_ownership(rule.object_ownership.as_str())?;
        self.engine
            .change_bucket_access(&bucket, BucketAccessChange::Ownership(Some(ownership)))
            .await?;
        Ok(PutBucketOwnershipControlsOutput {})
    }

    pub(super) async fn delete_bucket_ownership_controls_impl(
        &self,
        req: S3Request<DeleteBucketOwnershipControlsInput>,
    ) -> Result<DeleteBucketOwnershipControlsOutput> {
        let bucket = existing_bucket(&req.input.bucket)?;
        self.engine
            .change_bucket_access(&bucket, BucketAccessChange::Ownership(None))
            .await?;
        Ok(DeleteBucketOwnershipControlsOutput {})
    }

    pub(super) async fn get_bucket_acl_impl(
        &self,
        req: S3Request<GetBucketAclInput>,
    ) -> Result<GetBucketAclOutput> {
        let bucket = existing_bucket(&req.input.bucket)?;
        let context = context(&req, &bucket)?;
        let owner = &context.owner;
        // With ACLs disabled, reads show the owner's full control only;
        // IgnorePublicAcls hides public grants.
        let acl = match acl_convert::bucket_acl(&context) {
            Some(acl) => acl.effective(context.block.ignore_public_acls),
            None => Acl::private(&owner.canonical_id.0),
        };
        Ok(GetBucketAclOutput {
            grants: Some(grants_dto(&acl, Some(&owner.display_name))),
            owner: Some(convert::owner(owner)),
        })
    }

    pub(super) async fn put_bucket_acl_impl(
        &self,
        req: S3Request<PutBucketAclInput>,
    ) -> Result<PutBucketAclOutput> {
        let bucket = existing_bucket(&req.input.bucket)?;
        let context = context(&req, &bucket)?;
        let owner = context.owner.canonical_id.0.clone();
        let from_headers =
            acl_convert::acl_from_headers(&req.headers, &owner, None, &*self.engine)?;
        let acl = match (from_headers, &req.input.access_control_policy) {
            (Some(_), Some(_)) => return Err(error::code(ErrorCode::UnexpectedContent)),
            (Some(acl), None) => acl,
            (None, Some(body)) => acl_from_body(body, &owner, &*self.engine)?,
            (None, None) => return Err(error::code(ErrorCode::MissingSecurityHeader)),
        };
        // Ownership first: with ACLs disabled the ACL is refused as such
        // (apply decides it again, in log order).
        if context.access.ownership_or_default() == OwnershipRecord::BucketOwnerEnforced
            && !acl.grants_only_to(&owner)
        {
            return Err(error::code(ErrorCode::AccessControlListNotSupported));
        }
        if context.block.block_public_acls && acl.is_public() {
            return Err(error::code(ErrorCode::AccessDenied));
        }
        let grants = acl.grants.iter().map(acl_convert::grant_record).collect();
        self.engine
            .change_bucket_access(&bucket, BucketAccessChange::Acl(grants))
            .await?;
        Ok(PutBucketAclOutput {})
    }

    pub(super) async fn get_object_acl_impl(
        &self,
        req: S3Request<GetObjectAclInput>,
    ) -> Result<GetObjectAclOutput> {
        let bucket = existing_bucket(&req.input.bucket)?;
        let key = object_key(&req.input.key)?;
        let version_id = req.input.version_id.clone().map(VersionId);
        let (version, stored) = self
            .engine
            .object_acl(&bucket, &key, version_id.as_ref())
            .await?;
        let context = context(&req, &bucket)?;
        // Under BucketOwnerEnforced the bucket owner owns every object and
        // reads show only its full control.
        let enforced =
            context.access.ownership_or_default() == OwnershipRecord::BucketOwnerEnforced;
        let owner = if enforced {
            context.owner.clone()
        } else {
            self.engine
                .account_record(&version.owner)?
                .unwrap_or_else(|| context.owner.clone())
        };
        let acl = if enforced {
            Acl::private(&owner.canonical_id.0)
        } else {
            acl_convert::stored_acl(&owner.canonical_id.0, &stored.grants)
                .effective(context.block.ignore_public_acls)
        };
        Ok(GetObjectAclOutput {
            grants: Some(grants_dto(&acl, Some(&owner.display_name))),
            owner: Some(convert::owner(&owner)),
            request_charged: None,
        })
    }

    pub(super) async fn put_object_acl_impl(
        &self,
        req: S3Request<PutObjectAclInput>,
    ) -> Result<PutObjectAclOutput> {
        let bucket = existing_bucket(&req.input.bucket)?;
        let key = object_key(&req.input.key)?;
        let version_id = req.input.version_id.clone().map(VersionId);
        let context = context(&req, &bucket)?;
        let (version, _) = self
            .engine
            .object_acl(&bucket, &key, version_id.as_ref())
            .await?;
        let owner = self
            .engine
            .account_record(&version.owner)?
            .unwrap_or_else(|| context.owner.clone());
        let owner_id = owner.canonical_id.0.clone();
        let bucket_owner = context.owner.canonical_id.0.clone();
        let from_headers = acl_convert::acl_from_headers(
            &req.headers,
            &owner_id,
            Some(&bucket_owner),
            &*self.engine,
        )?;
        let acl = match (from_headers, &req.input.access_control_policy) {
            (Some(_), Some(_)) => return Err(error::code(ErrorCode::UnexpectedContent)),
            (Some(acl), None) => acl,
            (None, Some(body)) => acl_from_body(body, &owner_id, &*self.engine)?,
            (None, None) => return Err(error::code(ErrorCode::MissingSecurityHeader)),
        };
        if context.access.ownership_or_default() == OwnershipRecord::BucketOwnerEnforced {
            return Err(error::code(ErrorCode::AccessControlListNotSupported));
        }
        if context.block.block_public_acls && acl.is_public() {
            return Err(error::code(ErrorCode::AccessDenied));
        }
        let record = coffer_meta::ObjectAclRecord {
            grants: acl.grants.iter().map(acl_convert::grant_record).collect(),
        };
        self.engine
            .set_object_acl(&bucket, &key, version_id, None, record)
            .await?;
        Ok(PutObjectAclOutput::default())
    }
}
