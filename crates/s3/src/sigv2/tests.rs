//! SigV2 vectors from the AWS S3 developer guide (RESTAuthentication,
//! "Authentication examples"), the time rules, tampering, sub-resource
//! canonicalization, and agreement with s3s's own SigV2 verification.

use super::canonical::*;
use super::*;
use http::{HeaderValue, Method};

const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            http::header::HeaderName::from_bytes(name.as_bytes()).expect("test header name"),
            HeaderValue::from_str(value).expect("test header value"),
        );
    }
    map
}

fn header_string_to_sign(
    method: Method,
    uri: &str,
    header_pairs: &[(&str, &str)],
    bucket: Option<&str>,
) -> String {
    let uri: Uri = uri.parse().expect("test uri");
    let headers = headers(header_pairs);
    let request = SignedRequest {
        method: &method,
        uri: &uri,
        headers: &headers,
        virtual_host_bucket: bucket,
    };
    string_to_sign(&request, header_date_line(&headers))
}

/// (name, method, uri, headers, virtual-hosted bucket, string-to-sign, signature)
type Vector = (
    &'static str,
    Method,
    &'static str,
    &'static [(&'static str, &'static str)],
    Option<&'static str>,
    &'static str,
    &'static str,
);

#[test]
fn aws_documented_header_vectors() {
    let vectors: Vec<Vector> = vec![
        (
            "Object GET",
            Method::GET,
            "/photos/puppy.jpg",
            &[("date", "Tue, 27 Mar 2007 19:36:42 +0000")],
            Some("awsexamplebucket1"),
            "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg",
            "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
        ),
        (
            "Object PUT",
            Method::PUT,
            "/photos/puppy.jpg",
            &[
                ("content-type", "image/jpeg"),
                ("content-length", "94328"),
                ("date", "Tue, 27 Mar 2007 21:15:45 +0000"),
            ],
            Some("awsexamplebucket1"),
            "PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/awsexamplebucket1/photos/puppy.jpg",
            "iqRzw+ileNPu1fhspnRs8nOjjIA=",
        ),
        (
            // prefix, max-keys and marker are not sub-resources.
            "List",
            Method::GET,
            "/?prefix=photos&max-keys=50&marker=puppy",
            &[
                ("user-agent", "Mozilla/5.0"),
                ("date", "Tue, 27 Mar 2007 19:42:41 +0000"),
            ],
            Some("awsexamplebucket1"),
            "GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/awsexamplebucket1/",
            "m0WP8eCtspQl5Ahe6L1SozdX9YA=",
        ),
        (
            "Fetch ACL",
            Method::GET,
            "/?acl",
            &[("date", "Tue, 27 Mar 2007 19:44:46 +0000")],
            Some("awsexamplebucket1"),
            "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/awsexamplebucket1/?acl",
            "82ZHiFIjc+WbcwFKGUVEQspPn+0=",
        ),
        (
            "List all my buckets",
            Method::GET,
            "/",
            &[("date", "Wed, 28 Mar 2007 01:29:59 +0000")],
            None,
            "GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/",
            "qGdzdERIC03wnaRNKh6OqZehG9s=",
        ),
        (
            // The path is signed as sent, percent-encoding and its case kept.
            "Unicode keys",
            Method::GET,
            "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
            &[("date", "Wed, 28 Mar 2007 01:49:49 +0000")],
            None,
            "GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
            "DNEZGsoieTZ92F3bUfSPQcbGmlM=",
        ),
    ];
    for (name, method, uri, header_pairs, bucket, expected_string, expected_signature) in vectors {
        let actual = header_string_to_sign(method, uri, header_pairs, bucket);
        assert_eq!(actual, expected_string, "{name}");
        assert_eq!(sign(SECRET, &actual), expected_signature, "{name}");
    }
}

