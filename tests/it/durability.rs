//! Durability invariants: what was acknowledged survives a graceful restart
//! and a kill -9; nothing unacknowledged becomes visible half-written; no
//! block file outlives its object after recovery and GC.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use coffer_e2e::ops::{
    block_files, create_bucket, get_bytes, list_all_keys, multipart_put, put_bytes,
};
use coffer_e2e::{
    error_code, multipart_etag, random_bytes, sha256_hex, unique_bucket, Server, ServerOptions,
};

const MIB: usize = 1024 * 1024;
const BLOCK_SIZE_BYTES: u64 = 256 * 1024;

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_writes_survive_graceful_restart() -> anyhow::Result<()> {
    let mut server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("restart");
    create_bucket(&client, &bucket).await?;

    let mut expected: BTreeMap<String, (String, Vec<u8>)> = BTreeMap::new();
    for size in [0usize, 1, 70_000, 5 * MIB + 3] {
        let key = format!("single-{size}");
        let body = random_bytes(size);
        let put = put_bytes(&client, &bucket, &key, &body).await?;
        expected.insert(key, (put.e_tag().expect("ETag").to_owned(), body));
    }
    let part1 = random_bytes(5 * MIB);
    let part2 = random_bytes(100);
    multipart_put(&client, &bucket, "multi", &[&part1, &part2]).await?;
    let mut whole = part1.clone();
    whole.extend_from_slice(&part2);
    expected.insert("multi".into(), (multipart_etag(&[&part1, &part2]), whole));
    // An upload in progress survives as well.
    let pending = client
        .create_multipart_upload()
        .bucket(&bucket)
        .key("pending")
        .send()
        .await?;
    let pending_id = pending.upload_id().expect("UploadId").to_owned();

    let exit_code = server.stop_graceful()?;
    assert_eq!(exit_code, 0, "graceful stop exit code");
    server.restart().await?;
    let client = server.client();

    for (key, (etag, body)) in &expected {
        let head = client.head_object().bucket(&bucket).key(key).send().await?;
        assert_eq!(head.e_tag(), Some(etag.as_str()), "{key}");
        assert!(
            get_bytes(&client, &bucket, key).await? == *body,
            "{key}: body differs after restart"
        );
    }
    assert_eq!(
        list_all_keys(&client, &bucket, 1000).await?,
        expected.keys().cloned().collect::<Vec<_>>()
    );
    let uploads = client
        .list_multipart_uploads()
        .bucket(&bucket)
        .send()
        .await?;
    let ids: Vec<&str> = uploads
        .uploads()
        .iter()
        .filter_map(|u| u.upload_id())
        .collect();
    assert_eq!(ids, [pending_id.as_str()]);
    Ok(())
}

/// One attempted upload: its body's hash and size, and whether a 200 came.
#[derive(Clone, Debug)]
struct Attempt {
    sha256: String,
    size_bytes: u64,
    acknowledged: bool,
}

#[tokio::test(flavor = "multi_thread")]
async fn kill9_loses_no_acknowledged_write_and_leaves_no_orphans() -> anyhow::Result<()> {
    let mut server = Server::start_with(ServerOptions {
        block_size_bytes: Some(BLOCK_SIZE_BYTES),
        ..Default::default()
    })
    .await?;
    let client = server.client();
    let bucket = unique_bucket("kill9");
    create_bucket(&client, &bucket).await?;

    let attempts: Arc<Mutex<BTreeMap<String, Attempt>>> = Arc::default();
    let killed = Arc::new(AtomicBool::new(false));
    let early_failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let sizes = [
        1usize,
        1_000,
        200_000,
        BLOCK_SIZE_BYTES as usize,
        700_001,
        2 * MIB + 3,
    ];
    let mut workers = Vec::new();
    for worker in 0..8usize {
        let client = client.clone();
        let bucket = bucket.clone();
        let attempts = Arc::clone(&attempts);
        let killed = Arc::clone(&killed);
        let early_failures = Arc::clone(&early_failures);
        workers.push(tokio::spawn(async move {
            // Bounded: the kill comes long before this many uploads.
            for index in 0..10_000usize {
                let key = format!("w{worker}-{index:05}");
                let body = random_bytes(sizes[(worker + index) % sizes.len()]);
                let attempt = Attempt {
                    sha256: sha256_hex(&body),
                    size_bytes: body.len() as u64,
                    acknowledged: false,
                };
                attempts.lock().expect("lock").insert(key.clone(), attempt);
                let result = client
                    .put_object()
                    .bucket(&bucket)
                    .key(&key)
                    .body(ByteStream::from(body))
                    .send()
                    .await;
                match result {
                    Ok(_) => {
                        if let Some(attempt) = attempts.lock().expect("lock").get_mut(&key) {
                            attempt.acknowledged = true;
                        }
                    }
                    Err(error) => {
                        if !killed.load(Ordering::SeqCst) {
                            early_failures
                                .lock()
                                .expect("lock")
                                .push(format!("{key}: {error:?} {:?}", error_code(&error)));
                        }
                        return;
                    }
                }
            }
        }));
    }
    // Kill once enough writes are acknowledged; the workers keep uploading,
    // so uploads are in flight at that moment.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let acknowledged = attempts
            .lock()
            .expect("lock")
            .values()
            .filter(|a| a.acknowledged)
            .count();
        if acknowledged >= 40 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {acknowledged} uploads acknowledged in 180 s"
        );
        assert!(
            early_failures.lock().expect("lock").is_empty(),
            "{:?}",
            early_failures.lock().expect("lock")
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    killed.store(true, Ordering::SeqCst);
    server.kill9();
    for worker in workers {
        worker.await?;
    }
    let early = early_failures.lock().expect("lock").clone();
    assert!(
        early.is_empty(),
        "uploads failed before the kill: {early:?}"
    );
    let attempts = attempts.lock().expect("lock").clone();

    server.restart().await?;
    let client = server.client();
    let mut visible: BTreeSet<String> = BTreeSet::new();
    let mut unacknowledged_visible = 0;
    for (key, attempt) in &attempts {
        match get_bytes(&client, &bucket, key).await {
            Ok(bytes) => {
                assert_eq!(
                    sha256_hex(&bytes),
                    attempt.sha256,
                    "{key}: visible with wrong content"
                );
                visible.insert(key.clone());
                if !attempt.acknowledged {
                    unacknowledged_visible += 1;
                }
            }
            Err(error) => {
                assert!(
                    !attempt.acknowledged,
                    "{key}: acknowledged but lost: {error:?}"
                );
            }
        }
    }
    let listed: BTreeSet<String> = list_all_keys(&client, &bucket, 1000)
        .await?
        .into_iter()
        .collect();
    assert_eq!(listed, visible, "listing disagrees with GETs");
    eprintln!(
        "kill9: {} attempts, {} acknowledged, {} unacknowledged but complete",
        attempts.len(),
        attempts.values().filter(|a| a.acknowledged).count(),
        unacknowledged_visible
    );

    // Every visible object needs ceil(size / block size) block files; any
    // more are orphans of the interrupted uploads, which recovery must remove.
    let expected_blocks: u64 = visible
        .iter()
        .map(|key| attempts[key].size_bytes.div_ceil(BLOCK_SIZE_BYTES))
        .sum();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let actual = block_files(&server.blocks_dir()).len() as u64;
        if actual == expected_blocks {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{actual} block files after recovery and GC, expected {expected_blocks}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let metric = server.metric_sum("coffer_block_files", &[]).await?;
    assert_eq!(metric as u64, expected_blocks, "coffer_block_files gauge");
    Ok(())
}
