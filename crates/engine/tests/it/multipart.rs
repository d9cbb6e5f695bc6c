//! Multipart uploads.

use base64::Engine as _;
use coffer_engine::*;
use coffer_meta::{ChecksumAlgorithm, ContentHeaders};
use coffer_types::limits::PART_SIZE_BYTES_MIN;
use coffer_types::{ErrorCode, UploadId};
use md5::{Digest, Md5};

use crate::{body_of, code, data, key_of, Harness};

fn create_request(
    h: &Harness,
    key: &str,
    checksum_algorithm: Option<ChecksumAlgorithm>,
) -> CreateUploadRequest {
    CreateUploadRequest {
        bucket: h.bucket.clone(),
        key: key_of(key),
        owner: h.owner.clone(),
        headers: ContentHeaders::default(),
        user_metadata: vec![("m".to_owned(), "v".to_owned())],
        tags: Vec::new(),
        checksum_algorithm,
    }
}

fn part_request(
    h: &Harness,
    key: &str,
    upload_id: &UploadId,
    part_number: u32,
    length: usize,
) -> UploadPartRequest {
    UploadPartRequest {
        bucket: h.bucket.clone(),
        key: key_of(key),
        upload_id: upload_id.clone(),
        part_number,
        content_length: Some(length as u64),
        content_md5_base64: None,
        checksum: None,
    }
}

