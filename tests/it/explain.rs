//! `coffer admin policy explain` end to end: the root account owns a
//! bucket whose policy allows account B to read `pub/*` (statement
//! "read-pub") and denies it `pub/secret*` (statement "no-secrets"); the
//! explanation names the statement that decided each described request,
//! and agrees with what B's real requests get.

use anyhow::{Context, Result};
use coffer_e2e::cluster::admin;
use coffer_e2e::ops::{create_bucket, get_bytes, put_bytes};
use coffer_e2e::{assert_s3_error, unique_bucket, Server};

/// The explanation `--json` prints, as a generic value.
fn explain(server: &Server, args: &[&str]) -> Result<serde_json::Value> {
    let mut full = vec!["policy", "explain", "--json"];
    full.extend_from_slice(args);
    let output = admin(server, &full)?;
    serde_json::from_str(&output).with_context(|| format!("policy explain --json: {output}"))
}

fn sids(explanation: &serde_json::Value) -> Vec<String> {
    explanation["reasons"]
        .as_array()
        .map(|reasons| {
            reasons
                .iter()
                .filter_map(|reason| reason["sid"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn explanations_name_the_deciding_statement() -> Result<()> {
    let server = Server::start().await?;
    let owner = server.client();
    let created = coffer_e2e::accounts::create_account(&server, "bravo")?;
    let (bravo_id, bravo_key) = (created.id.clone(), created.access_key_id.clone());
    let bravo = created.client(&server);
    let accounts: Vec<serde_json::Value> =
        serde_json::from_str(&admin(&server, &["account", "list", "--json"])?)?;
    let root_id = accounts
        .iter()
        .filter_map(|account| account["account_id"].as_str())
        .find(|id| *id != bravo_id)
        .context("the root account is listed")?
        .to_owned();

    let bucket = unique_bucket("explain");
    create_bucket(&owner, &bucket).await?;
    for key in ["pub/x", "pub/secret1"] {
        put_bytes(&owner, &bucket, key, key.as_bytes()).await?;
    }
    // Naming an account is not public, so the new bucket's Block Public
    // Access lets this policy in.
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
             {{"Sid":"read-pub","Effect":"Allow","Principal":{{"AWS":"{bravo_id}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/pub/*"}},
             {{"Sid":"no-secrets","Effect":"Deny","Principal":{{"AWS":"arn:aws:iam::{bravo_id}:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/pub/secret*"}}]}}"#
    );
    owner
        .put_bucket_policy()
        .bucket(&bucket)
        .policy(policy)
        .send()
        .await?;

    let as_bravo = [
        "--access-key-id",
        bravo_key.as_str(),
        "--bucket",
        bucket.as_str(),
    ];

    // Allowed by "read-pub", and B's real request agrees.
    let allowed = explain(
        &server,
        &[
            &as_bravo[..],
            &["--action", "s3:GetObject", "--key", "pub/x"],
        ]
        .concat(),
    )?;
    assert_eq!(allowed["allowed"], true, "{allowed}");
    assert_eq!(allowed["outcome"], "Allowed", "{allowed}");
    assert_eq!(sids(&allowed), ["read-pub"], "{allowed}");
    let reason = &allowed["reasons"][0];
    assert_eq!(reason["source"], "BucketPolicy", "{allowed}");
    assert_eq!(reason["effect"], "Allow", "{allowed}");
    assert_eq!(reason["account"], root_id.as_str(), "{allowed}");
    assert_eq!(reason["index"], 0, "{allowed}");
    assert!(
        reason["name"]
            .as_str()
            .is_some_and(|name| name.contains(&bucket)),
        "{allowed}"
    );
    assert_eq!(get_bytes(&bravo, &bucket, "pub/x").await?, b"pub/x");

    // Denied by "no-secrets", which beats the Allow.
    let denied = explain(
        &server,
        &[
            &as_bravo[..],
            &["--action", "s3:GetObject", "--key", "pub/secret1"],
        ]
        .concat(),
    )?;
    assert_eq!(denied["allowed"], false, "{denied}");
    assert_eq!(denied["outcome"], "ExplicitDeny", "{denied}");
    assert_eq!(sids(&denied), ["no-secrets"], "{denied}");
    assert_eq!(denied["reasons"][0]["effect"], "Deny", "{denied}");
    assert_eq!(denied["reasons"][0]["index"], 1, "{denied}");
    assert_s3_error(
        bravo
            .get_object()
            .bucket(&bucket)
            .key("pub/secret1")
            .send()
            .await,
        403,
        Some("AccessDenied"),
    );

    // Nothing allows an anonymous caller, nor B's writes.
    let anonymous = explain(
        &server,
        &[
            "--anonymous",
            "--action",
            "s3:GetObject",
            "--bucket",
            &bucket,
            "--key",
            "pub/x",
        ],
    )?;
    assert_eq!(anonymous["allowed"], false, "{anonymous}");
    assert_eq!(anonymous["outcome"], "ImplicitDeny", "{anonymous}");
    assert_eq!(anonymous["reasons"], serde_json::json!([]), "{anonymous}");
    let write = explain(
        &server,
        &[
            &as_bravo[..],
            &["--action", "s3:PutObject", "--key", "pub/x"],
        ]
        .concat(),
    )?;
    assert_eq!(write["allowed"], false, "{write}");
    assert_eq!(write["outcome"], "ImplicitDeny", "{write}");

    // The owner's root user needs no statement; a missing bucket is said so.
    let owner_read = explain(
        &server,
        &[
            "--access-key-id",
            server.access_key_id(),
            "--action",
            "s3:GetObject",
            "--bucket",
            &bucket,
            "--key",
            "pub/secret1",
        ],
    )?;
    assert_eq!(owner_read["outcome"], "Allowed", "{owner_read}");
    let missing_bucket = unique_bucket("missing");
    let missing = explain(
        &server,
        &[
            "--access-key-id",
            bravo_key.as_str(),
            "--bucket",
            missing_bucket.as_str(),
            "--action",
            "s3:GetObject",
        ],
    )?;
    assert_eq!(missing["outcome"], "NoSuchBucket", "{missing}");

    // The human form: the verdict, the sentence, one line per statement.
    let human = admin(
        &server,
        &[
            &["policy", "explain"][..],
            &as_bravo[..],
            &["--action", "s3:GetObject", "--key", "pub/secret1"],
        ]
        .concat(),
    )?;
    let lines: Vec<&str> = human.lines().collect();
    assert_eq!(lines.len(), 3, "{human}");
    assert_eq!(lines[0], "DENIED (ExplicitDeny)", "{human}");
    assert_eq!(
        lines[1],
        denied["explanation"].as_str().context("explanation")?,
        "{human}"
    );
    assert_eq!(
        lines[2],
        format!(
            "  Deny by BucketPolicy \"bucket policy of {bucket}\" of account {root_id}, statement \"no-secrets\" (#1)"
        ),
        "{human}"
    );

    // What cannot be explained fails, with the reason.
    for (args, expected) in [
        (
            vec!["--action", "s3:Fly", "--bucket", bucket.as_str()],
            "InvalidArgument",
        ),
        (
            vec!["--action", "s3:GetObject", "--bucket", "Not_A_Bucket"],
            "InvalidBucketName",
        ),
    ] {
        let outcome = admin(
            &server,
            &[&["policy", "explain", "--anonymous"][..], &args[..]].concat(),
        );
        let error = format!("{:#}", outcome.expect_err("cannot be explained"));
        assert!(error.contains(expected), "{args:?}: {error}");
    }
    let unknown_key = admin(
        &server,
        &[
            "policy",
            "explain",
            "--access-key-id",
            "AKIANOSUCHKEY0000000",
            "--action",
            "s3:GetObject",
        ],
    );
    let error = format!("{:#}", unknown_key.expect_err("an unknown key"));
    assert!(error.contains("InvalidAccessKeyId"), "{error}");
    Ok(())
}
