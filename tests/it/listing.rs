//! ListObjects (v1) and ListObjectsV2 against a sorted-bytes model: prefix,
//! delimiter, paging (marker, continuation token, start-after), max-keys,
//! encoding-type=url and fetch-owner.

use std::collections::BTreeSet;

use aws_sdk_s3::types::EncodingType;
use aws_sdk_s3::Client;
use coffer_e2e::ops::{create_bucket, list_all_keys, put_bytes};
use coffer_e2e::{unique_bucket, Server};

/// Keys chosen to exercise binary UTF-8 order: ASCII punctuation around '/',
/// upper before lower case, 2-, 3- and 4-byte characters.
const KEYS: &[&str] = &[
    "a",
    "a/b",
    "a/c/d",
    "a/c/e",
    "a-b",
    "a.b",
    "a0",
    "A",
    "b",
    "b/",
    "b//x",
    "z",
    "~",
    "é",
    "ä/x",
    "ä/y",
    "日本/語",
    "日本",
    "😀",
    "x y",
    "plus+sign",
    "percent%2F",
    "q?=&",
];

/// What S3 returns for one ListObjects page: contents and common prefixes,
/// computed from a sorted set (Rust's `str` order is UTF-8 byte order).
fn model_listing(
    keys: &BTreeSet<String>,
    prefix: &str,
    delimiter: Option<&str>,
) -> (Vec<String>, Vec<String>) {
    let mut contents = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    for key in keys.iter().filter(|k| k.starts_with(prefix)) {
        let rest = &key[prefix.len()..];
        match delimiter.and_then(|d| rest.find(d).map(|at| (at, d))) {
            Some((at, delimiter)) => {
                let common = format!("{prefix}{}{delimiter}", &rest[..at]);
                if prefixes.last() != Some(&common) {
                    prefixes.push(common);
                }
            }
            None => contents.push(key.clone()),
        }
    }
    (contents, prefixes)
}

async fn setup(server: &Server) -> anyhow::Result<(Client, String, BTreeSet<String>)> {
    let client = server.client();
    let bucket = unique_bucket("list");
    create_bucket(&client, &bucket).await?;
    for key in KEYS {
        put_bytes(&client, &bucket, key, key.as_bytes()).await?;
    }
    let model: BTreeSet<String> = KEYS.iter().map(|k| k.to_string()).collect();
    Ok((client, bucket, model))
}

/// Contents and prefixes of a whole listing via ListObjectsV2 pages.
async fn list_v2_all(
    client: &Client,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    page_size: i32,
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let mut contents = Vec::new();
    let mut prefixes = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..1000 {
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_delimiter(delimiter.map(str::to_owned))
            .max_keys(page_size)
            .set_continuation_token(token.clone())
            .send()
            .await?;
        let returned = page.contents().len() + page.common_prefixes().len();
        assert!(
            returned <= page_size as usize,
            "page of {returned} > max-keys {page_size}"
        );
        assert_eq!(page.key_count(), Some(returned as i32));
        contents.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        prefixes.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_owned)),
        );
        if page.is_truncated() != Some(true) {
            return Ok((contents, prefixes));
        }
        token = page.next_continuation_token().map(str::to_owned);
        assert!(
            token.is_some(),
            "truncated page without NextContinuationToken"
        );
    }
    anyhow::bail!("listing did not end")
}

