//! Big objects: a 100 MiB streamed PUT/GET checked by hash (never held in
//! memory), and a multipart upload of three 5 MiB parts and a 1-byte part.

use aws_sdk_s3::primitives::ByteStream;
use coffer_e2e::ops::{create_bucket, get_bytes, multipart_put};
use coffer_e2e::{multipart_etag, random_bytes, unique_bucket, PseudoRandomStream, Server};
use sha2::{Digest, Sha256};

const MIB: u64 = 1024 * 1024;

#[tokio::test(flavor = "multi_thread")]
async fn hundred_mib_streamed_round_trip() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("big");
    create_bucket(&client, &bucket).await?;
    let length_bytes = 100 * MIB;
    let seed = 0x00c0_ffee;
    client
        .put_object()
        .bucket(&bucket)
        .key("hundred")
        .body(ByteStream::from_body_1_x(PseudoRandomStream::new(
            seed,
            length_bytes,
        )))
        .send()
        .await?;
    let mut output = client
        .get_object()
        .bucket(&bucket)
        .key("hundred")
        .send()
        .await?;
    assert_eq!(output.content_length(), Some(length_bytes as i64));
    let mut hasher = Sha256::new();
    let mut received_bytes = 0u64;
    while let Some(chunk) = output.body.try_next().await? {
        received_bytes += chunk.len() as u64;
        hasher.update(&chunk);
    }
    assert_eq!(received_bytes, length_bytes);
    assert_eq!(
        hex::encode(hasher.finalize()),
        PseudoRandomStream::sha256_hex(seed, length_bytes)
    );

    // A range deep inside, crossing a 4 MiB block boundary.
    let first = 4 * MIB - 10;
    let ranged = client
        .get_object()
        .bucket(&bucket)
        .key("hundred")
        .range(format!("bytes={first}-{}", first + 19))
        .send()
        .await?;
    let bytes = ranged.body.collect().await?.into_bytes();
    let mut stream = PseudoRandomStream::new(seed, first + 20);
    let mut expected = Vec::new();
    while let Some(chunk) = stream.next_chunk() {
        expected.extend_from_slice(&chunk);
    }
    assert!(
        bytes.as_ref() == &expected[first as usize..],
        "range bytes differ"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn multipart_three_full_parts_and_one_byte() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("big-mpu");
    create_bucket(&client, &bucket).await?;
    let bodies = [
        random_bytes(5 * MIB as usize),
        random_bytes(5 * MIB as usize),
        random_bytes(5 * MIB as usize),
        random_bytes(1),
    ];
    let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    let complete = multipart_put(&client, &bucket, "m", &refs).await?;
    assert_eq!(complete.e_tag(), Some(multipart_etag(&refs).as_str()));
    let whole: Vec<u8> = bodies.concat();
    let got = get_bytes(&client, &bucket, "m").await?;
    assert_eq!(got.len(), whole.len());
    assert!(got == whole, "multipart body differs");
    Ok(())
}
