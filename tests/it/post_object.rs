//! Browser-form uploads (POST Object): forms signed with SigV4 and SigV2
//! as AWS documents them, the policy's conditions (prefix, size range,
//! every field covered, expiry), `${filename}`, success_action_status and
//! success_action_redirect, and the signer's permissions.

use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use base64::Engine as _;
use coffer_e2e::ops::{create_bucket, get_bytes};
use coffer_e2e::{unique_bucket, xml_element, Server};
use hmac::{Hmac, Mac};

/// One form field.
type Field = (String, String);

fn field(name: &str, value: &str) -> Field {
    (name.to_owned(), value.to_owned())
}

/// A multipart/form-data body: the fields, then the file (last, as S3
/// requires).
fn form_body(fields: &[Field], file_name: &str, data: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----coffer-e2e-7d1f";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/plain\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post(
    server: &Server,
    bucket: &str,
    fields: &[Field],
    file_name: &str,
    data: &[u8],
) -> Result<reqwest::Response> {
    let (content_type, body) = form_body(fields, file_name, data);
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?
        .post(format!("{}/{bucket}", server.endpoint()))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await?)
}

fn iso8601(time: SystemTime) -> String {
    let seconds = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    time::OffsetDateTime::from_unix_timestamp(seconds as i64)
        .map(|at| {
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
                at.year(),
                u8::from(at.month()),
                at.day(),
                at.hour(),
                at.minute(),
                at.second()
            )
        })
        .unwrap_or_default()
}

