//! IAM users end to end: users and keys created through the IAM query API
//! sign S3 requests and get exactly what their identity policies allow
//! (inline and managed, explicit deny first); across accounts both the
//! user's policy and the bucket policy must allow; AWS's IAM errors.

use anyhow::Result;
use coffer_e2e::accounts::create_account;
use coffer_e2e::iam::IamClient;
use coffer_e2e::ops::{create_bucket, get_bytes, put_bytes};
use coffer_e2e::{assert_s3_error, unique_bucket, ClientOptions, Server};

fn s3_client_for(
    server: &Server,
    (access_key_id, secret): &(String, String),
) -> aws_sdk_s3::Client {
    server.client_with(ClientOptions {
        credentials: Some((access_key_id.clone(), secret.clone())),
        ..ClientOptions::default()
    })
}

#[tokio::test]
async fn iam_users_act_within_their_policies() -> Result<()> {
    let server = Server::start().await?;
    let root = server.client();
    let bucket = unique_bucket("iam-users");
    create_bucket(&root, &bucket).await?;
    put_bytes(&root, &bucket, "public/a", b"a").await?;
    put_bytes(&root, &bucket, "secret/b", b"b").await?;

    let iam = server.iam();
    let key = iam.create_user_with_key("alice").await?;
    let alice = s3_client_for(&server, &key);
    // No policy: nothing is allowed.
    assert_s3_error(
        alice
            .get_object()
            .bucket(&bucket)
            .key("public/a")
            .send()
            .await,
        403,
        Some("AccessDenied"),
    );

    iam.put_user_policy(
        "alice",
        "read",
        &format!(
            r#"{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}"#
        ),
    )
    .await?;
    assert_eq!(get_bytes(&alice, &bucket, "public/a").await?, b"a");
    assert_eq!(get_bytes(&alice, &bucket, "secret/b").await?, b"b");
    assert_s3_error(
        alice.put_object().bucket(&bucket).key("new").send().await,
        403,
        Some("AccessDenied"),
    );

    // A managed policy adds PutObject and denies the secret prefix: the
    // explicit deny beats the inline allow.
    let document = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}},{{"Sid":"NoSecrets","Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/secret/*"}}]}}"#
    );
    let created = iam
        .iam(
            "CreatePolicy",
            &[("PolicyName", "writer"), ("PolicyDocument", &document)],
        )
        .await?
        .ok()?;
    let policy_arn = created.field("Arn")?;
    iam.iam(
        "AttachUserPolicy",
        &[("UserName", "alice"), ("PolicyArn", &policy_arn)],
    )
    .await?
    .ok()?;
    put_bytes(&alice, &bucket, "new", b"n").await?;
    assert_s3_error(
        alice
            .get_object()
            .bucket(&bucket)
            .key("secret/b")
            .send()
            .await,
        403,
        Some("AccessDenied"),
    );
    assert_eq!(get_bytes(&alice, &bucket, "public/a").await?, b"a");
    // Detached, the deny is gone with the allow.
    iam.iam(
        "DetachUserPolicy",
        &[("UserName", "alice"), ("PolicyArn", &policy_arn)],
    )
    .await?
    .ok()?;
    assert_eq!(get_bytes(&alice, &bucket, "secret/b").await?, b"b");
    assert_s3_error(
        alice.put_object().bucket(&bucket).key("new2").send().await,
        403,
        Some("AccessDenied"),
    );

    // Who am I; and a user may not administer IAM without a policy.
    let alice_iam = server.iam_with(&key.0, &key.1);
    let identity = alice_iam
        .call("sts", "GetCallerIdentity", &[])
        .await?
        .ok()?;
    assert!(
        identity.field("Arn")?.ends_with(":user/alice"),
        "{}",
        identity.body
    );
    let denied = alice_iam
        .iam("CreateUser", &[("UserName", "mallory")])
        .await?;
    assert_eq!(
        (denied.status, denied.error_code().as_deref()),
        (403, Some("AccessDenied"))
    );
    // Nor the region's admin API, even as a user of the root account.
    let output = std::process::Command::new(coffer_e2e::server::coffer_binary()?)
        .args([
            "admin",
            "--endpoint",
            &server.admin_url(),
            "account",
            "list",
        ])
        .env("COFFER_ROOT_ACCESS_KEY", &key.0)
        .env("COFFER_ROOT_SECRET_KEY", &key.1)
        .output()?;
    assert!(!output.status.success(), "a user's key ran the admin API");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("403") || stderr.contains("denied") || stderr.contains("Denied"),
        "{stderr}"
    );

    // An inactive key no longer signs.
    iam.iam(
        "UpdateAccessKey",
        &[
            ("UserName", "alice"),
            ("AccessKeyId", &key.0),
            ("Status", "Inactive"),
        ],
    )
    .await?
    .ok()?;
    assert_s3_error(
        alice
            .get_object()
            .bucket(&bucket)
            .key("public/a")
            .send()
            .await,
        403,
        Some("InvalidAccessKeyId"),
    );
    Ok(())
}

