//! Garbage collection of overwritten and deleted data, and the startup sweep.

use std::sync::Arc;

use coffer_blob::BlockStore;
use coffer_types::DataId;

use crate::{data, key_of, Harness};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gc_removes_data_of_overwritten_and_deleted_objects() {
    let h = Harness::new().await;
    h.engine.set_gc_grace_ms(0);
    // An orphan block (as left by a crash mid-upload) goes at the first sweep.
    let orphan = DataId::random();
    h.engine
        .blocks()
        .write_block(orphan, 0, vec![1, 2, 3])
        .await
        .expect("write orphan");
    let worker = h.engine.start_background().await.expect("start gc");
    let orphan_path = h.engine.blocks().block_path(orphan, 0);
    assert!(!orphan_path.exists(), "startup sweep removed the orphan");

    let first = h.put("g", &data(300 * 1024, 1)).await;
    let first_files = h.block_files();
    assert_eq!(first_files, 3);
    let second = h.put("g", &data(10, 2)).await;
    let first_block = h.engine.blocks().block_path(first.parts[0].data_id, 0);
    h.wait_for("GC of the overwritten version", || {
        !first_block.exists() && h.block_files() == 1
    })
    .await;
    assert!(h
        .engine
        .blocks()
        .block_path(second.parts[0].data_id, 0)
        .exists());

    h.engine
        .delete_object(&h.bucket, &key_of("g"), None)
        .await
        .expect("delete");
    h.wait_for("GC of the deleted object", || h.block_files() == 0)
        .await;
    let meta = h.engine.meta().clone();
    h.wait_for("GC queue drained", || {
        meta.gc_batch(10)
            .map(|batch| batch.is_empty())
            .unwrap_or(false)
    })
    .await;
    worker.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_keeps_referenced_data() {
    let h = Harness::new().await;
    let version = h.put("keep", &data(200 * 1024, 4)).await;
    let files = h.block_files();
    // A second engine over the same stores, as after a restart.
    let blocks: Arc<BlockStore> = h.engine.blocks().clone();
    assert!(blocks.block_path(version.parts[0].data_id, 1).exists());
    let worker = h.engine.start_background().await.expect("start gc");
    assert_eq!(h.block_files(), files);
    assert!(h.get_bytes("keep").await == data(200 * 1024, 4));
    worker.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_in_flight_survives_an_overwrite() {
    let h = Harness::new().await;
    let worker = h.engine.start_background().await.expect("start gc");
    let old = data(600 * 1024, 5);
    h.put("busy", &old).await;
    let mut outcome = h
        .engine
        .get_object(h.get_request("busy"), true)
        .await
        .expect("get");
    let body = outcome.body.take().expect("body");
    h.put("busy", b"new").await;
    h.engine
        .delete_object(&h.bucket, &key_of("busy"), None)
        .await
        .expect("delete");
    // The old data is queued for GC but within its grace period.
    assert!(crate::collect(body).await.expect("stream completes") == old);
    worker.abort();
}
