use super::*;
use crate::error::ErrorCode;

fn iam(parameters: &str) -> Result<IamRequest, IamError> {
    let body = format!("Action={parameters}&Version=2010-05-08");
    parse_request(Service::Iam, "", body.as_bytes())
}

fn sts(parameters: &str) -> Result<IamRequest, IamError> {
    let body = format!("Action={parameters}&Version=2011-06-15");
    parse_request(Service::Sts, "", body.as_bytes())
}

fn page(marker: Option<&str>, max_items: Option<u32>) -> Page {
    Page {
        marker: marker.map(str::to_string),
        max_items,
    }
}

fn no_page() -> Page {
    page(None, None)
}

fn s(text: &str) -> String {
    text.to_string()
}

const ARN: &str = "arn:aws:iam::123456789012:policy/ReadOnly";
const ARN_ENCODED: &str = "arn%3Aaws%3Aiam%3A%3A123456789012%3Apolicy%2FReadOnly";
const DOCUMENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
const DOCUMENT_ENCODED: &str = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";

/// Every IAM action, parsed from a body as botocore writes it.
#[test]
fn parses_every_iam_action() {
    let user_policy = |name: &str| format!("{name}&UserName=alice&PolicyName=inline");
    let cases: Vec<(String, IamRequest)> = vec![
        (
            s("CreateUser&UserName=alice&Path=%2Fdev%2F"),
            IamRequest::CreateUser(CreateUser { user_name: s("alice"), path: s("/dev/") }),
        ),
        (
            s("GetUser"),
            IamRequest::GetUser(GetUser { user_name: None }),
        ),
        (
            s("GetUser&UserName=alice"),
            IamRequest::GetUser(GetUser { user_name: Some(s("alice")) }),
        ),
        (
            s("ListUsers&PathPrefix=%2Fdev%2F&Marker=opaque%2B1&MaxItems=50"),
            IamRequest::ListUsers(ListUsers {
                path_prefix: s("/dev/"),
                page: page(Some("opaque+1"), Some(50)),
            }),
        ),
        (
            s("DeleteUser&UserName=alice"),
            IamRequest::DeleteUser(DeleteUser { user_name: s("alice") }),
        ),
        (
            s("CreateAccessKey"),
            IamRequest::CreateAccessKey(CreateAccessKey { user_name: None }),
        ),
        (
            s("ListAccessKeys&UserName=alice"),
            IamRequest::ListAccessKeys(ListAccessKeys {
                user_name: Some(s("alice")),
                page: no_page(),
            }),
        ),
        (
            s("UpdateAccessKey&AccessKeyId=AKIAIOSFODNN7EXAMPLE&Status=Inactive"),
            IamRequest::UpdateAccessKey(UpdateAccessKey {
                user_name: None,
                access_key_id: s("AKIAIOSFODNN7EXAMPLE"),
                status: AccessKeyStatus::Inactive,
            }),
        ),
        (
            s("DeleteAccessKey&UserName=alice&AccessKeyId=AKIAIOSFODNN7EXAMPLE"),
            IamRequest::DeleteAccessKey(DeleteAccessKey {
                user_name: Some(s("alice")),
                access_key_id: s("AKIAIOSFODNN7EXAMPLE"),
            }),
        ),
        (
            format!("{}&PolicyDocument={DOCUMENT_ENCODED}", user_policy("PutUserPolicy")),
            IamRequest::PutUserPolicy(PutUserPolicy {
                user_name: s("alice"),
                policy_name: s("inline"),
                policy_document: s(DOCUMENT),
            }),
        ),
        (
            user_policy("GetUserPolicy"),
            IamRequest::GetUserPolicy(GetUserPolicy {
                user_name: s("alice"),
                policy_name: s("inline"),
            }),
        ),
        (
            user_policy("DeleteUserPolicy"),
            IamRequest::DeleteUserPolicy(DeleteUserPolicy {
                user_name: s("alice"),
                policy_name: s("inline"),
            }),
        ),
        (
            s("ListUserPolicies&UserName=alice&MaxItems=1000"),
            IamRequest::ListUserPolicies(ListUserPolicies {
                user_name: s("alice"),
                page: page(None, Some(1000)),
            }),
        ),
        (
            format!("AttachUserPolicy&UserName=alice&PolicyArn={ARN_ENCODED}"),
            IamRequest::AttachUserPolicy(AttachUserPolicy {
                user_name: s("alice"),
                policy_arn: s(ARN),
            }),
        ),
        (
            format!("DetachUserPolicy&UserName=alice&PolicyArn={ARN_ENCODED}"),
            IamRequest::DetachUserPolicy(DetachUserPolicy {
                user_name: s("alice"),
                policy_arn: s(ARN),
            }),
        ),
        (
            s("ListAttachedUserPolicies&UserName=alice"),
            IamRequest::ListAttachedUserPolicies(ListAttachedUserPolicies {
                user_name: s("alice"),
                path_prefix: s("/"),
                page: no_page(),
            }),
        ),
        (
            format!(
                "CreatePolicy&PolicyName=ReadOnly&PolicyDocument={DOCUMENT_ENCODED}\
                 &Path=%2Fteam%2F&Description=Read+only%2C+really"
            ),
            IamRequest::CreatePolicy(CreatePolicy {
                policy_name: s("ReadOnly"),
                policy_document: s(DOCUMENT),
                path: s("/team/"),
                description: Some(s("Read only, really")),
            }),
        ),
        (
            format!("GetPolicy&PolicyArn={ARN_ENCODED}"),
            IamRequest::GetPolicy(GetPolicy { policy_arn: s(ARN) }),
        ),
        (
            format!("DeletePolicy&PolicyArn={ARN_ENCODED}"),
            IamRequest::DeletePolicy(DeletePolicy { policy_arn: s(ARN) }),
        ),
        (
            s("ListPolicies&Scope=Local&OnlyAttached=true&MaxItems=10"),
            IamRequest::ListPolicies(ListPolicies {
                scope: PolicyScope::Local,
                only_attached: true,
                path_prefix: s("/"),
                page: page(None, Some(10)),
            }),
        ),
        (
            s("ListPolicies"),
            IamRequest::ListPolicies(ListPolicies {
                scope: PolicyScope::All,
                only_attached: false,
                path_prefix: s("/"),
                page: no_page(),
            }),
        ),
        (
            format!(
                "CreatePolicyVersion&PolicyArn={ARN_ENCODED}&PolicyDocument={DOCUMENT_ENCODED}\
                 &SetAsDefault=true"
            ),
            IamRequest::CreatePolicyVersion(CreatePolicyVersion {
                policy_arn: s(ARN),
                policy_document: s(DOCUMENT),
                set_as_default: true,
            }),
        ),
        (
            format!("GetPolicyVersion&PolicyArn={ARN_ENCODED}&VersionId=v2"),
            IamRequest::GetPolicyVersion(GetPolicyVersion {
                policy_arn: s(ARN),
                version_id: s("v2"),
            }),
        ),
        (
            format!("ListPolicyVersions&PolicyArn={ARN_ENCODED}"),
            IamRequest::ListPolicyVersions(ListPolicyVersions {
                policy_arn: s(ARN),
                page: no_page(),
            }),
        ),
        (
            format!("DeletePolicyVersion&PolicyArn={ARN_ENCODED}&VersionId=v3"),
            IamRequest::DeletePolicyVersion(DeletePolicyVersion {
                policy_arn: s(ARN),
                version_id: s("v3"),
            }),
        ),
        (
            format!("SetDefaultPolicyVersion&PolicyArn={ARN_ENCODED}&VersionId=v1"),
            IamRequest::SetDefaultPolicyVersion(SetDefaultPolicyVersion {
                policy_arn: s(ARN),
                version_id: s("v1"),
            }),
        ),
        (
            s("CreateGroup&GroupName=admins"),
            IamRequest::CreateGroup(CreateGroup { group_name: s("admins"), path: s("/") }),
        ),
        (
            s("GetGroup&GroupName=admins&MaxItems=2"),
            IamRequest::GetGroup(GetGroup {
                group_name: s("admins"),
                page: page(None, Some(2)),
            }),
        ),
        (
            s("DeleteGroup&GroupName=admins"),
            IamRequest::DeleteGroup(DeleteGroup { group_name: s("admins") }),
        ),
        (
            s("ListGroups&PathPrefix=%2F"),
            IamRequest::ListGroups(ListGroups { path_prefix: s("/"), page: no_page() }),
        ),
        (
            s("AddUserToGroup&GroupName=admins&UserName=alice"),
            IamRequest::AddUserToGroup(AddUserToGroup {
                group_name: s("admins"),
                user_name: s("alice"),
            }),
        ),
        (
            s("RemoveUserFromGroup&GroupName=admins&UserName=alice"),
            IamRequest::RemoveUserFromGroup(RemoveUserFromGroup {
                group_name: s("admins"),
                user_name: s("alice"),
            }),
        ),
        (
            s("ListGroupsForUser&UserName=alice"),
            IamRequest::ListGroupsForUser(ListGroupsForUser {
                user_name: s("alice"),
                page: no_page(),
            }),
        ),
        (
            format!("PutGroupPolicy&GroupName=admins&PolicyName=inline&PolicyDocument={DOCUMENT_ENCODED}"),
            IamRequest::PutGroupPolicy(PutGroupPolicy {
                group_name: s("admins"),
                policy_name: s("inline"),
                policy_document: s(DOCUMENT),
            }),
        ),
        (
            s("GetGroupPolicy&GroupName=admins&PolicyName=inline"),
            IamRequest::GetGroupPolicy(GetGroupPolicy {
                group_name: s("admins"),
                policy_name: s("inline"),
            }),
        ),
        (
            s("DeleteGroupPolicy&GroupName=admins&PolicyName=inline"),
            IamRequest::DeleteGroupPolicy(DeleteGroupPolicy {
                group_name: s("admins"),
                policy_name: s("inline"),
            }),
        ),
        (
            s("ListGroupPolicies&GroupName=admins"),
            IamRequest::ListGroupPolicies(ListGroupPolicies {
                group_name: s("admins"),
                page: no_page(),
            }),
        ),
        (
            format!("AttachGroupPolicy&GroupName=admins&PolicyArn={ARN_ENCODED}"),
            IamRequest::AttachGroupPolicy(AttachGroupPolicy {
                group_name: s("admins"),
                policy_arn: s(ARN),
            }),
        ),
        (
            format!("DetachGroupPolicy&GroupName=admins&PolicyArn={ARN_ENCODED}"),
            IamRequest::DetachGroupPolicy(DetachGroupPolicy {
                group_name: s("admins"),
                policy_arn: s(ARN),
            }),
        ),
        (
            s("ListAttachedGroupPolicies&GroupName=admins&PathPrefix=%2Fteam%2F"),
            IamRequest::ListAttachedGroupPolicies(ListAttachedGroupPolicies {
                group_name: s("admins"),
                path_prefix: s("/team/"),
                page: no_page(),
            }),
        ),
        (
            format!(
                "CreateRole&RoleName=reader&AssumeRolePolicyDocument={DOCUMENT_ENCODED}\
                 &MaxSessionDuration=7200&Description=reads&Path=%2Fsvc%2F"
            ),
            IamRequest::CreateRole(CreateRole {
                role_name: s("reader"),
                assume_role_policy_document: s(DOCUMENT),
                path: s("/svc/"),
                description: Some(s("reads")),
                max_session_duration_seconds: 7200,
            }),
        ),
        (
            format!("CreateRole&RoleName=reader&AssumeRolePolicyDocument={DOCUMENT_ENCODED}"),
            IamRequest::CreateRole(CreateRole {
                role_name: s("reader"),
                assume_role_policy_document: s(DOCUMENT),
                path: s("/"),
                description: None,
                max_session_duration_seconds: 3600,
            }),
        ),
        (
            s("GetRole&RoleName=reader"),
            IamRequest::GetRole(GetRole { role_name: s("reader") }),
        ),
        (
            s("ListRoles"),
            IamRequest::ListRoles(ListRoles { path_prefix: s("/"), page: no_page() }),
        ),
        (
            s("DeleteRole&RoleName=reader"),
            IamRequest::DeleteRole(DeleteRole { role_name: s("reader") }),
        ),
        (
            format!("PutRolePolicy&RoleName=reader&PolicyName=inline&PolicyDocument={DOCUMENT_ENCODED}"),
            IamRequest::PutRolePolicy(PutRolePolicy {
                role_name: s("reader"),
                policy_name: s("inline"),
                policy_document: s(DOCUMENT),
            }),
        ),
        (
            s("GetRolePolicy&RoleName=reader&PolicyName=inline"),
            IamRequest::GetRolePolicy(GetRolePolicy {
                role_name: s("reader"),
                policy_name: s("inline"),
            }),
        ),
        (
            s("DeleteRolePolicy&RoleName=reader&PolicyName=inline"),
            IamRequest::DeleteRolePolicy(DeleteRolePolicy {
                role_name: s("reader"),
                policy_name: s("inline"),
            }),
        ),
        (
            s("ListRolePolicies&RoleName=reader"),
            IamRequest::ListRolePolicies(ListRolePolicies {
                role_name: s("reader"),
                page: no_page(),
            }),
        ),
        (
            format!("AttachRolePolicy&RoleName=reader&PolicyArn={ARN_ENCODED}"),
            IamRequest::AttachRolePolicy(AttachRolePolicy {
                role_name: s("reader"),
                policy_arn: s(ARN),
            }),
        ),
        (
            format!("DetachRolePolicy&RoleName=reader&PolicyArn={ARN_ENCODED}"),
            IamRequest::DetachRolePolicy(DetachRolePolicy {
                role_name: s("reader"),
                policy_arn: s(ARN),
            }),
        ),
        (
            s("ListAttachedRolePolicies&RoleName=reader"),
            IamRequest::ListAttachedRolePolicies(ListAttachedRolePolicies {
                role_name: s("reader"),
                path_prefix: s("/"),
                page: no_page(),
            }),
        ),
    ];
    let mut covered = std::collections::HashSet::new();
    for (parameters, expected) in cases {
        let parsed = iam(&parameters).unwrap_or_else(|error| panic!("{parameters}: {error}"));
        assert_eq!(parsed, expected, "{parameters}");
        assert_eq!(parsed.service(), Service::Iam);
        covered.insert(parsed.operation());
    }
    let iam_operations = Operation::ALL
        .iter()
        .filter(|operation| operation.service() == Service::Iam);
    for operation in iam_operations {
        assert!(
            covered.contains(operation),
            "{operation:?} has no parse case"
        );
    }
}

