//! The one place that maps IAM and STS errors to AWS's codes, HTTP status
//! and fault side. Handlers pick a constructor; `render::render_error`
//! turns the result into AWS's `ErrorResponse` XML.

use std::fmt;

/// Every error code this crate or its callers answer with. Statuses follow
/// AWS's IAM/STS API reference and what the services are seen to send
/// where the two disagree (noted per variant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The named user, group, role, policy, key or version does not exist.
    NoSuchEntity,
    /// Create of a name that is already taken.
    EntityAlreadyExists,
    /// Delete of an entity that still has attachments, keys or members.
    DeleteConflict,
    /// A quota (keys per user, versions per policy, …) would be exceeded.
    LimitExceeded,
    /// The policy document is not valid JSON or not a valid policy.
    MalformedPolicyDocument,
    /// A parameter is well-formed but not acceptable (IAM's catch-all).
    InvalidInput,
    /// A parameter fails its documented constraint or a required one is
    /// missing; AWS's services answer missing members this way too.
    ValidationError,
    /// A required parameter is absent (kept for callers; the parser itself
    /// reports missing members as `ValidationError`, as IAM does).
    MissingParameter,
    /// The request has no `Action` parameter.
    MissingAction,
    /// The `Action` is unknown for this service and version.
    InvalidAction,
    /// A parameter value is unusable, including an undecodable form body.
    InvalidParameterValue,
    /// The caller's policies do not allow the action.
    AccessDenied,
    /// The access key id (or session token) is not known.
    InvalidClientTokenId,
    /// The signature, its scope or its time window is wrong.
    SignatureDoesNotMatch,
    /// The `Authorization` header is malformed.
    IncompleteSignature,
    /// The request carries no `Authorization` header at all.
    MissingAuthenticationToken,
    /// The session token has expired. AWS's reference lists 403 and IAM
    /// and STS are seen to send 403 (S3, unlike them, sends 400).
    ExpiredToken,
    /// An AssumeRole session policy packs too large.
    PackedPolicyTooLarge,
    /// IAM's name for an internal error.
    ServiceFailure,
    /// The common name for an internal error.
    InternalFailure,
    /// An action coffer parses but does not serve yet.
    NotImplemented,
}

impl ErrorCode {
    /// The code as it appears in `<Code>`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NoSuchEntity => "NoSuchEntity",
            ErrorCode::EntityAlreadyExists => "EntityAlreadyExists",
            ErrorCode::DeleteConflict => "DeleteConflict",
            ErrorCode::LimitExceeded => "LimitExceeded",
            ErrorCode::MalformedPolicyDocument => "MalformedPolicyDocument",
            ErrorCode::InvalidInput => "InvalidInput",
            ErrorCode::ValidationError => "ValidationError",
            ErrorCode::MissingParameter => "MissingParameter",
            ErrorCode::MissingAction => "MissingAction",
            ErrorCode::InvalidAction => "InvalidAction",
            ErrorCode::InvalidParameterValue => "InvalidParameterValue",
            ErrorCode::AccessDenied => "AccessDenied",
            ErrorCode::InvalidClientTokenId => "InvalidClientTokenId",
            ErrorCode::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            ErrorCode::IncompleteSignature => "IncompleteSignature",
            ErrorCode::MissingAuthenticationToken => "MissingAuthenticationToken",
            ErrorCode::ExpiredToken => "ExpiredToken",
            ErrorCode::PackedPolicyTooLarge => "PackedPolicyTooLarge",
            ErrorCode::ServiceFailure => "ServiceFailure",
            ErrorCode::InternalFailure => "InternalFailure",
            ErrorCode::NotImplemented => "NotImplemented",
        }
    }

    /// The HTTP status AWS sends with this code.
    pub fn status_code_u16(self) -> u16 {
        match self {
            ErrorCode::NoSuchEntity => 404,
            ErrorCode::EntityAlreadyExists
            | ErrorCode::DeleteConflict
            | ErrorCode::LimitExceeded => 409,
            ErrorCode::MalformedPolicyDocument
            | ErrorCode::InvalidInput
            | ErrorCode::ValidationError
            | ErrorCode::MissingParameter
            | ErrorCode::MissingAction
            | ErrorCode::InvalidAction
            | ErrorCode::InvalidParameterValue
            | ErrorCode::IncompleteSignature
            | ErrorCode::PackedPolicyTooLarge => 400,
            ErrorCode::AccessDenied
            | ErrorCode::InvalidClientTokenId
            | ErrorCode::SignatureDoesNotMatch
            | ErrorCode::MissingAuthenticationToken
            | ErrorCode::ExpiredToken => 403,
            ErrorCode::ServiceFailure | ErrorCode::InternalFailure => 500,
            ErrorCode::NotImplemented => 501,
        }
    }

    /// Whether the client is at fault (`<Type>Sender</Type>`) rather than
    /// the service (`<Type>Receiver</Type>`).
    pub fn sender_fault(self) -> bool {
        self.status_code_u16() < 500
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// An error answer: AWS's code plus the human message. Status and fault
/// side derive from the code so the three can never disagree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct IamError {
    pub code: ErrorCode,
    pub message: String,
}