#[test]
fn aws_documented_delete_and_upload_strings() {
    // The guide's signatures for these two were computed before its bucket
    // names were changed; the strings-to-sign are still the documented ones.
    let delete = header_string_to_sign(
        Method::DELETE,
        "/awsexamplebucket1/photos/puppy.jpg",
        &[
            ("user-agent", "dotnet"),
            ("date", "Tue, 27 Mar 2007 21:20:27 +0000"),
            ("x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"),
        ],
        None,
    );
    assert_eq!(
        delete,
        "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/awsexamplebucket1/photos/puppy.jpg"
    );
    let upload = header_string_to_sign(
        Method::PUT,
        "/db-backup.dat.gz",
        &[
            ("user-agent", "curl/7.15.5"),
            ("date", "Tue, 27 Mar 2007 21:06:08 +0000"),
            ("x-amz-acl", "public-read"),
            ("content-type", "application/x-download"),
            ("content-md5", "4gJE4saaMU4BqNR0kLY+lw=="),
            ("x-amz-meta-reviewedby", "joe@example.com"),
            ("x-amz-meta-reviewedby", "jane@example.com"),
            ("x-amz-meta-filechecksum", "0x02661779"),
            ("x-amz-meta-checksumalgorithm", "crc32"),
            ("content-disposition", "attachment; filename=database.dat"),
            ("content-encoding", "gzip"),
            ("content-length", "5913339"),
        ],
        Some("static.example.com"),
    );
    assert_eq!(
        upload,
        "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n\
         x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n\
         x-amz-meta-reviewedby:joe@example.com,jane@example.com\n/static.example.com/db-backup.dat.gz"
    );
}

#[test]
fn aws_documented_query_vector() {
    // The guide's query-string example (bucket "johnsmith" in the edition
    // whose signature is printed): Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D.
    let uri: Uri = "/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620"
        .parse()
        .expect("test uri");
    let headers = HeaderMap::new();
    let auth = detect(&uri, &headers).expect("well-formed").expect("SigV2");
    assert_eq!(
        auth,
        SigV2Auth::Query {
            access_key: ACCESS_KEY.to_owned(),
            signature: "NpgCjnDzrM+WFzoENXmpNDUsSn8=".to_owned(),
            expires: "1175139620".to_owned(),
        }
    );
    let request = SignedRequest {
        method: &Method::GET,
        uri: &uri,
        headers: &headers,
        virtual_host_bucket: Some("johnsmith"),
    };
    let text = string_to_sign(&request, "1175139620");
    assert_eq!(text, "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg");
    let before_expiry = OffsetDateTime::from_unix_timestamp(1_175_139_000).expect("valid");
    verify(&auth, &request, before_expiry, |_| Ok(Some(SECRET))).expect("valid until Expires");
    let after_expiry = OffsetDateTime::from_unix_timestamp(1_175_139_620).expect("valid");
    let failure = verify(&auth, &request, after_expiry, |_| Ok(Some(SECRET))).unwrap_err();
    assert_eq!(failure.code, ErrorCode::AccessDenied);
    assert_eq!(failure.message, "Request has expired");
}

#[test]
fn sub_resources_are_sorted_decoded_and_filtered() {
    let cases = [
        (
            "/b/k?versionId=3%2Fx&prefix=p&acl&uploadId=u&partNumber=2&response-content-type=text%2Fplain",
            "/b/k?acl&partNumber=2&response-content-type=text/plain&uploadId=u&versionId=3/x",
        ),
        ("/b?uploads", "/b?uploads"),
        ("/b?delete=", "/b?delete"),
        ("/b?tagging&versioning&location", "/b?location&tagging&versioning"),
        ("/b?list-type=2&continuation-token=abc", "/b"),
        // A repeated parameter is not signed (as in s3s).
        ("/b/k?acl&acl", "/b/k"),
        ("/b/k?response-expires=Thu%2C+01+Dec", "/b/k?response-expires=Thu, 01 Dec"),
    ];
    for (uri, resource) in cases {
        let text = header_string_to_sign(Method::GET, uri, &[("date", "d")], None);
        assert_eq!(text, format!("GET\n\n\nd\n{resource}"), "{uri}");
    }
    for window in SUB_RESOURCES.windows(2) {
        assert!(window[0] < window[1], "{window:?}");
    }
}

#[test]
fn amz_headers_are_lowercased_sorted_joined_and_trimmed() {
    let text = header_string_to_sign(
        Method::PUT,
        "/b/k",
        &[
            ("X-Amz-Meta-Zeta", "  last "),
            ("x-amz-meta-alpha", "one"),
            ("X-AMZ-META-ALPHA", "two"),
            ("x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"),
            ("date", "ignored because x-amz-date is present"),
            ("x-other", "not signed"),
        ],
        None,
    );
    assert_eq!(
        text,
        "PUT\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\nx-amz-meta-alpha:one,two\nx-amz-meta-zeta:last\n/b/k"
    );
}