#[test]
fn parses_every_sts_action() {
    assert_eq!(
        sts("GetCallerIdentity").expect("no parameters"),
        IamRequest::GetCallerIdentity(GetCallerIdentity {})
    );
    assert_eq!(
        sts("GetSessionToken").expect("defaults"),
        IamRequest::GetSessionToken(GetSessionToken {
            duration_seconds: 43_200
        })
    );
    assert_eq!(
        sts("GetSessionToken&DurationSeconds=129600").expect("maximum"),
        IamRequest::GetSessionToken(GetSessionToken {
            duration_seconds: 129_600
        })
    );
    let role_arn = "arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Freader";
    assert_eq!(
        sts(&format!(
            "AssumeRole&RoleArn={role_arn}&RoleSessionName=build-42"
        ))
        .expect("defaults"),
        IamRequest::AssumeRole(AssumeRole {
            role_arn: s("arn:aws:iam::123456789012:role/reader"),
            role_session_name: s("build-42"),
            duration_seconds: 3600,
            policy: None,
            policy_arns: Vec::new(),
            external_id: None,
        })
    );
    let full = format!(
        "AssumeRole&RoleArn={role_arn}&RoleSessionName=s%40example.com&DurationSeconds=900\
         &Policy={DOCUMENT_ENCODED}&ExternalId=tenant%3A7\
         &PolicyArns.member.1.arn={ARN_ENCODED}&PolicyArns.member.2.arn={ARN_ENCODED}2"
    );
    assert_eq!(
        sts(&full).expect("all parameters"),
        IamRequest::AssumeRole(AssumeRole {
            role_arn: s("arn:aws:iam::123456789012:role/reader"),
            role_session_name: s("s@example.com"),
            duration_seconds: 900,
            policy: Some(s(DOCUMENT)),
            policy_arns: vec![s(ARN), format!("{ARN}2")],
            external_id: Some(s("tenant:7")),
        })
    );
}

