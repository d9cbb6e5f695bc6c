//! ACLs and Block Public Access at the gateway: stored records ↔ the
//! policy crate's model, ACLs from `x-amz-acl` / `x-amz-grant-*` headers,
//! and the checks a write with an ACL must pass (Object Ownership, Block
//! Public Access) before it reaches a handler.

use coffer_meta::{
    AccountRecord, GrantRecord, GranteeRecord, GroupRecord, OwnershipRecord, PermissionRecord,
    PublicAccessBlockRecord,
};
use coffer_policy::{Acl, CannedAcl, Grant, Grantee, Group, Permission, PublicAccessBlock};
use coffer_types::{ErrorCode, S3Error};
use http::HeaderMap;

use crate::access::BucketContext;
use crate::error;
use crate::keys::GRANT_HEADERS;
use crate::operations::Operation;

pub fn public_access_block(record: PublicAccessBlockRecord) -> PublicAccessBlock {
    PublicAccessBlock {
        block_public_acls: record.block_public_acls,
        ignore_public_acls: record.ignore_public_acls,
        block_public_policy: record.block_public_policy,
        restrict_public_buckets: record.restrict_public_buckets,
    }
}

fn grant_from_record(record: &GrantRecord) -> Grant {
    Grant {
        grantee: match &record.grantee {
            GranteeRecord::CanonicalUser(id) => Grantee::CanonicalUser(id.clone()),
            GranteeRecord::Group(GroupRecord::AllUsers) => Grantee::Group(Group::AllUsers),
            GranteeRecord::Group(GroupRecord::AuthenticatedUsers) => {
                Grantee::Group(Group::AuthenticatedUsers)
            }
            GranteeRecord::Group(GroupRecord::LogDelivery) => Grantee::Group(Group::LogDelivery),
        },
        permission: match record.permission {
            PermissionRecord::Read => Permission::Read,
            PermissionRecord::Write => Permission::Write,
            PermissionRecord::ReadAcp => Permission::ReadAcp,
            PermissionRecord::WriteAcp => Permission::WriteAcp,
            PermissionRecord::FullControl => Permission::FullControl,
        },
    }
}

pub fn grant_record(grant: &Grant) -> GrantRecord {
    GrantRecord {
        grantee: match &grant.grantee {
            Grantee::CanonicalUser(id) => GranteeRecord::CanonicalUser(id.clone()),
            Grantee::Group(Group::AllUsers) => GranteeRecord::Group(GroupRecord::AllUsers),
            Grantee::Group(Group::AuthenticatedUsers) => {
                GranteeRecord::Group(GroupRecord::AuthenticatedUsers)
            }
            Grantee::Group(Group::LogDelivery) => GranteeRecord::Group(GroupRecord::LogDelivery),
        },
        permission: match grant.permission {
            Permission::Read => PermissionRecord::Read,
            Permission::Write => PermissionRecord::Write,
            Permission::ReadAcp => PermissionRecord::ReadAcp,
            Permission::WriteAcp => PermissionRecord::WriteAcp,
            Permission::FullControl => PermissionRecord::FullControl,
        },
    }
}

/// The bucket's ACL as it takes part in decisions: none while ACLs are
/// disabled (BucketOwnerEnforced); the private ACL when none was set.
pub fn bucket_acl(bucket: &BucketContext) -> Option<Acl> {
    if bucket.access.ownership_or_default() == OwnershipRecord::BucketOwnerEnforced {
        return None;
    }
    Some(stored_acl(&bucket.owner.canonical_id.0, &bucket.access.acl))
}

/// An ACL from stored grants (empty: the private ACL).
pub fn stored_acl(owner_canonical_id: &str, grants: &[GrantRecord]) -> Acl {
    if grants.is_empty() {
        return Acl::private(owner_canonical_id);
    }
    Acl {
        owner: owner_canonical_id.to_owned(),
        grants: grants.iter().map(grant_from_record).collect(),
    }
}

/// Resolves e-mail grantees to canonical ids.
pub trait EmailLookup {
    fn canonical_id_for_email(&self, email: &str) -> Result<Option<String>, S3Error>;
}

