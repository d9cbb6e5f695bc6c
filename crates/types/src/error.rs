//! The one place where coffer's failures get their AWS error code and HTTP
//! status. Lower crates return `S3Error` (a code plus a human message); the
//! gateway renders it as S3 error XML. Add a variant here, never a string
//! elsewhere.

use std::fmt;

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident => $status:literal,)*) => {
        /// AWS S3 error codes that coffer emits, each with its HTTP status.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// The `<Code>` string of AWS's error XML.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => stringify!($variant),)* }
            }

            /// The HTTP status AWS sends with this code.
            pub fn http_status(self) -> u16 {
                match self { $(Self::$variant => $status,)* }
            }

            /// Every code, for table-driven tests.
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant,)*];
        }
    };
}

error_codes! {
    /// Access denied by authorization (or anonymous request).
    AccessDenied => 403,
    /// The Authorization header is malformed (e.g. signed for another region).
    AuthorizationHeaderMalformed => 400,
    /// Presigned URL query parameters are malformed (e.g. X-Amz-Expires too large).
    AuthorizationQueryParametersError => 400,
    /// The Content-MD5 or x-amz-checksum-* value does not match the body.
    BadDigest => 400,
    /// The bucket name is taken by another account.
    BucketAlreadyExists => 409,
    /// The caller already owns this bucket (outside us-east-1 semantics).
    BucketAlreadyOwnedByYou => 409,
    /// DeleteBucket on a bucket that still holds objects.
    BucketNotEmpty => 409,
    /// A part other than the last is smaller than 5 MiB.
    EntityTooSmall => 400,
    /// The body exceeds the allowed maximum.
    EntityTooLarge => 400,
    /// Incomplete body (fewer bytes than Content-Length).
    IncompleteBody => 400,
    /// The server failed; the request may be retried.
    InternalError => 500,
    /// The access key id does not exist.
    InvalidAccessKeyId => 403,
    /// A request argument is invalid.
    InvalidArgument => 400,
    /// The bucket name breaks the naming rules.
    InvalidBucketName => 400,
    /// The Content-MD5 header is not valid base64 MD5.
    InvalidDigest => 400,
    /// A part named in CompleteMultipartUpload is missing or its ETag differs.
    InvalidPart => 400,
    /// Parts in CompleteMultipartUpload are not in ascending order.
    InvalidPartOrder => 400,
    /// The requested range cannot be satisfied.
    InvalidRange => 416,
    /// GET/HEAD partNumber beyond the object's parts.
    InvalidPartNumber => 416,
    /// The request is invalid in a way no other code covers.
    InvalidRequest => 400,
    /// A tag key or value breaks the tagging rules.
    InvalidTag => 400,
    /// The LocationConstraint is not this region.
    InvalidLocationConstraint => 400,
    /// The object key is longer than 1024 bytes.
    KeyTooLongError => 400,
    /// The XML body is not well-formed or not valid against the schema.
    MalformedXML => 400,
    /// User metadata exceeds 2 KB.
    MetadataTooLarge => 400,
    /// The method is not allowed on this resource.
    MethodNotAllowed => 405,
    /// Content-Length is required.
    MissingContentLength => 411,
    /// The bucket does not exist.
    NoSuchBucket => 404,
    /// The key does not exist.
    NoSuchKey => 404,
    /// The multipart upload does not exist (or was completed or aborted).
    NoSuchUpload => 404,
    /// The version does not exist.
    NoSuchVersion => 404,
    /// The operation is not implemented.
    NotImplemented => 501,
    /// 304 for If-None-Match / If-Modified-Since on GET and HEAD.
    NotModified => 304,
    /// A precondition (If-Match, If-None-Match on PUT, ...) failed.
    PreconditionFailed => 412,
    /// The request time differs from the server's by more than 15 minutes.
    RequestTimeTooSkewed => 403,
    /// The server is busy or not ready (no Raft leader); retry.
    ServiceUnavailable => 503,
    /// The signature does not match.
    SignatureDoesNotMatch => 403,
    /// Too many requests; slow down.
    SlowDown => 503,
    /// A concurrent conflicting operation is in progress.
    OperationAborted => 409,
    /// A conditional write lost to a concurrent one (AWS: 409 ConditionalRequestConflict).
    ConditionalRequestConflict => 409,
    /// A CopyObject onto itself without changing anything.
    InvalidObjectState => 403,
    /// A bucket policy that does not parse or validate.
    MalformedPolicy => 400,
    /// A bucket policy over 20 KB.
    PolicyTooLarge => 400,
    NoSuchBucketPolicy => 404,
    NoSuchPublicAccessBlockConfiguration => 404,
    OwnershipControlsNotFoundError => 404,
    /// An ACL on a bucket whose Object Ownership is BucketOwnerEnforced.
    AccessControlListNotSupported => 400,
    InvalidBucketAclWithObjectOwnership => 400,
    /// CreateBucket with a public ACL while Block Public Access is on.
    InvalidBucketAclWithBlockPublicAccessError => 400,
    MalformedACLError => 400,
    UnresolvableGrantByEmailAddress => 400,
    UnexpectedContent => 400,
    MissingSecurityHeader => 400,
    /// Temporary credentials past their expiry.
    ExpiredToken => 400,
    InvalidToken => 400,
    /// Admin/IAM: the named entity exists already.
    EntityAlreadyExists => 409,
    /// Admin/IAM: the named entity does not exist.
    NoSuchEntity => 404,
    /// Admin/IAM: the entity still has dependents (an account with buckets).
    DeleteConflict => 409,
    /// IAM: a quota (keys per user, versions per policy, …) is reached.
    LimitExceeded => 409,
    /// IAM: a policy document that does not parse or validate.
    MalformedPolicyDocument => 400,
    /// POST Object: the form is not multipart/form-data as S3 reads it.
    MalformedPOSTRequest => 400,
    /// POST Object: too many bytes of fields before the file.
    MaxPostPreDataLengthExceededError => 400,
    /// POST Object: a policy that does not parse.
    InvalidPolicyDocument => 400,
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure to report to the S3 client: an AWS code and a message.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct S3Error {
    pub code: ErrorCode,
    pub message: String,
}

impl S3Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// An internal failure. The detail is logged by the caller, never sent.
    pub fn internal() -> Self {
        Self::new(
            ErrorCode::InternalError,
            "We encountered an internal error. Please try again.",
        )
    }
}