/// STYLE: every operation's IAM action, row by row.
#[test]
fn action_table() {
    let table: &[(Operation, &str)] = &[
        (Operation::CreateUser, "iam:CreateUser"),
        (Operation::GetUser, "iam:GetUser"),
        (Operation::ListUsers, "iam:ListUsers"),
        (Operation::DeleteUser, "iam:DeleteUser"),
        (Operation::CreateAccessKey, "iam:CreateAccessKey"),
        (Operation::ListAccessKeys, "iam:ListAccessKeys"),
        (Operation::UpdateAccessKey, "iam:UpdateAccessKey"),
        (Operation::DeleteAccessKey, "iam:DeleteAccessKey"),
        (Operation::PutUserPolicy, "iam:PutUserPolicy"),
        (Operation::GetUserPolicy, "iam:GetUserPolicy"),
        (Operation::DeleteUserPolicy, "iam:DeleteUserPolicy"),
        (Operation::ListUserPolicies, "iam:ListUserPolicies"),
        (Operation::AttachUserPolicy, "iam:AttachUserPolicy"),
        (Operation::DetachUserPolicy, "iam:DetachUserPolicy"),
        (
            Operation::ListAttachedUserPolicies,
            "iam:ListAttachedUserPolicies",
        ),
        (Operation::CreatePolicy, "iam:CreatePolicy"),
        (Operation::GetPolicy, "iam:GetPolicy"),
        (Operation::DeletePolicy, "iam:DeletePolicy"),
        (Operation::ListPolicies, "iam:ListPolicies"),
        (Operation::CreatePolicyVersion, "iam:CreatePolicyVersion"),
        (Operation::GetPolicyVersion, "iam:GetPolicyVersion"),
        (Operation::ListPolicyVersions, "iam:ListPolicyVersions"),
        (Operation::DeletePolicyVersion, "iam:DeletePolicyVersion"),
        (
            Operation::SetDefaultPolicyVersion,
            "iam:SetDefaultPolicyVersion",
        ),
        (Operation::CreateGroup, "iam:CreateGroup"),
        (Operation::GetGroup, "iam:GetGroup"),
        (Operation::DeleteGroup, "iam:DeleteGroup"),
        (Operation::ListGroups, "iam:ListGroups"),
        (Operation::AddUserToGroup, "iam:AddUserToGroup"),
        (Operation::RemoveUserFromGroup, "iam:RemoveUserFromGroup"),
        (Operation::ListGroupsForUser, "iam:ListGroupsForUser"),
        (Operation::PutGroupPolicy, "iam:PutGroupPolicy"),
        (Operation::GetGroupPolicy, "iam:GetGroupPolicy"),
        (Operation::DeleteGroupPolicy, "iam:DeleteGroupPolicy"),
        (Operation::ListGroupPolicies, "iam:ListGroupPolicies"),
        (Operation::AttachGroupPolicy, "iam:AttachGroupPolicy"),
        (Operation::DetachGroupPolicy, "iam:DetachGroupPolicy"),
        (
            Operation::ListAttachedGroupPolicies,
            "iam:ListAttachedGroupPolicies",
        ),
        (Operation::CreateRole, "iam:CreateRole"),
        (Operation::GetRole, "iam:GetRole"),
        (Operation::ListRoles, "iam:ListRoles"),
        (Operation::DeleteRole, "iam:DeleteRole"),
        (Operation::PutRolePolicy, "iam:PutRolePolicy"),
        (Operation::GetRolePolicy, "iam:GetRolePolicy"),
        (Operation::DeleteRolePolicy, "iam:DeleteRolePolicy"),
        (Operation::ListRolePolicies, "iam:ListRolePolicies"),
        (Operation::AttachRolePolicy, "iam:AttachRolePolicy"),
        (Operation::DetachRolePolicy, "iam:DetachRolePolicy"),
        (
            Operation::ListAttachedRolePolicies,
            "iam:ListAttachedRolePolicies",
        ),
        (Operation::GetCallerIdentity, "sts:GetCallerIdentity"),
        (Operation::GetSessionToken, "sts:GetSessionToken"),
        (Operation::AssumeRole, "sts:AssumeRole"),
    ];
    assert_eq!(table.len(), Operation::ALL.len());
    for (operation, action) in table {
        assert_eq!(operation.action(), *action);
        let (prefix, name) = action.split_once(':').expect("service:name");
        assert_eq!(operation.name(), name);
        assert_eq!(operation.service().as_str(), prefix);
        assert_eq!(Operation::find(operation.service(), name), Some(*operation));
    }
    let request = iam("DeleteUser&UserName=alice").expect("valid");
    assert_eq!(request.action(), "iam:DeleteUser");
}

