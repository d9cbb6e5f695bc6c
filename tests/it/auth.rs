//! Authentication: presigned URLs, expiry limits, wrong secret, unknown key,
//! clock skew, anonymous requests, the SDK's aws-chunked streaming upload
//! and virtual-hosted-style addressing.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use coffer_e2e::ops::{create_bucket, get_bytes, put_bytes};
use coffer_e2e::{
    assert_s3_error, random_bytes, sha256_hex, unique_bucket, xml_element, CaptureRequestHeaders,
    ClientOptions, PseudoRandomStream, Server, ServerOptions,
};

async fn send_presigned(
    method: &str,
    presigned: &aws_sdk_s3::presigning::PresignedRequest,
    body: Option<Vec<u8>>,
) -> anyhow::Result<reqwest::Response> {
    let mut request = reqwest::Client::new().request(method.parse()?, presigned.uri());
    for (name, value) in presigned.headers() {
        request = request.header(name, value);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    Ok(request.send().await?)
}

/// Status and `<Code>` of an S3 error response; checks the error document
/// carries what AWS's does.
async fn s3_error_of(response: reqwest::Response) -> anyhow::Result<(u16, String)> {
    let status = response.status().as_u16();
    let request_id = response.headers().get("x-amz-request-id").cloned();
    let text = response.text().await?;
    assert!(
        request_id.is_some(),
        "no x-amz-request-id header ({status}: {text})"
    );
    for element in ["Code", "Message", "RequestId"] {
        assert!(
            xml_element(&text, element).is_some(),
            "<{element}> missing: {text}"
        );
    }
    Ok((status, xml_element(&text, "Code").unwrap_or_default()))
}

#[tokio::test(flavor = "multi_thread")]
async fn presigned_urls() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("presign");
    create_bucket(&client, &bucket).await?;

    let body = random_bytes(10_000);
    let put = client
        .put_object()
        .bucket(&bucket)
        .key("p")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(600))?)
        .await?;
    let response = send_presigned("PUT", &put, Some(body.clone())).await?;
    assert_eq!(
        response.status().as_u16(),
        200,
        "{:?}",
        response.text().await
    );
    assert_eq!(get_bytes(&client, &bucket, "p").await?, body);

    let get = client
        .get_object()
        .bucket(&bucket)
        .key("p")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(600))?)
        .await?;
    let response = send_presigned("GET", &get, None).await?;
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.bytes().await?.as_ref() == body.as_slice());

    // Expired: signed two hours ago for one hour.
    let expired_config = PresigningConfig::builder()
        .start_time(SystemTime::now() - Duration::from_secs(7_200))
        .expires_in(Duration::from_secs(3_600))
        .build()?;
    let expired = client
        .get_object()
        .bucket(&bucket)
        .key("p")
        .presigned(expired_config)
        .await?;
    let (status, code) = s3_error_of(send_presigned("GET", &expired, None).await?).await?;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));

    // X-Amz-Expires above 7 days, correctly signed.
    let url = format!("{}/{bucket}/p", server.endpoint());
    let too_long =
        server
            .signer()
            .presign("GET", &url, Duration::from_secs(604_801), SystemTime::now())?;
    let (status, code) = s3_error_of(reqwest::get(&too_long).await?).await?;
    assert_eq!(
        (status, code.as_str()),
        (400, "AuthorizationQueryParametersError")
    );
    // Exactly 7 days is fine.
    let week =
        server
            .signer()
            .presign("GET", &url, Duration::from_secs(604_800), SystemTime::now())?;
    assert_eq!(reqwest::get(&week).await?.status().as_u16(), 200);

    // A tampered presigned URL.
    let tampered = get.uri().replace("/p?", "/q?");
    let (status, code) = s3_error_of(reqwest::get(&tampered).await?).await?;
    assert_eq!((status, code.as_str()), (403, "SignatureDoesNotMatch"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_credentials_and_anonymous() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("auth");
    create_bucket(&client, &bucket).await?;
    put_bytes(&client, &bucket, "k", b"secret").await?;

    let wrong_secret = server.client_with(ClientOptions {
        credentials: Some((
            server.access_key_id().to_owned(),
            "not-the-secret-at-all".into(),
        )),
        ..Default::default()
    });
    assert_s3_error(
        wrong_secret
            .get_object()
            .bucket(&bucket)
            .key("k")
            .send()
            .await,
        403,
        Some("SignatureDoesNotMatch"),
    );
    let unknown_key = server.client_with(ClientOptions {
        credentials: Some(("AKIAUNKNOWNUNKNOWN00".into(), "whatever-secret".into())),
        ..Default::default()
    });
    assert_s3_error(
        unknown_key.list_buckets().send().await,
        403,
        Some("InvalidAccessKeyId"),
    );
    for skew_seconds in [20 * 60, -20 * 60] {
        let skewed = server.client_with(ClientOptions {
            clock_skew_seconds: skew_seconds,
            ..Default::default()
        });
        assert_s3_error(
            skewed.get_object().bucket(&bucket).key("k").send().await,
            403,
            Some("RequestTimeTooSkewed"),
        );
    }
    // Within 15 minutes is fine.
    let slightly = server.client_with(ClientOptions {
        clock_skew_seconds: 5 * 60,
        ..Default::default()
    });
    slightly
        .get_object()
        .bucket(&bucket)
        .key("k")
        .send()
        .await?;

    // Anonymous requests are denied with a full S3 error document.
    for url in [
        format!("{}/{bucket}/k", server.endpoint()),
        format!("{}/{bucket}", server.endpoint()),
        format!("{}/", server.endpoint()),
    ] {
        let response = reqwest::get(&url).await?;
        let status = response.status().as_u16();
        let request_id = response.headers().get("x-amz-request-id").cloned();
        let text = response.text().await?;
        assert_eq!(status, 403, "{url}: {text}");
        assert!(request_id.is_some(), "{url}: no x-amz-request-id");
        assert_eq!(
            xml_element(&text, "Code").as_deref(),
            Some("AccessDenied"),
            "{text}"
        );
        for element in ["Message", "RequestId"] {
            assert!(
                xml_element(&text, element).is_some(),
                "<{element}> missing: {text}"
            );
        }
        if url.ends_with("/k") {
            assert!(
                xml_element(&text, "Resource").is_some(),
                "<Resource> missing: {text}"
            );
        }
    }
    let anonymous_put = reqwest::Client::new()
        .put(format!("{}/{bucket}/anon", server.endpoint()))
        .body("x")
        .send()
        .await?;
    assert_eq!(anonymous_put.status().as_u16(), 403);
    assert!(client
        .head_object()
        .bucket(&bucket)
        .key("anon")
        .send()
        .await
        .is_err());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn sdk_streaming_upload_uses_aws_chunked() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("chunked");
    create_bucket(&client, &bucket).await?;

    let length_bytes = 3 * 1024 * 1024 + 17;
    let capture = CaptureRequestHeaders::default();
    client
        .put_object()
        .bucket(&bucket)
        .key("stream")
        .body(ByteStream::from_body_1_x(PseudoRandomStream::new(
            7,
            length_bytes,
        )))
        .customize()
        .interceptor(capture.clone())
        .send()
        .await?;
    // The SDK sends a body of unknown replayability as aws-chunked with a
    // trailing checksum; make sure that is what the server just accepted.
    let content_sha = capture.header("x-amz-content-sha256").unwrap_or_default();
    assert!(
        content_sha.starts_with("STREAMING-"),
        "x-amz-content-sha256: {content_sha}"
    );
    assert!(
        capture.header("x-amz-trailer").is_some(),
        "no x-amz-trailer header"
    );
    let got = get_bytes(&client, &bucket, "stream").await?;
    assert_eq!(got.len() as u64, length_bytes);
    assert_eq!(
        sha256_hex(&got),
        PseudoRandomStream::sha256_hex(7, length_bytes)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn virtual_hosted_style() -> anyhow::Result<()> {
    let server = Server::start_with(ServerOptions {
        domain: Some("localhost".into()),
        ..Default::default()
    })
    .await?;
    let client = server.client_with(ClientOptions {
        virtual_host_domain: Some("localhost".into()),
        ..Default::default()
    });
    let bucket = unique_bucket("vhost");
    let capture = CaptureRequestHeaders::default();
    client.create_bucket().bucket(&bucket).send().await?;
    client
        .put_object()
        .bucket(&bucket)
        .key("dir/file")
        .body(ByteStream::from_static(b"virtual"))
        .customize()
        .interceptor(capture.clone())
        .send()
        .await?;
    // Prove the request really was virtual-hosted.
    let uri = capture.uri();
    assert!(
        uri.starts_with(&format!("http://{bucket}.localhost:")),
        "URI: {uri}"
    );
    assert_eq!(get_bytes(&client, &bucket, "dir/file").await?, b"virtual");
    let listed = client.list_objects_v2().bucket(&bucket).send().await?;
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["dir/file"]);
    // The same object through path style.
    assert_eq!(
        get_bytes(&server.client(), &bucket, "dir/file").await?,
        b"virtual"
    );
    Ok(())
}
