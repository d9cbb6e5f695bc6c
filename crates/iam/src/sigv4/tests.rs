use std::time::SystemTime;

use time::macros::datetime;

use super::*;
use crate::error::ErrorCode;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const NOW: OffsetDateTime = datetime!(2015-08-30 12:36:00 UTC);

/// AWS's published example: IAM ListUsers signed on 2015-08-30.
const LIST_USERS_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 \
    Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
    SignedHeaders=content-type;host;x-amz-date, \
    Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";

fn list_users_headers(authorization: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("Host", "iam.amazonaws.com"),
        (
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
        ("X-Amz-Date", "20150830T123600Z"),
        ("Authorization", authorization),
    ]
}

fn get<'a>(query: &'a str, headers: &'a [(&'a str, &'a str)]) -> HttpRequest<'a> {
    HttpRequest {
        method: "GET",
        path: "/",
        query,
        headers,
        body: b"",
    }
}

fn check(request: &HttpRequest, secret: &str, now: OffsetDateTime) -> Result<(), IamError> {
    let auth = parse_authorization(request.headers)?;
    verify(&auth, request, secret, now)
}

#[test]
fn aws_list_users_example_verifies() {
    let headers = list_users_headers(LIST_USERS_AUTHORIZATION);
    let request = get("Action=ListUsers&Version=2010-05-08", &headers);
    let auth = parse_authorization(&headers).expect("well-formed");
    assert_eq!(auth.access_key_id, "AKIDEXAMPLE");
    assert_eq!(auth.scope_date, "20150830");
    assert_eq!(auth.region, "us-east-1");
    assert_eq!(auth.service, Service::Iam);
    assert_eq!(auth.signed_headers, ["content-type", "host", "x-amz-date"]);
    assert_eq!(auth.request_timestamp, "20150830T123600Z");
    assert_eq!(auth.session_token, None);
    verify(&auth, &request, SECRET, NOW).expect("AWS's example signature");
}

#[test]
fn query_order_and_escapes_do_not_matter() {
    let headers = list_users_headers(LIST_USERS_AUTHORIZATION);
    let request = get("Version=2010%2D05%2D08&Action=ListUsers", &headers);
    check(&request, SECRET, NOW).expect("same parameters");
}

#[test]
fn tampering_is_refused() {
    let headers = list_users_headers(LIST_USERS_AUTHORIZATION);
    let tampered_query = get("Action=ListRoles&Version=2010-05-08", &headers);
    let error = check(&tampered_query, SECRET, NOW).unwrap_err();
    assert_eq!(error.code, ErrorCode::SignatureDoesNotMatch);
    assert_eq!(error.status_code_u16(), 403);
    assert!(error
        .message
        .starts_with("The request signature we calculated"));

    let wrong_secret = get("Action=ListUsers&Version=2010-05-08", &headers);
    let error = check(&wrong_secret, "not-the-secret", NOW).unwrap_err();
    assert_eq!(error.code, ErrorCode::SignatureDoesNotMatch);

    let mut tampered_header = headers.clone();
    tampered_header[1].1 = "text/plain";
    let request = get("Action=ListUsers&Version=2010-05-08", &tampered_header);
    let error = check(&request, SECRET, NOW).unwrap_err();
    assert_eq!(error.code, ErrorCode::SignatureDoesNotMatch);

    let mut tampered_date = headers.clone();
    tampered_date[2].1 = "20150830T123601Z";
    let request = get("Action=ListUsers&Version=2010-05-08", &tampered_date);
    let error = check(&request, SECRET, NOW).unwrap_err();
    assert_eq!(error.code, ErrorCode::SignatureDoesNotMatch);

    let mut missing_signed_header = headers.clone();
    missing_signed_header.remove(1);
    let request = get(
        "Action=ListUsers&Version=2010-05-08",
        &missing_signed_header,
    );
    let error = check(&request, SECRET, NOW).unwrap_err();
    assert_eq!(error.code, ErrorCode::SignatureDoesNotMatch);

    let mut body_added = get("Action=ListUsers&Version=2010-05-08", &headers);
    body_added.body = b"UserName=mallory";
    let error = check(&body_added, SECRET, NOW).unwrap_err();
    assert_eq!(error.code, ErrorCode::SignatureDoesNotMatch);
}

