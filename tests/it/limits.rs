//! Limits and hostile input: long keys, malformed XML, path-like keys and
//! control characters, a body shorter than its Content-Length.

use std::time::Duration;

use aws_sdk_s3::types::EncodingType;
use base64::Engine as _;
use coffer_e2e::ops::{
    block_files, create_bucket, files_under, get_bytes, list_all_keys, put_bytes,
};
use coffer_e2e::{assert_s3_error, unique_bucket, xml_element, Server};
use md5::Digest as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread")]
async fn key_length_and_malformed_xml() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("limits");
    create_bucket(&client, &bucket).await?;

    let longest = "k".repeat(1024);
    put_bytes(&client, &bucket, &longest, b"x").await?;
    assert_eq!(get_bytes(&client, &bucket, &longest).await?, b"x");
    let too_long = "k".repeat(1025);
    assert_s3_error(
        client
            .put_object()
            .bucket(&bucket)
            .key(&too_long)
            .body(b"x".to_vec().into())
            .send()
            .await,
        400,
        Some("KeyTooLongError"),
    );
    // Multibyte: 342 × 3 bytes = 1026 bytes in 342 characters.
    let multibyte = "語".repeat(342);
    assert_s3_error(
        client
            .put_object()
            .bucket(&bucket)
            .key(&multibyte)
            .body(b"x".to_vec().into())
            .send()
            .await,
        400,
        Some("KeyTooLongError"),
    );

    let upload = client
        .create_multipart_upload()
        .bucket(&bucket)
        .key("m")
        .send()
        .await?;
    let upload_id = upload.upload_id().expect("UploadId");
    let garbage = b"<CompleteMultipartUpload><Part><PartNumber>1</Part>".to_vec();
    let response = server
        .send_signed(
            "POST",
            &format!("/{bucket}/m?uploadId={upload_id}"),
            &[],
            garbage.clone(),
        )
        .await?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    assert_eq!(
        (status, xml_element(&text, "Code").as_deref()),
        (400, Some("MalformedXML")),
        "{text}"
    );

    let md5 = base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&garbage));
    let response = server
        .send_signed(
            "POST",
            &format!("/{bucket}?delete"),
            &[("content-md5", &md5)],
            garbage,
        )
        .await?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    assert_eq!(
        (status, xml_element(&text, "Code").as_deref()),
        (400, Some("MalformedXML")),
        "{text}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn path_like_keys_are_ordinary_keys() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("paths");
    create_bucket(&client, &bucket).await?;
    let passwd_before = std::fs::metadata("/etc/passwd")
        .and_then(|m| m.modified())
        .ok();

    let keys = [
        "../../etc/passwd",
        "a/../../b",
        "./dot",
        "/leading-slash",
        "double//slash",
        "with spaces  and\ttab",
        "control\u{1}\u{7f}chars",
        "newline\nkey",
        "..",
    ];
    for (index, key) in keys.iter().enumerate() {
        put_bytes(&client, &bucket, key, format!("body {index}").as_bytes()).await?;
    }
    for (index, key) in keys.iter().enumerate() {
        assert_eq!(
            get_bytes(&client, &bucket, key).await?,
            format!("body {index}").as_bytes(),
            "{key:?}"
        );
    }
    // Control characters cannot appear in XML 1.0, so (as AWS advises) list
    // with encoding-type=url and decode.
    let mut expected: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    expected.sort();
    let listed = client
        .list_objects_v2()
        .bucket(&bucket)
        .encoding_type(EncodingType::Url)
        .send()
        .await?;
    let decoded: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|object| object.key())
        .map(|key| urlencoding::decode(&key.replace('+', " ")).map(|k| k.into_owned()))
        .collect::<Result<_, _>>()?;
    assert_eq!(decoded, expected);

    // Nothing was written where a path-interpreting server would write.
    let data_dir = server.data_dir();
    let strays: Vec<_> = files_under(data_dir.parent().expect("data dir has a parent"))
        .into_iter()
        .filter(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            name == "passwd" || name == "b" || name == "dot"
        })
        .collect();
    assert!(strays.is_empty(), "files named after keys: {strays:?}");
    let passwd_after = std::fs::metadata("/etc/passwd")
        .and_then(|m| m.modified())
        .ok();
    assert_eq!(passwd_before, passwd_after, "/etc/passwd changed");
    let blocks = block_files(&server.blocks_dir());
    assert!(
        !blocks.is_empty(),
        "no block files under {}",
        server.blocks_dir().display()
    );
    for path in &blocks {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let valid = name.split_once('-').is_some_and(|(id, index)| {
            id.len() == 32
                && id.bytes().all(|b| b.is_ascii_hexdigit())
                && !index.is_empty()
                && index.bytes().all(|b| b.is_ascii_digit())
        });
        assert!(valid, "unexpected file in blocks/: {}", path.display());
        for component in path.parent().into_iter().flat_map(|p| p.components()) {
            let text = component.as_os_str().to_string_lossy();
            // The store keeps `blocks/<2 hex>/<2 hex>/` below its root.
            let fan_out = text.len() == 2 && text.bytes().all(|b| b.is_ascii_hexdigit());
            assert!(
                fan_out || text == "blocks",
                "unexpected directory {}",
                path.display()
            );
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_body_creates_nothing() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("short");
    create_bucket(&client, &bucket).await?;

    let host = format!("127.0.0.1:{}", server.s3_port());
    let url = format!("http://{host}/{bucket}/short");
    let signed = server
        .signer()
        .sign_headers("PUT", &url, &[("content-length", "100")])?;
    let mut request =
        format!("PUT /{bucket}/short HTTP/1.1\r\nHost: {host}\r\nContent-Length: 100\r\n");
    for (name, value) in &signed {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(server.s3_addr()).await?;
    stream.write_all(request.as_bytes()).await?;
    stream.write_all(b"0123456789").await?;
    stream.shutdown().await?;
    // Wait (bounded) for the server to answer or close the connection, so
    // the upload's fate is decided before we look.
    let mut response = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut response)).await;
    assert!(
        read.is_ok(),
        "server neither answered nor closed within 30 s"
    );
    let text = String::from_utf8_lossy(&response);
    assert!(
        !text.starts_with("HTTP/1.1 200"),
        "truncated upload acknowledged: {text}"
    );

    let head = client
        .head_object()
        .bucket(&bucket)
        .key("short")
        .send()
        .await;
    assert!(head.is_err(), "a truncated upload is visible: {head:?}");
    assert!(list_all_keys(&client, &bucket, 1000).await?.is_empty());
    Ok(())
}
