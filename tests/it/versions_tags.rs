//! ListObjectVersions on an unversioned bucket (every object is its `null`
//! version), DeleteObjects with x-amz-bypass-governance-retention, and object
//! tagging.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier, Tag, Tagging};
use coffer_e2e::ops::{create_bucket, put_bytes};
use coffer_e2e::{assert_s3_error, unique_bucket, Server};

#[tokio::test(flavor = "multi_thread")]
async fn list_object_versions_of_unversioned_bucket() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("ver");
    create_bucket(&client, &bucket).await?;
    let keys = ["a", "b", "c/d", "e"];
    for key in keys {
        put_bytes(&client, &bucket, key, key.as_bytes()).await?;
    }

    let all = client.list_object_versions().bucket(&bucket).send().await?;
    let listed: Vec<(&str, &str, bool)> = all
        .versions()
        .iter()
        .map(|v| {
            (
                v.key().unwrap_or_default(),
                v.version_id().unwrap_or_default(),
                v.is_latest().unwrap_or(false),
            )
        })
        .collect();
    let expected: Vec<(&str, &str, bool)> = keys.iter().map(|k| (*k, "null", true)).collect();
    assert_eq!(listed, expected);
    assert!(all.delete_markers().is_empty());
    assert!(all
        .versions()
        .iter()
        .all(|v| v.size() == v.key().map(|k| k.len() as i64)));

    // Paging with key-marker / version-id-marker.
    let mut paged = Vec::new();
    let mut key_marker: Option<String> = None;
    let mut version_marker: Option<String> = None;
    for _ in 0..20 {
        let page = client
            .list_object_versions()
            .bucket(&bucket)
            .max_keys(1)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await?;
        assert!(page.versions().len() <= 1);
        paged.extend(
            page.versions()
                .iter()
                .filter_map(|v| v.key().map(str::to_owned)),
        );
        if page.is_truncated() != Some(true) {
            break;
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        version_marker = page.next_version_id_marker().map(str::to_owned);
    }
    assert_eq!(paged, keys);

    let page = client
        .list_object_versions()
        .bucket(&bucket)
        .delimiter("/")
        .send()
        .await?;
    let prefixes: Vec<&str> = page
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["c/"]);

    // Deleting the null version by id, with the governance bypass header.
    let objects = vec![
        ObjectIdentifier::builder()
            .key("a")
            .version_id("null")
            .build()?,
        ObjectIdentifier::builder().key("b").build()?,
    ];
    let deleted = client
        .delete_objects()
        .bucket(&bucket)
        .bypass_governance_retention(true)
        .delete(Delete::builder().set_objects(Some(objects)).build()?)
        .send()
        .await?;
    assert!(deleted.errors().is_empty(), "{:?}", deleted.errors());
    assert_eq!(deleted.deleted().len(), 2);
    let rest = client.list_object_versions().bucket(&bucket).send().await?;
    let keys: Vec<&str> = rest.versions().iter().filter_map(|v| v.key()).collect();
    assert_eq!(keys, ["c/d", "e"]);

    // GET by the null version id works; another id does not.
    client
        .get_object()
        .bucket(&bucket)
        .key("e")
        .version_id("null")
        .send()
        .await?;
    let other = client
        .get_object()
        .bucket(&bucket)
        .key("e")
        .version_id("3HL4kqtJvjVBH40Nrjfkd")
        .send()
        .await;
    assert!(other.is_err(), "unknown version id answered");
    Ok(())
}

fn tags(pairs: &[(&str, &str)]) -> anyhow::Result<Tagging> {
    let set = pairs
        .iter()
        .map(|(key, value)| Tag::builder().key(*key).value(*value).build())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Tagging::builder().set_tag_set(Some(set)).build()?)
}

#[tokio::test(flavor = "multi_thread")]
async fn object_tagging() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("tag");
    create_bucket(&client, &bucket).await?;

    client
        .put_object()
        .bucket(&bucket)
        .key("t")
        .tagging("project=coffer&team=e2e%20tests")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await?;
    let got = client
        .get_object_tagging()
        .bucket(&bucket)
        .key("t")
        .send()
        .await?;
    let mut pairs: Vec<(&str, &str)> = got.tag_set().iter().map(|t| (t.key(), t.value())).collect();
    pairs.sort();
    assert_eq!(pairs, [("project", "coffer"), ("team", "e2e tests")]);
    let object = client.get_object().bucket(&bucket).key("t").send().await?;
    assert_eq!(object.tag_count(), Some(2));

    client
        .put_object_tagging()
        .bucket(&bucket)
        .key("t")
        .tagging(tags(&[("a", "1"), ("b", "2"), ("c", "3")])?)
        .send()
        .await?;
    let got = client
        .get_object_tagging()
        .bucket(&bucket)
        .key("t")
        .send()
        .await?;
    let mut pairs: Vec<(&str, &str)> = got.tag_set().iter().map(|t| (t.key(), t.value())).collect();
    pairs.sort();
    assert_eq!(pairs, [("a", "1"), ("b", "2"), ("c", "3")]);

    client
        .delete_object_tagging()
        .bucket(&bucket)
        .key("t")
        .send()
        .await?;
    let got = client
        .get_object_tagging()
        .bucket(&bucket)
        .key("t")
        .send()
        .await?;
    assert!(got.tag_set().is_empty());

    let eleven: Vec<(String, String)> = (0..11)
        .map(|i| (format!("k{i}"), format!("v{i}")))
        .collect();
    let eleven_refs: Vec<(&str, &str)> = eleven
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_s3_error(
        client
            .put_object_tagging()
            .bucket(&bucket)
            .key("t")
            .tagging(tags(&eleven_refs)?)
            .send()
            .await,
        400,
        Some("InvalidTag"),
    );
    let header: Vec<String> = eleven.iter().map(|(k, v)| format!("{k}={v}")).collect();
    assert_s3_error(
        client
            .put_object()
            .bucket(&bucket)
            .key("t11")
            .tagging(header.join("&"))
            .body(ByteStream::from_static(b"x"))
            .send()
            .await,
        400,
        Some("InvalidTag"),
    );
    // Duplicate keys and over-long keys are invalid too.
    assert_s3_error(
        client
            .put_object_tagging()
            .bucket(&bucket)
            .key("t")
            .tagging(tags(&[("d", "1"), ("d", "2")])?)
            .send()
            .await,
        400,
        Some("InvalidTag"),
    );
    let long_key = "k".repeat(129);
    assert_s3_error(
        client
            .put_object_tagging()
            .bucket(&bucket)
            .key("t")
            .tagging(tags(&[(&long_key, "v")])?)
            .send()
            .await,
        400,
        Some("InvalidTag"),
    );
    assert_s3_error(
        client
            .get_object_tagging()
            .bucket(&bucket)
            .key("missing")
            .send()
            .await,
        404,
        Some("NoSuchKey"),
    );
    Ok(())
}