fn signed_header_request(
    date: &str,
    signature_for: impl FnOnce(&str) -> String,
) -> (Uri, HeaderMap) {
    let uri: Uri = "/bucket/key?versionId=7".parse().expect("test uri");
    let mut headers = headers(&[("date", date), ("content-type", "text/plain")]);
    let text = {
        let request = SignedRequest {
            method: &Method::GET,
            uri: &uri,
            headers: &headers,
            virtual_host_bucket: None,
        };
        string_to_sign(&request, date)
    };
    let value = format!("AWS {ACCESS_KEY}:{}", signature_for(&text));
    headers.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_str(&value).expect("test header"),
    );
    (uri, headers)
}

fn run(uri: &Uri, headers: &HeaderMap, now: OffsetDateTime) -> Result<SignedPath, S3Error> {
    let auth = detect(uri, headers)?.expect("SigV2");
    let request = SignedRequest {
        method: &Method::GET,
        uri,
        headers,
        virtual_host_bucket: None,
    };
    verify(&auth, &request, now, |key| {
        Ok((key == ACCESS_KEY).then_some(SECRET))
    })
}

fn http_date(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc2822)
        .expect("formats")
}

#[test]
fn header_auth_accepts_a_fresh_request_and_refuses_tampering() {
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("valid");
    let (uri, headers) = signed_header_request(&http_date(now), |text| sign(SECRET, text));
    run(&uri, &headers, now).expect("correct signature");

    // Flip one character of the signature.
    let (uri, headers) = signed_header_request(&http_date(now), |text| {
        let mut signature = sign(SECRET, text).into_bytes();
        signature[3] = if signature[3] == b'A' { b'B' } else { b'A' };
        String::from_utf8(signature).expect("ascii")
    });
    assert_eq!(
        run(&uri, &headers, now).unwrap_err().code,
        ErrorCode::SignatureDoesNotMatch
    );

    // A right signature on a different request (another version).
    let (_, headers) = signed_header_request(&http_date(now), |text| sign(SECRET, text));
    let other: Uri = "/bucket/key?versionId=8".parse().expect("test uri");
    assert_eq!(
        run(&other, &headers, now).unwrap_err().code,
        ErrorCode::SignatureDoesNotMatch
    );

    // Signed with another secret.
    let (uri, headers) =
        signed_header_request(&http_date(now), |text| sign("not-the-secret", text));
    assert_eq!(
        run(&uri, &headers, now).unwrap_err().code,
        ErrorCode::SignatureDoesNotMatch
    );
}

#[test]
fn header_auth_enforces_the_fifteen_minute_window() {
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("valid");
    let window = time::Duration::seconds(REQUEST_SKEW_SECONDS_MAX);
    let one_second = time::Duration::seconds(1);
    for (offset, accepted) in [
        (window, true),
        (-window, true),
        (window + one_second, false),
        (-window - one_second, false),
        (time::Duration::days(400), false),
    ] {
        let date = http_date(now + offset);
        let (uri, headers) = signed_header_request(&date, |text| sign(SECRET, text));
        let result = run(&uri, &headers, now);
        if accepted {
            assert!(result.is_ok(), "{offset}: {result:?}");
        } else {
            assert_eq!(
                result.unwrap_err().code,
                ErrorCode::RequestTimeTooSkewed,
                "{offset}"
            );
        }
    }
}

#[test]
fn x_amz_date_overrides_date_for_the_time_check() {
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("valid");
    let uri: Uri = "/bucket/key".parse().expect("test uri");
    let stale = http_date(now - time::Duration::hours(2));
    for (amz_date, expected) in [
        (http_date(now), None),
        // GMT is what botocore sends.
        (http_date(now).replace("+0000", "GMT"), None),
        (
            http_date(now - time::Duration::hours(1)),
            Some(ErrorCode::RequestTimeTooSkewed),
        ),
    ] {
        let mut headers = headers(&[("date", &stale), ("x-amz-date", &amz_date)]);
        let request = SignedRequest {
            method: &Method::GET,
            uri: &uri,
            headers: &headers,
            virtual_host_bucket: None,
        };
        // The Date line is empty when x-amz-date is present.
        let text = string_to_sign(&request, "");
        let value = format!("AWS {ACCESS_KEY}:{}", sign(SECRET, &text));
        headers.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_str(&value).expect("ascii"),
        );
        let result = run(&uri, &headers, now);
        assert_eq!(result.err().map(|e| e.code), expected, "{amz_date}");
    }
}

