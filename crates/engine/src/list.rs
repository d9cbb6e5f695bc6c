//! Listing with prefix, delimiter and paging, over the metadata store's
//! ordered scans. With a delimiter, keys that share the part of their name
//! up to the first delimiter after the prefix roll up into one common
//! prefix; a group counts once toward the page size and is skipped in one
//! scan by restarting after `group + 0xFF` (0xFF never occurs in UTF-8).

use coffer_meta::{ObjectVersion, UploadRecord};
use coffer_types::limits::LIST_KEYS_MAX;
use coffer_types::{ObjectKey, UploadId, VersionId};

use crate::api::*;
use crate::{errors, Engine, Result};

/// Rows fetched per scan when a delimiter may cut a scan short.
const GROUPED_BATCH_ROWS: usize = 128;

/// Where a scan resumes: strictly after `key` (and after `marker` within it;
/// with no marker, after every row of that key).
#[derive(Clone, Debug)]
struct Cursor<M> {
    key: Vec<u8>,
    marker: Option<M>,
}

enum Item<T> {
    Row(T),
    Prefix(String),
}

/// The common prefix `key` belongs to, if any.
fn group_of(key: &str, prefix: &str, delimiter: Option<&str>) -> Option<String> {
    let delimiter = delimiter?;
    let rest = key.strip_prefix(prefix)?;
    let at = rest.find(delimiter)?;
    Some(format!("{prefix}{}", &rest[..at + delimiter.len()]))
}

fn past_group<M>(group: &str) -> Cursor<M> {
    let mut key = group.as_bytes().to_vec();
    key.push(0xFF);
    Cursor { key, marker: None }
}

/// A start marker that falls inside a group means that group was already
/// returned: resume after it.
fn start_cursor<M>(
    marker_key: Option<String>,
    marker: Option<M>,
    prefix: &str,
    delimiter: Option<&str>,
) -> Option<Cursor<M>> {
    let key = marker_key?;
    match group_of(&key, prefix, delimiter) {
        Some(group) => Some(past_group(&group)),
        None => Some(Cursor {
            key: key.into_bytes(),
            marker,
        }),
    }
}

struct Walk<T> {
    items: Vec<Item<T>>,
    is_truncated: bool,
}

/// Walk rows in order, rolling up groups, until `max` items are collected;
/// `is_truncated` tells whether any row remains after them.
fn walk<T, M>(
    prefix: &str,
    delimiter: Option<&str>,
    max: usize,
    mut cursor: Option<Cursor<M>>,
    mut fetch: impl FnMut(Option<&Cursor<M>>, usize) -> Result<Vec<T>>,
    key_of: impl Fn(&T) -> &str,
    cursor_after: impl Fn(&T) -> Cursor<M>,
) -> Result<Walk<T>> {
    let mut items = Vec::new();
    if max == 0 {
        return Ok(Walk {
            items,
            is_truncated: false,
        });
    }
    let batch_rows = if delimiter.is_some() {
        GROUPED_BATCH_ROWS
    } else {
        max + 1
    };
    loop {
        let rows = fetch(cursor.as_ref(), batch_rows)?;
        let exhausted = rows.len() < batch_rows;
        let mut rescan = false;
        for row in rows {
            if items.len() == max {
                return Ok(Walk {
                    items,
                    is_truncated: true,
                });
            }
            if let Some(group) = group_of(key_of(&row), prefix, delimiter) {
                cursor = Some(past_group(&group));
                items.push(Item::Prefix(group));
                rescan = true;
                break;
            }
            cursor = Some(cursor_after(&row));
            items.push(Item::Row(row));
        }
        if exhausted && !rescan {
            return Ok(Walk {
                items,
                is_truncated: false,
            });
        }
    }
}

fn delimiter_of(delimiter: &Option<String>) -> Option<&str> {
    delimiter
        .as_deref()
        .filter(|delimiter| !delimiter.is_empty())
}