fn complete_request(
    h: &Harness,
    key: &str,
    upload_id: &UploadId,
    parts: Vec<(u32, String)>,
) -> CompleteUploadRequest {
    CompleteUploadRequest {
        bucket: h.bucket.clone(),
        key: key_of(key),
        upload_id: upload_id.clone(),
        parts,
        precondition: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_complete_and_read_back() {
    let h = Harness::new().await;
    let upload = h
        .engine
        .create_upload(create_request(&h, "mp", Some(ChecksumAlgorithm::Crc32)))
        .await
        .expect("create");
    let first = data(PART_SIZE_BYTES_MIN as usize, 1);
    let second = data(100_000, 2);
    let part1 = h
        .engine
        .upload_part(
            part_request(&h, "mp", &upload.upload_id, 1, first.len()),
            body_of(&first),
        )
        .await
        .expect("part 1");
    let part2 = h
        .engine
        .upload_part(
            part_request(&h, "mp", &upload.upload_id, 2, second.len()),
            body_of(&second),
        )
        .await
        .expect("part 2");
    assert_eq!(
        part1.layout.etag,
        format!("\"{}\"", hex::encode(Md5::digest(&first)))
    );
    assert_eq!(
        part2.layout.checksum.as_ref().map(|c| c.algorithm),
        Some(ChecksumAlgorithm::Crc32)
    );

    let parts = vec![
        (1, part1.layout.etag.clone()),
        (2, part2.layout.etag.clone()),
    ];
    let version = h
        .engine
        .complete_upload(complete_request(&h, "mp", &upload.upload_id, parts))
        .await
        .expect("complete");
    let mut md5s = Vec::new();
    md5s.extend_from_slice(&Md5::digest(&first));
    md5s.extend_from_slice(&Md5::digest(&second));
    assert_eq!(
        version.etag,
        format!("\"{}-2\"", hex::encode(Md5::digest(&md5s)))
    );
    assert!(version.multipart);
    assert_eq!(version.size_bytes, (first.len() + second.len()) as u64);
    assert_eq!(
        version.user_metadata,
        vec![("m".to_owned(), "v".to_owned())]
    );
    let mut raw = Vec::new();
    raw.extend_from_slice(&crc32fast::hash(&first).to_be_bytes());
    raw.extend_from_slice(&crc32fast::hash(&second).to_be_bytes());
    let composite =
        base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(&raw).to_be_bytes());
    assert_eq!(
        version.checksum.expect("composite").value_base64,
        format!("{composite}-2")
    );

    let mut whole = first.clone();
    whole.extend_from_slice(&second);
    assert!(h.get_bytes("mp").await == whole);
    // A range across the part boundary, and partNumber reads.
    let mut request = h.get_request("mp");
    request.range = Some(RangeRequest::FromTo {
        first: first.len() as u64 - 10,
        last: first.len() as u64 + 9,
    });
    let (_, body) = h.get(request).await.expect("range across parts");
    assert!(body == whole[first.len() - 10..first.len() + 10]);
    let mut request = h.get_request("mp");
    request.part_number = Some(2);
    let (outcome, body) = h.get(request).await.expect("part 2");
    assert!(body == second);
    assert_eq!(outcome.parts_count, Some(2));
    assert_eq!(outcome.start, first.len() as u64);
    let mut request = h.get_request("mp");
    request.part_number = Some(3);
    assert_eq!(
        code(h.engine.get_object(request, true).await),
        ErrorCode::InvalidPartNumber
    );

    // The upload is gone.
    let listing = ListPartsRequest {
        bucket: h.bucket.clone(),
        key: key_of("mp"),
        upload_id: upload.upload_id.clone(),
        part_number_marker: 0,
        max_parts: 10,
    };
    assert_eq!(
        code(h.engine.list_parts(listing).await),
        ErrorCode::NoSuchUpload
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complete_validates_parts() {
    let h = Harness::new().await;
    let upload = h
        .engine
        .create_upload(create_request(&h, "v", None))
        .await
        .expect("create");
    let small = data(1000, 3);
    let mut etags = Vec::new();
    for number in 1..=3 {
        let part = h
            .engine
            .upload_part(
                part_request(&h, "v", &upload.upload_id, number, small.len()),
                body_of(&small),
            )
            .await
            .expect("part");
        etags.push((number, part.layout.etag));
    }
    assert_eq!(
        code(
            h.engine
                .complete_upload(complete_request(&h, "v", &upload.upload_id, vec![]))
                .await
        ),
        ErrorCode::MalformedXML
    );
    let wrong_etag = vec![(1, format!("\"{}\"", hex::encode([0u8; 16])))];
    assert_eq!(
        code(
            h.engine
                .complete_upload(complete_request(&h, "v", &upload.upload_id, wrong_etag))
                .await
        ),
        ErrorCode::InvalidPart
    );
    let missing = vec![(7, etags[0].1.clone())];
    assert_eq!(
        code(
            h.engine
                .complete_upload(complete_request(&h, "v", &upload.upload_id, missing))
                .await
        ),
        ErrorCode::InvalidPart
    );
    let unordered = vec![etags[1].clone(), etags[0].clone()];
    assert_eq!(
        code(
            h.engine
                .complete_upload(complete_request(&h, "v", &upload.upload_id, unordered))
                .await
        ),
        ErrorCode::InvalidPartOrder
    );
    let too_small = vec![etags[0].clone(), etags[1].clone()];
    assert_eq!(
        code(
            h.engine
                .complete_upload(complete_request(&h, "v", &upload.upload_id, too_small))
                .await
        ),
        ErrorCode::EntityTooSmall
    );
    // A single small part is fine (the last part may be small).
    let one = vec![etags[2].clone()];
    let version = h
        .engine
        .complete_upload(complete_request(&h, "v", &upload.upload_id, one))
        .await
        .expect("one part");
    assert!(version.etag.ends_with("-1\""));
    assert!(h.get_bytes("v").await == small);

    // Part numbers and missing uploads.
    let upload = h
        .engine
        .create_upload(create_request(&h, "w", None))
        .await
        .expect("create");
    for bad in [0, 10_001] {
        let error = h
            .engine
            .upload_part(
                part_request(&h, "w", &upload.upload_id, bad, 1),
                body_of(b"x"),
            )
            .await
            .expect_err("bad number");
        assert_eq!(error.code, ErrorCode::InvalidArgument);
    }
    let unknown = UploadId::generate(1);
    assert_eq!(
        code(
            h.engine
                .upload_part(part_request(&h, "w", &unknown, 1, 1), body_of(b"x"))
                .await
        ),
        ErrorCode::NoSuchUpload
    );
    let files = h.block_files();
    h.engine
        .upload_part(
            part_request(&h, "w", &upload.upload_id, 1, 1),
            body_of(b"x"),
        )
        .await
        .expect("part");
    assert_eq!(h.block_files(), files + 1);
    h.engine
        .abort_upload(&h.bucket, &key_of("w"), &upload.upload_id)
        .await
        .expect("abort");
    assert_eq!(
        code(
            h.engine
                .abort_upload(&h.bucket, &key_of("w"), &upload.upload_id)
                .await
        ),
        ErrorCode::NoSuchUpload
    );
    assert_eq!(
        code(
            h.engine
                .upload_part(
                    part_request(&h, "w", &upload.upload_id, 2, 1),
                    body_of(b"y")
                )
                .await
        ),
        ErrorCode::NoSuchUpload
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_parts_and_uploads_page() {
    let h = Harness::new().await;
    let upload = h
        .engine
        .create_upload(create_request(&h, "parts", None))
        .await
        .expect("create");
    for number in 1..=5 {
        h.engine
            .upload_part(
                part_request(&h, "parts", &upload.upload_id, number, 3),
                body_of(b"abc"),
            )
            .await
            .expect("part");
    }
    let mut marker = 0;
    let mut seen = Vec::new();
    loop {
        let page = h
            .engine
            .list_parts(ListPartsRequest {
                bucket: h.bucket.clone(),
                key: key_of("parts"),
                upload_id: upload.upload_id.clone(),
                part_number_marker: marker,
                max_parts: 2,
            })
            .await
            .expect("list parts");
        seen.extend(page.parts.iter().map(|part| part.layout.part_number));
        if !page.is_truncated {
            break;
        }
        marker = page.next_part_number_marker.expect("marker when truncated");
    }
    assert_eq!(seen, vec![1, 2, 3, 4, 5]);

    // Uploads: two for "a/1", one each for "a/2" and "b".
    let mut ids = Vec::new();
    for key in ["a/1", "a/1", "a/2", "b"] {
        ids.push((
            key,
            h.engine
                .create_upload(create_request(&h, key, None))
                .await
                .expect("create")
                .upload_id,
        ));
    }
    let request = |key_marker: Option<String>,
                   upload_id_marker: Option<UploadId>,
                   delimiter: Option<&str>| ListUploadsRequest {
        bucket: h.bucket.clone(),
        prefix: String::new(),
        delimiter: delimiter.map(str::to_owned),
        key_marker,
        upload_id_marker,
        max_uploads: 2,
    };
    let mut seen = Vec::new();
    let (mut key_marker, mut upload_marker) = (None, None);
    loop {
        let page = h
            .engine
            .list_uploads(request(key_marker.clone(), upload_marker.clone(), None))
            .await
            .expect("list uploads");
        assert!(page.uploads.len() <= 2);
        seen.extend(
            page.uploads
                .iter()
                .map(|upload| (upload.key.to_string(), upload.upload_id.clone())),
        );
        if !page.is_truncated {
            break;
        }
        key_marker = page.next_key_marker;
        upload_marker = page.next_upload_id_marker;
    }
    let mut expected: Vec<(String, UploadId)> = ids
        .iter()
        .map(|(key, id)| (key.to_string(), id.clone()))
        .collect();
    expected.push(("parts".to_owned(), upload.upload_id.clone()));
    expected.sort();
    assert_eq!(seen, expected);
    let grouped = h
        .engine
        .list_uploads(request(None, None, Some("/")))
        .await
        .expect("grouped");
    assert_eq!(grouped.common_prefixes, vec!["a/".to_owned()]);
    assert_eq!(
        grouped
            .uploads
            .iter()
            .map(|u| u.key.to_string())
            .collect::<Vec<_>>(),
        vec!["b".to_owned()]
    );
    assert!(grouped.is_truncated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_part_copy_ranges() {
    let h = Harness::new().await;
    let source = data(PART_SIZE_BYTES_MIN as usize + 1000, 9);
    h.put("src", &source).await;
    let upload = h
        .engine
        .create_upload(create_request(&h, "dst", None))
        .await
        .expect("create");
    let copy = |part_number: u32, source_range: Option<(u64, u64)>| UploadPartCopyRequest {
        bucket: h.bucket.clone(),
        key: key_of("dst"),
        upload_id: upload.upload_id.clone(),
        part_number,
        source_bucket: h.bucket.clone(),
        source_key: key_of("src"),
        source_version_id: None,
        source_conditions: ReadConditions::default(),
        source_range,
    };
    let (part1, _) = h
        .engine
        .upload_part_copy(copy(1, None))
        .await
        .expect("whole copy");
    let (part2, _) = h
        .engine
        .upload_part_copy(copy(2, Some((10, 109))))
        .await
        .expect("ranged copy");
    assert_eq!(part2.layout.size_bytes, 100);
    assert_eq!(
        code(
            h.engine
                .upload_part_copy(copy(3, Some((0, source.len() as u64))))
                .await
        ),
        ErrorCode::InvalidRange
    );
    assert_eq!(
        code(h.engine.upload_part_copy(copy(3, Some((5, 1)))).await),
        ErrorCode::InvalidArgument
    );
    let parts = vec![(1, part1.layout.etag), (2, part2.layout.etag)];
    h.engine
        .complete_upload(complete_request(&h, "dst", &upload.upload_id, parts))
        .await
        .expect("complete");
    let mut expected = source.clone();
    expected.extend_from_slice(&source[10..110]);
    assert!(h.get_bytes("dst").await == expected);
}
