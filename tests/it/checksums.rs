//! Additional checksums (CRC32, CRC32C, SHA1, SHA256, CRC64NVME): stored and
//! returned with checksum mode ENABLED; a wrong value is BadDigest.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode};
use base64::Engine as _;
use coffer_e2e::ops::create_bucket;
use coffer_e2e::{assert_s3_error, random_bytes, unique_bucket, xml_element, Server};
use sha1::Digest as _;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn expected(algorithm: &ChecksumAlgorithm, body: &[u8]) -> String {
    match algorithm {
        ChecksumAlgorithm::Crc32 => b64(&crc32fast::hash(body).to_be_bytes()),
        ChecksumAlgorithm::Crc32C => b64(&crc32c::crc32c(body).to_be_bytes()),
        ChecksumAlgorithm::Sha1 => b64(&sha1::Sha1::digest(body)),
        ChecksumAlgorithm::Sha256 => b64(&sha2::Sha256::digest(body)),
        ChecksumAlgorithm::Crc64Nvme => {
            let mut digest = crc64fast_nvme::Digest::new();
            digest.write(body);
            b64(&digest.sum64().to_be_bytes())
        }
        other => panic!("no model for {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn checksums_are_stored_and_returned() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("sum");
    create_bucket(&client, &bucket).await?;
    let body = random_bytes(150_000);
    let algorithms = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32C,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
        ChecksumAlgorithm::Crc64Nvme,
    ];
    for algorithm in algorithms {
        let key = format!("obj-{}", algorithm.as_str());
        let want = expected(&algorithm, &body);
        let put = client
            .put_object()
            .bucket(&bucket)
            .key(&key)
            .checksum_algorithm(algorithm.clone())
            .body(ByteStream::from(body.clone()))
            .send()
            .await?;
        let pick_put = match algorithm {
            ChecksumAlgorithm::Crc32 => put.checksum_crc32(),
            ChecksumAlgorithm::Crc32C => put.checksum_crc32_c(),
            ChecksumAlgorithm::Sha1 => put.checksum_sha1(),
            ChecksumAlgorithm::Sha256 => put.checksum_sha256(),
            _ => put.checksum_crc64_nvme(),
        };
        assert_eq!(pick_put, Some(want.as_str()), "PUT response {key}");
        let got = client
            .get_object()
            .bucket(&bucket)
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await?;
        let pick_get = match algorithm {
            ChecksumAlgorithm::Crc32 => got.checksum_crc32(),
            ChecksumAlgorithm::Crc32C => got.checksum_crc32_c(),
            ChecksumAlgorithm::Sha1 => got.checksum_sha1(),
            ChecksumAlgorithm::Sha256 => got.checksum_sha256(),
            _ => got.checksum_crc64_nvme(),
        }
        .map(str::to_owned);
        assert_eq!(pick_get.as_deref(), Some(want.as_str()), "GET {key}");
        assert!(got.body.collect().await?.into_bytes().as_ref() == body.as_slice());
        let head = client
            .head_object()
            .bucket(&bucket)
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await?;
        let pick_head = match algorithm {
            ChecksumAlgorithm::Crc32 => head.checksum_crc32(),
            ChecksumAlgorithm::Crc32C => head.checksum_crc32_c(),
            ChecksumAlgorithm::Sha1 => head.checksum_sha1(),
            ChecksumAlgorithm::Sha256 => head.checksum_sha256(),
            _ => head.checksum_crc64_nvme(),
        };
        assert_eq!(pick_head, Some(want.as_str()), "HEAD {key}");
    }

    // A value the SDK did not compute: the server must check it.
    assert_s3_error(
        client
            .put_object()
            .bucket(&bucket)
            .key("sdk-wrong")
            .checksum_crc32("AAAAAA==")
            .body(ByteStream::from_static(b"hello"))
            .send()
            .await,
        400,
        Some("BadDigest"),
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_digests_are_refused() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("digest");
    create_bucket(&client, &bucket).await?;

    // x-amz-checksum-crc32 of zero bytes does not match "hello".
    let wrong_checksum = server
        .send_signed(
            "PUT",
            &format!("/{bucket}/crc"),
            &[("x-amz-checksum-crc32", "AAAAAA==")],
            b"hello".to_vec(),
        )
        .await?;
    let status = wrong_checksum.status().as_u16();
    let text = wrong_checksum.text().await?;
    assert_eq!(
        (status, xml_element(&text, "Code").as_deref()),
        (400, Some("BadDigest")),
        "{text}"
    );

    // Content-MD5 of another body.
    let other_md5 = b64(&md5::Md5::digest(b"other"));
    let wrong_md5 = server
        .send_signed(
            "PUT",
            &format!("/{bucket}/md5"),
            &[("content-md5", &other_md5)],
            b"hello".to_vec(),
        )
        .await?;
    let status = wrong_md5.status().as_u16();
    let text = wrong_md5.text().await?;
    assert_eq!(
        (status, xml_element(&text, "Code").as_deref()),
        (400, Some("BadDigest")),
        "{text}"
    );

    // A correct Content-MD5 is accepted.
    let right_md5 = b64(&md5::Md5::digest(b"hello"));
    let ok = server
        .send_signed(
            "PUT",
            &format!("/{bucket}/ok"),
            &[("content-md5", &right_md5)],
            b"hello".to_vec(),
        )
        .await?;
    assert_eq!(ok.status().as_u16(), 200);

    for key in ["crc", "md5"] {
        let head = client.head_object().bucket(&bucket).key(key).send().await;
        assert!(head.is_err(), "{key} exists after a bad digest");
    }
    Ok(())
}