#[tokio::test(flavor = "multi_thread")]
async fn list_v2_matches_model() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let (client, bucket, model) = setup(&server).await?;

    for page_size in [1, 2, 5, 1000] {
        for (prefix, delimiter) in [
            ("", None),
            ("", Some("/")),
            ("a", Some("/")),
            ("a/", Some("/")),
            ("ä", None),
            ("日本", Some("/")),
            ("b/", Some("/")),
            ("nothing", None),
        ] {
            let actual = list_v2_all(&client, &bucket, prefix, delimiter, page_size).await?;
            let expected = model_listing(&model, prefix, delimiter);
            assert_eq!(
                actual, expected,
                "prefix {prefix:?} delimiter {delimiter:?} page {page_size}"
            );
        }
    }
    // A multi-character delimiter.
    let actual = list_v2_all(&client, &bucket, "", Some("/c/"), 1000).await?;
    assert_eq!(actual, model_listing(&model, "", Some("/c/")));

    // start-after
    let page = client
        .list_objects_v2()
        .bucket(&bucket)
        .start_after("b")
        .send()
        .await?;
    let keys: Vec<String> = page
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    let expected: Vec<String> = model.iter().filter(|k| k.as_str() > "b").cloned().collect();
    assert_eq!(keys, expected);

    // max-keys above 1000 is clamped; 0 returns nothing.
    let page = client
        .list_objects_v2()
        .bucket(&bucket)
        .max_keys(5000)
        .send()
        .await?;
    assert_eq!(page.contents().len(), model.len());
    let page = client
        .list_objects_v2()
        .bucket(&bucket)
        .max_keys(0)
        .send()
        .await?;
    assert!(page.contents().is_empty());

    // Object fields.
    let page = client
        .list_objects_v2()
        .bucket(&bucket)
        .prefix("a/b")
        .send()
        .await?;
    let object = &page.contents()[0];
    assert_eq!(object.size(), Some(3));
    assert_eq!(
        object.e_tag(),
        Some(format!("\"{}\"", coffer_e2e::md5_hex(b"a/b")).as_str())
    );
    assert!(object.last_modified().is_some());
    assert!(object.owner().is_none(), "Owner without fetch-owner");
    let page = client
        .list_objects_v2()
        .bucket(&bucket)
        .prefix("a/b")
        .fetch_owner(true)
        .send()
        .await?;
    assert!(
        page.contents()[0].owner().and_then(|o| o.id()).is_some(),
        "fetch-owner gave no Owner"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn list_v1_and_url_encoding() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let (client, bucket, model) = setup(&server).await?;

    // v1 paging with marker (NextMarker only comes with a delimiter; without
    // one the last key is the marker).
    for delimiter in [None, Some("/")] {
        let mut contents = Vec::new();
        let mut prefixes = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..1000 {
            let page = client
                .list_objects()
                .bucket(&bucket)
                .set_delimiter(delimiter.map(str::to_owned))
                .max_keys(3)
                .set_marker(marker.clone())
                .send()
                .await?;
            let page_keys: Vec<String> = page
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned))
                .collect();
            let page_prefixes: Vec<String> = page
                .common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_owned))
                .collect();
            contents.extend(page_keys.clone());
            prefixes.extend(page_prefixes.clone());
            if page.is_truncated() != Some(true) {
                break;
            }
            marker = match page.next_marker() {
                Some(next) => Some(next.to_owned()),
                None => {
                    assert!(
                        delimiter.is_none(),
                        "truncated v1 page with a delimiter needs NextMarker"
                    );
                    page_keys.last().cloned()
                }
            };
        }
        assert_eq!(
            (contents, prefixes),
            model_listing(&model, "", delimiter),
            "{delimiter:?}"
        );
    }

    // encoding-type=url: keys come back percent-encoded.
    for v2 in [true, false] {
        let keys: Vec<String> = if v2 {
            let page = client
                .list_objects_v2()
                .bucket(&bucket)
                .encoding_type(EncodingType::Url)
                .send()
                .await?;
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned))
                .collect()
        } else {
            let page = client
                .list_objects()
                .bucket(&bucket)
                .encoding_type(EncodingType::Url)
                .send()
                .await?;
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned))
                .collect()
        };
        for key in &keys {
            assert!(
                key.is_ascii() && !key.contains(' '),
                "not URL-encoded: {key:?}"
            );
        }
        let decoded: Vec<String> = keys
            .iter()
            .map(|key| {
                // S3 may encode a space as '+', so a literal '+' is always %2B.
                let spaced = key.replace('+', " ");
                urlencoding::decode(&spaced).map(|k| k.into_owned())
            })
            .collect::<Result<_, _>>()?;
        let expected: Vec<String> = model.iter().cloned().collect();
        assert_eq!(decoded, expected, "v2={v2}");
    }
    assert_eq!(
        list_all_keys(&client, &bucket, 4).await?,
        model.into_iter().collect::<Vec<_>>()
    );
    Ok(())
}
