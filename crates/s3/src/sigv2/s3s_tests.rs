//! What passes our SigV2 check must pass s3s's own SigV2 verification too
//! (the gateway runs both). Each request is signed with our
//! canonicalization, checked by `verify`, then sent through a bare s3s
//! service whose operations are all NotImplemented: 501 means s3s accepted
//! the signature, 403 SignatureDoesNotMatch means the two disagree.

use super::*;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

struct NoOperations;

#[async_trait::async_trait]
impl s3s::S3 for NoOperations {}

struct AnyBucket;

impl s3s::validation::NameValidation for AnyBucket {
    fn validate_bucket_name(&self, name: &str) -> bool {
        !name.is_empty()
    }
}

const DOMAIN: &str = "s3.example.com";

fn service() -> s3s::service::S3Service {
    let mut builder = S3ServiceBuilder::new(NoOperations);
    builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET));
    builder.set_host(DomainHost::new(&[DOMAIN.to_owned()]));
    builder.set_validation(AnyBucket);
    builder.build()
}

enum Mode {
    Header,
    Query,
}

/// Sign `request` in place with our canonicalization.
fn sign_request(request: &mut http::Request<s3s::Body>, mode: &Mode, now: OffsetDateTime) {
    let host = DomainHost::new(&[DOMAIN.to_owned()]);
    match mode {
        Mode::Header => {
            if !request.headers().contains_key("x-amz-date") {
                let date = http_date(now);
                request.headers_mut().insert(
                    http::header::DATE,
                    HeaderValue::from_str(&date).expect("ascii"),
                );
            }
            let text = {
                let signed = SignedRequest::of(request, Some(&host));
                string_to_sign(&signed, header_date_line(signed.headers))
            };
            let value = format!("AWS {ACCESS_KEY}:{}", sign(SECRET, &text));
            request.headers_mut().insert(
                http::header::AUTHORIZATION,
                HeaderValue::from_str(&value).expect("ascii"),
            );
        }
        Mode::Query => {
            let expires = (now.unix_timestamp() + 600).to_string();
            let text = {
                let signed = SignedRequest::of(request, Some(&host));
                string_to_sign(&signed, &expires)
            };
            let signature = percent_encoding::utf8_percent_encode(
                &sign(SECRET, &text),
                percent_encoding::NON_ALPHANUMERIC,
            )
            .to_string();
            let uri = request.uri().to_string();
            let separator = if uri.contains('?') { '&' } else { '?' };
            let signed_uri = format!(
                "{uri}{separator}AWSAccessKeyId={ACCESS_KEY}&Expires={expires}&Signature={signature}"
            );
            *request.uri_mut() = signed_uri.parse().expect("uri");
        }
    }
}

fn build(method: Method, uri: &str, header_pairs: &[(&str, &str)]) -> http::Request<s3s::Body> {
    let mut request = http::Request::new(s3s::Body::empty());
    *request.method_mut() = method;
    *request.uri_mut() = uri.parse().expect("uri");
    *request.headers_mut() = headers(header_pairs);
    request
}

/// (auth form, method, uri, headers)
type Case = (
    Mode,
    Method,
    &'static str,
    Vec<(&'static str, &'static str)>,
);