pub(crate) fn list_objects(
    engine: &Engine,
    request: ListObjectsRequest,
) -> Result<ListObjectsPage> {
    engine.require_bucket(&request.bucket)?;
    let delimiter = delimiter_of(&request.delimiter);
    let prefix = request.prefix.as_str();
    let start = start_cursor::<()>(request.after, None, prefix, delimiter);
    let walked = walk(
        prefix,
        delimiter,
        request.max_keys.min(LIST_KEYS_MAX),
        start,
        |cursor, limit| {
            let after = cursor.map(|cursor| cursor.key.as_slice());
            engine
                .meta
                .list_objects(&request.bucket, prefix, after, limit)
                .map_err(|error| errors::meta("list objects", error))
        },
        |(key, _): &(ObjectKey, ObjectVersion)| key.as_str(),
        |(key, _)| Cursor {
            key: key.as_str().as_bytes().to_vec(),
            marker: None,
        },
    )?;
    let mut page = ListObjectsPage {
        objects: Vec::new(),
        common_prefixes: Vec::new(),
        is_truncated: walked.is_truncated,
        last_returned: None,
    };
    for item in walked.items {
        match item {
            Item::Row((key, version)) => {
                page.last_returned = Some(key.as_str().to_owned());
                page.objects.push(ListEntry { key, version });
            }
            Item::Prefix(group) => {
                page.last_returned = Some(group.clone());
                page.common_prefixes.push(group);
            }
        }
    }
    Ok(page)
}

pub(crate) fn list_object_versions(
    engine: &Engine,
    request: ListVersionsRequest,
) -> Result<ListVersionsPage> {
    engine.require_bucket(&request.bucket)?;
    let delimiter = delimiter_of(&request.delimiter);
    let prefix = request.prefix.as_str();
    let start = start_cursor(
        request.key_marker,
        request.version_id_marker,
        prefix,
        delimiter,
    );
    let walked = walk(
        prefix,
        delimiter,
        request.max_keys.min(LIST_KEYS_MAX),
        start,
        |cursor: Option<&Cursor<VersionId>>, limit| {
            let key_marker = cursor.map(|cursor| cursor.key.as_slice());
            let version_marker = cursor.and_then(|cursor| cursor.marker.as_ref());
            engine
                .meta
                .list_object_versions(&request.bucket, prefix, key_marker, version_marker, limit)
                .map_err(|error| errors::meta("list versions", error))
        },
        |(key, _): &(ObjectKey, ObjectVersion)| key.as_str(),
        |(key, version)| Cursor {
            key: key.as_str().as_bytes().to_vec(),
            marker: Some(version.version_id.clone()),
        },
    )?;
    let mut page = ListVersionsPage {
        versions: Vec::new(),
        common_prefixes: Vec::new(),
        is_truncated: walked.is_truncated,
        next_key_marker: None,
        next_version_id_marker: None,
    };
    let mut last: Option<(String, Option<VersionId>)> = None;
    for item in walked.items {
        match item {
            Item::Row((key, version)) => {
                last = Some((key.as_str().to_owned(), Some(version.version_id.clone())));
                page.versions.push(ListEntry { key, version });
            }
            Item::Prefix(group) => {
                last = Some((group.clone(), None));
                page.common_prefixes.push(group);
            }
        }
    }
    if page.is_truncated {
        if let Some((key, version_id)) = last {
            page.next_key_marker = Some(key);
            page.next_version_id_marker = version_id;
        }
    }
    Ok(page)
}

