//! Behaviour of the local block store against a real directory: durable
//! writes leave no temp files, ranges read back exactly, deletes and sweeps
//! remove only what they should, and the counters follow every change.

use std::fs::{self, File};
use std::path::Path;
use std::time::{Duration, SystemTime};

use coffer_blob::{BlobError, BlockStats, BlockStore};
use coffer_types::DataId;

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("readable dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

fn make_old(path: &Path) {
    let two_hours_ago = SystemTime::now() - Duration::from_secs(2 * 3600);
    File::options()
        .write(true)
        .open(path)
        .expect("block file exists")
        .set_modified(two_hours_ago)
        .expect("set mtime");
}

#[tokio::test]
async fn write_then_read_ranges() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = BlockStore::open(dir.path()).expect("open");
    let data_id = DataId::random();
    let bytes: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    store
        .write_block(data_id, 3, bytes.clone())
        .await
        .expect("write");

    let path = store.block_path(data_id, 3);
    let hex = data_id.to_hex();
    assert_eq!(
        path,
        dir.path()
            .join("blocks")
            .join(&hex[0..2])
            .join(&hex[2..4])
            .join(format!("{hex}-3"))
    );
    assert_eq!(fs::read(&path).expect("file on disk"), bytes);

    let cases: [(u64, u64, std::ops::Range<usize>); 6] = [
        (0, 10_000, 0..10_000),
        (0, u64::MAX, 0..10_000),
        (17, 100, 17..117),
        (9_990, 100, 9_990..10_000),
        (10_000, 5, 10_000..10_000),
        (50_000, 5, 10_000..10_000),
    ];
    for (offset, length, expected) in cases {
        let got = store
            .read_block_range(data_id, 3, offset, length)
            .await
            .expect("read");
        assert_eq!(got, &bytes[expected], "offset {offset} length {length}");
    }

    let missing = store.read_block_range(data_id, 4, 0, 10).await;
    assert!(
        matches!(missing, Err(BlobError::NotFound { data_id: id, index: 4 }) if id == data_id),
        "{missing:?}"
    );
}

#[tokio::test]
async fn writes_leave_no_temp_files_and_overwrite_in_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = BlockStore::open(dir.path()).expect("open");
    let data_id = DataId::random();
    for index in 0..5 {
        store
            .write_block(data_id, index, vec![index as u8; 100])
            .await
            .expect("write");
    }
    assert!(entries(&dir.path().join("tmp")).is_empty());
    // A rewrite (retry or repair) replaces the block and keeps the counts.
    store
        .write_block(data_id, 0, vec![9; 40])
        .await
        .expect("rewrite");
    assert_eq!(
        store
            .read_block_range(data_id, 0, 0, 1000)
            .await
            .expect("read"),
        vec![9; 40]
    );
    assert_eq!(
        store.stats(),
        BlockStats {
            files: 5,
            bytes: 440
        }
    );
    assert!(entries(&dir.path().join("tmp")).is_empty());
}

#[tokio::test]
async fn empty_blocks_are_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = BlockStore::open(dir.path()).expect("open");
    let data_id = DataId::random();
    store
        .write_block(data_id, 0, Vec::new())
        .await
        .expect("write");
    assert!(store
        .read_block_range(data_id, 0, 0, 10)
        .await
        .expect("read")
        .is_empty());
    assert_eq!(store.stats(), BlockStats { files: 1, bytes: 0 });
}

#[tokio::test]
async fn delete_removes_blocks_and_tolerates_gaps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = BlockStore::open(dir.path()).expect("open");
    let doomed = DataId::random();
    let kept = DataId::random();
    for index in [0, 1, 3] {
        store
            .write_block(doomed, index, vec![1; 10])
            .await
            .expect("write");
    }
    store.write_block(kept, 0, vec![2; 7]).await.expect("write");
    assert_eq!(
        store.stats(),
        BlockStats {
            files: 4,
            bytes: 37
        }
    );

    store.delete_data(doomed, 4).await.expect("delete");
    for index in 0..4 {
        assert!(!store.block_path(doomed, index).exists());
    }
    assert!(store.block_path(kept, 0).exists());
    assert_eq!(store.stats(), BlockStats { files: 1, bytes: 7 });
    // Deleting again (a GC retry) is fine.
    store.delete_data(doomed, 4).await.expect("delete again");
    assert!(
        store.delete_data(doomed, u64::MAX).await.is_err(),
        "bounded"
    );
}

