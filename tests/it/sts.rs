//! STS end to end: roles assumed through their trust policy (a user named
//! directly, or an account that must also allow its user), session
//! policies narrowing a role, session tokens required and expiring;
//! groups granting their members; GetSessionToken.

use anyhow::{bail, Result};
use coffer_e2e::cluster::eventually;
use coffer_e2e::iam::{IamAnswer, IamClient};
use coffer_e2e::ops::{create_bucket, get_bytes, put_bytes};
use coffer_e2e::{
    assert_s3_error, error_code, unique_bucket, ClientOptions, Server, ServerOptions,
};

/// A server whose STS grants sessions as short as one second.
async fn server() -> Result<Server> {
    Server::start_with(ServerOptions {
        extra_args: vec!["--sts-min-duration-seconds".to_owned(), "1".to_owned()],
        ..ServerOptions::default()
    })
    .await
}

/// (access key id, secret, session token) of an STS answer.
fn session_of(answer: &IamAnswer) -> Result<(String, String, String)> {
    Ok((
        answer.field("AccessKeyId")?,
        answer.field("SecretAccessKey")?,
        answer.field("SessionToken")?,
    ))
}

fn s3_with_session(
    server: &Server,
    (key, secret, token): &(String, String, String),
) -> aws_sdk_s3::Client {
    server.client_with(ClientOptions {
        credentials: Some((key.clone(), secret.clone())),
        session_token: Some(token.clone()),
        ..ClientOptions::default()
    })
}

async fn account_id(iam: &IamClient) -> Result<String> {
    iam.call("sts", "GetCallerIdentity", &[])
        .await?
        .ok()?
        .field("Account")
}

async fn assume(client: &IamClient, role_arn: &str, params: &[(&str, &str)]) -> Result<IamAnswer> {
    let mut all = vec![("RoleArn", role_arn), ("RoleSessionName", "e2e")];
    all.extend_from_slice(params);
    client.call("sts", "AssumeRole", &all).await
}