#[test]
fn query_string_parameters_work_for_get() {
    let request = parse_request(
        Service::Iam,
        "Action=ListUsers&Version=2010-05-08&MaxItems=5",
        b"",
    )
    .expect("valid");
    assert_eq!(
        request,
        IamRequest::ListUsers(ListUsers {
            path_prefix: s("/"),
            page: page(None, Some(5))
        })
    );
}

#[test]
fn unknown_action_version_and_service_are_invalid_action() {
    let error = iam("Frobnicate").unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidAction);
    assert_eq!(error.status_code_u16(), 400);
    assert_eq!(
        error.message,
        "Could not find operation Frobnicate for version 2010-05-08"
    );

    // An STS action sent to IAM (and the reverse) is unknown there.
    let error = iam("AssumeRole&RoleArn=x&RoleSessionName=y").unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidAction);
    let error = sts("CreateUser&UserName=alice").unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidAction);

    let wrong_version =
        parse_request(Service::Iam, "", b"Action=ListUsers&Version=2011-06-15").unwrap_err();
    assert_eq!(wrong_version.code, ErrorCode::InvalidAction);
    assert_eq!(
        wrong_version.message,
        "Could not find operation ListUsers for version 2011-06-15"
    );

    let no_action = parse_request(Service::Iam, "", b"Version=2010-05-08").unwrap_err();
    assert_eq!(no_action.code, ErrorCode::MissingAction);
    let no_version = parse_request(Service::Iam, "", b"Action=ListUsers").unwrap_err();
    assert_eq!(no_version.code, ErrorCode::MissingParameter);
    assert_eq!(
        no_version.message,
        "The request must contain the parameter Version."
    );
}