impl IamError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        IamError {
            code,
            message: message.into(),
        }
    }

    pub fn status_code_u16(&self) -> u16 {
        self.code.status_code_u16()
    }

    pub fn sender_fault(&self) -> bool {
        self.code.sender_fault()
    }

    /// AWS words these per entity, e.g. "The user with name alice cannot be
    /// found." — the handler knows the entity, so it passes the sentence.
    pub fn no_such_entity(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NoSuchEntity, message)
    }

    /// E.g. "User with name alice already exists."
    pub fn entity_already_exists(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::EntityAlreadyExists, message)
    }

    /// E.g. "Cannot delete entity, must delete access keys first."
    pub fn delete_conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::DeleteConflict, message)
    }

    /// E.g. "Cannot exceed quota for AccessKeysPerUser: 2".
    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::LimitExceeded, message)
    }

    pub fn malformed_policy_document(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::MalformedPolicyDocument, message)
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    pub fn validation_error(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationError, message)
    }

    pub fn missing_parameter(parameter_name: &str) -> Self {
        Self::new(
            ErrorCode::MissingParameter,
            format!("The request must contain the parameter {parameter_name}."),
        )
    }

    pub fn missing_action() -> Self {
        Self::new(
            ErrorCode::MissingAction,
            "The request must contain the parameter Action.",
        )
    }

    /// The message AWS's query services send for an unknown action.
    pub fn invalid_action(action: &str, version: &str) -> Self {
        Self::new(
            ErrorCode::InvalidAction,
            format!("Could not find operation {action} for version {version}"),
        )
    }

    pub fn invalid_parameter_value(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParameterValue, message)
    }

    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::AccessDenied, message)
    }

    /// AWS's sentence for a denied identity-based request, e.g. "User:
    /// arn:aws:iam::123456789012:user/bob is not authorized to perform:
    /// iam:CreateUser on resource: arn:aws:iam::123456789012:user/alice
    /// because no identity-based policy allows the iam:CreateUser action".
    pub fn access_denied_for(caller_arn: &str, action: &str, resource_arn: &str) -> Self {
        Self::access_denied(format!(
            "User: {caller_arn} is not authorized to perform: {action} on resource: \
             {resource_arn} because no identity-based policy allows the {action} action"
        ))
    }

    pub fn invalid_client_token_id() -> Self {
        Self::new(
            ErrorCode::InvalidClientTokenId,
            "The security token included in the request is invalid.",
        )
    }

    pub fn signature_does_not_match(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::SignatureDoesNotMatch, message)
    }

    /// AWS's sentence for a signature that does not verify.
    pub fn signature_mismatch() -> Self {
        Self::signature_does_not_match(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details.",
        )
    }

    pub fn incomplete_signature(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::IncompleteSignature, message)
    }

    pub fn missing_authentication_token() -> Self {
        Self::new(
            ErrorCode::MissingAuthenticationToken,
            "Request is missing Authentication Token",
        )
    }

    pub fn expired_token() -> Self {
        Self::new(
            ErrorCode::ExpiredToken,
            "The security token included in the request is expired",
        )
    }

    pub fn packed_policy_too_large(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::PackedPolicyTooLarge, message)
    }

    pub fn service_failure() -> Self {
        Self::new(
            ErrorCode::ServiceFailure,
            "The request processing has failed because of an unknown error, exception or failure.",
        )
    }

    pub fn not_implemented(action: &str) -> Self {
        Self::new(
            ErrorCode::NotImplemented,
            format!("coffer does not implement {action} yet."),
        )
    }

    pub fn internal_failure() -> Self {
        Self::new(
            ErrorCode::InternalFailure,
            "The request processing has failed because of an unknown error, exception or failure.",
        )
    }
}