#[tokio::test]
async fn open_clears_temp_files_and_counts_existing_blocks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_id = DataId::random();
    {
        let store = BlockStore::open(dir.path()).expect("open");
        store
            .write_block(data_id, 0, vec![0; 123])
            .await
            .expect("write");
        store
            .write_block(data_id, 1, vec![0; 77])
            .await
            .expect("write");
    }
    // Leftovers of a crash in the middle of writes.
    let tmp = dir.path().join("tmp");
    fs::write(tmp.join("0123.tmp"), b"partial").expect("write temp");
    fs::create_dir(tmp.join("stray-dir")).expect("mkdir");
    fs::write(tmp.join("stray-dir").join("x"), b"x").expect("write");

    let store = BlockStore::open(dir.path()).expect("reopen");
    assert!(
        entries(&tmp).is_empty(),
        "tmp/ cleared: {:?}",
        entries(&tmp)
    );
    assert_eq!(
        store.stats(),
        BlockStats {
            files: 2,
            bytes: 200
        }
    );
    assert_eq!(
        store
            .read_block_range(data_id, 1, 0, 1000)
            .await
            .expect("read")
            .len(),
        77
    );
}

#[tokio::test]
async fn sweep_removes_only_old_unreferenced_blocks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = BlockStore::open(dir.path()).expect("open");
    let referenced = DataId([0x11; 16]);
    let unreferenced_old = DataId([0x11; 16].map(|b| b ^ 0x01)); // shares no dir
    let unreferenced_young = DataId::random();
    // Same fan-out directory as `referenced`, different id.
    let mut neighbour_bytes = [0x11; 16];
    neighbour_bytes[15] = 0x99;
    let unreferenced_neighbour = DataId(neighbour_bytes);

    for (id, count) in [
        (referenced, 2),
        (unreferenced_old, 3),
        (unreferenced_young, 1),
        (unreferenced_neighbour, 1),
    ] {
        for index in 0..count {
            store
                .write_block(id, index, vec![5; 10])
                .await
                .expect("write");
        }
    }
    for id in [referenced, unreferenced_old, unreferenced_neighbour] {
        for index in 0..3 {
            let path = store.block_path(id, index);
            if path.exists() {
                make_old(&path);
            }
        }
    }
    // Names the store never writes must survive even though they look old
    // and nothing references them.
    let leaf = store
        .block_path(referenced, 0)
        .parent()
        .expect("leaf dir")
        .to_path_buf();
    let odd_names = [
        "notes.txt".to_owned(),
        format!("{}-01", unreferenced_old.to_hex()),
        format!("{}-1", unreferenced_old.to_hex().to_uppercase()),
        // Well formed, but in a directory its id does not belong to.
        format!("{}-0", unreferenced_young.to_hex()),
    ];
    for name in &odd_names {
        fs::write(leaf.join(name), b"?").expect("write odd file");
        make_old(&leaf.join(name));
    }
    fs::write(dir.path().join("blocks").join("README"), b"?").expect("write top-level file");
    assert_eq!(store.stats().files, 7);

    let removed = store
        .sweep_unreferenced(move |id| *id == referenced, Duration::from_secs(3600))
        .await
        .expect("sweep");
    assert_eq!(removed, 4, "3 old blocks plus the old neighbour");
    for index in 0..3 {
        assert!(!store.block_path(unreferenced_old, index).exists());
    }
    assert!(!store.block_path(unreferenced_neighbour, 0).exists());
    assert!(store.block_path(referenced, 0).exists());
    assert!(store.block_path(referenced, 1).exists());
    assert!(
        store.block_path(unreferenced_young, 0).exists(),
        "young files are spared"
    );
    for name in &odd_names {
        assert!(leaf.join(name).exists(), "{name} left alone");
    }
    assert!(dir.path().join("blocks").join("README").exists());
    assert_eq!(
        store.stats(),
        BlockStats {
            files: 3,
            bytes: 30
        }
    );

    // With no age limit the young unreferenced block goes too.
    let removed = store
        .sweep_unreferenced(move |id| *id == referenced, Duration::ZERO)
        .await
        .expect("sweep");
    assert_eq!(removed, 1);
    assert!(!store.block_path(unreferenced_young, 0).exists());
    for name in &odd_names {
        assert!(leaf.join(name).exists(), "{name} still left alone");
    }
    assert_eq!(
        store.stats(),
        BlockStats {
            files: 2,
            bytes: 20
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_all_land() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = std::sync::Arc::new(BlockStore::open(dir.path()).expect("open"));
    let ids: Vec<DataId> = (0..8).map(|_| DataId::random()).collect();
    let mut tasks = Vec::new();
    for id in ids.clone() {
        for index in 0..4u64 {
            let store = std::sync::Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                store.write_block(id, index, vec![index as u8; 1000]).await
            }));
        }
    }
    for task in tasks {
        task.await.expect("task").expect("write");
    }
    for id in ids {
        for index in 0..4u64 {
            let got = store
                .read_block_range(id, index, 0, 2000)
                .await
                .expect("read");
            assert_eq!(got, vec![index as u8; 1000]);
        }
    }
    assert_eq!(
        store.stats(),
        BlockStats {
            files: 32,
            bytes: 32_000
        }
    );
    assert!(entries(&dir.path().join("tmp")).is_empty());
}