/// `20261127T204100Z`, as SigV4 writes times.
fn amz_date(time: SystemTime) -> String {
    let at = time::OffsetDateTime::from(time);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// A SigV4 form for `key` in `bucket` by (access key, secret): the policy
/// covers every field it sends plus `conditions` (JSON items).
fn sigv4_form(
    server: &Server,
    (access_key, secret): (&str, &str),
    bucket: &str,
    key: &str,
    conditions: &[&str],
    expires_in: Duration,
    extra: &[Field],
) -> Vec<Field> {
    let now = SystemTime::now();
    let date = amz_date(now);
    let day = &date[..8];
    let credential = format!("{access_key}/{day}/{}/s3/aws4_request", server.region());
    let mut items = vec![
        format!(r#"{{"bucket":"{bucket}"}}"#),
        format!(r#"{{"x-amz-algorithm":"AWS4-HMAC-SHA256"}}"#),
        format!(r#"{{"x-amz-credential":"{credential}"}}"#),
        format!(r#"{{"x-amz-date":"{date}"}}"#),
    ];
    items.extend(conditions.iter().map(|item| (*item).to_owned()));
    let policy = format!(
        r#"{{"expiration":"{}","conditions":[{}]}}"#,
        iso8601(now + expires_in),
        items.join(",")
    );
    let policy = base64::engine::general_purpose::STANDARD.encode(policy);
    let signing_key = aws_sigv4::sign::v4::generate_signing_key(secret, now, server.region(), "s3");
    let signature = aws_sigv4::sign::v4::calculate_signature(signing_key, policy.as_bytes());
    let mut fields = vec![
        field("key", key),
        field("x-amz-algorithm", "AWS4-HMAC-SHA256"),
        field("x-amz-credential", &credential),
        field("x-amz-date", &date),
        field("policy", &policy),
        field("x-amz-signature", &signature),
    ];
    fields.extend_from_slice(extra);
    fields
}

fn root(server: &Server) -> (&str, &str) {
    (server.access_key_id(), server.secret_access_key())
}

async fn expect_error(response: reqwest::Response, status: u16, code: &str) -> Result<String> {
    let actual = response.status().as_u16();
    let body = response.text().await?;
    assert_eq!(
        (actual, xml_element(&body, "Code").as_deref()),
        (status, Some(code)),
        "{body}"
    );
    Ok(xml_element(&body, "Message").unwrap_or_default())
}

#[tokio::test]
async fn post_uploads_follow_their_policy() -> Result<()> {
    let server = Server::start().await?;
    let bucket = unique_bucket("post");
    create_bucket(&server.client(), &bucket).await?;
    let hour = Duration::from_secs(3600);
    let uploads = [
        r#"["starts-with","$key","uploads/"]"#,
        r#"["content-length-range",1,100]"#,
    ];

    // `${filename}` takes the file's name (the last path segment).
    let fields = sigv4_form(
        &server,
        root(&server),
        &bucket,
        "uploads/${filename}",
        &uploads,
        hour,
        &[],
    );
    let response = post(
        &server,
        &bucket,
        &fields,
        "C:\\docs\\report.txt",
        b"form data",
    )
    .await?;
    assert_eq!(
        response.status().as_u16(),
        204,
        "{}",
        response.text().await?
    );
    assert_eq!(
        get_bytes(&server.client(), &bucket, "uploads/report.txt").await?,
        b"form data"
    );

    // Too large for the policy's range.
    let response = post(&server, &bucket, &fields, "big.txt", &[7u8; 101]).await?;
    expect_error(response, 400, "EntityTooLarge").await?;
    // A key outside the allowed prefix.
    let outside = sigv4_form(
        &server,
        root(&server),
        &bucket,
        "other/x",
        &uploads,
        hour,
        &[],
    );
    let message = expect_error(
        post(&server, &bucket, &outside, "x", b"x").await?,
        403,
        "AccessDenied",
    )
    .await?;
    assert!(
        message.starts_with("Invalid according to Policy"),
        "{message}"
    );
    // A field no condition covers.
    let extra = sigv4_form(
        &server,
        root(&server),
        &bucket,
        "uploads/y",
        &uploads,
        hour,
        &[field("Content-Type", "text/plain")],
    );
    let message = expect_error(
        post(&server, &bucket, &extra, "y", b"y").await?,
        403,
        "AccessDenied",
    )
    .await?;
    assert!(message.contains("Extra input fields"), "{message}");
    // An expired policy.
    let expired = sigv4_form(
        &server,
        root(&server),
        &bucket,
        "uploads/z",
        &uploads,
        Duration::ZERO,
        &[],
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let message = expect_error(
        post(&server, &bucket, &expired, "z", b"z").await?,
        403,
        "AccessDenied",
    )
    .await?;
    assert!(message.contains("Policy expired"), "{message}");
    // A signature that does not match the policy.
    let mut forged = fields.clone();
    if let Some(signature) = forged
        .iter_mut()
        .find(|(name, _)| name == "x-amz-signature")
    {
        signature.1 = "0".repeat(64);
    }
    expect_error(
        post(&server, &bucket, &forged, "f", b"f").await?,
        403,
        "SignatureDoesNotMatch",
    )
    .await?;
    // None of the refused uploads left anything behind.
    let listed = server
        .client()
        .list_objects_v2()
        .bucket(&bucket)
        .send()
        .await?;
    assert_eq!(listed.key_count(), Some(1));

    // success_action_status 201: an XML answer naming the object.
    let created = sigv4_form(
        &server,
        root(&server),
        &bucket,
        "uploads/created",
        &[
            r#"["starts-with","$key","uploads/"]"#,
            r#"{"success_action_status":"201"}"#,
        ],
        hour,
        &[field("success_action_status", "201")],
    );
    let response = post(&server, &bucket, &created, "c", b"c").await?;
    assert_eq!(response.status().as_u16(), 201);
    let body = response.text().await?;
    assert_eq!(
        xml_element(&body, "Key").as_deref(),
        Some("uploads/created"),
        "{body}"
    );
    // success_action_redirect: 303 to the page, with bucket, key and ETag.
    let redirect = sigv4_form(
        &server,
        root(&server),
        &bucket,
        "uploads/redirected",
        &[
            r#"["starts-with","$key","uploads/"]"#,
            r#"["starts-with","$success_action_redirect","https://example.com/"]"#,
        ],
        hour,
        &[field("success_action_redirect", "https://example.com/done")],
    );
    let response = post(&server, &bucket, &redirect, "r", b"r").await?;
    assert_eq!(response.status().as_u16(), 303);
    let location = response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .context("a Location")?
        .to_owned();
    assert!(
        location.starts_with("https://example.com/done?"),
        "{location}"
    );
    assert!(
        location.contains("key=uploads%2Fredirected")
            || location.contains("key=uploads/redirected"),
        "{location}"
    );
    Ok(())
}

#[tokio::test]
async fn sigv2_forms_and_the_signers_permissions() -> Result<()> {
    let server = Server::start().await?;
    let bucket = unique_bucket("post-v2");
    create_bucket(&server.client(), &bucket).await?;
    let expiration = iso8601(SystemTime::now() + Duration::from_secs(3600));
    let policy = format!(
        r#"{{"expiration":"{expiration}","conditions":[{{"bucket":"{bucket}"}},["starts-with","$key",""]]}}"#
    );
    let policy = base64::engine::general_purpose::STANDARD.encode(policy);
    let sign = |secret: &str| {
        let mut mac =
            Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(policy.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    };
    let form = |key: &str, access_key: &str, signature: &str| {
        vec![
            field("key", key),
            field("AWSAccessKeyId", access_key),
            field("policy", &policy),
            field("signature", signature),
        ]
    };
    let good = form(
        "v2/a",
        server.access_key_id(),
        &sign(server.secret_access_key()),
    );
    let response = post(&server, &bucket, &good, "a", b"v2").await?;
    assert_eq!(
        response.status().as_u16(),
        204,
        "{}",
        response.text().await?
    );
    assert_eq!(get_bytes(&server.client(), &bucket, "v2/a").await?, b"v2");
    let forged = form("v2/b", server.access_key_id(), &sign("not-the-secret"));
    expect_error(
        post(&server, &bucket, &forged, "b", b"x").await?,
        403,
        "SignatureDoesNotMatch",
    )
    .await?;
    let unknown = form("v2/c", "AKIANOBODY0000000000", &sign("x"));
    expect_error(
        post(&server, &bucket, &unknown, "c", b"x").await?,
        403,
        "InvalidAccessKeyId",
    )
    .await?;

    // A form is only as good as its signer's permissions: an IAM user
    // without s3:PutObject signs a valid form and is refused.
    let iam = server.iam();
    let (key, secret) = iam.create_user_with_key("poster").await?;
    let hour = Duration::from_secs(3600);
    let conditions = [r#"["starts-with","$key",""]"#];
    let fields = sigv4_form(
        &server,
        (&key, &secret),
        &bucket,
        "by-user",
        &conditions,
        hour,
        &[],
    );
    expect_error(
        post(&server, &bucket, &fields, "u", b"u").await?,
        403,
        "AccessDenied",
    )
    .await?;
    iam.put_user_policy(
        "poster",
        "put",
        &format!(
            r#"{{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::{bucket}/*"}}"#
        ),
    )
    .await?;
    let response = post(&server, &bucket, &fields, "u", b"u").await?;
    assert_eq!(
        response.status().as_u16(),
        204,
        "{}",
        response.text().await?
    );
    Ok(())
}
