//! Roles, their inline policies and their attached managed policies.

use super::{path_or_default, path_prefix_or_default, Page};
use crate::validate::{Reader, ARN, POLICY_DOCUMENT, POLICY_NAME, ROLE_DESCRIPTION, ROLE_NAME};

/// The longest session a role allows when `MaxSessionDuration` is absent.
pub const DEFAULT_MAX_SESSION_DURATION_SECONDS: u32 = 3600;
pub const MIN_MAX_SESSION_DURATION_SECONDS: u32 = 3600;
pub const MAX_MAX_SESSION_DURATION_SECONDS: u32 = 43_200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRole {
    pub role_name: String,
    /// The trust policy, as the client's JSON text.
    pub assume_role_policy_document: String,
    pub path: String,
    pub description: Option<String>,
    pub max_session_duration_seconds: u32,
}

impl CreateRole {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        CreateRole {
            role_name: reader.required("RoleName", &ROLE_NAME),
            assume_role_policy_document: reader
                .required("AssumeRolePolicyDocument", &POLICY_DOCUMENT),
            path: path_or_default(reader),
            description: reader.optional("Description", &ROLE_DESCRIPTION),
            max_session_duration_seconds: reader
                .optional_u32(
                    "MaxSessionDuration",
                    MIN_MAX_SESSION_DURATION_SECONDS,
                    MAX_MAX_SESSION_DURATION_SECONDS,
                )
                .unwrap_or(DEFAULT_MAX_SESSION_DURATION_SECONDS),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRole {
    pub role_name: String,
}

impl GetRole {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        GetRole {
            role_name: reader.required("RoleName", &ROLE_NAME),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRoles {
    pub path_prefix: String,
    pub page: Page,
}

impl ListRoles {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        ListRoles {
            path_prefix: path_prefix_or_default(reader),
            page: reader.page(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRole {
    pub role_name: String,
}

impl DeleteRole {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        DeleteRole {
            role_name: reader.required("RoleName", &ROLE_NAME),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutRolePolicy {
    pub role_name: String,
    pub policy_name: String,
    pub policy_document: String,
}

impl PutRolePolicy {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        PutRolePolicy {
            role_name: reader.required("RoleName", &ROLE_NAME),
            policy_name: reader.required("PolicyName", &POLICY_NAME),
            policy_document: reader.required("PolicyDocument", &POLICY_DOCUMENT),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRolePolicy {
    pub role_name: String,
    pub policy_name: String,
}

impl GetRolePolicy {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        GetRolePolicy {
            role_name: reader.required("RoleName", &ROLE_NAME),
            policy_name: reader.required("PolicyName", &POLICY_NAME),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRolePolicy {
    pub role_name: String,
    pub policy_name: String,
}

impl DeleteRolePolicy {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        DeleteRolePolicy {
            role_name: reader.required("RoleName", &ROLE_NAME),
            policy_name: reader.required("PolicyName", &POLICY_NAME),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRolePolicies {
    pub role_name: String,
    pub page: Page,
}

impl ListRolePolicies {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        ListRolePolicies {
            role_name: reader.required("RoleName", &ROLE_NAME),
            page: reader.page(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachRolePolicy {
    pub role_name: String,
    pub policy_arn: String,
}

impl AttachRolePolicy {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        AttachRolePolicy {
            role_name: reader.required("RoleName", &ROLE_NAME),
            policy_arn: reader.required("PolicyArn", &ARN),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetachRolePolicy {
    pub role_name: String,
    pub policy_arn: String,
}

impl DetachRolePolicy {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        DetachRolePolicy {
            role_name: reader.required("RoleName", &ROLE_NAME),
            policy_arn: reader.required("PolicyArn", &ARN),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListAttachedRolePolicies {
    pub role_name: String,
    pub path_prefix: String,
    pub page: Page,
}

impl ListAttachedRolePolicies {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        ListAttachedRolePolicies {
            role_name: reader.required("RoleName", &ROLE_NAME),
            path_prefix: path_prefix_or_default(reader),
            page: reader.page(),
        }
    }
}
