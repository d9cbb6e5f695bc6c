//! Authorization end to end, with three accounts: A (the server's root,
//! which owns the buckets), B and C (created with `coffer admin account
//! create`). Bucket policies across accounts, explicit deny, 404 vs 403,
//! the owner's exemption for policy management and 405 for others,
//! anonymous access and Block Public Access, conditions on the source IP
//! and on TLS, Object Ownership and ACLs, DeleteObjects per key, and a
//! presigned URL that stops working when its signer loses the permission.

use std::time::Duration;

use anyhow::{Context, Result};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{
    BucketCannedAcl, Delete, ObjectCannedAcl, ObjectIdentifier, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, PublicAccessBlockConfiguration,
};
use coffer_e2e::ops::{create_bucket, get_bytes, put_bytes};
use coffer_e2e::{assert_s3_error, unique_bucket, xml_element, Server};

/// An account created through the admin CLI, with a client for it.
struct Account {
    id: String,
    client: aws_sdk_s3::Client,
}

fn create_account(server: &Server, name: &str) -> Result<Account> {
    let account = coffer_e2e::accounts::create_account(server, name)?;
    Ok(Account {
        client: account.client(server),
        id: account.id,
    })
}

async fn put_policy(client: &aws_sdk_s3::Client, bucket: &str, statements: &str) -> Result<()> {
    client
        .put_bucket_policy()
        .bucket(bucket)
        .policy(format!(
            r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#
        ))
        .send()
        .await?;
    Ok(())
}

async fn ownership(client: &aws_sdk_s3::Client, bucket: &str) -> Result<ObjectOwnership> {
    let controls = client
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await?;
    let rule = controls
        .ownership_controls()
        .and_then(|controls| controls.rules().first())
        .context("a rule")?;
    Ok(rule.object_ownership().clone())
}

async fn set_ownership(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    ownership: ObjectOwnership,
) -> Result<
    aws_sdk_s3::operation::put_bucket_ownership_controls::PutBucketOwnershipControlsOutput,
    aws_sdk_s3::error::SdkError<
        aws_sdk_s3::operation::put_bucket_ownership_controls::PutBucketOwnershipControlsError,
        aws_sdk_s3::config::http::HttpResponse,
    >,
> {
    let rule = OwnershipControlsRule::builder()
        .object_ownership(ownership)
        .build()
        .expect("object_ownership is set");
    let controls = OwnershipControls::builder()
        .rules(rule)
        .build()
        .expect("rules are set");
    client
        .put_bucket_ownership_controls()
        .bucket(bucket)
        .ownership_controls(controls)
        .send()
        .await
}

/// GetObject of `key` is refused with 403 AccessDenied.
async fn assert_get_denied(client: &aws_sdk_s3::Client, bucket: &str, key: &str) {
    assert_s3_error(
        client.get_object().bucket(bucket).key(key).send().await,
        403,
        Some("AccessDenied"),
    );
}