#[tokio::test]
async fn assumed_role_credentials_work_then_expire() -> Result<()> {
    let server = server().await?;
    let root = server.client();
    let bucket = unique_bucket("sts-role");
    create_bucket(&root, &bucket).await?;
    put_bytes(&root, &bucket, "public/a", b"a").await?;
    put_bytes(&root, &bucket, "secret/b", b"b").await?;
    let iam = server.iam();
    let account = account_id(&iam).await?;
    let alice_key = iam.create_user_with_key("alice").await?;
    let alice = server.iam_with(&alice_key.0, &alice_key.1);

    // The trust policy delegates to the account: alice needs her own allow.
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let role = iam
        .iam(
            "CreateRole",
            &[("RoleName", "reader"), ("AssumeRolePolicyDocument", &trust)],
        )
        .await?
        .ok()?;
    let role_arn = role.field("Arn")?;
    let read = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
    );
    iam.iam(
        "PutRolePolicy",
        &[
            ("RoleName", "reader"),
            ("PolicyName", "read"),
            ("PolicyDocument", &read),
        ],
    )
    .await?
    .ok()?;
    let denied = assume(&alice, &role_arn, &[]).await?;
    assert_eq!(
        (denied.status, denied.error_code().as_deref()),
        (403, Some("AccessDenied")),
        "{}",
        denied.body
    );
    iam.put_user_policy(
        "alice",
        "assume",
        &format!(r#"{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{role_arn}"}}"#),
    )
    .await?;
    // The root itself may not assume roles, as in AWS.
    let by_root = assume(&iam, &role_arn, &[]).await?;
    assert_eq!(by_root.error_code().as_deref(), Some("AccessDenied"));

    let answer = assume(&alice, &role_arn, &[("DurationSeconds", "900")])
        .await?
        .ok()?;
    assert_eq!(
        answer.field("Arn")?,
        format!("arn:aws:sts::{account}:assumed-role/reader/e2e")
    );
    let session = session_of(&answer)?;
    let as_role = s3_with_session(&server, &session);
    assert_eq!(get_bytes(&as_role, &bucket, "secret/b").await?, b"b");
    assert_s3_error(
        as_role.put_object().bucket(&bucket).key("x").send().await,
        403,
        Some("AccessDenied"),
    );
    let who = server
        .iam_with(&session.0, &session.1)
        .with_session_token(&session.2)
        .call("sts", "GetCallerIdentity", &[])
        .await?
        .ok()?;
    assert!(
        who.field("Arn")?.ends_with(":assumed-role/reader/e2e"),
        "{}",
        who.body
    );

    // The key without its token, or with another token, is refused.
    let tokenless = server.client_with(ClientOptions {
        credentials: Some((session.0.clone(), session.1.clone())),
        ..ClientOptions::default()
    });
    assert_s3_error(
        tokenless
            .get_object()
            .bucket(&bucket)
            .key("public/a")
            .send()
            .await,
        400,
        Some("InvalidToken"),
    );
    let forged = (
        session.0.clone(),
        session.1.clone(),
        "bm90LXRoZS10b2tlbg==".to_owned(),
    );
    assert_s3_error(
        s3_with_session(&server, &forged)
            .get_object()
            .bucket(&bucket)
            .key("public/a")
            .send()
            .await,
        400,
        Some("InvalidToken"),
    );

    // A session policy narrows the role: only public/ now.
    let narrow = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/public/*"}}]}}"#
    );
    let answer = assume(
        &alice,
        &role_arn,
        &[("Policy", &narrow), ("DurationSeconds", "3")],
    )
    .await?
    .ok()?;
    let short = session_of(&answer)?;
    let narrowed = s3_with_session(&server, &short);
    assert_eq!(get_bytes(&narrowed, &bucket, "public/a").await?, b"a");
    assert_s3_error(
        narrowed
            .get_object()
            .bucket(&bucket)
            .key("secret/b")
            .send()
            .await,
        403,
        Some("AccessDenied"),
    );
    // Three seconds later the credentials have expired.
    eventually("the 3-second session expires", || async {
        match narrowed
            .get_object()
            .bucket(&bucket)
            .key("public/a")
            .send()
            .await
        {
            Err(error) if error_code(&error).as_deref() == Some("ExpiredToken") => Ok(()),
            Ok(_) => bail!("still valid"),
            Err(error) => bail!("unexpected error {:?}", error_code(&error)),
        }
    })
    .await?;
    // Longer than the role allows (3600 s by default).
    let too_long = assume(&alice, &role_arn, &[("DurationSeconds", "7200")]).await?;
    assert_eq!(
        too_long.error_code().as_deref(),
        Some("ValidationError"),
        "{}",
        too_long.body
    );
    Ok(())
}

#[tokio::test]
async fn a_trust_policy_naming_another_accounts_user_needs_that_users_allow() -> Result<()> {
    let server = server().await?;
    let root = server.client();
    let bucket = unique_bucket("sts-cross");
    create_bucket(&root, &bucket).await?;
    put_bytes(&root, &bucket, "k", b"v").await?;
    let iam = server.iam();
    let b = coffer_e2e::accounts::create_account(&server, "bee")?;
    let account_b = &b.id;
    let iam_b = server.iam_with(&b.access_key_id, &b.secret_access_key);
    let bob_key = iam_b.create_user_with_key("bob").await?;
    let bob = server.iam_with(&bob_key.0, &bob_key.1);

    // Naming a user that does not exist is a malformed trust policy.
    let ghost = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account_b}:user/ghost"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let refused = iam
        .iam(
            "CreateRole",
            &[("RoleName", "x"), ("AssumeRolePolicyDocument", &ghost)],
        )
        .await?;
    assert_eq!(
        refused.error_code().as_deref(),
        Some("MalformedPolicyDocument"),
        "{}",
        refused.body
    );

    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account_b}:user/bob"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let role_arn = iam
        .iam(
            "CreateRole",
            &[
                ("RoleName", "partner"),
                ("AssumeRolePolicyDocument", &trust),
            ],
        )
        .await?
        .ok()?
        .field("Arn")?;
    let read = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
    );
    iam.iam(
        "PutRolePolicy",
        &[
            ("RoleName", "partner"),
            ("PolicyName", "read"),
            ("PolicyDocument", &read),
        ],
    )
    .await?
    .ok()?;
    // Across accounts both sides must allow: the trust policy is not enough.
    let denied = assume(&bob, &role_arn, &[]).await?;
    assert_eq!(
        denied.error_code().as_deref(),
        Some("AccessDenied"),
        "{}",
        denied.body
    );
    iam_b
        .put_user_policy(
            "bob",
            "assume",
            &format!(r#"{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{role_arn}"}}"#),
        )
        .await?;
    let session = session_of(&assume(&bob, &role_arn, &[]).await?.ok()?)?;
    // The session acts as the role, in the role's account.
    assert_eq!(
        get_bytes(&s3_with_session(&server, &session), &bucket, "k").await?,
        b"v"
    );
    // Deleting the role ends its sessions.
    iam.iam(
        "DeleteRolePolicy",
        &[("RoleName", "partner"), ("PolicyName", "read")],
    )
    .await?
    .ok()?;
    iam.iam("DeleteRole", &[("RoleName", "partner")])
        .await?
        .ok()?;
    assert_s3_error(
        s3_with_session(&server, &session)
            .get_object()
            .bucket(&bucket)
            .key("k")
            .send()
            .await,
        403,
        Some("AccessDenied"),
    );
    Ok(())
}

#[tokio::test]
async fn groups_grant_their_members_and_session_tokens_carry_the_user() -> Result<()> {
    let server = server().await?;
    let root = server.client();
    let bucket = unique_bucket("sts-groups");
    create_bucket(&root, &bucket).await?;
    put_bytes(&root, &bucket, "k", b"v").await?;
    let iam = server.iam();
    let key = iam.create_user_with_key("carl").await?;
    let carl = server.client_with(ClientOptions {
        credentials: Some(key.clone()),
        ..ClientOptions::default()
    });
    iam.iam("CreateGroup", &[("GroupName", "readers")])
        .await?
        .ok()?;
    let read = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
    );
    let policy_arn = iam
        .iam(
            "CreatePolicy",
            &[("PolicyName", "read"), ("PolicyDocument", &read)],
        )
        .await?
        .ok()?
        .field("Arn")?;
    iam.iam(
        "AttachGroupPolicy",
        &[("GroupName", "readers"), ("PolicyArn", &policy_arn)],
    )
    .await?
    .ok()?;
    assert_s3_error(
        carl.get_object().bucket(&bucket).key("k").send().await,
        403,
        Some("AccessDenied"),
    );
    iam.iam(
        "AddUserToGroup",
        &[("GroupName", "readers"), ("UserName", "carl")],
    )
    .await?
    .ok()?;
    assert_eq!(get_bytes(&carl, &bucket, "k").await?, b"v");
    let group = iam
        .iam("GetGroup", &[("GroupName", "readers")])
        .await?
        .ok()?;
    assert!(
        group.body.contains("<UserName>carl</UserName>"),
        "{}",
        group.body
    );
    let conflict = iam.iam("DeleteGroup", &[("GroupName", "readers")]).await?;
    assert_eq!(conflict.error_code().as_deref(), Some("DeleteConflict"));

    // A session token of carl's carries carl's permissions, not IAM.
    let carl_iam = server.iam_with(&key.0, &key.1);
    let session = session_of(
        &carl_iam
            .call("sts", "GetSessionToken", &[("DurationSeconds", "900")])
            .await?
            .ok()?,
    )?;
    assert_eq!(
        get_bytes(&s3_with_session(&server, &session), &bucket, "k").await?,
        b"v"
    );
    let iam_by_session = server
        .iam_with(&session.0, &session.1)
        .with_session_token(&session.2)
        .iam("GetUser", &[])
        .await?;
    assert_eq!(
        iam_by_session.error_code().as_deref(),
        Some("AccessDenied"),
        "{}",
        iam_by_session.body
    );

    iam.iam(
        "RemoveUserFromGroup",
        &[("GroupName", "readers"), ("UserName", "carl")],
    )
    .await?
    .ok()?;
    assert_s3_error(
        carl.get_object().bucket(&bucket).key("k").send().await,
        403,
        Some("AccessDenied"),
    );
    Ok(())
}

#[tokio::test]
async fn a_trust_policy_may_require_an_external_id() -> Result<()> {
    let server = server().await?;
    let iam = server.iam();
    let account = account_id(&iam).await?;
    let key = iam.create_user_with_key("ext").await?;
    let user = server.iam_with(&key.0, &key.1);
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:user/ext"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":"shared-secret"}}}}}}]}}"#
    );
    let role_arn = iam
        .iam(
            "CreateRole",
            &[("RoleName", "vendor"), ("AssumeRolePolicyDocument", &trust)],
        )
        .await?
        .ok()?
        .field("Arn")?;
    let without = assume(&user, &role_arn, &[]).await?;
    assert_eq!(
        without.error_code().as_deref(),
        Some("AccessDenied"),
        "{}",
        without.body
    );
    let wrong = assume(&user, &role_arn, &[("ExternalId", "guess")]).await?;
    assert_eq!(
        wrong.error_code().as_deref(),
        Some("AccessDenied"),
        "{}",
        wrong.body
    );
    assume(&user, &role_arn, &[("ExternalId", "shared-secret")])
        .await?
        .ok()?;
    Ok(())
}