#[tokio::test]
async fn cross_account_users_need_both_sides() -> Result<()> {
    let server = Server::start().await?;
    let root = server.client();
    let bucket = unique_bucket("iam-cross");
    create_bucket(&root, &bucket).await?;
    put_bytes(&root, &bucket, "k", b"v").await?;
    let b = create_account(&server, "bee")?;
    let account_b = &b.id;
    let iam_b = server.iam_with(&b.access_key_id, &b.secret_access_key);
    let key = iam_b.create_user_with_key("bob").await?;
    let bob = s3_client_for(&server, &key);
    let read = format!(
        r#"{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}"#
    );
    iam_b.put_user_policy("bob", "read", &read).await?;
    // Bob's own allow is not enough in someone else's bucket.
    assert_s3_error(
        bob.get_object().bucket(&bucket).key("k").send().await,
        403,
        Some("AccessDenied"),
    );

    // The bucket policy delegates to account B: now both sides allow.
    root.put_bucket_policy()
        .bucket(&bucket)
        .policy(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account_b}:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
        ))
        .send()
        .await?;
    assert_eq!(get_bytes(&bob, &bucket, "k").await?, b"v");

    // Without bob's own allow the delegation alone does not suffice.
    iam_b
        .iam(
            "DeleteUserPolicy",
            &[("UserName", "bob"), ("PolicyName", "read")],
        )
        .await?
        .ok()?;
    assert_s3_error(
        bob.get_object().bucket(&bucket).key("k").send().await,
        403,
        Some("AccessDenied"),
    );
    // And account B's IAM is its own: A's root sees no bob.
    let missing = server.iam().iam("GetUser", &[("UserName", "bob")]).await?;
    assert_eq!(
        (missing.status, missing.error_code().as_deref()),
        (404, Some("NoSuchEntity"))
    );
    Ok(())
}

async fn expect_error(
    client: &IamClient,
    action: &str,
    params: &[(&str, &str)],
    status: u16,
    code: &str,
) -> Result<()> {
    let answer = client.iam(action, params).await?;
    assert_eq!(
        (answer.status, answer.error_code().as_deref()),
        (status, Some(code)),
        "{action}: {}",
        answer.body
    );
    Ok(())
}

#[tokio::test]
async fn iam_errors_are_aws_errors() -> Result<()> {
    let server = Server::start().await?;
    let iam = server.iam();
    iam.create_user_with_key("carol").await?;
    expect_error(
        &iam,
        "CreateUser",
        &[("UserName", "CAROL")],
        409,
        "EntityAlreadyExists",
    )
    .await?;
    expect_error(
        &iam,
        "GetUser",
        &[("UserName", "nobody")],
        404,
        "NoSuchEntity",
    )
    .await?;
    iam.iam("CreateAccessKey", &[("UserName", "carol")])
        .await?
        .ok()?;
    expect_error(
        &iam,
        "CreateAccessKey",
        &[("UserName", "carol")],
        409,
        "LimitExceeded",
    )
    .await?;
    expect_error(
        &iam,
        "DeleteUser",
        &[("UserName", "carol")],
        409,
        "DeleteConflict",
    )
    .await?;
    let bad = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Frobnicate","Resource":"*"}]}"#;
    expect_error(
        &iam,
        "PutUserPolicy",
        &[
            ("UserName", "carol"),
            ("PolicyName", "p"),
            ("PolicyDocument", bad),
        ],
        400,
        "MalformedPolicyDocument",
    )
    .await?;
    expect_error(&iam, "CreateUser", &[], 400, "ValidationError").await?;
    expect_error(&iam, "Frobnicate", &[], 400, "InvalidAction").await?;
    expect_error(
        &iam,
        "AddUserToGroup",
        &[("GroupName", "nogroup"), ("UserName", "carol")],
        404,
        "NoSuchEntity",
    )
    .await?;
    // Bad credentials.
    let stranger = server.iam_with("AKIAUNKNOWNKEY000000", "secret");
    expect_error(&stranger, "ListUsers", &[], 403, "InvalidClientTokenId").await?;
    let forger = server.iam_with(server.access_key_id(), "not-the-secret");
    expect_error(&forger, "ListUsers", &[], 403, "SignatureDoesNotMatch").await?;
    // Nothing above changed the user list.
    let users = iam.iam("ListUsers", &[]).await?.ok()?;
    assert_eq!(
        users.body.matches("<UserName>").count(),
        1,
        "{}",
        users.body
    );
    Ok(())
}

