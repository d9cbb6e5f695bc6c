//! Customer-managed policies and their versions.

use super::{path_or_default, path_prefix_or_default, Page, PolicyScope};
use crate::validate::{Reader, ARN, POLICY_DESCRIPTION, POLICY_DOCUMENT, POLICY_NAME, VERSION_ID};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatePolicy {
    pub policy_name: String,
    pub policy_document: String,
    pub path: String,
    pub description: Option<String>,
}

impl CreatePolicy {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        CreatePolicy {
            policy_name: reader.required("PolicyName", &POLICY_NAME),
            policy_document: reader.required("PolicyDocument", &POLICY_DOCUMENT),
            path: path_or_default(reader),
            description: reader.optional("Description", &POLICY_DESCRIPTION),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetPolicy {
    pub policy_arn: String,
}

impl GetPolicy {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        GetPolicy {
            policy_arn: reader.required("PolicyArn", &ARN),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletePolicy {
    pub policy_arn: String,
}

impl DeletePolicy {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        DeletePolicy {
            policy_arn: reader.required("PolicyArn", &ARN),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPolicies {
    /// `All` when absent, as AWS defaults.
    pub scope: PolicyScope,
    /// Only policies attached to some user, group or role.
    pub only_attached: bool,
    pub path_prefix: String,
    pub page: Page,
}

impl ListPolicies {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        ListPolicies {
            scope: reader
                .optional_choice("Scope", PolicyScope::CHOICES)
                .unwrap_or(PolicyScope::All),
            only_attached: reader.optional_bool("OnlyAttached").unwrap_or(false),
            path_prefix: path_prefix_or_default(reader),
            page: reader.page(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatePolicyVersion {
    pub policy_arn: String,
    pub policy_document: String,
    /// False when absent, as AWS defaults.
    pub set_as_default: bool,
}

impl CreatePolicyVersion {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        CreatePolicyVersion {
            policy_arn: reader.required("PolicyArn", &ARN),
            policy_document: reader.required("PolicyDocument", &POLICY_DOCUMENT),
            set_as_default: reader.optional_bool("SetAsDefault").unwrap_or(false),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetPolicyVersion {
    pub policy_arn: String,
    pub version_id: String,
}

impl GetPolicyVersion {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        GetPolicyVersion {
            policy_arn: reader.required("PolicyArn", &ARN),
            version_id: reader.required("VersionId", &VERSION_ID),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPolicyVersions {
    pub policy_arn: String,
    pub page: Page,
}

impl ListPolicyVersions {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        ListPolicyVersions {
            policy_arn: reader.required("PolicyArn", &ARN),
            page: reader.page(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletePolicyVersion {
    pub policy_arn: String,
    pub version_id: String,
}

impl DeletePolicyVersion {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        DeletePolicyVersion {
            policy_arn: reader.required("PolicyArn", &ARN),
            version_id: reader.required("VersionId", &VERSION_ID),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetDefaultPolicyVersion {
    pub policy_arn: String,
    pub version_id: String,
}

impl SetDefaultPolicyVersion {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        SetDefaultPolicyVersion {
            policy_arn: reader.required("PolicyArn", &ARN),
            version_id: reader.required("VersionId", &VERSION_ID),
        }
    }
}
