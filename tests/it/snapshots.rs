//! Raft snapshots between processes: a node that joins after the log was
//! compacted catches up from a RocksDB checkpoint streamed in chunks, and
//! then serves everything the region holds.

use anyhow::{bail, Result};
use coffer_e2e::cluster::{eventually, Cluster};
use coffer_e2e::ops::{create_bucket, get_bytes, put_bytes};
use coffer_e2e::unique_bucket;
use futures::{StreamExt, TryStreamExt};

/// Objects written before the new node joins; with keys near S3's
/// 1024-byte limit the metadata is several MiB, so the checkpoint crosses
/// many 1 MiB chunks.
const OBJECTS: usize = 3_000;
const KEY_BYTES: usize = 1_000;
const MIB: f64 = 1024.0 * 1024.0;

fn key(index: usize) -> String {
    // Distinct, and not compressible to nothing.
    let mut key = format!("{index:05}/");
    let mut state = (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while key.len() < KEY_BYTES {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        key.push_str(&format!("{:016x}", state));
    }
    key.truncate(KEY_BYTES);
    key
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_node_catches_up_from_a_streamed_checkpoint() -> Result<()> {
    // A snapshot (and log compaction) every 100 entries.
    let snapshot_args = ["--raft-snapshot-logs", "100"];
    let mut cluster = Cluster::start(3, &snapshot_args).await?;
    let client = cluster.nodes[0].client();
    let bucket = unique_bucket("snapshot");
    create_bucket(&client, &bucket).await?;
    futures::stream::iter(0..OBJECTS)
        .map(|index| {
            let (client, bucket) = (client.clone(), bucket.clone());
            async move { put_bytes(&client, &bucket, &key(index), b"x").await }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await?;
    // Keep writing until every node compacted its log: the new node then
    // cannot catch up from the log.
    coffer_e2e::cluster::compact_logs_past(&cluster, &bucket, 50).await?;

    let join = (cluster.nodes[0].rpc_addr(), cluster.token().to_owned());
    let extra_args = snapshot_args.map(str::to_owned);
    let joining_at = std::time::Instant::now();
    cluster.add_node(4, "d", join, &extra_args).await?;
    cluster.wait_for_voters(4, &[]).await?;
    let new_node = &cluster.nodes[3];
    eventually("the new node installed a multi-chunk snapshot", || async {
        let installed = new_node
            .metric_sum("coffer_raft_snapshots_installed_total", &[])
            .await?;
        let received_mib = new_node
            .metric_sum("coffer_raft_snapshot_received_bytes_total", &[])
            .await?
            / MIB;
        if installed >= 1.0 && received_mib > 2.0 {
            Ok(())
        } else {
            bail!("{installed} snapshots installed, {received_mib:.2} MiB received")
        }
    })
    .await?;
    eprintln!(
        "the new node installed a {:.1} MiB checkpoint within {} ms of starting",
        new_node
            .metric_sum("coffer_raft_snapshot_received_bytes_total", &[])
            .await?
            / MIB,
        joining_at.elapsed().as_millis()
    );
    let mut sent = 0.0;
    for node in &cluster.nodes[..3] {
        sent += node
            .metric_sum("coffer_raft_snapshots_sent_total", &[])
            .await?;
    }
    assert!(sent >= 1.0, "no member reports a snapshot sent");

    // Everything is there, read through the new node.
    let mut listed = Vec::new();
    let mut pages = cluster.nodes[3]
        .client()
        .list_objects_v2()
        .bucket(&bucket)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        listed.extend(
            page?
                .contents()
                .iter()
                .filter_map(|object| object.key().map(str::to_owned)),
        );
    }
    // The `compact-…` keys come from `compact_logs_past` (how many depends
    // on the machine's speed).
    listed.retain(|listed_key| !listed_key.starts_with("compact-"));
    let expected: Vec<String> = (0..OBJECTS).map(key).collect();
    assert_eq!(listed.len(), expected.len());
    assert!(listed == expected, "the new node lists other keys");

    // And the region keeps going with the new node in it.
    put_bytes(&cluster.nodes[3].client(), &bucket, "after", b"y").await?;
    Ok(())
}

/// A node whose disk was wiped comes back under its old id after every
/// member compacted its log: it must be re-synced by a checkpoint, and it
/// is ready only once it has caught up — every key reads back through it
/// right away.
#[tokio::test(flavor = "multi_thread")]
async fn a_wiped_node_rejoins_under_its_old_id_from_a_checkpoint() -> Result<()> {
    let snapshot_args = ["--raft-snapshot-logs", "100"];
    let mut cluster = Cluster::start(3, &snapshot_args).await?;
    let client = cluster.nodes[0].client();
    let bucket = unique_bucket("rejoin");
    create_bucket(&client, &bucket).await?;
    let written: Vec<String> = (0..200).map(|index| format!("before/{index:04}")).collect();
    futures::stream::iter(written.clone())
        .map(|key| {
            let (client, bucket) = (client.clone(), bucket.clone());
            async move { put_bytes(&client, &bucket, &key, key.as_bytes()).await }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await?;
    coffer_e2e::cluster::compact_logs_past(&cluster, &bucket, 150).await?;

    let leader = cluster.leader_index(0)?;
    let wiped = (leader + 1) % 3;
    let member = (wiped + 1) % 3;
    cluster.nodes[wiped].kill_and_wipe()?;
    let client = cluster.nodes[member].client();
    for index in 0..50 {
        let key = format!("during/{index:04}");
        put_bytes(&client, &bucket, &key, key.as_bytes()).await?;
    }
    let join = (cluster.nodes[member].rpc_addr(), cluster.token().to_owned());
    cluster.nodes[wiped].set_cluster_node(coffer_e2e::server::ClusterNode {
        node_id: wiped as u64 + 1,
        zone: ["a", "b", "c"][wiped].to_owned(),
        join: Some(join),
    });
    cluster.nodes[wiped].spawn_only()?;
    cluster.nodes[wiped].wait_until_ready().await?;

    // Ready means caught up: no waiting here.
    let rejoined = &cluster.nodes[wiped];
    let installed = rejoined
        .metric_sum("coffer_raft_snapshots_installed_total", &[])
        .await?;
    assert!(installed >= 1.0, "the wiped node installed no snapshot");
    let client = rejoined.client();
    for index in 0..50 {
        let key = format!("during/{index:04}");
        assert_eq!(get_bytes(&client, &bucket, &key).await?, key.as_bytes());
    }
    for key in &written {
        assert_eq!(get_bytes(&client, &bucket, key).await?, key.as_bytes());
    }
    cluster.wait_for_voters(3, &[]).await?;
    put_bytes(&client, &bucket, "after", b"y").await?;
    Ok(())
}