pub(crate) fn list_uploads(
    engine: &Engine,
    request: ListUploadsRequest,
) -> Result<ListUploadsPage> {
    engine.require_bucket(&request.bucket)?;
    let delimiter = delimiter_of(&request.delimiter);
    let prefix = request.prefix.as_str();
    let start = start_cursor(
        request.key_marker,
        request.upload_id_marker,
        prefix,
        delimiter,
    );
    let walked = walk(
        prefix,
        delimiter,
        request.max_uploads.min(LIST_KEYS_MAX),
        start,
        |cursor: Option<&Cursor<UploadId>>, limit| {
            let key_marker = cursor.map(|cursor| cursor.key.as_slice());
            let upload_marker = cursor.and_then(|cursor| cursor.marker.as_ref());
            engine
                .meta
                .list_uploads(&request.bucket, prefix, key_marker, upload_marker, limit)
                .map_err(|error| errors::meta("list uploads", error))
        },
        |upload: &UploadRecord| upload.key.as_str(),
        |upload| Cursor {
            key: upload.key.as_str().as_bytes().to_vec(),
            marker: Some(upload.upload_id.clone()),
        },
    )?;
    let mut page = ListUploadsPage {
        uploads: Vec::new(),
        common_prefixes: Vec::new(),
        is_truncated: walked.is_truncated,
        next_key_marker: None,
        next_upload_id_marker: None,
    };
    let mut last: Option<(String, Option<UploadId>)> = None;
    for item in walked.items {
        match item {
            Item::Row(upload) => {
                last = Some((
                    upload.key.as_str().to_owned(),
                    Some(upload.upload_id.clone()),
                ));
                page.uploads.push(upload);
            }
            Item::Prefix(group) => {
                last = Some((group.clone(), None));
                page.common_prefixes.push(group);
            }
        }
    }
    if page.is_truncated {
        if let Some((key, upload_id)) = last {
            page.next_key_marker = Some(key);
            page.next_upload_id_marker = upload_id;
        }
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups() {
        assert_eq!(group_of("a/b/c", "", Some("/")), Some("a/".to_owned()));
        assert_eq!(group_of("a/b/c", "a/", Some("/")), Some("a/b/".to_owned()));
        assert_eq!(group_of("a/", "a/", Some("/")), None);
        assert_eq!(group_of("abc", "", None), None);
        assert_eq!(group_of("x--y", "", Some("--")), Some("x--".to_owned()));
    }

    /// The walk over an in-memory key list, with a counting fetch, agrees
    /// with a direct model.
    #[test]
    fn walk_rolls_up_groups_and_pages() {
        let keys: Vec<String> = ["a", "b/1", "b/2", "c", "d/x/y", "e"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let fetch = |cursor: Option<&Cursor<()>>, limit: usize| -> Result<Vec<String>> {
            Ok(keys
                .iter()
                .filter(|key| cursor.is_none_or(|cursor| key.as_bytes() > cursor.key.as_slice()))
                .take(limit)
                .cloned()
                .collect())
        };
        let run = |max, start: Option<&str>| {
            let start = start_cursor(start.map(str::to_owned), None, "", Some("/"));
            let walked = walk(
                "",
                Some("/"),
                max,
                start,
                fetch,
                |key: &String| key.as_str(),
                |key| Cursor {
                    key: key.as_bytes().to_vec(),
                    marker: None,
                },
            )
            .expect("in-memory walk");
            let names: Vec<String> = walked
                .items
                .into_iter()
                .map(|item| match item {
                    Item::Row(key) => key,
                    Item::Prefix(group) => format!("[{group}]"),
                })
                .collect();
            (names, walked.is_truncated)
        };
        assert_eq!(
            run(10, None),
            (
                vec!["a", "[b/]", "c", "[d/]", "e"]
                    .into_iter()
                    .map(String::from)
                    .collect(),
                false
            )
        );
        assert_eq!(
            run(2, None),
            (vec!["a".to_owned(), "[b/]".to_owned()], true)
        );
        assert_eq!(
            run(2, Some("b/")),
            (vec!["c".to_owned(), "[d/]".to_owned()], true)
        );
        assert_eq!(run(1, Some("d/")), (vec!["e".to_owned()], false));
        assert_eq!(run(0, None), (vec![], false));
    }
}
