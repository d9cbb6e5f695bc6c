//! The closed set of S3 operations this gateway implements, each with the
//! IAM action the policy engine will check. s3s routes a request to an
//! operation name; `Operation::from_s3s_name` turns that into one of these,
//! and every name not listed here answers NotImplemented (s3s's default for
//! trait methods we do not override).

macro_rules! operations {
    ($($variant:ident => $action:literal,)*) => {
        /// Every implemented operation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Operation {
            $($variant,)*
        }

        impl Operation {
            /// Every implemented operation, for table-driven tests.
            pub const ALL: &'static [Operation] = &[$(Self::$variant,)*];

            /// The operation name as AWS (and s3s) spell it.
            pub fn name(self) -> &'static str {
                match self { $(Self::$variant => stringify!($variant),)* }
            }

            /// The IAM action a policy must allow.
            pub fn iam_action(self) -> &'static str {
                match self { $(Self::$variant => $action,)* }
            }

            /// The operation for an s3s operation name; `None` when we do not
            /// implement it.
            pub fn from_s3s_name(name: &str) -> Option<Self> {
                match name { $(stringify!($variant) => Some(Self::$variant),)* _ => None }
            }
        }
    };
}

operations! {
    ListBuckets => "s3:ListAllMyBuckets",
    CreateBucket => "s3:CreateBucket",
    HeadBucket => "s3:ListBucket",
    DeleteBucket => "s3:DeleteBucket",
    GetBucketLocation => "s3:GetBucketLocation",
    PutObject => "s3:PutObject",
    // A browser-form upload: decided in the access hook, with the key
    // from the form.
    PostObject => "s3:PutObject",
    GetObject => "s3:GetObject",
    HeadObject => "s3:GetObject",
    DeleteObject => "s3:DeleteObject",
    DeleteObjects => "s3:DeleteObject",
    CopyObject => "s3:PutObject",
    ListObjects => "s3:ListBucket",
    ListObjectsV2 => "s3:ListBucket",
    ListObjectVersions => "s3:ListBucketVersions",
    CreateMultipartUpload => "s3:PutObject",
    UploadPart => "s3:PutObject",
    UploadPartCopy => "s3:PutObject",
    CompleteMultipartUpload => "s3:PutObject",
    AbortMultipartUpload => "s3:AbortMultipartUpload",
    ListParts => "s3:ListMultipartUploadParts",
    ListMultipartUploads => "s3:ListBucketMultipartUploads",
    GetObjectTagging => "s3:GetObjectTagging",
    PutObjectTagging => "s3:PutObjectTagging",
    DeleteObjectTagging => "s3:DeleteObjectTagging",
    GetBucketPolicy => "s3:GetBucketPolicy",
    PutBucketPolicy => "s3:PutBucketPolicy",
    DeleteBucketPolicy => "s3:DeleteBucketPolicy",
    GetBucketPolicyStatus => "s3:GetBucketPolicyStatus",
    GetPublicAccessBlock => "s3:GetBucketPublicAccessBlock",
    PutPublicAccessBlock => "s3:PutBucketPublicAccessBlock",
    // AWS: deleting uses the Put action.
    DeletePublicAccessBlock => "s3:PutBucketPublicAccessBlock",
    GetBucketOwnershipControls => "s3:GetBucketOwnershipControls",
    PutBucketOwnershipControls => "s3:PutBucketOwnershipControls",
    DeleteBucketOwnershipControls => "s3:PutBucketOwnershipControls",
    GetBucketAcl => "s3:GetBucketAcl",
    PutBucketAcl => "s3:PutBucketAcl",
    GetObjectAcl => "s3:GetObjectAcl",
    PutObjectAcl => "s3:PutObjectAcl",
}

/// What about a request changes the actions it needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestShape {
    /// A `versionId` query parameter.
    pub version_id: bool,
    /// `x-amz-acl` or an `x-amz-grant-*` header.
    pub acl_headers: bool,
    /// `x-amz-tagging`.
    pub tagging_header: bool,
    /// `x-amz-object-ownership` (CreateBucket).
    pub object_ownership_header: bool,
}