impl From<ErrorCode> for S3Error {
    fn from(code: ErrorCode) -> Self {
        let message = match code {
            ErrorCode::NoSuchBucket => "The specified bucket does not exist",
            ErrorCode::NoSuchKey => "The specified key does not exist.",
            ErrorCode::NoSuchUpload => "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.",
            ErrorCode::NoSuchVersion => "The specified version does not exist.",
            ErrorCode::BucketNotEmpty => "The bucket you tried to delete is not empty",
            ErrorCode::BucketAlreadyExists => "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
            ErrorCode::BucketAlreadyOwnedByYou => "Your previous request to create the named bucket succeeded and you already own it.",
            ErrorCode::PreconditionFailed => "At least one of the pre-conditions you specified did not hold",
            ErrorCode::InvalidRange => "The requested range is not satisfiable",
            ErrorCode::EntityTooSmall => "Your proposed upload is smaller than the minimum allowed object size.",
            ErrorCode::EntityTooLarge => "Your proposed upload exceeds the maximum allowed object size.",
            ErrorCode::InvalidPart => "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
            ErrorCode::InvalidPartOrder => "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
            ErrorCode::MalformedXML => "The XML you provided was not well-formed or did not validate against our published schema.",
            ErrorCode::BadDigest => "The Content-MD5 or checksum value that you specified did not match what the server received.",
            ErrorCode::AccessDenied => "Access Denied",
            ErrorCode::KeyTooLongError => "Your key is too long",
            ErrorCode::MetadataTooLarge => "Your metadata headers exceed the maximum allowed metadata size.",
            ErrorCode::InvalidBucketName => "The specified bucket is not valid.",
            ErrorCode::NotImplemented => "A header you provided implies functionality that is not implemented",
            ErrorCode::ServiceUnavailable => "Service is unable to handle request.",
            ErrorCode::NoSuchBucketPolicy => "The bucket policy does not exist",
            ErrorCode::NoSuchPublicAccessBlockConfiguration => "The public access block configuration was not found",
            ErrorCode::OwnershipControlsNotFoundError => "The bucket ownership controls were not found",
            ErrorCode::AccessControlListNotSupported => "The bucket does not allow ACLs",
            ErrorCode::InvalidBucketAclWithObjectOwnership => "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
            ErrorCode::InvalidBucketAclWithBlockPublicAccessError => "Bucket cannot have public ACLs set with BlockPublicAccess enabled",
            ErrorCode::MalformedACLError => "The XML you provided was not well-formed or did not validate against our published schema",
            ErrorCode::UnexpectedContent => "This request does not support content",
            ErrorCode::MissingSecurityHeader => "Your request was missing a required header",
            ErrorCode::ExpiredToken => "The provided token has expired.",
            ErrorCode::InvalidToken => "The provided token is malformed or otherwise invalid.",
            ErrorCode::SignatureDoesNotMatch => "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            ErrorCode::InvalidAccessKeyId => "The AWS Access Key Id you provided does not exist in our records.",
            ErrorCode::InvalidPolicyDocument => "Invalid Policy: Invalid JSON.",
            _ => code.as_str(),
        };
        Self::new(code, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_an_error_status() {
        for code in ErrorCode::ALL {
            let status = code.http_status();
            assert!(
                status == 304 || (400..600).contains(&status),
                "{code}: {status}"
            );
            assert!(!code.as_str().is_empty());
        }
    }

    #[test]
    fn table_matches_aws() {
        let cases = [
            (ErrorCode::NoSuchKey, "NoSuchKey", 404),
            (ErrorCode::InvalidRange, "InvalidRange", 416),
            (ErrorCode::PreconditionFailed, "PreconditionFailed", 412),
            (ErrorCode::BucketNotEmpty, "BucketNotEmpty", 409),
            (ErrorCode::MissingContentLength, "MissingContentLength", 411),
            (
                ErrorCode::SignatureDoesNotMatch,
                "SignatureDoesNotMatch",
                403,
            ),
        ];
        for (code, name, status) in cases {
            assert_eq!(code.as_str(), name);
            assert_eq!(code.http_status(), status);
        }
    }
}