#[test]
fn missing_and_invalid_parameters_are_validation_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "CreateUser",
            "1 validation error detected: Value null at 'userName' failed to satisfy \
             constraint: Member must not be null",
        ),
        (
            "CreateUser&UserName=al%20ice",
            "1 validation error detected: Value 'al ice' at 'userName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        ),
        (
            "CreateUser&UserName=alice&Path=dev",
            "1 validation error detected: Value 'dev' at 'path' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: \
             (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
        ),
        (
            "PutUserPolicy&UserName=alice",
            "2 validation errors detected: Value null at 'policyName' failed to satisfy \
             constraint: Member must not be null; Value null at 'policyDocument' failed to \
             satisfy constraint: Member must not be null",
        ),
        (
            "UpdateAccessKey&AccessKeyId=AKIAIOSFODNN7EXAMPLE&Status=Expired",
            "1 validation error detected: Value 'Expired' at 'status' failed to satisfy \
             constraint: Member must satisfy enum value set: [Active, Inactive]",
        ),
        (
            "UpdateAccessKey&AccessKeyId=AKIAIOSFODNN7EXAMPLE",
            "1 validation error detected: Value null at 'status' failed to satisfy \
             constraint: Member must not be null",
        ),
        (
            "ListUsers&MaxItems=0",
            "1 validation error detected: Value '0' at 'maxItems' failed to satisfy \
             constraint: Member must have value greater than or equal to 1",
        ),
        (
            "ListUsers&MaxItems=1001",
            "1 validation error detected: Value '1001' at 'maxItems' failed to satisfy \
             constraint: Member must have value less than or equal to 1000",
        ),
        (
            "ListUsers&MaxItems=ten",
            "1 validation error detected: Value 'ten' at 'maxItems' failed to satisfy \
             constraint: Member must be a number",
        ),
        (
            "ListUsers&Marker=",
            "1 validation error detected: Value '' at 'marker' failed to satisfy \
             constraint: Member must have length greater than or equal to 1",
        ),
        (
            "ListPolicies&Scope=Mine&OnlyAttached=yes",
            "2 validation errors detected: Value 'Mine' at 'scope' failed to satisfy \
             constraint: Member must satisfy enum value set: [All, AWS, Local]; Value 'yes' \
             at 'onlyAttached' failed to satisfy constraint: Member must be one of: [true, false]",
        ),
        (
            "CreateRole&RoleName=r&AssumeRolePolicyDocument=%7B%7D&MaxSessionDuration=3599",
            "1 validation error detected: Value '3599' at 'maxSessionDuration' failed to \
             satisfy constraint: Member must have value greater than or equal to 3600",
        ),
        (
            "CreateRole&RoleName=r&AssumeRolePolicyDocument=%7B%7D&MaxSessionDuration=43201",
            "1 validation error detected: Value '43201' at 'maxSessionDuration' failed to \
             satisfy constraint: Member must have value less than or equal to 43200",
        ),
        (
            "GetPolicyVersion&PolicyArn=arn%3Aaws%3Aiam%3A%3A1%3Apolicy%2Fp&VersionId=v0",
            "1 validation error detected: Value 'v0' at 'versionId' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: \
             v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?",
        ),
        (
            "GetPolicy&PolicyArn=arn",
            "1 validation error detected: Value 'arn' at 'policyArn' failed to satisfy \
             constraint: Member must have length greater than or equal to 20",
        ),
    ];
    for (parameters, expected) in cases {
        let error = iam(parameters).unwrap_err();
        assert_eq!(error.code, ErrorCode::ValidationError, "{parameters}");
        assert_eq!(error.status_code_u16(), 400);
        assert_eq!(error.message, *expected, "{parameters}");
    }
}