/// The ACL a request's headers ask for, if any: `x-amz-acl` or the
/// `x-amz-grant-*` headers (not both: InvalidRequest). `owner` owns the
/// resource; `bucket_owner` is set for objects.
pub fn acl_from_headers(
    headers: &HeaderMap,
    owner: &str,
    bucket_owner: Option<&str>,
    emails: &dyn EmailLookup,
) -> Result<Option<Acl>, S3Error> {
    let canned = headers
        .get("x-amz-acl")
        .map(|value| value.to_str().unwrap_or_default().to_owned());
    let has_grants = GRANT_HEADERS.iter().any(|name| headers.contains_key(*name));
    if canned.is_some() && has_grants {
        return Err(error::with_message(
            ErrorCode::InvalidRequest,
            "Specifying both Canned ACLs and Header Grants is not allowed",
        ));
    }
    if let Some(canned) = canned {
        let canned = CannedAcl::parse(&canned).ok_or_else(|| {
            error::with_message(
                ErrorCode::InvalidArgument,
                format!("Invalid canned ACL: {canned}"),
            )
        })?;
        return Ok(Some(canned.to_acl(owner, bucket_owner)));
    }
    if !has_grants {
        return Ok(None);
    }
    let mut acl = Acl {
        owner: owner.to_owned(),
        grants: Vec::new(),
    };
    for (name, permission) in GRANT_HEADERS.iter().zip([
        Permission::Read,
        Permission::Write,
        Permission::ReadAcp,
        Permission::WriteAcp,
        Permission::FullControl,
    ]) {
        let Some(value) = headers.get(*name) else {
            continue;
        };
        let value = value.to_str().map_err(|_| invalid_grant())?;
        for grantee in parse_grantees(value, emails)? {
            acl.grants.push(Grant {
                grantee,
                permission,
            });
        }
    }
    if acl.grants.len() > coffer_policy::acl::GRANTS_MAX {
        return Err(error::with_message(
            ErrorCode::MalformedACLError,
            "An ACL may hold at most 100 grants.",
        ));
    }
    Ok(Some(acl))
}

fn invalid_grant() -> S3Error {
    error::with_message(ErrorCode::InvalidArgument, "Invalid grant header")
}

/// `id="…", uri="…", emailAddress="…"` (comma-separated).
fn parse_grantees(value: &str, emails: &dyn EmailLookup) -> Result<Vec<Grantee>, S3Error> {
    let mut grantees = Vec::new();
    for item in value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        let (kind, quoted) = item.split_once('=').ok_or_else(invalid_grant)?;
        let text = quoted.trim().trim_matches('"');
        let grantee = match kind.trim().to_ascii_lowercase().as_str() {
            "id" => Grantee::CanonicalUser(text.to_owned()),
            "uri" => Grantee::Group(Group::from_uri(text).ok_or_else(invalid_grant)?),
            "emailaddress" => {
                Grantee::CanonicalUser(emails.canonical_id_for_email(text)?.ok_or_else(|| {
                    error::with_message(
                        ErrorCode::UnresolvableGrantByEmailAddress,
                        "The e-mail address you provided does not match any account on record.",
                    )
                })?)
            }
            _ => return Err(invalid_grant()),
        };
        grantees.push(grantee);
    }
    Ok(grantees)
}

/// Under BucketOwnerEnforced a write may carry only an ACL that gives
/// the bucket owner full control of an object it will own anyway:
/// `bucket-owner-full-control`, or `private` from the bucket owner itself.
pub fn acceptable_under_enforced(acl: &Acl, bucket_owner: &str) -> bool {
    let owner_full = acl.grants.iter().any(|grant| {
        grant.permission == Permission::FullControl
            && grant.grantee == Grantee::CanonicalUser(bucket_owner.to_owned())
    });
    owner_full
        && acl.grants.iter().all(|grant| {
            matches!(&grant.grantee, Grantee::CanonicalUser(id) if *id == acl.owner || id == bucket_owner)
                && grant.permission == Permission::FullControl
        })
}

struct NoEmails;

impl EmailLookup for NoEmails {
    fn canonical_id_for_email(&self, _email: &str) -> Result<Option<String>, S3Error> {
        Ok(None)
    }
}