/// Turn off the default Block Public Access of a new bucket.
async fn allow_public(client: &aws_sdk_s3::Client, bucket: &str) -> Result<()> {
    client
        .delete_public_access_block()
        .bucket(bucket)
        .send()
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn bucket_policies_across_accounts() -> Result<()> {
    let server = Server::start().await?;
    let owner = server.client();
    let b = create_account(&server, "bravo")?;
    let c = create_account(&server, "charlie")?;
    let bucket = unique_bucket("policy");
    create_bucket(&owner, &bucket).await?;
    for key in ["shared/x", "shared/secret-1", "private/y"] {
        put_bytes(&owner, &bucket, key, key.as_bytes()).await?;
    }

    // Nothing allows B yet.
    assert_get_denied(&b.client, &bucket, "shared/x").await;
    assert_s3_error(
        b.client.list_objects_v2().bucket(&bucket).send().await,
        403,
        Some("AccessDenied"),
    );

    let grant_b = format!(
        r#"{{"Sid":"read-shared","Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/shared/*"}},
           {{"Sid":"no-secrets","Effect":"Deny","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"s3:*","Resource":"arn:aws:s3:::{bucket}/shared/secret*"}},
           {{"Sid":"read-policy","Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"s3:GetBucketPolicy","Resource":"arn:aws:s3:::{bucket}"}}"#,
        b.id, b.id, b.id
    );
    put_policy(&owner, &bucket, &grant_b).await?;
    let policy = owner.get_bucket_policy().bucket(&bucket).send().await?;
    assert!(policy
        .policy()
        .is_some_and(|text| text.contains("read-shared")));
    let status = owner
        .get_bucket_policy_status()
        .bucket(&bucket)
        .send()
        .await?;
    assert_eq!(
        status.policy_status().and_then(|status| status.is_public()),
        Some(false)
    );

    // Cross-account: the bucket policy grants, B's root needs nothing more.
    assert!(get_bytes(&b.client, &bucket, "shared/x").await? == b"shared/x");
    assert_get_denied(&b.client, &bucket, "private/y").await;
    // An explicit Deny beats the Allow.
    assert_get_denied(&b.client, &bucket, "shared/secret-1").await;
    // C is named nowhere.
    assert_get_denied(&c.client, &bucket, "shared/x").await;
    // Without s3:ListBucket a missing key is 403, not 404.
    assert_get_denied(&b.client, &bucket, "shared/missing").await;
    assert_s3_error(
        owner
            .get_object()
            .bucket(&bucket)
            .key("shared/missing")
            .send()
            .await,
        404,
        Some("NoSuchKey"),
    );
    // Another account may not manage the bucket policy even when allowed: 405.
    assert_s3_error(
        b.client.get_bucket_policy().bucket(&bucket).send().await,
        405,
        Some("MethodNotAllowed"),
    );
    assert_s3_error(
        c.client.get_bucket_policy().bucket(&bucket).send().await,
        403,
        Some("AccessDenied"),
    );
    assert_s3_error(
        b.client
            .put_bucket_policy()
            .bucket(&bucket)
            .policy(r#"{"Statement":[]}"#)
            .send()
            .await,
        403,
        Some("AccessDenied"),
    );
    // x-amz-expected-bucket-owner must name the owner.
    assert_s3_error(
        b.client
            .get_object()
            .bucket(&bucket)
            .key("shared/x")
            .expected_bucket_owner(&b.id)
            .send()
            .await,
        403,
        Some("AccessDenied"),
    );

    // Validation with AWS's messages.
    for (statements, message) in [
        (
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other-bucket/*"}"#
                .to_owned(),
            "Policy has invalid resource",
        ),
        (
            format!(
                r#"{{"Effect":"Allow","Principal":{{"AWS":"999999999999"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}"#
            ),
            "Invalid principal in policy",
        ),
        (
            format!(
                r#"{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}"}}"#,
                b.id
            ),
            "Action does not apply to any resource(s) in statement",
        ),
        (
            format!(
                r#"{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"s3:Fly","Resource":"arn:aws:s3:::{bucket}/*"}}"#,
                b.id
            ),
            "Policy has invalid action",
        ),
    ] {
        let refused = owner
            .put_bucket_policy()
            .bucket(&bucket)
            .policy(format!(
                r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#
            ))
            .send()
            .await;
        let error = refused.expect_err("refused");
        let service = error.as_service_error().context("a service error")?;
        assert_eq!(
            aws_sdk_s3::error::ProvideErrorMetadata::code(service),
            Some("MalformedPolicy")
        );
        assert_eq!(
            aws_sdk_s3::error::ProvideErrorMetadata::message(service),
            Some(message)
        );
    }

    // The owner's root may always manage the policy, even one that denies it
    // everything else.
    put_policy(
        &owner,
        &bucket,
        &format!(r#"{{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::{bucket}","arn:aws:s3:::{bucket}/*"]}}"#),
    )
    .await?;
    assert_get_denied(&owner, &bucket, "private/y").await;
    owner.get_bucket_policy().bucket(&bucket).send().await?;
    owner.delete_bucket_policy().bucket(&bucket).send().await?;
    assert!(get_bytes(&owner, &bucket, "private/y").await? == b"private/y");
    assert_s3_error(
        owner.get_bucket_policy().bucket(&bucket).send().await,
        404,
        Some("NoSuchBucketPolicy"),
    );

    // DeleteObjects: each key needs its own permission.
    put_policy(
        &owner,
        &bucket,
        &format!(r#"{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::{bucket}/shared/*"}}"#, b.id),
    )
    .await?;
    let identifiers = ["shared/x", "private/y"]
        .into_iter()
        .map(|key| ObjectIdentifier::builder().key(key).build())
        .collect::<Result<Vec<_>, _>>()?;
    let result = b
        .client
        .delete_objects()
        .bucket(&bucket)
        .delete(Delete::builder().set_objects(Some(identifiers)).build()?)
        .send()
        .await?;
    let deleted: Vec<&str> = result
        .deleted()
        .iter()
        .filter_map(|object| object.key())
        .collect();
    assert_eq!(deleted, ["shared/x"]);
    let errors: Vec<(&str, &str)> = result
        .errors()
        .iter()
        .filter_map(|error| Some((error.key()?, error.code()?)))
        .collect();
    assert_eq!(errors, [("private/y", "AccessDenied")]);
    assert!(get_bytes(&owner, &bucket, "private/y").await? == b"private/y");
    Ok(())
}

async fn anonymous_get(server: &Server, bucket: &str, key: &str) -> Result<(u16, String)> {
    let response = reqwest::get(format!("{}/{bucket}/{key}", server.endpoint())).await?;
    let status = response.status().as_u16();
    Ok((status, response.text().await?))
}

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_access_block_public_access_and_conditions() -> Result<()> {
    let server = Server::start().await?;
    let owner = server.client();
    let b = create_account(&server, "bravo")?;
    let bucket = unique_bucket("public");
    create_bucket(&owner, &bucket).await?;
    put_bytes(&owner, &bucket, "pub/hello", b"hello").await?;
    put_bytes(&owner, &bucket, "lan/doc", b"lan").await?;
    let public_read = format!(
        r#"{{"Sid":"public","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/pub/*"}}"#
    );

    // A new bucket blocks public policies.
    let settings = owner
        .get_public_access_block()
        .bucket(&bucket)
        .send()
        .await?;
    let configuration = settings
        .public_access_block_configuration()
        .context("settings")?;
    assert_eq!(configuration.block_public_policy(), Some(true));
    assert_s3_error(
        owner
            .put_bucket_policy()
            .bucket(&bucket)
            .policy(format!(
                r#"{{"Version":"2012-10-17","Statement":[{public_read}]}}"#
            ))
            .send()
            .await,
        403,
        Some("AccessDenied"),
    );
    assert_eq!(anonymous_get(&server, &bucket, "pub/hello").await?.0, 403);

    allow_public(&owner, &bucket).await?;
    assert_s3_error(
        owner.get_public_access_block().bucket(&bucket).send().await,
        404,
        Some("NoSuchPublicAccessBlockConfiguration"),
    );
    put_policy(&owner, &bucket, &public_read).await?;
    let status = owner
        .get_bucket_policy_status()
        .bucket(&bucket)
        .send()
        .await?;
    assert_eq!(
        status.policy_status().and_then(|status| status.is_public()),
        Some(true)
    );
    assert_eq!(
        anonymous_get(&server, &bucket, "pub/hello").await?,
        (200, "hello".to_owned())
    );
    let (status, body) = anonymous_get(&server, &bucket, "lan/doc").await?;
    assert_eq!(status, 403, "{body}");
    assert_eq!(xml_element(&body, "Code").as_deref(), Some("AccessDenied"));
    // A bucket that does not exist is 404 for everyone.
    let (status, body) = anonymous_get(&server, &unique_bucket("nothere"), "k").await?;
    assert_eq!(
        (status, xml_element(&body, "Code").as_deref()),
        (404, Some("NoSuchBucket"))
    );

    // RestrictPublicBuckets: a public policy serves only the owner's account.
    owner
        .put_public_access_block()
        .bucket(&bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await?;
    assert_eq!(anonymous_get(&server, &bucket, "pub/hello").await?.0, 403);
    assert_get_denied(&b.client, &bucket, "pub/hello").await;
    assert!(get_bytes(&owner, &bucket, "pub/hello").await? == b"hello");
    allow_public(&owner, &bucket).await?;

    // aws:SourceIp: the test client is 127.0.0.1.
    let by_ip = |cidr: &str| {
        format!(
            r#"{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/lan/*","Condition":{{"IpAddress":{{"aws:SourceIp":"{cidr}"}}}}}}"#
        )
    };
    put_policy(&owner, &bucket, &by_ip("10.0.0.0/8")).await?;
    assert_eq!(anonymous_get(&server, &bucket, "lan/doc").await?.0, 403);
    put_policy(&owner, &bucket, &by_ip("127.0.0.0/8")).await?;
    assert_eq!(
        anonymous_get(&server, &bucket, "lan/doc").await?,
        (200, "lan".to_owned())
    );
    // A policy pinned to an IP range is not public.
    let status = owner
        .get_bucket_policy_status()
        .bucket(&bucket)
        .send()
        .await?;
    assert_eq!(
        status.policy_status().and_then(|status| status.is_public()),
        Some(false)
    );

    // aws:SecureTransport: this server speaks plain HTTP, so a Deny on
    // insecure transport applies — to the owner's root too.
    put_policy(
        &owner,
        &bucket,
        &format!(r#"{{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*","Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}"#),
    )
    .await?;
    assert_get_denied(&owner, &bucket, "pub/hello").await;
    owner.delete_bucket_policy().bucket(&bucket).send().await?;
    assert!(get_bytes(&owner, &bucket, "pub/hello").await? == b"hello");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn https_satisfies_secure_transport() -> Result<()> {
    let server = Server::start_with(coffer_e2e::ServerOptions {
        tls: Some(coffer_e2e::TlsIdentity::localhost_test()),
        ..Default::default()
    })
    .await?;
    let owner = server.client();
    let bucket = unique_bucket("tls");
    create_bucket(&owner, &bucket).await?;
    put_bytes(&owner, &bucket, "k", b"v").await?;
    put_policy(
        &owner,
        &bucket,
        &format!(r#"{{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*","Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}"#),
    )
    .await?;
    assert!(get_bytes(&owner, &bucket, "k").await? == b"v");

    // s3:TlsVersion is the negotiated version (1.3 between rustls peers):
    // a Deny below 1.2 leaves the read alone, one below 1.4 denies it.
    let deny_below = |version: &str| {
        format!(
            r#"{{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*","Condition":{{"NumericLessThan":{{"s3:TlsVersion":"{version}"}}}}}}"#
        )
    };
    put_policy(&owner, &bucket, &deny_below("1.2")).await?;
    assert!(get_bytes(&owner, &bucket, "k").await? == b"v");
    put_policy(&owner, &bucket, &deny_below("1.4")).await?;
    assert_s3_error(
        owner.get_object().bucket(&bucket).key("k").send().await,
        403,
        Some("AccessDenied"),
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn object_ownership_and_acls() -> Result<()> {
    let server = Server::start().await?;
    let owner = server.client();
    let bucket = unique_bucket("acl");
    create_bucket(&owner, &bucket).await?;

    // New buckets: BucketOwnerEnforced, ACLs disabled.
    assert_eq!(
        ownership(&owner, &bucket).await?,
        ObjectOwnership::BucketOwnerEnforced
    );
    assert_s3_error(
        owner
            .put_object()
            .bucket(&bucket)
            .key("k")
            .acl(ObjectCannedAcl::PublicRead)
            .body(b"x".to_vec().into())
            .send()
            .await,
        400,
        Some("AccessControlListNotSupported"),
    );
    owner
        .put_object()
        .bucket(&bucket)
        .key("k")
        .acl(ObjectCannedAcl::BucketOwnerFullControl)
        .body(b"x".to_vec().into())
        .send()
        .await?;
    owner
        .put_object()
        .bucket(&bucket)
        .key("k2")
        .acl(ObjectCannedAcl::Private)
        .body(b"x".to_vec().into())
        .send()
        .await?;
    assert_s3_error(
        owner
            .put_bucket_acl()
            .bucket(&bucket)
            .acl(BucketCannedAcl::PublicRead)
            .send()
            .await,
        400,
        Some("AccessControlListNotSupported"),
    );
    let acl = owner.get_bucket_acl().bucket(&bucket).send().await?;
    assert_eq!(acl.grants().len(), 1);
    assert_eq!(
        acl.grants()[0]
            .permission()
            .map(|permission| permission.as_str()),
        Some("FULL_CONTROL")
    );
    let object_acl = owner
        .get_object_acl()
        .bucket(&bucket)
        .key("k")
        .send()
        .await?;
    assert_eq!(object_acl.grants().len(), 1);

    // Enable ACLs, allow public ACLs, and make the bucket listable by all.
    set_ownership(&owner, &bucket, ObjectOwnership::ObjectWriter).await?;
    assert_s3_error(
        owner
            .put_bucket_acl()
            .bucket(&bucket)
            .acl(BucketCannedAcl::PublicRead)
            .send()
            .await,
        403,
        Some("AccessDenied"),
    );
    allow_public(&owner, &bucket).await?;
    owner
        .put_bucket_acl()
        .bucket(&bucket)
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await?;
    let acl = owner.get_bucket_acl().bucket(&bucket).send().await?;
    let all_users = acl.grants().iter().any(|grant| {
        grant.grantee().and_then(|grantee| grantee.uri())
            == Some("http://acs.amazonaws.com/groups/global/AllUsers")
            && grant.permission().map(|permission| permission.as_str()) == Some("READ")
    });
    assert!(all_users, "{acl:?}");
    let listing = reqwest::get(format!("{}/{bucket}?list-type=2", server.endpoint())).await?;
    assert_eq!(listing.status().as_u16(), 200);
    assert!(listing.text().await?.contains("<Key>k</Key>"));
    // IgnorePublicAcls hides the grant from decisions and from reads.
    owner
        .put_public_access_block()
        .bucket(&bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .ignore_public_acls(true)
                .build(),
        )
        .send()
        .await?;
    let listing = reqwest::get(format!("{}/{bucket}?list-type=2", server.endpoint())).await?;
    assert_eq!(listing.status().as_u16(), 403);
    assert_eq!(
        owner
            .get_bucket_acl()
            .bucket(&bucket)
            .send()
            .await?
            .grants()
            .len(),
        1
    );
    // Enforced over a granting ACL is refused.
    assert_s3_error(
        set_ownership(&owner, &bucket, ObjectOwnership::BucketOwnerEnforced).await,
        400,
        Some("InvalidBucketAclWithObjectOwnership"),
    );

    // CreateBucket with ACLs.
    assert_s3_error(
        owner
            .create_bucket()
            .bucket(unique_bucket("pubacl"))
            .acl(BucketCannedAcl::PublicRead)
            .send()
            .await,
        400,
        Some("InvalidBucketAclWithBlockPublicAccessError"),
    );
    let private = unique_bucket("privacl");
    owner
        .create_bucket()
        .bucket(&private)
        .acl(BucketCannedAcl::Private)
        .send()
        .await?;
    assert_eq!(
        ownership(&owner, &private).await?,
        ObjectOwnership::BucketOwnerPreferred
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn presigned_urls_carry_the_signers_current_permissions() -> Result<()> {
    let server = Server::start().await?;
    let owner = server.client();
    let b = create_account(&server, "bravo")?;
    let bucket = unique_bucket("presign");
    create_bucket(&owner, &bucket).await?;
    put_bytes(&owner, &bucket, "doc", b"content").await?;
    put_policy(
        &owner,
        &bucket,
        &format!(r#"{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}"#, b.id),
    )
    .await?;
    let presigned = b
        .client
        .get_object()
        .bucket(&bucket)
        .key("doc")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(600))?)
        .await?;
    let url = presigned.uri().to_owned();
    let response = reqwest::get(&url).await?;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.text().await?, "content");
    // Revoked: the same URL, still unexpired, is now refused.
    owner.delete_bucket_policy().bucket(&bucket).send().await?;
    let response = reqwest::get(&url).await?;
    assert_eq!(response.status().as_u16(), 403);
    let body = response.text().await?;
    assert_eq!(
        xml_element(&body, "Code").as_deref(),
        Some("AccessDenied"),
        "{body}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn conditions_on_existing_object_tags() -> Result<()> {
    let server = Server::start().await?;
    let owner = server.client();
    let b = create_account(&server, "bravo")?;
    let bucket = unique_bucket("tags");
    create_bucket(&owner, &bucket).await?;
    owner
        .put_object()
        .bucket(&bucket)
        .key("tagged")
        .tagging("visibility=public")
        .body(b"shown".to_vec().into())
        .send()
        .await?;
    put_bytes(&owner, &bucket, "untagged", b"hidden").await?;
    put_policy(
        &owner,
        &bucket,
        &format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*","Condition":{{"StringEquals":{{"s3:ExistingObjectTag/visibility":"public"}}}}}}"#,
            b.id
        ),
    )
    .await?;
    assert!(get_bytes(&b.client, &bucket, "tagged").await? == b"shown");
    assert_get_denied(&b.client, &bucket, "untagged").await;
    // Re-tagging the object changes the answer.
    owner
        .delete_object_tagging()
        .bucket(&bucket)
        .key("tagged")
        .send()
        .await?;
    assert_get_denied(&b.client, &bucket, "tagged").await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn object_acls_public_read_and_objects_of_other_accounts() -> Result<()> {
    let server = Server::start().await?;
    let owner = server.client();
    let b = create_account(&server, "bravo")?;
    let bucket = unique_bucket("objacl");
    create_bucket(&owner, &bucket).await?;
    set_ownership(&owner, &bucket, ObjectOwnership::ObjectWriter).await?;
    allow_public(&owner, &bucket).await?;

    // A public-read object, read anonymously…
    owner
        .put_object()
        .bucket(&bucket)
        .key("open")
        .acl(ObjectCannedAcl::PublicRead)
        .body(b"open".to_vec().into())
        .send()
        .await?;
    assert_eq!(
        anonymous_get(&server, &bucket, "open").await?,
        (200, "open".to_owned())
    );
    let acl = owner
        .get_object_acl()
        .bucket(&bucket)
        .key("open")
        .send()
        .await?;
    assert!(acl.grants().iter().any(|grant| {
        grant.grantee().and_then(|grantee| grantee.uri())
            == Some("http://acs.amazonaws.com/groups/global/AllUsers")
    }));
    // …then blocked by Block Public Access.
    owner
        .put_public_access_block()
        .bucket(&bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .ignore_public_acls(true)
                .block_public_acls(true)
                .build(),
        )
        .send()
        .await?;
    assert_eq!(anonymous_get(&server, &bucket, "open").await?.0, 403);
    assert_s3_error(
        owner
            .put_object_acl()
            .bucket(&bucket)
            .key("open")
            .acl(ObjectCannedAcl::PublicRead)
            .send()
            .await,
        403,
        Some("AccessDenied"),
    );
    assert_s3_error(
        owner
            .put_object()
            .bucket(&bucket)
            .key("other")
            .acl(ObjectCannedAcl::PublicRead)
            .body(b"x".to_vec().into())
            .send()
            .await,
        403,
        Some("AccessDenied"),
    );
    allow_public(&owner, &bucket).await?;
    assert_eq!(anonymous_get(&server, &bucket, "open").await?.0, 200);
    // Overwriting the object starts it private again.
    put_bytes(&owner, &bucket, "open", b"closed").await?;
    assert_eq!(anonymous_get(&server, &bucket, "open").await?.0, 403);
    owner
        .put_object_acl()
        .bucket(&bucket)
        .key("open")
        .acl(ObjectCannedAcl::PublicRead)
        .send()
        .await?;
    assert_eq!(
        anonymous_get(&server, &bucket, "open").await?,
        (200, "closed".to_owned())
    );

    // An object another account wrote belongs to it (ObjectWriter): the
    // bucket owner reads it only if the writer granted it access. (A write
    // with an ACL header also needs s3:PutObjectAcl.)
    put_policy(
        &owner,
        &bucket,
        &format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":["s3:PutObject","s3:PutObjectAcl"],"Resource":"arn:aws:s3:::{bucket}/from-b/*"}}"#,
            b.id
        ),
    )
    .await?;
    put_bytes(&b.client, &bucket, "from-b/private", b"mine").await?;
    assert_get_denied(&owner, &bucket, "from-b/private").await;
    b.client
        .put_object()
        .bucket(&bucket)
        .key("from-b/shared")
        .acl(ObjectCannedAcl::BucketOwnerFullControl)
        .body(b"ours".to_vec().into())
        .send()
        .await?;
    assert!(get_bytes(&owner, &bucket, "from-b/shared").await? == b"ours");
    let acl = owner
        .get_object_acl()
        .bucket(&bucket)
        .key("from-b/shared")
        .send()
        .await?;
    assert_eq!(
        acl.owner().and_then(|owner| owner.id()).map(str::len),
        Some(64)
    );
    assert_eq!(acl.grants().len(), 2);
    Ok(())
}

#[tokio::test]
async fn copies_and_uploads_take_their_acl_and_owner_from_the_destination_bucket() -> Result<()> {
    let server = Server::start().await?;
    let owner = server.client();
    let bucket = unique_bucket("copyacl");
    create_bucket(&owner, &bucket).await?;
    set_ownership(&owner, &bucket, ObjectOwnership::ObjectWriter).await?;
    allow_public(&owner, &bucket).await?;
    put_bytes(&owner, &bucket, "private", b"data").await?;
    assert_eq!(anonymous_get(&server, &bucket, "private").await?.0, 403);
    // A copy with a public-read ACL is readable by anyone; its source stays
    // private.
    owner
        .copy_object()
        .bucket(&bucket)
        .key("copy")
        .copy_source(format!("{bucket}/private"))
        .acl(ObjectCannedAcl::PublicRead)
        .send()
        .await?;
    assert_eq!(
        anonymous_get(&server, &bucket, "copy").await?,
        (200, "data".to_owned())
    );
    assert_eq!(anonymous_get(&server, &bucket, "private").await?.0, 403);
    // A copy without an ACL starts private.
    owner
        .copy_object()
        .bucket(&bucket)
        .key("copy")
        .copy_source(format!("{bucket}/private"))
        .send()
        .await?;
    assert_eq!(anonymous_get(&server, &bucket, "copy").await?.0, 403);

    // A multipart upload's ACL lands on the object its completion installs.
    let upload = owner
        .create_multipart_upload()
        .bucket(&bucket)
        .key("assembled")
        .acl(ObjectCannedAcl::PublicRead)
        .send()
        .await?;
    let upload_id = upload.upload_id().context("upload id")?;
    let part = owner
        .upload_part()
        .bucket(&bucket)
        .key("assembled")
        .upload_id(upload_id)
        .part_number(1)
        .body(b"parts".to_vec().into())
        .send()
        .await?;
    owner
        .complete_multipart_upload()
        .bucket(&bucket)
        .key("assembled")
        .upload_id(upload_id)
        .multipart_upload(
            aws_sdk_s3::types::CompletedMultipartUpload::builder()
                .parts(
                    aws_sdk_s3::types::CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part.e_tag().unwrap_or_default())
                        .build(),
                )
                .build(),
        )
        .send()
        .await?;
    assert_eq!(
        anonymous_get(&server, &bucket, "assembled").await?,
        (200, "parts".to_owned())
    );

    // Under BucketOwnerEnforced another account's copy belongs to the
    // bucket owner.
    let enforced = unique_bucket("copyown");
    create_bucket(&owner, &enforced).await?;
    let b = create_account(&server, "bravo")?;
    put_policy(
        &owner,
        &enforced,
        &format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":["s3:PutObject","s3:GetObject"],"Resource":"arn:aws:s3:::{enforced}/*"}}"#,
            b.id
        ),
    )
    .await?;
    put_bytes(&b.client, &enforced, "by-b", b"b").await?;
    b.client
        .copy_object()
        .bucket(&enforced)
        .key("copied-by-b")
        .copy_source(format!("{enforced}/by-b"))
        .send()
        .await
        .context("copy by B")?;
    let acl = owner
        .get_object_acl()
        .bucket(&enforced)
        .key("copied-by-b")
        .send()
        .await?;
    let owner_id = owner
        .get_bucket_acl()
        .bucket(&enforced)
        .send()
        .await?
        .owner()
        .and_then(|owner| owner.id().map(str::to_owned));
    assert_eq!(
        acl.owner().and_then(|owner| owner.id().map(str::to_owned)),
        owner_id
    );
    Ok(())
}