#[test]
fn request_time_must_be_within_fifteen_minutes() {
    let headers = list_users_headers(LIST_USERS_AUTHORIZATION);
    let request = get("Action=ListUsers&Version=2010-05-08", &headers);
    check(&request, SECRET, NOW + Duration::minutes(15)).expect("edge of window");
    check(&request, SECRET, NOW - Duration::minutes(15)).expect("edge of window");

    let error = check(&request, SECRET, NOW + Duration::minutes(16)).unwrap_err();
    assert_eq!(error.code, ErrorCode::SignatureDoesNotMatch);
    assert_eq!(
        error.message,
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z \
         (20150830T125200Z - 15 min.)"
    );

    let error = check(&request, SECRET, NOW - Duration::minutes(16)).unwrap_err();
    assert_eq!(error.code, ErrorCode::SignatureDoesNotMatch);
    assert_eq!(
        error.message,
        "Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z \
         (20150830T122000Z + 15 min.)"
    );
}

#[test]
fn missing_authorization_is_missing_token() {
    let headers = [
        ("Host", "iam.amazonaws.com"),
        ("X-Amz-Date", "20150830T123600Z"),
    ];
    let error = parse_authorization(&headers).unwrap_err();
    assert_eq!(error.code, ErrorCode::MissingAuthenticationToken);
    assert_eq!(error.status_code_u16(), 403);
}

#[test]
fn malformed_authorization_is_incomplete_signature() {
    let cases: &[(&str, &str)] = &[
        ("AWS AKIDEXAMPLE:signature", "algorithm"),
        ("AWS4-HMAC-SHA256", "algorithm"),
        (
            "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
            "requires 'Credential'",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, Signature=00",
            "requires 'SignedHeaders'",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=host",
            "requires 'Signature'",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/iam/aws4_request, SignedHeaders=host, Signature=00",
            "exactly 5 slash-delimited",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type, Signature=00",
            "'Host'",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request SignedHeaders=host Signature=00",
            "requires 'SignedHeaders'",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00",
            "access key",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/iam/aws4_request, Credential=B/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00",
            "repeats",
        ),
    ];
    for (authorization, expected) in cases {
        let headers = [
            ("X-Amz-Date", "20150830T123600Z"),
            ("Authorization", *authorization),
        ];
        let error = parse_authorization(&headers).unwrap_err();
        assert_eq!(
            error.code,
            ErrorCode::IncompleteSignature,
            "{authorization}"
        );
        assert_eq!(error.status_code_u16(), 400);
        assert!(
            error.message.contains(expected),
            "{authorization}: {}",
            error.message
        );
    }

    let no_date = [("Authorization", LIST_USERS_AUTHORIZATION)];
    let error = parse_authorization(&no_date).unwrap_err();
    assert_eq!(error.code, ErrorCode::IncompleteSignature);
    assert!(error.message.contains("'X-Amz-Date' or a 'Date'"));

    let bad_date = [
        ("X-Amz-Date", "2015-08-30"),
        ("Authorization", LIST_USERS_AUTHORIZATION),
    ];
    let error = parse_authorization(&bad_date).unwrap_err();
    assert_eq!(error.code, ErrorCode::IncompleteSignature);
    assert!(error.message.contains("ISO-8601 'basic format'"));

    let twice = [
        ("X-Amz-Date", "20150830T123600Z"),
        ("Authorization", LIST_USERS_AUTHORIZATION),
        ("authorization", LIST_USERS_AUTHORIZATION),
    ];
    let error = parse_authorization(&twice).unwrap_err();
    assert_eq!(error.code, ErrorCode::IncompleteSignature);
}

#[test]
fn wrong_scope_does_not_match() {
    let cases: &[(&str, &str)] = &[
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00",
            "correct service",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws5_request, SignedHeaders=host, Signature=00",
            "valid terminator",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00",
            "'20150831' != '20150830', from '20150830T123600Z'",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/US East/iam/aws4_request, SignedHeaders=host, Signature=00",
            "valid region",
        ),
    ];
    for (authorization, expected) in cases {
        let headers = [
            ("X-Amz-Date", "20150830T123600Z"),
            ("Authorization", *authorization),
        ];
        let error = parse_authorization(&headers).unwrap_err();
        assert_eq!(
            error.code,
            ErrorCode::SignatureDoesNotMatch,
            "{authorization}"
        );
        assert!(
            error.message.contains(expected),
            "{authorization}: {}",
            error.message
        );
    }
}

#[test]
fn date_header_and_session_token_are_read() {
    let headers = [
        ("Date", "Sun, 30 Aug 2015 12:36:00 GMT"),
        ("X-Amz-Security-Token", "session-token"),
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20150830/eu-west-1/sts/aws4_request, \
             SignedHeaders=date;host, Signature=00",
        ),
    ];
    let auth = parse_authorization(&headers).expect("well-formed");
    assert_eq!(auth.service, Service::Sts);
    assert_eq!(auth.request_time, NOW);
    assert_eq!(auth.request_timestamp, "20150830T123600Z");
    assert_eq!(auth.session_token.as_deref(), Some("session-token"));
}