#[test]
fn header_auth_needs_a_valid_date() {
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("valid");
    let uri: Uri = "/bucket/key".parse().expect("test uri");
    for date_headers in [
        vec![],
        vec![("date", "yesterday")],
        vec![("x-amz-date", "")],
    ] {
        let mut headers = headers(&date_headers);
        headers.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_static("AWS AKIAIOSFODNN7EXAMPLE:c2lnbmF0dXJl"),
        );
        let failure = run(&uri, &headers, now).unwrap_err();
        assert_eq!(failure.code, ErrorCode::AccessDenied, "{date_headers:?}");
        assert_eq!(failure.message, DATE_REQUIRED);
    }
}

#[test]
fn dates_parse_in_the_forms_clients_send() {
    let expected = OffsetDateTime::from_unix_timestamp(1_175_024_202).expect("valid");
    for text in [
        "Tue, 27 Mar 2007 19:36:42 +0000",
        "Tue, 27 Mar 2007 19:36:42 GMT",
        "20070327T193642Z",
    ] {
        assert_eq!(parse_http_date(text), Some(expected), "{text}");
    }
    for text in ["", "1175024202", "Tue, 27 Mar 2007", "2007-13-45T00:00:00Z"] {
        assert_eq!(parse_http_date(text), None, "{text}");
    }
}

#[test]
fn unknown_keys_and_lookup_failures() {
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("valid");
    let (uri, headers) = signed_header_request(&http_date(now), |text| sign(SECRET, text));
    let auth = detect(&uri, &headers).expect("ok").expect("SigV2");
    let request = SignedRequest {
        method: &Method::GET,
        uri: &uri,
        headers: &headers,
        virtual_host_bucket: None,
    };
    let failure = verify(&auth, &request, now, |_| Ok(None::<&str>)).unwrap_err();
    assert_eq!(failure.code, ErrorCode::InvalidAccessKeyId);
    let failure = verify(&auth, &request, now, |_| {
        Err::<Option<&str>, _>(S3Error::internal())
    })
    .unwrap_err();
    assert_eq!(failure.code, ErrorCode::InternalError);
}