impl Operation {
    /// Every action a request of this operation needs on its resource, in
    /// AWS's terms: the `…Version…` form when a version is named, plus the
    /// ACL, tagging and ownership actions its headers imply. DeleteObjects
    /// is checked per key and CopyObject's source separately.
    pub fn actions(self, shape: RequestShape) -> Vec<&'static str> {
        let base = match (self, shape.version_id) {
            (Self::GetObject | Self::HeadObject, true) => "s3:GetObjectVersion",
            (Self::DeleteObject, true) => "s3:DeleteObjectVersion",
            (Self::GetObjectTagging, true) => "s3:GetObjectVersionTagging",
            (Self::PutObjectTagging, true) => "s3:PutObjectVersionTagging",
            (Self::DeleteObjectTagging, true) => "s3:DeleteObjectVersionTagging",
            (Self::GetObjectAcl, true) => "s3:GetObjectVersionAcl",
            (Self::PutObjectAcl, true) => "s3:PutObjectVersionAcl",
            (operation, _) => operation.iam_action(),
        };
        let mut actions = vec![base];
        let writes_object = matches!(
            self,
            Self::PutObject | Self::PostObject | Self::CopyObject | Self::CreateMultipartUpload
        );
        if writes_object && shape.acl_headers {
            actions.push("s3:PutObjectAcl");
        }
        if writes_object && shape.tagging_header {
            actions.push("s3:PutObjectTagging");
        }
        if self == Self::CreateBucket && shape.acl_headers {
            actions.push("s3:PutBucketAcl");
        }
        if self == Self::CreateBucket && shape.object_ownership_header {
            actions.push("s3:PutBucketOwnershipControls");
        }
        actions
    }

    /// True when the operation's resource is the bucket (not an object);
    /// the policy engine builds the resource ARN from this.
    pub fn is_bucket_level(self) -> bool {
        matches!(
            self,
            Self::ListBuckets
                | Self::CreateBucket
                | Self::HeadBucket
                | Self::DeleteBucket
                | Self::GetBucketLocation
                | Self::ListObjects
                | Self::ListObjectsV2
                | Self::ListObjectVersions
                | Self::ListMultipartUploads
                | Self::DeleteObjects
                | Self::GetBucketPolicy
                | Self::PutBucketPolicy
                | Self::DeleteBucketPolicy
                | Self::GetBucketPolicyStatus
                | Self::GetPublicAccessBlock
                | Self::PutPublicAccessBlock
                | Self::DeletePublicAccessBlock
                | Self::GetBucketOwnershipControls
                | Self::PutBucketOwnershipControls
                | Self::DeleteBucketOwnershipControls
                | Self::GetBucketAcl
                | Self::PutBucketAcl
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_round_trips_through_its_name() {
        for &op in Operation::ALL {
            assert_eq!(Operation::from_s3s_name(op.name()), Some(op));
            assert!(op.iam_action().starts_with("s3:"), "{op:?}");
        }
        assert_eq!(Operation::from_s3s_name("PutBucketLifecycle"), None);
    }

    #[test]
    fn actions_match_aws() {
        let cases = [
            (Operation::ListBuckets, "s3:ListAllMyBuckets", true),
            (Operation::HeadObject, "s3:GetObject", false),
            (Operation::CopyObject, "s3:PutObject", false),
            (Operation::ListObjectsV2, "s3:ListBucket", true),
            (Operation::ListObjectVersions, "s3:ListBucketVersions", true),
            (Operation::ListParts, "s3:ListMultipartUploadParts", false),
            (
                Operation::DeleteObjectTagging,
                "s3:DeleteObjectTagging",
                false,
            ),
            (
                Operation::AbortMultipartUpload,
                "s3:AbortMultipartUpload",
                false,
            ),
        ];
        for (op, action, bucket_level) in cases {
            assert_eq!(op.iam_action(), action, "{op:?}");
            assert_eq!(op.is_bucket_level(), bucket_level, "{op:?}");
        }
    }

    /// One row per operation: the actions a plain request needs, and
    /// those with every modifier it reacts to.
    #[test]
    fn every_operation_maps_to_its_actions() {
        let plain = RequestShape::default();
        let all = RequestShape {
            version_id: true,
            acl_headers: true,
            tagging_header: true,
            object_ownership_header: true,
        };
        let table: &[(Operation, &[&str], &[&str])] = &[
            (
                Operation::ListBuckets,
                &["s3:ListAllMyBuckets"],
                &["s3:ListAllMyBuckets"],
            ),
            (
                Operation::CreateBucket,
                &["s3:CreateBucket"],
                &[
                    "s3:CreateBucket",
                    "s3:PutBucketAcl",
                    "s3:PutBucketOwnershipControls",
                ],
            ),
            (
                Operation::HeadBucket,
                &["s3:ListBucket"],
                &["s3:ListBucket"],
            ),
            (
                Operation::DeleteBucket,
                &["s3:DeleteBucket"],
                &["s3:DeleteBucket"],
            ),
            (
                Operation::GetBucketLocation,
                &["s3:GetBucketLocation"],
                &["s3:GetBucketLocation"],
            ),
            (
                Operation::PutObject,
                &["s3:PutObject"],
                &["s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectTagging"],
            ),
            (
                Operation::PostObject,
                &["s3:PutObject"],
                &["s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectTagging"],
            ),
            (
                Operation::GetObject,
                &["s3:GetObject"],
                &["s3:GetObjectVersion"],
            ),
            (
                Operation::HeadObject,
                &["s3:GetObject"],
                &["s3:GetObjectVersion"],
            ),
            (
                Operation::DeleteObject,
                &["s3:DeleteObject"],
                &["s3:DeleteObjectVersion"],
            ),
            (
                Operation::DeleteObjects,
                &["s3:DeleteObject"],
                &["s3:DeleteObject"],
            ),
            (
                Operation::CopyObject,
                &["s3:PutObject"],
                &["s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectTagging"],
            ),
            (
                Operation::ListObjects,
                &["s3:ListBucket"],
                &["s3:ListBucket"],
            ),
            (
                Operation::ListObjectsV2,
                &["s3:ListBucket"],
                &["s3:ListBucket"],
            ),
            (
                Operation::ListObjectVersions,
                &["s3:ListBucketVersions"],
                &["s3:ListBucketVersions"],
            ),
            (
                Operation::CreateMultipartUpload,
                &["s3:PutObject"],
                &["s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectTagging"],
            ),
            (Operation::UploadPart, &["s3:PutObject"], &["s3:PutObject"]),
            (
                Operation::UploadPartCopy,
                &["s3:PutObject"],
                &["s3:PutObject"],
            ),
            (
                Operation::CompleteMultipartUpload,
                &["s3:PutObject"],
                &["s3:PutObject"],
            ),
            (
                Operation::AbortMultipartUpload,
                &["s3:AbortMultipartUpload"],
                &["s3:AbortMultipartUpload"],
            ),
            (
                Operation::ListParts,
                &["s3:ListMultipartUploadParts"],
                &["s3:ListMultipartUploadParts"],
            ),
            (
                Operation::ListMultipartUploads,
                &["s3:ListBucketMultipartUploads"],
                &["s3:ListBucketMultipartUploads"],
            ),
            (
                Operation::GetObjectTagging,
                &["s3:GetObjectTagging"],
                &["s3:GetObjectVersionTagging"],
            ),
            (
                Operation::PutObjectTagging,
                &["s3:PutObjectTagging"],
                &["s3:PutObjectVersionTagging"],
            ),
            (
                Operation::DeleteObjectTagging,
                &["s3:DeleteObjectTagging"],
                &["s3:DeleteObjectVersionTagging"],
            ),
            (
                Operation::GetBucketPolicy,
                &["s3:GetBucketPolicy"],
                &["s3:GetBucketPolicy"],
            ),
            (
                Operation::PutBucketPolicy,
                &["s3:PutBucketPolicy"],
                &["s3:PutBucketPolicy"],
            ),
            (
                Operation::DeleteBucketPolicy,
                &["s3:DeleteBucketPolicy"],
                &["s3:DeleteBucketPolicy"],
            ),
            (
                Operation::GetBucketPolicyStatus,
                &["s3:GetBucketPolicyStatus"],
                &["s3:GetBucketPolicyStatus"],
            ),
            (
                Operation::GetPublicAccessBlock,
                &["s3:GetBucketPublicAccessBlock"],
                &["s3:GetBucketPublicAccessBlock"],
            ),
            (
                Operation::PutPublicAccessBlock,
                &["s3:PutBucketPublicAccessBlock"],
                &["s3:PutBucketPublicAccessBlock"],
            ),
            (
                Operation::DeletePublicAccessBlock,
                &["s3:PutBucketPublicAccessBlock"],
                &["s3:PutBucketPublicAccessBlock"],
            ),
            (
                Operation::GetBucketOwnershipControls,
                &["s3:GetBucketOwnershipControls"],
                &["s3:GetBucketOwnershipControls"],
            ),
            (
                Operation::PutBucketOwnershipControls,
                &["s3:PutBucketOwnershipControls"],
                &["s3:PutBucketOwnershipControls"],
            ),
            (
                Operation::DeleteBucketOwnershipControls,
                &["s3:PutBucketOwnershipControls"],
                &["s3:PutBucketOwnershipControls"],
            ),
            (
                Operation::GetBucketAcl,
                &["s3:GetBucketAcl"],
                &["s3:GetBucketAcl"],
            ),
            (
                Operation::PutBucketAcl,
                &["s3:PutBucketAcl"],
                &["s3:PutBucketAcl"],
            ),
            (
                Operation::GetObjectAcl,
                &["s3:GetObjectAcl"],
                &["s3:GetObjectVersionAcl"],
            ),
            (
                Operation::PutObjectAcl,
                &["s3:PutObjectAcl"],
                &["s3:PutObjectVersionAcl"],
            ),
        ];
        assert_eq!(
            table.len(),
            Operation::ALL.len(),
            "a row for every operation"
        );
        for (operation, plain_actions, all_actions) in table {
            assert_eq!(operation.actions(plain), *plain_actions, "{operation:?}");
            assert_eq!(
                operation.actions(all),
                *all_actions,
                "{operation:?} with every modifier"
            );
            for action in operation.actions(all) {
                assert!(
                    coffer_policy::actions::resource_kind(action).is_some(),
                    "{action} is a known action"
                );
            }
        }
    }

    #[test]
    fn names_are_the_s3s_trait_names() {
        // s3s names its operations after the AWS model; a typo here would
        // silently make an operation unreachable through the table.
        let s3s_names = [
            "GetObject",
            "ListObjectsV2",
            "UploadPartCopy",
            "GetBucketLocation",
        ];
        for name in s3s_names {
            assert!(Operation::from_s3s_name(name).is_some(), "{name}");
        }
    }
}
