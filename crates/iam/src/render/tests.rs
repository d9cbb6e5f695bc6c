use time::macros::datetime;

use super::*;
use crate::action::Operation;
use crate::request::AccessKeyStatus;
use crate::response::{
    AssumeRoleView, AssumedRoleUserView, CallerIdentityView, GetGroupView, ListAccessKeysView,
};

const IAM_NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const CREATED: OffsetDateTime = datetime!(2026-11-27 19:42:35 UTC);

fn alice() -> UserView {
    UserView {
        path: "/dev/".to_string(),
        user_name: "alice".to_string(),
        user_id: "AIDACKCEVSQ6C2EXAMPLE".to_string(),
        arn: "arn:aws:iam::123456789012:user/dev/alice".to_string(),
        create_date: CREATED,
    }
}

const ALICE_XML: &str = "<Path>/dev/</Path><UserName>alice</UserName>\
    <UserId>AIDACKCEVSQ6C2EXAMPLE</UserId>\
    <Arn>arn:aws:iam::123456789012:user/dev/alice</Arn>\
    <CreateDate>2026-11-27T19:42:35Z</CreateDate>";

#[test]
fn create_user() {
    let xml = render(&IamResponse::CreateUser(alice()), "req-1");
    assert_eq!(
        xml,
        format!(
            "<CreateUserResponse xmlns=\"{IAM_NS}\"><CreateUserResult><User>{ALICE_XML}</User>\
             </CreateUserResult><ResponseMetadata><RequestId>req-1</RequestId>\
             </ResponseMetadata></CreateUserResponse>"
        )
    );
}

#[test]
fn empty_results_carry_only_metadata() {
    let xml = render(&IamResponse::Empty(Operation::DeleteUser), "req-2");
    assert_eq!(
        xml,
        format!(
            "<DeleteUserResponse xmlns=\"{IAM_NS}\"><ResponseMetadata><RequestId>req-2\
             </RequestId></ResponseMetadata></DeleteUserResponse>"
        )
    );
}

#[test]
fn list_users_truncated_with_marker() {
    let page = ListPage {
        items: vec![alice()],
        is_truncated: true,
        marker: Some("next&1".to_string()),
    };
    let xml = render(&IamResponse::ListUsers(page), "req-3");
    assert_eq!(
        xml,
        format!(
            "<ListUsersResponse xmlns=\"{IAM_NS}\"><ListUsersResult><Users><member>{ALICE_XML}\
             </member></Users><IsTruncated>true</IsTruncated><Marker>next&amp;1</Marker>\
             </ListUsersResult><ResponseMetadata><RequestId>req-3</RequestId>\
             </ResponseMetadata></ListUsersResponse>"
        )
    );
    let empty = render(
        &IamResponse::ListUserPolicies(ListPage::complete(Vec::new())),
        "r",
    );
    assert!(empty.contains(
        "<ListUserPoliciesResult><PolicyNames></PolicyNames><IsTruncated>false</IsTruncated>\
         </ListUserPoliciesResult>"
    ));
}