#[tokio::test]
async fn s3s_accepts_what_we_accept() {
    let now = OffsetDateTime::now_utc();
    let service = service();
    let cases: Vec<Case> = vec![
        (
            Mode::Header,
            Method::GET,
            "/",
            vec![("host", "localhost:9000")],
        ),
        (
            Mode::Header,
            Method::GET,
            "/bucket/key",
            vec![("host", "127.0.0.1:9000")],
        ),
        (
            Mode::Header,
            Method::GET,
            "/photos/puppy.jpg?versionId=abc&response-content-type=text%2Fplain",
            vec![("host", "bucket.s3.example.com")],
        ),
        (
            Mode::Header,
            Method::PUT,
            "/bucket/dir/fran%C3%A7ais.txt?partNumber=2&uploadId=u%2B1",
            vec![
                ("host", "localhost"),
                ("content-type", "text/plain"),
                ("content-md5", "1B2M2Y8AsgTpgAmY7PhCfw=="),
                ("content-length", "0"),
                ("x-amz-meta-b", " two "),
                ("x-amz-meta-a", "one"),
                ("x-amz-meta-a", "uno"),
            ],
        ),
        (
            Mode::Header,
            Method::DELETE,
            "/bucket/key",
            vec![("host", "localhost"), ("x-amz-date", "20991231T000000Z")],
        ),
        (
            Mode::Header,
            Method::GET,
            "/bucket?acl",
            vec![("host", "localhost")],
        ),
        (
            Mode::Header,
            Method::GET,
            "/?tagging",
            vec![("host", "bucket.s3.example.com")],
        ),
        (
            Mode::Header,
            Method::GET,
            "/bucket?list-type=2&prefix=a%2Fb&delimiter=%2F",
            vec![("host", "localhost")],
        ),
        (
            Mode::Query,
            Method::GET,
            "/bucket/key",
            vec![("host", "localhost")],
        ),
        (
            Mode::Query,
            Method::GET,
            "/key?response-content-disposition=attachment%3B%20filename%3Dx",
            vec![("host", "bucket.s3.example.com")],
        ),
    ];
    for (mode, method, uri, header_pairs) in cases {
        let label = format!("{method} {uri} {header_pairs:?}");
        let mut request = build(method, uri, &header_pairs);
        // x-amz-date is fixed in the case table; the time check is ours,
        // s3s does not make one, so only the signature is compared here.
        sign_request(&mut request, &mode, now);
        let auth = detect(request.uri(), request.headers())
            .expect("well-formed")
            .expect("SigV2");
        let host = DomainHost::new(&[DOMAIN.to_owned()]);
        let signed = SignedRequest::of(&request, Some(&host));
        let checked = if request.headers().contains_key("x-amz-date") {
            // The fixed x-amz-date is far away; skip the clock, keep the signature check.
            let at = parse_http_date("20991231T000000Z").expect("valid");
            verify(&auth, &signed, at, |_| Ok(Some(SECRET)))
        } else {
            verify(&auth, &signed, now, |_| Ok(Some(SECRET)))
        };
        assert!(checked.is_ok(), "{label}: ours refused: {checked:?}");

        let response = service.call(request).await.expect("s3s answers");
        assert_ne!(
            response.status(),
            http::StatusCode::FORBIDDEN,
            "{label}: s3s refused what we accepted"
        );
    }
}

#[tokio::test]
async fn s3s_refuses_a_tampered_signature_so_the_agreement_test_can_fail() {
    let now = OffsetDateTime::now_utc();
    let mut request = build(Method::GET, "/bucket/key", &[("host", "localhost")]);
    sign_request(&mut request, &Mode::Header, now);
    *request.uri_mut() = "/bucket/other".parse().expect("uri");
    let auth = detect(request.uri(), request.headers())
        .expect("ok")
        .expect("SigV2");
    let signed = SignedRequest::of(&request, None);
    assert_eq!(
        verify(&auth, &signed, now, |_| Ok(Some(SECRET)))
            .unwrap_err()
            .code,
        ErrorCode::SignatureDoesNotMatch
    );
    let response = service().call(request).await.expect("s3s answers");
    assert_eq!(response.status(), http::StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bucket_requests_signed_with_a_trailing_slash_pass_both_checks() {
    // botocore (signature_version='s3') sends `PUT /bucket` but signs
    // `/bucket/`; the gateway appends the slash so s3s signs the same.
    let now = OffsetDateTime::now_utc();
    for uri in ["/bucket", "/bucket?acl"] {
        let mut request = build(Method::PUT, uri, &[("host", "localhost")]);
        let date = http_date(now);
        request.headers_mut().insert(
            http::header::DATE,
            HeaderValue::from_str(&date).expect("ascii"),
        );
        let text = {
            let signed = SignedRequest::of(&request, None);
            string_to_sign_for_path(&signed, &date, "/bucket/")
        };
        let value = format!("AWS {ACCESS_KEY}:{}", sign(SECRET, &text));
        request.headers_mut().insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_str(&value).expect("ascii"),
        );

        let auth = detect(request.uri(), request.headers())
            .expect("ok")
            .expect("SigV2");
        let signed = SignedRequest::of(&request, None);
        assert_eq!(
            verify(&auth, &signed, now, |_| Ok(Some(SECRET))),
            Ok(SignedPath::BucketSlashAdded),
            "{uri}"
        );
        let mut rewritten = build(Method::PUT, uri, &[]);
        *rewritten.headers_mut() = request.headers().clone();
        *rewritten.uri_mut() = with_slash_appended(request.uri()).expect("valid");
        assert_eq!(
            rewritten.uri().path_and_query().map(|p| p.as_str()),
            Some(uri.replacen("/bucket", "/bucket/", 1).as_str())
        );

        // As sent, s3s signs `/bucket` and refuses; rewritten, it accepts.
        let response = service().call(request).await.expect("s3s answers");
        assert_eq!(response.status(), http::StatusCode::FORBIDDEN, "{uri}");
        let response = service().call(rewritten).await.expect("s3s answers");
        assert_ne!(response.status(), http::StatusCode::FORBIDDEN, "{uri}");
    }
}
