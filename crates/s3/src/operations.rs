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
}

impl Operation {
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
        assert_eq!(Operation::from_s3s_name("PutBucketPolicy"), None);
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
