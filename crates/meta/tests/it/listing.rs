//! Listing order and bounds: binary UTF-8 order with keys containing NUL,
//! '/', control characters and multibyte UTF-8; `after`, prefix and paging.

use coffer_meta::*;
use coffer_types::VersionId;

use crate::common::*;

const KEYS: [&str; 12] = [
    "b",
    "a",
    "a/b",
    "a/",
    "a\u{0}",
    "a\u{0}b",
    "a\u{1}",
    "ab",
    "é",
    "日本/語",
    "\u{7f}",
    "a/b/c",
];

async fn store_with_keys() -> (
    tempfile::TempDir,
    std::sync::Arc<MetaStore>,
    coffer_types::BucketName,
) {
    let (dir, store) = open_store().await;
    let bucket = create_bucket(&store, "photos").await;
    // A neighbouring bucket whose name extends ours must not leak in.
    let neighbour = create_bucket(&store, "photos-2").await;
    assert_eq!(
        put(
            &store,
            &neighbour,
            &key("a"),
            version(1, data_id(200), 1, "\"n\"")
        )
        .await,
        CommandResult::Ok
    );
    for (index, name) in KEYS.iter().enumerate() {
        let object = version(100 + index as i64, data_id(index as u8), 1, "\"e\"");
        assert_eq!(
            put(&store, &bucket, &key(name), object).await,
            CommandResult::Ok
        );
    }
    // Overwrite one key: still one entry, the newest.
    assert_eq!(
        put(
            &store,
            &bucket,
            &key("ab"),
            version(999, data_id(100), 2, "\"new\"")
        )
        .await,
        CommandResult::Ok
    );
    (dir, store, bucket)
}

fn sorted_keys(filter: impl Fn(&str) -> bool) -> Vec<String> {
    let mut keys: Vec<String> = KEYS
        .iter()
        .filter(|name| filter(name))
        .map(|name| name.to_string())
        .collect();
    keys.sort_by(|left, right| left.as_bytes().cmp(right.as_bytes()));
    keys
}

fn names(listed: &[(coffer_types::ObjectKey, ObjectVersion)]) -> Vec<String> {
    listed.iter().map(|(name, _)| name.to_string()).collect()
}

#[tokio::test]
async fn list_objects_in_binary_order_with_bounds() {
    let (_dir, store, bucket) = store_with_keys().await;
    let all = store.list_objects(&bucket, "", None, 1000).expect("list");
    assert_eq!(names(&all), sorted_keys(|_| true));
    let ab = all
        .iter()
        .find(|(name, _)| name.as_str() == "ab")
        .expect("ab listed");
    assert_eq!(ab.1.etag, "\"new\"");

    assert_eq!(
        names(&store.list_objects(&bucket, "a/", None, 1000).expect("list")),
        ["a/", "a/b", "a/b/c"]
    );
    assert_eq!(
        names(
            &store
                .list_objects(&bucket, "a\u{0}", None, 1000)
                .expect("list")
        ),
        ["a\u{0}", "a\u{0}b"]
    );
    assert_eq!(
        names(&store.list_objects(&bucket, "日", None, 1000).expect("list")),
        ["日本/語"]
    );
    assert!(store
        .list_objects(&bucket, "zzz", None, 1000)
        .expect("list")
        .is_empty());

    // `after` is exclusive and need not name an existing key.
    assert_eq!(
        names(
            &store
                .list_objects(&bucket, "", Some(b"a/b"), 3)
                .expect("list")
        ),
        ["a/b/c", "ab", "b"]
    );
    assert_eq!(
        names(
            &store
                .list_objects(&bucket, "a", Some(b"a\x00"), 2)
                .expect("list")
        ),
        ["a\u{0}b", "a\u{1}"]
    );
    assert_eq!(
        names(
            &store
                .list_objects(&bucket, "a/", Some(b"0"), 1000)
                .expect("list")
        ),
        ["a/", "a/b", "a/b/c"],
        "after below the prefix"
    );
    // Skipping a common-prefix group: `a/` + 0xFF is after every key under `a/`.
    assert_eq!(
        names(
            &store
                .list_objects(&bucket, "a", Some(b"a/\xff"), 2)
                .expect("list")
        ),
        ["ab"]
    );
    assert!(store
        .list_objects(&bucket, "", Some("日本/語".as_bytes()), 10)
        .expect("list")
        .is_empty());
    assert!(store
        .list_objects(&bucket, "", None, 0)
        .expect("list")
        .is_empty());

    // Paging with `after` = last key returned visits every key once.
    let mut paged = Vec::new();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let page = store
            .list_objects(&bucket, "", after.as_deref(), 5)
            .expect("list");
        assert!(page.len() <= 5);
        let Some((last, _)) = page.last() else { break };
        after = Some(last.as_str().as_bytes().to_vec());
        paged.extend(names(&page));
    }
    assert_eq!(paged, sorted_keys(|_| true));
}

#[tokio::test]
async fn list_object_versions_with_markers() {
    let (_dir, store, bucket) = store_with_keys().await;
    let all = store
        .list_object_versions(&bucket, "", None, None, 1000)
        .expect("list");
    assert_eq!(names(&all), sorted_keys(|_| true));
    assert!(all.iter().all(|(_, version)| version.version_id.is_null()));

    let null = VersionId::null();
    let after_key = store
        .list_object_versions(&bucket, "a/", Some(b"a/"), None, 1000)
        .expect("list");
    assert_eq!(names(&after_key), ["a/b", "a/b/c"]);
    let after_version = store
        .list_object_versions(&bucket, "a/", Some(b"a/"), Some(&null), 1000)
        .expect("list");
    assert_eq!(names(&after_version), ["a/b", "a/b/c"]);
    let limited = store
        .list_object_versions(&bucket, "", Some(b"a"), None, 2)
        .expect("list");
    assert_eq!(names(&limited), ["a\u{0}", "a\u{0}b"]);
}