#[test]
fn access_keys_show_the_secret_only_when_given() {
    let key = AccessKeyView {
        user_name: "alice".to_string(),
        access_key_id: "AKIAIOSFODNN7EXAMPLE".to_string(),
        status: AccessKeyStatus::Active,
        secret_access_key: Some("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_string()),
        create_date: CREATED,
    };
    let created = render(&IamResponse::CreateAccessKey(key.clone()), "r");
    assert!(created.contains(
        "<CreateAccessKeyResult><AccessKey><UserName>alice</UserName>\
         <AccessKeyId>AKIAIOSFODNN7EXAMPLE</AccessKeyId><Status>Active</Status>\
         <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>\
         <CreateDate>2026-11-27T19:42:35Z</CreateDate></AccessKey></CreateAccessKeyResult>"
    ));
    let listed = render(
        &IamResponse::ListAccessKeys(ListAccessKeysView {
            user_name: "alice".to_string(),
            keys: ListPage::complete(vec![AccessKeyView {
                secret_access_key: None,
                status: AccessKeyStatus::Inactive,
                ..key
            }]),
        }),
        "r",
    );
    assert!(listed.contains(
        "<ListAccessKeysResult><UserName>alice</UserName><AccessKeyMetadata><member>\
         <UserName>alice</UserName><AccessKeyId>AKIAIOSFODNN7EXAMPLE</AccessKeyId>\
         <Status>Inactive</Status><CreateDate>2026-11-27T19:42:35Z</CreateDate></member>\
         </AccessKeyMetadata><IsTruncated>false</IsTruncated></ListAccessKeysResult>"
    ));
    assert!(!listed.contains("SecretAccessKey"));
}

#[test]
fn policy_documents_are_url_encoded() {
    let policy = InlinePolicyView {
        owner_name: "admins".to_string(),
        policy_name: "all".to_string(),
        policy_document: r#"{"Version": "2012-10-17", "Statement": []}"#.to_string(),
    };
    let xml = render(&IamResponse::GetGroupPolicy(policy), "r");
    assert!(xml.contains(
        "<GetGroupPolicyResult><GroupName>admins</GroupName><PolicyName>all</PolicyName>\
         <PolicyDocument>%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20\
         %5B%5D%7D</PolicyDocument></GetGroupPolicyResult>"
    ));

    let version = PolicyVersionView {
        document: Some("{}".to_string()),
        version_id: "v2".to_string(),
        is_default_version: false,
        create_date: CREATED,
    };
    let xml = render(&IamResponse::GetPolicyVersion(version.clone()), "r");
    assert!(xml.contains(
        "<PolicyVersion><Document>%7B%7D</Document><VersionId>v2</VersionId>\
         <IsDefaultVersion>false</IsDefaultVersion><CreateDate>2026-11-27T19:42:35Z\
         </CreateDate></PolicyVersion>"
    ));
    let listed = render(
        &IamResponse::ListPolicyVersions(ListPage::complete(vec![PolicyVersionView {
            document: None,
            ..version
        }])),
        "r",
    );
    assert!(listed.contains("<Versions><member><VersionId>v2</VersionId>"));
}

#[test]
fn managed_policy() {
    let policy = PolicyView {
        policy_name: "ReadOnly".to_string(),
        policy_id: "ANPAEXAMPLE".to_string(),
        arn: "arn:aws:iam::123456789012:policy/ReadOnly".to_string(),
        path: "/".to_string(),
        default_version_id: "v1".to_string(),
        attachment_count: 3,
        is_attachable: true,
        description: Some("Reads <things>".to_string()),
        create_date: CREATED,
        update_date: datetime!(2026-11-28 01:02:03 +02:00),
    };
    let xml = render(&IamResponse::CreatePolicy(policy), "r");
    assert!(xml.contains(
        "<CreatePolicyResult><Policy><PolicyName>ReadOnly</PolicyName>\
         <PolicyId>ANPAEXAMPLE</PolicyId><Arn>arn:aws:iam::123456789012:policy/ReadOnly</Arn>\
         <Path>/</Path><DefaultVersionId>v1</DefaultVersionId>\
         <AttachmentCount>3</AttachmentCount><IsAttachable>true</IsAttachable>\
         <Description>Reads &lt;things&gt;</Description>\
         <CreateDate>2026-11-27T19:42:35Z</CreateDate>\
         <UpdateDate>2026-11-27T23:02:03Z</UpdateDate></Policy></CreatePolicyResult>"
    ));
}

#[test]
fn role_and_group() {
    let role = RoleView {
        path: "/".to_string(),
        role_name: "reader".to_string(),
        role_id: "AROAEXAMPLE".to_string(),
        arn: "arn:aws:iam::123456789012:role/reader".to_string(),
        create_date: CREATED,
        assume_role_policy_document: "{}".to_string(),
        description: None,
        max_session_duration_seconds: 3600,
    };
    let xml = render(&IamResponse::GetRole(role), "r");
    assert!(xml.contains(
        "<GetRoleResult><Role><Path>/</Path><RoleName>reader</RoleName>\
         <RoleId>AROAEXAMPLE</RoleId><Arn>arn:aws:iam::123456789012:role/reader</Arn>\
         <CreateDate>2026-11-27T19:42:35Z</CreateDate>\
         <AssumeRolePolicyDocument>%7B%7D</AssumeRolePolicyDocument>\
         <MaxSessionDuration>3600</MaxSessionDuration></Role></GetRoleResult>"
    ));

    let group = GroupView {
        path: "/".to_string(),
        group_name: "admins".to_string(),
        group_id: "AGPAEXAMPLE".to_string(),
        arn: "arn:aws:iam::123456789012:group/admins".to_string(),
        create_date: CREATED,
    };
    let xml = render(
        &IamResponse::GetGroup(GetGroupView {
            group,
            users: ListPage::complete(vec![alice()]),
        }),
        "r",
    );
    assert!(xml.contains(
        "<GetGroupResult><Group><Path>/</Path><GroupName>admins</GroupName>\
         <GroupId>AGPAEXAMPLE</GroupId><Arn>arn:aws:iam::123456789012:group/admins</Arn>\
         <CreateDate>2026-11-27T19:42:35Z</CreateDate></Group><Users><member>"
    ));
    assert!(xml.contains("</Users><IsTruncated>false</IsTruncated></GetGroupResult>"));

    let attached = render(
        &IamResponse::ListAttachedRolePolicies(ListPage::complete(vec![AttachedPolicyView {
            policy_name: "ReadOnly".to_string(),
            policy_arn: "arn:aws:iam::123456789012:policy/ReadOnly".to_string(),
        }])),
        "r",
    );
    assert!(attached.contains(
        "<AttachedPolicies><member><PolicyName>ReadOnly</PolicyName>\
         <PolicyArn>arn:aws:iam::123456789012:policy/ReadOnly</PolicyArn></member>\
         </AttachedPolicies>"
    ));
}

#[test]
fn sts_results_use_the_sts_namespace() {
    let identity = CallerIdentityView {
        user_id: "AIDACKCEVSQ6C2EXAMPLE".to_string(),
        account: "123456789012".to_string(),
        arn: "arn:aws:iam::123456789012:user/alice".to_string(),
    };
    assert_eq!(
        render(&IamResponse::GetCallerIdentity(identity), "req-4"),
        format!(
            "<GetCallerIdentityResponse xmlns=\"{STS_NS}\"><GetCallerIdentityResult>\
             <UserId>AIDACKCEVSQ6C2EXAMPLE</UserId><Account>123456789012</Account>\
             <Arn>arn:aws:iam::123456789012:user/alice</Arn></GetCallerIdentityResult>\
             <ResponseMetadata><RequestId>req-4</RequestId></ResponseMetadata>\
             </GetCallerIdentityResponse>"
        )
    );

    let credentials = CredentialsView {
        access_key_id: "ASIAEXAMPLE".to_string(),
        secret_access_key: "secret".to_string(),
        session_token: "token/with+chars=".to_string(),
        expiration: CREATED,
    };
    let xml = render(
        &IamResponse::AssumeRole(AssumeRoleView {
            credentials,
            assumed_role_user: AssumedRoleUserView {
                assumed_role_id: "AROAEXAMPLE:build-42".to_string(),
                arn: "arn:aws:sts::123456789012:assumed-role/reader/build-42".to_string(),
            },
            packed_policy_size_percent: Some(6),
        }),
        "req-5",
    );
    assert_eq!(
        xml,
        format!(
            "<AssumeRoleResponse xmlns=\"{STS_NS}\"><AssumeRoleResult><Credentials>\
             <AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>secret</SecretAccessKey>\
             <SessionToken>token/with+chars=</SessionToken>\
             <Expiration>2026-11-27T19:42:35Z</Expiration></Credentials><AssumedRoleUser>\
             <AssumedRoleId>AROAEXAMPLE:build-42</AssumedRoleId>\
             <Arn>arn:aws:sts::123456789012:assumed-role/reader/build-42</Arn>\
             </AssumedRoleUser><PackedPolicySize>6</PackedPolicySize></AssumeRoleResult>\
             <ResponseMetadata><RequestId>req-5</RequestId></ResponseMetadata>\
             </AssumeRoleResponse>"
        )
    );
}

#[test]
fn errors() {
    let error = IamError::no_such_entity("The user with name bob cannot be found.");
    assert_eq!(error.status_code_u16(), 404);
    assert_eq!(
        render_error(&error, Service::Iam, "req-6"),
        format!(
            "<ErrorResponse xmlns=\"{IAM_NS}\"><Error><Type>Sender</Type>\
             <Code>NoSuchEntity</Code><Message>The user with name bob cannot be found.\
             </Message></Error><RequestId>req-6</RequestId></ErrorResponse>"
        )
    );

    let failure = IamError::service_failure();
    assert_eq!(failure.status_code_u16(), 500);
    let xml = render_error(&failure, Service::Sts, "req-7");
    assert!(xml.starts_with(&format!(
        "<ErrorResponse xmlns=\"{STS_NS}\"><Error><Type>Receiver</Type>"
    )));
    assert!(xml.contains("<Code>ServiceFailure</Code>"));

    // Echoed client values cannot break the document.
    let hostile = IamError::validation_error("Value '</Message><x a=\"1\">&\u{1}\r' bad");
    let xml = render_error(&hostile, Service::Iam, "req-8");
    assert!(xml.contains(
        "<Message>Value '&lt;/Message&gt;&lt;x a=\"1\"&gt;&amp;\u{fffd}&#13;' bad</Message>"
    ));
}

#[test]
fn error_statuses() {
    let cases: &[(IamError, u16, &str)] = &[
        (
            IamError::entity_already_exists("x"),
            409,
            "EntityAlreadyExists",
        ),
        (IamError::delete_conflict("x"), 409, "DeleteConflict"),
        (IamError::limit_exceeded("x"), 409, "LimitExceeded"),
        (
            IamError::malformed_policy_document("x"),
            400,
            "MalformedPolicyDocument",
        ),
        (IamError::invalid_input("x"), 400, "InvalidInput"),
        (
            IamError::missing_parameter("UserName"),
            400,
            "MissingParameter",
        ),
        (
            IamError::invalid_parameter_value("x"),
            400,
            "InvalidParameterValue",
        ),
        (
            IamError::access_denied_for("arn:u", "iam:CreateUser", "arn:r"),
            403,
            "AccessDenied",
        ),
        (
            IamError::invalid_client_token_id(),
            403,
            "InvalidClientTokenId",
        ),
        (IamError::signature_mismatch(), 403, "SignatureDoesNotMatch"),
        (
            IamError::incomplete_signature("x"),
            400,
            "IncompleteSignature",
        ),
        (
            IamError::missing_authentication_token(),
            403,
            "MissingAuthenticationToken",
        ),
        (IamError::expired_token(), 403, "ExpiredToken"),
        (
            IamError::packed_policy_too_large("x"),
            400,
            "PackedPolicyTooLarge",
        ),
        (IamError::internal_failure(), 500, "InternalFailure"),
    ];
    for (error, status, code) in cases {
        assert_eq!(error.status_code_u16(), *status, "{code}");
        assert_eq!(error.code.as_str(), *code);
        assert_eq!(error.sender_fault(), *status < 500);
    }
}

#[test]
fn timestamps_are_utc_with_z() {
    assert_eq!(
        iso8601(datetime!(2026-11-27 19:42:35.999 UTC)),
        "2026-11-27T19:42:35Z"
    );
    assert_eq!(
        iso8601(datetime!(2026-01-01 00:30:00 +01:00)),
        "2025-12-31T23:30:00Z"
    );
}
