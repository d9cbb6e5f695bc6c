//! ListObjects against a simple in-memory model of S3's rules, with
//! random prefixes, delimiters, markers and page sizes.

use std::collections::BTreeSet;

use coffer_engine::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::Harness;

/// What S3 returns: keys and common prefixes in order, each counting once.
fn model(
    keys: &BTreeSet<String>,
    prefix: &str,
    delimiter: Option<&str>,
    after: Option<&str>,
    max: usize,
) -> (Vec<String>, Vec<String>, bool) {
    let group = |key: &str| -> Option<String> {
        let delimiter = delimiter?;
        let rest = key.strip_prefix(prefix)?;
        rest.find(delimiter)
            .map(|at| format!("{prefix}{}", &rest[..at + delimiter.len()]))
    };
    let after_group = after.and_then(group);
    let mut items: Vec<(bool, String)> = Vec::new();
    for key in keys.iter().filter(|key| key.starts_with(prefix)) {
        if after.is_some_and(|after| key.as_bytes() <= after.as_bytes()) {
            continue;
        }
        match group(key) {
            Some(g) if Some(&g) == after_group.as_ref() => {}
            Some(g) => {
                if items.last() != Some(&(true, g.clone())) {
                    items.push((true, g));
                }
            }
            None => items.push((false, key.clone())),
        }
    }
    // max-keys=0 answers an empty, untruncated page.
    let truncated = max > 0 && items.len() > max;
    items.truncate(max);
    let objects = items
        .iter()
        .filter(|(is_group, _)| !is_group)
        .map(|(_, k)| k.clone())
        .collect();
    let groups = items
        .iter()
        .filter(|(is_group, _)| *is_group)
        .map(|(_, k)| k.clone())
        .collect();
    (objects, groups, truncated)
}

fn list(
    runtime: &tokio::runtime::Runtime,
    h: &Harness,
    prefix: &str,
    delimiter: Option<&str>,
    after: Option<&str>,
    max: usize,
) -> ListObjectsPage {
    runtime
        .block_on(h.engine.list_objects(ListObjectsRequest {
            bucket: h.bucket.clone(),
            prefix: prefix.to_owned(),
            delimiter: delimiter.map(str::to_owned),
            after: after.map(str::to_owned),
            max_keys: max,
        }))
        .expect("list")
}

#[test]
fn list_objects_matches_model() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let h = runtime.block_on(Harness::new());
    let mut keys = BTreeSet::new();
    let alphabet = ["a", "b", "/", "é"];
    // Every string of length 1..=3 over the alphabet whose index sum is even:
    // a dense but irregular key set.
    for length in 1..=3u32 {
        for n in 0..4usize.pow(length) {
            let (mut key, mut rest, mut sum) = (String::new(), n, 0);
            for _ in 0..length {
                key.push_str(alphabet[rest % 4]);
                sum += rest % 4;
                rest /= 4;
            }
            if sum % 2 == 0 {
                keys.insert(key);
            }
        }
    }
    for key in &keys {
        runtime.block_on(h.put(key, b""));
    }

    let fragment = prop::sample::select(vec!["", "a", "b", "/", "a/", "é", "b/a", "aé"]);
    let strategy = (
        fragment.clone(),
        prop::option::of(prop::sample::select(vec!["/", "a", "é/"])),
        prop::option::of(fragment),
        0usize..6,
    );
    let mut runner = TestRunner::new(Config {
        cases: 200,
        ..Config::default()
    });
    runner
        .run(&strategy, |(prefix, delimiter, after, max)| {
            let after = after.filter(|after| !after.is_empty());
            let (objects, groups, truncated) = model(&keys, prefix, delimiter, after, max);
            let page = list(&runtime, &h, prefix, delimiter, after, max);
            let listed: Vec<String> = page
                .objects
                .iter()
                .map(|entry| entry.key.to_string())
                .collect();
            prop_assert_eq!(&listed, &objects);
            prop_assert_eq!(&page.common_prefixes, &groups);
            prop_assert_eq!(page.is_truncated, truncated);
            if max == 0 {
                prop_assert!(page.last_returned.is_none());
            }
            Ok(())
        })
        .expect("listing agrees with the model");

    // Paging by last_returned visits everything exactly once.
    for delimiter in [None, Some("/")] {
        let (all_objects, all_groups, _) = model(&keys, "", delimiter, None, usize::MAX);
        let (mut objects, mut groups, mut after) = (Vec::new(), Vec::new(), None::<String>);
        loop {
            let page = list(&runtime, &h, "", delimiter, after.as_deref(), 3);
            objects.extend(page.objects.iter().map(|entry| entry.key.to_string()));
            groups.extend(page.common_prefixes.iter().cloned());
            if !page.is_truncated {
                break;
            }
            after = page.last_returned;
        }
        assert_eq!(objects, all_objects);
        assert_eq!(groups, all_groups);
    }

    // Versions: each object is its null version, paged with markers.
    let (mut seen, mut key_marker, mut version_marker) = (Vec::new(), None, None);
    loop {
        let page = runtime
            .block_on(h.engine.list_object_versions(ListVersionsRequest {
                bucket: h.bucket.clone(),
                prefix: String::new(),
                delimiter: None,
                key_marker: key_marker.clone(),
                version_id_marker: version_marker.clone(),
                max_keys: 7,
            }))
            .expect("versions");
        assert!(page
            .versions
            .iter()
            .all(|entry| entry.version.version_id.is_null()));
        seen.extend(page.versions.iter().map(|entry| entry.key.to_string()));
        if !page.is_truncated {
            break;
        }
        key_marker = page.next_key_marker;
        version_marker = page.next_version_id_marker;
    }
    assert_eq!(seen, keys.iter().cloned().collect::<Vec<_>>());

    // Versions with a delimiter group like ListObjects.
    let page = runtime
        .block_on(h.engine.list_object_versions(ListVersionsRequest {
            bucket: h.bucket.clone(),
            prefix: "a".to_owned(),
            delimiter: Some("/".to_owned()),
            key_marker: None,
            version_id_marker: None,
            max_keys: 1000,
        }))
        .expect("grouped versions");
    let (objects, groups, _) = model(&keys, "a", Some("/"), None, usize::MAX);
    let listed: Vec<String> = page
        .versions
        .iter()
        .map(|entry| entry.key.to_string())
        .collect();
    assert_eq!(listed, objects);
    assert_eq!(page.common_prefixes, groups);
    assert!(!page.is_truncated);
}