/// The checks a write with ACL headers must pass before its handler runs:
/// Object Ownership (AccessControlListNotSupported) and BlockPublicAcls
/// (AccessDenied). Grants by e-mail are resolved by the handler; here an
/// unresolved one only matters for the two checks, which it cannot fail.
pub fn check_request_acl(
    headers: &HeaderMap,
    operation: Operation,
    bucket: &BucketContext,
    writer: Option<&AccountRecord>,
) -> Result<(), S3Error> {
    let writes_object = matches!(
        operation,
        Operation::PutObject | Operation::CopyObject | Operation::CreateMultipartUpload
    );
    if !writes_object {
        return Ok(());
    }
    let bucket_owner = bucket.owner.canonical_id.0.as_str();
    let writer = writer.map_or(bucket_owner, |writer| writer.canonical_id.0.as_str());
    let acl = match acl_from_headers(headers, writer, Some(bucket_owner), &NoEmails) {
        Ok(Some(acl)) => acl,
        Ok(None) => return Ok(()),
        // An e-mail grant: checked again, resolved, by the handler.
        Err(failure) if failure.code == ErrorCode::UnresolvableGrantByEmailAddress => return Ok(()),
        Err(failure) => return Err(failure),
    };
    if bucket.access.ownership_or_default() == OwnershipRecord::BucketOwnerEnforced
        && !acceptable_under_enforced(&acl, bucket_owner)
    {
        return Err(error::code(ErrorCode::AccessControlListNotSupported));
    }
    if bucket.block.block_public_acls && acl.is_public() {
        return Err(error::code(ErrorCode::AccessDenied));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Emails;

    impl EmailLookup for Emails {
        fn canonical_id_for_email(&self, email: &str) -> Result<Option<String>, S3Error> {
            Ok((email == "b@example.com").then(|| "b".repeat(64)))
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                http::header::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                value.parse().expect("value"),
            );
        }
        map
    }

    #[test]
    fn header_acls() {
        let owner = "a".repeat(64);
        let acl = acl_from_headers(
            &headers(&[("x-amz-acl", "public-read")]),
            &owner,
            None,
            &Emails,
        )
        .expect("valid")
        .expect("an ACL");
        assert!(acl.is_public());
        let acl = acl_from_headers(
            &headers(&[
                ("x-amz-grant-read", "uri=\"http://acs.amazonaws.com/groups/global/AllUsers\", emailAddress=\"b@example.com\""),
                ("x-amz-grant-full-control", &format!("id=\"{owner}\"")),
            ]),
            &owner,
            None,
            &Emails,
        )
        .expect("valid")
        .expect("an ACL");
        assert_eq!(acl.grants.len(), 3);
        assert_eq!(
            acl.grants[1].grantee,
            Grantee::CanonicalUser("b".repeat(64))
        );
        let both = acl_from_headers(
            &headers(&[("x-amz-acl", "private"), ("x-amz-grant-read", "id=\"x\"")]),
            &owner,
            None,
            &Emails,
        );
        assert_eq!(both.expect_err("refused").code, ErrorCode::InvalidRequest);
        let unknown_email = acl_from_headers(
            &headers(&[("x-amz-grant-read", "emailAddress=\"nobody@example.com\"")]),
            &owner,
            None,
            &Emails,
        );
        assert_eq!(
            unknown_email.expect_err("refused").code,
            ErrorCode::UnresolvableGrantByEmailAddress
        );
        assert_eq!(
            acl_from_headers(&headers(&[("x-amz-acl", "bogus")]), &owner, None, &Emails)
                .expect_err("refused")
                .code,
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            acl_from_headers(&headers(&[]), &owner, None, &Emails).expect("valid"),
            None
        );
    }

    #[test]
    fn what_enforced_ownership_accepts() {
        let bucket_owner = "a".repeat(64);
        let writer = "b".repeat(64);
        let canned = |name: &str, owner: &str| {
            CannedAcl::parse(name)
                .expect(name)
                .to_acl(owner, Some(&bucket_owner))
        };
        assert!(acceptable_under_enforced(
            &canned("bucket-owner-full-control", &writer),
            &bucket_owner
        ));
        assert!(acceptable_under_enforced(
            &canned("private", &bucket_owner),
            &bucket_owner
        ));
        assert!(!acceptable_under_enforced(
            &canned("private", &writer),
            &bucket_owner
        ));
        assert!(!acceptable_under_enforced(
            &canned("public-read", &bucket_owner),
            &bucket_owner
        ));
        assert!(!acceptable_under_enforced(
            &canned("bucket-owner-read", &writer),
            &bucket_owner
        ));
    }
}