#[test]
fn query_auth_expiry_and_malformed_expires() {
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("valid");
    for (expires, expected) in [
        ("1800000060", None),
        ("1800000000", Some(ErrorCode::AccessDenied)),
        ("1700000000", Some(ErrorCode::AccessDenied)),
        ("soon", Some(ErrorCode::AccessDenied)),
        ("-5", Some(ErrorCode::AccessDenied)),
        ("99999999999999999999999", Some(ErrorCode::AccessDenied)),
    ] {
        let unsigned: Uri = format!("/bucket/key?Expires={expires}")
            .parse()
            .expect("uri");
        let headers = HeaderMap::new();
        let request = SignedRequest {
            method: &Method::GET,
            uri: &unsigned,
            headers: &headers,
            virtual_host_bucket: None,
        };
        let signature = sign(SECRET, &string_to_sign(&request, expires));
        let encoded: String =
            percent_encoding::utf8_percent_encode(&signature, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        let uri: Uri = format!(
            "/bucket/key?Expires={expires}&AWSAccessKeyId={ACCESS_KEY}&Signature={encoded}"
        )
        .parse()
        .expect("uri");
        let result = run(&uri, &headers, now);
        assert_eq!(result.err().map(|e| e.code), expected, "{expires}");
    }
}

#[test]
fn detection_and_malformed_credentials() {
    let detect_with = |uri: &str, authorization: &[&str]| {
        let uri: Uri = uri.parse().expect("uri");
        let mut map = HeaderMap::new();
        for value in authorization {
            map.append(
                http::header::AUTHORIZATION,
                HeaderValue::from_str(value).expect("ascii"),
            );
        }
        detect(&uri, &map)
    };
    // Not SigV2: left to s3s.
    assert_eq!(detect_with("/b/k", &[]), Ok(None));
    assert_eq!(
        detect_with(
            "/b/k",
            &["AWS4-HMAC-SHA256 Credential=x, SignedHeaders=host, Signature=y"]
        ),
        Ok(None)
    );
    assert_eq!(detect_with("/b/k?X-Amz-Signature=abc", &[]), Ok(None));
    assert_eq!(
        detect_with("/b/k", &["AWS AKID:c2ln"]),
        Ok(Some(SigV2Auth::Header {
            access_key: "AKID".to_owned(),
            signature: "c2ln".to_owned()
        }))
    );
    let code = |result: Result<Option<SigV2Auth>, S3Error>| result.unwrap_err().code;
    for malformed in ["AWS AKID", "AWS :sig", "AWS AKID:", "AWS "] {
        assert_eq!(
            code(detect_with("/b/k", &[malformed])),
            ErrorCode::InvalidArgument,
            "{malformed}"
        );
    }
    // Two mechanisms at once.
    assert_eq!(
        code(detect_with("/b/k", &["AWS AKID:sig", "AWS AKID:sig"])),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        code(detect_with(
            "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256",
            &["AWS AKID:sig"]
        )),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        code(detect_with(
            "/b/k?AWSAccessKeyId=A&Signature=s&Expires=1",
            &["AWS4-HMAC-SHA256 Credential=x"]
        )),
        ErrorCode::InvalidArgument
    );
    // Incomplete query credentials.
    for uri in [
        "/b/k?AWSAccessKeyId=A&Expires=1",
        "/b/k?Signature=s&Expires=1",
        "/b/k?AWSAccessKeyId=A&Signature=s",
        "/b/k?AWSAccessKeyId=A&Signature=s&Signature=t&Expires=1",
        "/b/k?AWSAccessKeyId=&Signature=s&Expires=1",
    ] {
        assert_eq!(
            code(detect_with(uri, &[])),
            ErrorCode::AccessDenied,
            "{uri}"
        );
    }
}

#[test]
fn secrets_are_looked_up_only_after_the_time_checks() {
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("valid");
    let stale = http_date(now - time::Duration::hours(1));
    let (uri, headers) = signed_header_request(&stale, |text| sign(SECRET, text));
    let auth = detect(&uri, &headers).expect("ok").expect("SigV2");
    let request = SignedRequest {
        method: &Method::GET,
        uri: &uri,
        headers: &headers,
        virtual_host_bucket: None,
    };
    let mut looked_up = false;
    let failure = verify(&auth, &request, now, |_| {
        looked_up = true;
        Ok(Some(SECRET))
    })
    .unwrap_err();
    assert_eq!(failure.code, ErrorCode::RequestTimeTooSkewed);
    assert!(!looked_up);
}

#[path = "s3s_tests.rs"]
mod agreement_with_s3s;

#[test]
fn only_bare_bucket_paths_may_be_signed_with_a_trailing_slash() {
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("valid");
    let date = http_date(now);
    // (path sent, path signed, virtual-hosted bucket, outcome)
    let cases = [
        ("/bucket", "/bucket", None, Ok(SignedPath::AsSent)),
        (
            "/bucket",
            "/bucket/",
            None,
            Ok(SignedPath::BucketSlashAdded),
        ),
        ("/bucket/", "/bucket/", None, Ok(SignedPath::AsSent)),
        (
            "/bucket/key",
            "/bucket/key/",
            None,
            Err(ErrorCode::SignatureDoesNotMatch),
        ),
        ("/", "//", None, Err(ErrorCode::SignatureDoesNotMatch)),
        (
            "/key",
            "/key/",
            Some("bucket"),
            Err(ErrorCode::SignatureDoesNotMatch),
        ),
    ];
    for (sent, signed_path, bucket, expected) in cases {
        let uri: Uri = sent.parse().expect("uri");
        let mut headers = headers(&[("date", &date)]);
        let text = {
            let request = SignedRequest {
                method: &Method::GET,
                uri: &uri,
                headers: &headers,
                virtual_host_bucket: bucket,
            };
            // For the virtual-hosted case the bucket is prefixed: `/bucket/key/`.
            string_to_sign_for_path(&request, &date, signed_path)
        };
        let value = format!("AWS {ACCESS_KEY}:{}", sign(SECRET, &text));
        headers.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_str(&value).expect("ascii"),
        );
        let auth = detect(&uri, &headers).expect("ok").expect("SigV2");
        let request = SignedRequest {
            method: &Method::GET,
            uri: &uri,
            headers: &headers,
            virtual_host_bucket: bucket,
        };
        let outcome = verify(&auth, &request, now, |_| Ok(Some(SECRET))).map_err(|e| e.code);
        assert_eq!(
            outcome, expected,
            "{sent} signed as {signed_path} ({bucket:?})"
        );
    }
}