#[tokio::test]
async fn a_user_administers_only_the_users_its_policy_names() -> Result<()> {
    let server = Server::start().await?;
    let iam = server.iam();
    let account = iam
        .call("sts", "GetCallerIdentity", &[])
        .await?
        .ok()?
        .field("Account")?;
    let key = iam.create_user_with_key("admin-dev").await?;
    iam.put_user_policy(
        "admin-dev",
        "dev-users",
        &format!(r#"{{"Effect":"Allow","Action":["iam:CreateAccessKey","iam:GetUser"],"Resource":"arn:aws:iam::{account}:user/dev/*"}}"#),
    )
    .await?;
    iam.iam("CreateUser", &[("UserName", "dan"), ("Path", "/dev/")])
        .await?
        .ok()?;
    iam.iam("CreateUser", &[("UserName", "pat")]).await?.ok()?;
    let admin_dev = server.iam_with(&key.0, &key.1);
    // The path is part of the user's ARN, so the policy covers dan only.
    let dan = admin_dev
        .iam("GetUser", &[("UserName", "dan")])
        .await?
        .ok()?;
    assert_eq!(
        dan.field("Arn")?,
        format!("arn:aws:iam::{account}:user/dev/dan")
    );
    admin_dev
        .iam("CreateAccessKey", &[("UserName", "dan")])
        .await?
        .ok()?;
    expect_error(
        &admin_dev,
        "CreateAccessKey",
        &[("UserName", "pat")],
        403,
        "AccessDenied",
    )
    .await?;
    expect_error(&admin_dev, "ListUsers", &[], 403, "AccessDenied").await?;
    Ok(())
}

#[tokio::test]
async fn three_accounts_with_users_in_each() -> Result<()> {
    let server = Server::start().await?;
    let root_a = server.client();
    let bucket = unique_bucket("iam-three");
    create_bucket(&root_a, &bucket).await?;
    put_bytes(&root_a, &bucket, "k", b"v").await?;
    let read = format!(
        r#"{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}"#
    );

    // A user in each account, each allowed to read the bucket by its own
    // identity policy.
    let iam_a = server.iam();
    let (b, c) = (
        create_account(&server, "bee")?,
        create_account(&server, "sea")?,
    );
    let account_b = &b.id;
    let iam_b = server.iam_with(&b.access_key_id, &b.secret_access_key);
    let iam_c = server.iam_with(&c.access_key_id, &c.secret_access_key);
    let mut users = Vec::new();
    for (iam, name) in [(&iam_a, "ann"), (&iam_b, "ben"), (&iam_c, "cid")] {
        let key = iam.create_user_with_key(name).await?;
        iam.put_user_policy(name, "read", &read).await?;
        users.push(s3_client_for(&server, &key));
    }
    let [ann, ben, cid] = [&users[0], &users[1], &users[2]];

    // Same account: the user's own allow suffices. Other accounts: the
    // bucket policy must allow too, and it names only account B.
    assert_eq!(get_bytes(ann, &bucket, "k").await?, b"v");
    assert_s3_error(
        ben.get_object().bucket(&bucket).key("k").send().await,
        403,
        Some("AccessDenied"),
    );
    root_a
        .put_bucket_policy()
        .bucket(&bucket)
        .policy(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account_b}:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
        ))
        .send()
        .await?;
    assert_eq!(get_bytes(ben, &bucket, "k").await?, b"v");
    assert_s3_error(
        cid.get_object().bucket(&bucket).key("k").send().await,
        403,
        Some("AccessDenied"),
    );

    // An explicit Deny naming ben beats both allows; ann is unaffected.
    root_a
        .put_bucket_policy()
        .bucket(&bucket)
        .policy(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account_b}:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}},{{"Effect":"Deny","Principal":{{"AWS":"arn:aws:iam::{account_b}:user/ben"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
        ))
        .send()
        .await?;
    assert_s3_error(
        ben.get_object().bucket(&bucket).key("k").send().await,
        403,
        Some("AccessDenied"),
    );
    assert_eq!(get_bytes(ann, &bucket, "k").await?, b"v");
    Ok(())
}

/// IAM across a region: a user and key created through one node sign
/// requests on another right away (a node that has not applied the key
/// yet waits for the read index instead of answering InvalidAccessKeyId).
/// A policy change reaches the other nodes as they apply it — eventually
/// consistent, as in AWS (authorization trusts what a node has applied).
#[tokio::test(flavor = "multi_thread")]
async fn iam_users_work_through_every_node() -> Result<()> {
    let cluster = coffer_e2e::cluster::Cluster::start(3, &[]).await?;
    let bucket = unique_bucket("iam-region");
    create_bucket(&cluster.nodes[0].client(), &bucket).await?;
    put_bytes(&cluster.nodes[0].client(), &bucket, "k", b"v").await?;
    for round in 0..3 {
        let (via, on) = (&cluster.nodes[round % 3], &cluster.nodes[(round + 1) % 3]);
        let name = format!("user{round}");
        let key = via.iam().create_user_with_key(&name).await?;
        let client = s3_client_for(on, &key);
        assert_s3_error(
            client.get_object().bucket(&bucket).key("k").send().await,
            403,
            Some("AccessDenied"),
        );
        via.iam()
            .put_user_policy(
                &name,
                "read",
                &format!(r#"{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}"#),
            )
            .await?;
        coffer_e2e::cluster::eventually("the policy reaches the other node", || async {
            get_bytes(&client, &bucket, "k").await.map(|_| ())
        })
        .await?;
    }
    Ok(())
}