#[test]
fn canonical_uri_and_query_follow_botocore() {
    assert_eq!(canonical_uri(""), "/");
    assert_eq!(canonical_uri("/"), "/");
    assert_eq!(canonical_uri("//a/./b/../c/"), "/a/c/");
    assert_eq!(canonical_uri("/a%20b"), "/a%2520b");
    assert_eq!(canonical_query(""), "");
    assert_eq!(canonical_query("b=2&a=1&a=0&flag"), "a=0&a=1&b=2&flag=");
    assert_eq!(canonical_query("k=a+b%2Fc"), "k=a%20b%2Fc");
    assert_eq!(canonical_header_value("  a   b \t c  "), "a b c");
}

/// Signs `body` as botocore would (POST, form body) with AWS's own Rust
/// signer, then returns the headers it produced plus ours.
fn aws_signed_post(
    body: &'static str,
    service: &str,
    settings: aws_sigv4::http_request::SigningSettings,
) -> Vec<(String, String)> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest};
    let identity = aws_credential_types::Credentials::new(
        "AKIDEXAMPLE",
        SECRET,
        Some("session-token".to_string()),
        None,
        "test",
    )
    .into();
    let signing_time = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_440_938_160);
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(signing_time)
        .settings(settings)
        .build()
        .expect("all parameters given")
        .into();
    let base_headers = [
        ("host", "localhost:9000"),
        (
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
    ];
    let signable = SignableRequest::new(
        "POST",
        "https://localhost:9000/",
        base_headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .expect("valid request");
    let (instructions, _signature) = sign(signable, &params).expect("signs").into_parts();
    let mut headers: Vec<(String, String)> = base_headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    for (name, value) in instructions.headers() {
        headers.push((name.to_string(), value.to_string()));
    }
    headers
}

fn check_post(headers: &[(String, String)], body: &[u8]) -> Result<SigV4Auth, IamError> {
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let request = HttpRequest {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body,
    };
    let auth = parse_authorization(&headers)?;
    verify(&auth, &request, SECRET, NOW)?;
    Ok(auth)
}

#[test]
fn aws_sdk_signed_post_verifies_and_body_tampering_fails() {
    const BODY: &str = "Action=CreateUser&Version=2010-05-08&UserName=alice&Path=%2Fdev%2F";
    let headers = aws_signed_post(BODY, "iam", Default::default());
    let auth = check_post(&headers, BODY.as_bytes()).expect("signed by aws-sigv4");
    assert_eq!(auth.session_token.as_deref(), Some("session-token"));

    let error = check_post(
        &headers,
        b"Action=CreateUser&Version=2010-05-08&UserName=mallory",
    )
    .unwrap_err();
    assert_eq!(error.code, ErrorCode::SignatureDoesNotMatch);

    let sts_headers = aws_signed_post(
        "Action=GetCallerIdentity&Version=2011-06-15",
        "sts",
        Default::default(),
    );
    let auth = check_post(&sts_headers, b"Action=GetCallerIdentity&Version=2011-06-15")
        .expect("signed by aws-sigv4");
    assert_eq!(auth.service, Service::Sts);
}

#[test]
fn content_sha256_header_must_match_the_body() {
    use aws_sigv4::http_request::{PayloadChecksumKind, SigningSettings};
    const BODY: &str = "Action=ListUsers&Version=2010-05-08";
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let headers = aws_signed_post(BODY, "iam", settings);
    assert!(headers
        .iter()
        .any(|(name, _)| name == "x-amz-content-sha256"));
    check_post(&headers, BODY.as_bytes()).expect("signed with the body's hash");

    let error = check_post(&headers, b"Action=DeleteUser&Version=2010-05-08").unwrap_err();
    assert_eq!(error.code, ErrorCode::SignatureDoesNotMatch);
    assert!(error.message.contains("x-amz-content-sha256"));

    let mut unsigned = headers.clone();
    for (name, value) in &mut unsigned {
        if name == "x-amz-content-sha256" {
            *value = "UNSIGNED-PAYLOAD".to_string();
        }
    }
    let error = check_post(&unsigned, BODY.as_bytes()).unwrap_err();
    assert_eq!(error.code, ErrorCode::SignatureDoesNotMatch);
}
