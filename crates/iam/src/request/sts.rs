//! STS: who am I, temporary credentials for myself, and assuming a role.

use crate::validate::{Reader, ARN, EXTERNAL_ID, ROLE_SESSION_NAME, SESSION_POLICY};

pub const ASSUME_ROLE_DEFAULT_DURATION_SECONDS: u32 = 3600;
pub const ASSUME_ROLE_MIN_DURATION_SECONDS: u32 = 900;
/// The API's bound; the role's own `MaxSessionDuration` may be lower, and
/// checking that is the handler's job.
pub const ASSUME_ROLE_MAX_DURATION_SECONDS: u32 = 43_200;

pub const SESSION_TOKEN_DEFAULT_DURATION_SECONDS: u32 = 43_200;
pub const SESSION_TOKEN_MIN_DURATION_SECONDS: u32 = 900;
pub const SESSION_TOKEN_MAX_DURATION_SECONDS: u32 = 129_600;

/// AWS allows at most ten managed session policies per AssumeRole.
pub const ASSUME_ROLE_MAX_POLICY_ARNS: usize = 10;

/// Takes no parameters; AWS requires no permission for it either, which
/// the caller should honour when authorizing `sts:GetCallerIdentity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetCallerIdentity {}

impl GetCallerIdentity {
    pub(crate) fn parse(_reader: &mut Reader) -> Self {
        GetCallerIdentity {}
    }
}

/// MFA parameters (`SerialNumber`, `TokenCode`) are not read: without MFA
/// support a session simply carries no MFA context, which grants nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetSessionToken {
    pub duration_seconds: u32,
}

impl GetSessionToken {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        GetSessionToken {
            duration_seconds: reader
                .optional_u32(
                    "DurationSeconds",
                    SESSION_TOKEN_MIN_DURATION_SECONDS.min(reader.session_duration_seconds_min),
                    SESSION_TOKEN_MAX_DURATION_SECONDS,
                )
                .unwrap_or(SESSION_TOKEN_DEFAULT_DURATION_SECONDS),
        }
    }
}

/// Tags, transitive tag keys, source identity and MFA parameters are not
/// read (the session gets none of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRole {
    pub role_arn: String,
    pub role_session_name: String,
    pub duration_seconds: u32,
    /// An inline session policy, as the client's JSON text.
    pub policy: Option<String>,
    /// Managed session policies (`PolicyArns.member.N.arn`).
    pub policy_arns: Vec<String>,
    pub external_id: Option<String>,
}

impl AssumeRole {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        AssumeRole {
            role_arn: reader.required("RoleArn", &ARN),
            role_session_name: reader.required("RoleSessionName", &ROLE_SESSION_NAME),
            duration_seconds: reader
                .optional_u32(
                    "DurationSeconds",
                    ASSUME_ROLE_MIN_DURATION_SECONDS.min(reader.session_duration_seconds_min),
                    ASSUME_ROLE_MAX_DURATION_SECONDS,
                )
                .unwrap_or(ASSUME_ROLE_DEFAULT_DURATION_SECONDS),
            policy: reader.optional("Policy", &SESSION_POLICY),
            policy_arns: reader.members(
                "PolicyArns",
                Some("arn"),
                ASSUME_ROLE_MAX_POLICY_ARNS,
                &ARN,
            ),
            external_id: reader.optional("ExternalId", &EXTERNAL_ID),
        }
    }
}