#[test]
fn sts_durations_and_names_are_bounded() {
    let role = "AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr";
    let cases: &[(String, bool)] = &[
        (
            format!("{role}&RoleSessionName=ab&DurationSeconds=900"),
            true,
        ),
        (
            format!("{role}&RoleSessionName=ab&DurationSeconds=43200"),
            true,
        ),
        (
            format!("{role}&RoleSessionName=ab&DurationSeconds=899"),
            false,
        ),
        (
            format!("{role}&RoleSessionName=ab&DurationSeconds=43201"),
            false,
        ),
        (
            format!("{role}&RoleSessionName=ab&DurationSeconds=-1"),
            false,
        ),
        (
            format!("{role}&RoleSessionName=ab&DurationSeconds=99999999999999999999"),
            false,
        ),
        (format!("{role}&RoleSessionName=a"), false),
        (format!("{role}&RoleSessionName={}", "a".repeat(64)), true),
        (format!("{role}&RoleSessionName={}", "a".repeat(65)), false),
        (format!("{role}&RoleSessionName=a%2Fb"), false),
        (format!("{role}&RoleSessionName=ab&ExternalId=x"), false),
        (role.to_string(), false),
        (s("GetSessionToken&DurationSeconds=899"), false),
        (s("GetSessionToken&DurationSeconds=129601"), false),
        (s("GetSessionToken&DurationSeconds=900"), true),
    ];
    for (parameters, valid) in cases {
        let result = sts(parameters);
        assert_eq!(result.is_ok(), *valid, "{parameters}: {result:?}");
        if let Err(error) = result {
            assert_eq!(error.code, ErrorCode::ValidationError, "{parameters}");
        }
    }

    let eleven: String = (1..=11)
        .map(|index| format!("&PolicyArns.member.{index}.arn={ARN_ENCODED}"))
        .collect();
    let error = sts(&format!("{role}&RoleSessionName=ab{eleven}")).unwrap_err();
    assert_eq!(error.code, ErrorCode::ValidationError);
    assert!(error.message.contains("'policyArns'"), "{}", error.message);
}

