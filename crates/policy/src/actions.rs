//! The actions a policy may name, with the kind of resource each applies
//! to. Validation uses it to refuse unknown actions and statements whose
//! actions apply to none of their resources.

use crate::pattern::Pattern;

/// What an action's resource is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceKind {
    /// `arn:aws:s3:::bucket`.
    Bucket,
    /// `arn:aws:s3:::bucket/key`.
    Object,
    /// No S3 resource (`*`): ListAllMyBuckets, account settings, IAM, STS.
    Account,
}

use ResourceKind::{Account, Bucket, Object};

/// Every action coffer knows, by its canonical spelling.
pub const ACTIONS: &[(&str, ResourceKind)] = &[
    ("s3:AbortMultipartUpload", Object),
    ("s3:BypassGovernanceRetention", Object),
    ("s3:CreateBucket", Bucket),
    ("s3:DeleteBucket", Bucket),
    ("s3:DeleteBucketOwnershipControls", Bucket),
    ("s3:DeleteBucketPolicy", Bucket),
    ("s3:DeleteObject", Object),
    ("s3:DeleteObjectTagging", Object),
    ("s3:DeleteObjectVersion", Object),
    ("s3:DeleteObjectVersionTagging", Object),
    ("s3:GetAccountPublicAccessBlock", Account),
    ("s3:GetBucketAcl", Bucket),
    ("s3:GetBucketCORS", Bucket),
    ("s3:GetBucketLocation", Bucket),
    ("s3:GetBucketLogging", Bucket),
    ("s3:GetBucketObjectLockConfiguration", Bucket),
    ("s3:GetBucketOwnershipControls", Bucket),
    ("s3:GetBucketPolicy", Bucket),
    ("s3:GetBucketPolicyStatus", Bucket),
    ("s3:GetBucketPublicAccessBlock", Bucket),
    ("s3:GetBucketTagging", Bucket),
    ("s3:GetBucketVersioning", Bucket),
    ("s3:GetEncryptionConfiguration", Bucket),
    ("s3:GetLifecycleConfiguration", Bucket),
    ("s3:GetObject", Object),
    ("s3:GetObjectAcl", Object),
    ("s3:GetObjectAttributes", Object),
    ("s3:GetObjectLegalHold", Object),
    ("s3:GetObjectRetention", Object),
    ("s3:GetObjectTagging", Object),
    ("s3:GetObjectVersion", Object),
    ("s3:GetObjectVersionAcl", Object),
    ("s3:GetObjectVersionAttributes", Object),
    ("s3:GetObjectVersionForReplication", Object),
    ("s3:GetObjectVersionTagging", Object),
    ("s3:GetReplicationConfiguration", Bucket),
    ("s3:ListAllMyBuckets", Account),
    ("s3:ListBucket", Bucket),
    ("s3:ListBucketMultipartUploads", Bucket),
    ("s3:ListBucketVersions", Bucket),
    ("s3:ListMultipartUploadParts", Object),
    ("s3:ObjectOwnerOverrideToBucketOwner", Object),
    ("s3:PutAccountPublicAccessBlock", Account),
    ("s3:PutBucketAcl", Bucket),
    ("s3:PutBucketCORS", Bucket),
    ("s3:PutBucketLogging", Bucket),
    ("s3:PutBucketObjectLockConfiguration", Bucket),
    ("s3:PutBucketOwnershipControls", Bucket),
    ("s3:PutBucketPolicy", Bucket),
    ("s3:PutBucketPublicAccessBlock", Bucket),
    ("s3:PutBucketTagging", Bucket),
    ("s3:PutBucketVersioning", Bucket),
    ("s3:PutEncryptionConfiguration", Bucket),
    ("s3:PutLifecycleConfiguration", Bucket),
    ("s3:PutObject", Object),
    ("s3:PutObjectAcl", Object),
    ("s3:PutObjectLegalHold", Object),
    ("s3:PutObjectRetention", Object),
    ("s3:PutObjectTagging", Object),
    ("s3:PutObjectVersionAcl", Object),
    ("s3:PutObjectVersionTagging", Object),
    ("s3:PutReplicationConfiguration", Bucket),
    ("s3:ReplicateDelete", Object),
    ("s3:ReplicateObject", Object),
    ("s3:ReplicateTags", Object),
    ("s3:RestoreObject", Object),
    ("iam:AddUserToGroup", Account),
    ("iam:AttachGroupPolicy", Account),
    ("iam:AttachRolePolicy", Account),
    ("iam:AttachUserPolicy", Account),
    ("iam:CreateAccessKey", Account),
    ("iam:CreateGroup", Account),
    ("iam:CreatePolicy", Account),
    ("iam:CreatePolicyVersion", Account),
    ("iam:CreateRole", Account),
    ("iam:CreateUser", Account),
    ("iam:DeleteAccessKey", Account),
    ("iam:DeleteGroup", Account),
    ("iam:DeleteGroupPolicy", Account),
    ("iam:DeletePolicy", Account),
    ("iam:DeletePolicyVersion", Account),
    ("iam:DeleteRole", Account),
    ("iam:DeleteRolePolicy", Account),
    ("iam:DeleteUser", Account),
    ("iam:DeleteUserPolicy", Account),
    ("iam:DetachGroupPolicy", Account),
    ("iam:DetachRolePolicy", Account),
    ("iam:DetachUserPolicy", Account),
    ("iam:GetGroup", Account),
    ("iam:GetGroupPolicy", Account),
    ("iam:GetPolicy", Account),
    ("iam:GetPolicyVersion", Account),
    ("iam:GetRole", Account),
    ("iam:GetRolePolicy", Account),
    ("iam:GetUser", Account),
    ("iam:GetUserPolicy", Account),
    ("iam:ListAccessKeys", Account),
    ("iam:ListAttachedGroupPolicies", Account),
    ("iam:ListAttachedRolePolicies", Account),
    ("iam:ListAttachedUserPolicies", Account),
    ("iam:ListGroupPolicies", Account),
    ("iam:ListGroups", Account),
    ("iam:ListGroupsForUser", Account),
    ("iam:ListPolicies", Account),
    ("iam:ListPolicyVersions", Account),
    ("iam:ListRolePolicies", Account),
    ("iam:ListRoles", Account),
    ("iam:ListUserPolicies", Account),
    ("iam:ListUsers", Account),
    ("iam:PassRole", Account),
    ("iam:PutGroupPolicy", Account),
    ("iam:PutRolePolicy", Account),
    ("iam:PutUserPolicy", Account),
    ("iam:RemoveUserFromGroup", Account),
    ("iam:SetDefaultPolicyVersion", Account),
    ("iam:UpdateAccessKey", Account),
    ("iam:UpdateAssumeRolePolicy", Account),
    ("kms:Decrypt", Account),
    ("kms:Encrypt", Account),
    ("kms:GenerateDataKey", Account),
    ("sts:AssumeRole", Account),
    ("sts:GetCallerIdentity", Account),
    ("sts:GetSessionToken", Account),
];

/// The known actions a policy's action pattern names (case-insensitive
/// globs; `*` names every action).
pub fn matching(pattern: &str) -> impl Iterator<Item = (&'static str, ResourceKind)> + '_ {
    let compiled = Pattern::glob(pattern);
    ACTIONS
        .iter()
        .copied()
        .filter(move |(name, _)| compiled.matches_ignore_case(name))
}

/// The resource kind of a known action.
pub fn resource_kind(action: &str) -> Option<ResourceKind> {
    ACTIONS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(action))
        .map(|(_, kind)| *kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_unique_and_globbable() {
        let unique: std::collections::BTreeSet<String> = ACTIONS
            .iter()
            .map(|(name, _)| name.to_ascii_lowercase())
            .collect();
        assert_eq!(unique.len(), ACTIONS.len(), "every action once");
        assert_eq!(matching("S3:getobject").count(), 1);
        assert!(matching("s3:Get*").count() > 10);
        assert_eq!(matching("*").count(), ACTIONS.len());
        assert_eq!(matching("s3:Frobnicate").count(), 0);
        assert_eq!(resource_kind("s3:listbucket"), Some(Bucket));
    }
}