#[test]
fn error_count_in_message_is_bounded() {
    // Every inline-policy field wrong at once still yields one bounded message.
    let long = "x".repeat(2000);
    let error = iam(&format!(
        "CreateRole&RoleName={long}&AssumeRolePolicyDocument=&Description=%01&Path={long}\
         &MaxSessionDuration=1"
    ))
    .unwrap_err();
    assert_eq!(error.code, ErrorCode::ValidationError);
    assert!(error.message.len() < 4000, "{}", error.message.len());
}

/// Every truncation of a request, including ones that cut escapes and
/// multi-byte characters, yields an answer rather than a panic.
#[test]
fn truncated_input_never_panics() {
    let body = format!(
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr\
         &RoleSessionName=s%C3%A9&DurationSeconds=900&Policy={DOCUMENT_ENCODED}\
         &PolicyArns.member.1.arn=é&ExternalId=%"
    );
    for end in 0..=body.len() {
        let _ = parse_request(Service::Sts, "", &body.as_bytes()[..end]);
        let _ = parse_request(Service::Iam, "", &body.as_bytes()[..end]);
    }
    let authorization = "AWS4-HMAC-SHA256 Credential=AKIDé/20150830/us-east-1/iam/aws4_request, \
                         SignedHeaders=host;x-amz-date, Signature=ab€";
    for end in (0..=authorization.len()).filter(|end| authorization.is_char_boundary(*end)) {
        let headers = [
            ("X-Amz-Date", "20150830T123600Z"),
            ("Authorization", &authorization[..end]),
        ];
        let _ = crate::sigv4::parse_authorization(&headers);
    }
}
