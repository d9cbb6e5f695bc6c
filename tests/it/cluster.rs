//! A region of three processes on loopback: every node serves every
//! request (writes forwarded to the leader, reads through the read-index),
//! blocks land on every node, a wrong join token is refused, a node cut off
//! from the majority answers 503, and — under a concurrent load from
//! clients talking to all three nodes — kill -9 of a follower and of the
//! leader, a 20 s SIGSTOP, a restart and a wiped node lose nothing that was
//! acknowledged (checked over the recorded history).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use aws_sdk_s3::primitives::ByteStream;
use coffer_e2e::cluster::{eventually, Cluster};
use coffer_e2e::history::{self, Kind, Op};
use coffer_e2e::ops::{block_files, create_bucket, get_bytes, put_bytes};
use coffer_e2e::{
    error_status, md5_hex, random_bytes, unique_bucket, ClientOptions, ClusterNode, Server,
    ServerOptions,
};
use rand::Rng;

const MIB: usize = 1024 * 1024;

/// The names of a node's block files.
fn block_names(node: &Server) -> std::collections::BTreeSet<String> {
    block_files(&node.blocks_dir())
        .iter()
        .filter_map(|path| {
            path.file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .collect()
}

/// The one block file of `node`, once its replica has landed (a PUT is
/// acknowledged at a write quorum; the last copy may follow).
async fn one_block_file(node: &Server) -> Result<Vec<std::path::PathBuf>> {
    eventually("the node holds its replica", || async {
        let files = block_files(&node.blocks_dir());
        if files.len() == 1 {
            Ok(())
        } else {
            bail!("block files: {files:?}")
        }
    })
    .await?;
    Ok(block_files(&node.blocks_dir()))
}

fn fault_client(node: &Server) -> aws_sdk_s3::Client {
    node.client_with(ClientOptions {
        operation_timeout: Some(Duration::from_secs(8)),
        ..ClientOptions::default()
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn every_node_serves_reads_and_writes_and_holds_a_replica() -> Result<()> {
    let cluster = Cluster::start(3, &[]).await?;
    let nodes = cluster.node_list(1)?;
    assert_eq!(nodes.len(), 3);
    let mut zones: Vec<&str> = nodes.iter().map(|node| node.zone.as_str()).collect();
    zones.sort_unstable();
    assert_eq!(zones, ["a", "b", "c"]);
    assert_eq!(nodes.iter().filter(|node| node.role == "leader").count(), 1);
    assert_eq!(
        nodes.iter().filter(|node| node.role == "follower").count(),
        2
    );
    assert!(nodes.iter().all(|node| node.healthy), "{nodes:?}");

    let clients: Vec<_> = cluster.nodes.iter().map(Server::client).collect();
    let bucket = unique_bucket("region");
    create_bucket(&clients[1], &bucket).await?;
    // Read-after-write across nodes, for every pair, many times over.
    for round in 0..30 {
        let writer = round % 3;
        let reader = (round + 1) % 3;
        let body = random_bytes(1 + round * 997);
        let key = format!("k{round}");
        put_bytes(&clients[writer], &bucket, &key, &body).await?;
        assert!(
            get_bytes(&clients[reader], &bucket, &key).await? == body,
            "{key} written on node {writer} not read back on node {reader}"
        );
        let listed = clients[(round + 2) % 3]
            .list_objects_v2()
            .bucket(&bucket)
            .send()
            .await?;
        assert_eq!(listed.key_count(), Some(round as i32 + 1));
    }
    // A multi-block object lands on every node (RF = 3 on three nodes). A
    // PUT is acknowledged at a write quorum (two of three); the third copy
    // may land a moment later, so counts are awaited, not sampled.
    let counts = || -> Vec<usize> {
        cluster
            .nodes
            .iter()
            .map(|node| block_files(&node.blocks_dir()).len())
            .collect()
    };
    eventually("every node holds every earlier block", || async {
        let now = counts();
        if now.iter().all(|count| *count == now[0]) {
            Ok(())
        } else {
            bail!("block files per node: {now:?}")
        }
    })
    .await?;
    let before = counts()[0];
    let big = random_bytes(9 * MIB);
    put_bytes(&clients[2], &bucket, "big", &big).await?;
    eventually("every node holds the three new blocks", || async {
        let now = counts();
        if now.iter().all(|count| *count == before + 3) {
            Ok(())
        } else {
            bail!(
                "block files per node: {now:?}, expected {} each",
                before + 3
            )
        }
    })
    .await?;
    assert!(get_bytes(&clients[0], &bucket, "big").await? == big);

    // Raft state on /metrics: three voters, one leader, all with quorum.
    let mut leaders = 0.0;
    for node in &cluster.nodes {
        assert_eq!(node.metric_sum("coffer_raft_voters", &[]).await?, 3.0);
        assert_eq!(node.metric_sum("coffer_raft_has_quorum", &[]).await?, 1.0);
        assert!(node.metric_sum("coffer_raft_term", &[]).await? >= 1.0);
        leaders += node.metric_sum("coffer_raft_is_leader", &[]).await?;
    }
    assert_eq!(leaders, 1.0);
    // Node-to-node calls are timed per method: the leader's appends, a
    // follower's forwarded writes and read-index calls.
    let mut calls = BTreeMap::new();
    for method in [
        "Raft.AppendEntries",
        "Cluster.Propose",
        "Cluster.ReadIndex",
        "Blocks.Put",
    ] {
        let mut count = 0.0;
        for node in &cluster.nodes {
            count += node
                .metric_sum(
                    "coffer_rpc_client_duration_seconds_count",
                    &[("method", method), ("result", "ok")],
                )
                .await?;
        }
        calls.insert(method, count);
    }
    assert!(
        calls.values().all(|count| *count > 0.0),
        "RPC calls timed: {calls:?}"
    );

    // Deletes are seen everywhere at once too.
    clients[0]
        .delete_object()
        .bucket(&bucket)
        .key("k0")
        .send()
        .await?;
    let gone = clients[2]
        .head_object()
        .bucket(&bucket)
        .key("k0")
        .send()
        .await;
    assert_eq!(gone.as_ref().err().and_then(error_status), Some(404));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_join_token_is_refused() -> Result<()> {
    let cluster = Cluster::start(1, &[]).await?;
    let token = cluster.token();
    // Same CA, wrong secret: flip a character of the secret part.
    let prefix_len = "coffer-join-1.".len();
    let mut forged: Vec<char> = token.chars().collect();
    forged[prefix_len + 2] = if forged[prefix_len + 2] == 'A' {
        'B'
    } else {
        'A'
    };
    let forged: String = forged.into_iter().collect();
    let outcome = Server::start_with(ServerOptions {
        cluster: Some(ClusterNode {
            node_id: 2,
            zone: "b".into(),
            join: Some((cluster.nodes[0].rpc_addr(), forged)),
        }),
        ..ServerOptions::default()
    })
    .await;
    let error = match outcome {
        Ok(_) => bail!("a node with a forged token joined"),
        Err(error) => format!("{error:#}"),
    };
    assert!(error.contains("invalid join token"), "{error}");
    assert_eq!(cluster.node_list(0)?.len(), 1, "membership unchanged");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_cut_off_from_the_majority_answers_503() -> Result<()> {
    let cluster = Cluster::start(3, &[]).await?;
    let bucket = unique_bucket("minority");
    create_bucket(&cluster.nodes[0].client(), &bucket).await?;
    put_bytes(&cluster.nodes[0].client(), &bucket, "before", b"x").await?;
    let leader = cluster.leader_index(0)?;
    let isolated = (leader + 1) % 3;
    // Freeze the two others: the isolated node can reach no quorum.
    for (index, node) in cluster.nodes.iter().enumerate() {
        if index != isolated {
            node.pause()?;
        }
    }
    let client = cluster.nodes[isolated].client_with(ClientOptions {
        operation_timeout: Some(Duration::from_secs(30)),
        ..ClientOptions::default()
    });
    let started = Instant::now();
    let put = client
        .put_object()
        .bucket(&bucket)
        .key("during")
        .body(ByteStream::from_static(b"y"))
        .send()
        .await;
    let put_status = put.as_ref().err().and_then(error_status);
    let get = client
        .get_object()
        .bucket(&bucket)
        .key("before")
        .send()
        .await;
    let get_status = get.as_ref().err().and_then(error_status);
    let (status, _) = cluster.nodes[isolated].admin_get("/health/ready").await?;
    for (index, node) in cluster.nodes.iter().enumerate() {
        if index != isolated {
            node.resume()?;
        }
    }
    assert_eq!(put_status, Some(503), "PUT on a minority: {put:?}");
    assert_eq!(
        get_status,
        Some(503),
        "GET on a minority must not serve possibly stale data"
    );
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "answered, not hung"
    );
    assert_eq!(status, 503, "/health/ready without quorum");
    // Healed: the region serves again, and the refused PUT never appears.
    let client = cluster.nodes[isolated].client();
    eventually("writes after healing", || async {
        put_bytes(&client, &bucket, "after", b"z").await.map(|_| ())
    })
    .await?;
    let during = client
        .head_object()
        .bucket(&bucket)
        .key("during")
        .send()
        .await;
    assert_eq!(during.as_ref().err().and_then(error_status), Some(404));
    Ok(())
}

/// The load: workers, each with a client per node, recording every op.
struct Load {
    stop: Arc<AtomicBool>,
    history: Arc<Mutex<Vec<Op>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

const SHARED_KEYS: usize = 6;
const WORKERS: usize = 6;

impl Load {
    fn start(clients: Vec<aws_sdk_s3::Client>, bucket: &str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let history = Arc::new(Mutex::new(Vec::new()));
        let tasks = (0..WORKERS)
            .map(|worker| {
                let clients = clients.clone();
                let bucket = bucket.to_owned();
                let stop = stop.clone();
                let history = history.clone();
                tokio::spawn(async move { work(worker, clients, bucket, stop, history).await })
            })
            .collect();
        Self {
            stop,
            history,
            tasks,
        }
    }

    async fn finish(self) -> Vec<Op> {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            let _ = task.await;
        }
        let history = self.history.lock().expect("history lock").clone();
        history
    }

    fn acked_puts_since(&self, since: Instant) -> usize {
        self.history
            .lock()
            .expect("history lock")
            .iter()
            .filter(|op| op.ok && op.invoked >= since && matches!(op.kind, Kind::Put { .. }))
            .count()
    }
}

async fn work(
    worker: usize,
    clients: Vec<aws_sdk_s3::Client>,
    bucket: String,
    stop: Arc<AtomicBool>,
    history: Arc<Mutex<Vec<Op>>>,
) {
    let mut sequence = 0u64;
    let mut own_keys: Vec<String> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        sequence += 1;
        let node = (worker + sequence as usize) % clients.len();
        let client = &clients[node];
        let (choice, shared, size) = {
            let mut rng = rand::thread_rng();
            let size = if rng.gen_ratio(1, 40) {
                5 * MIB + 7
            } else {
                rng.gen_range(1..64 * 1024)
            };
            (
                rng.gen_range(0..100),
                format!("shared/{}", rng.gen_range(0..SHARED_KEYS)),
                size,
            )
        };
        let invoked = Instant::now();
        let (kind, ok) = if choice < 45 {
            let key = format!("unique/{worker}/{sequence}");
            let body = random_bytes(size);
            let md5 = md5_hex(&body);
            let ok = put_bytes(client, &bucket, &key, &body).await.is_ok();
            if ok {
                own_keys.push(key.clone());
            }
            (Kind::Put { key, md5 }, ok)
        } else if choice < 60 {
            let body = random_bytes(size.min(8 * 1024));
            let md5 = md5_hex(&body);
            let ok = put_bytes(client, &bucket, &shared, &body).await.is_ok();
            (Kind::Put { key: shared, md5 }, ok)
        } else if choice < 65 {
            let ok = client
                .delete_object()
                .bucket(&bucket)
                .key(&shared)
                .send()
                .await
                .is_ok();
            (Kind::Delete { key: shared }, ok)
        } else {
            let key = if choice < 85 || own_keys.is_empty() {
                shared
            } else {
                own_keys[rand::thread_rng().gen_range(0..own_keys.len())].clone()
            };
            match read_value(client, &bucket, &key).await {
                Ok(value) => (Kind::Get { key, value }, true),
                Err(_) => (Kind::Get { key, value: None }, false),
            }
        };
        history.lock().expect("history lock").push(Op {
            node,
            kind,
            invoked,
            completed: Instant::now(),
            ok,
        });
    }
}

/// The MD5 of the object's body, `None` for 404.
async fn read_value(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Option<String>> {
    match client.get_object().bucket(bucket).key(key).send().await {
        Ok(output) => {
            let body = output
                .body
                .collect()
                .await
                .context("read body")?
                .into_bytes();
            Ok(Some(md5_hex(&body)))
        }
        Err(error) if error_status(&error) == Some(404) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// Wait until at least one more PUT is acknowledged than before.
async fn writes_flow(load: &Load, what: &str) -> Result<Duration> {
    let since = Instant::now();
    eventually(what, || async {
        if load.acked_puts_since(since) > 0 {
            Ok(())
        } else {
            bail!("no acknowledged PUT yet")
        }
    })
    .await?;
    Ok(since.elapsed())
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_lose_nothing_acknowledged() -> Result<()> {
    // Snapshots (and log compaction) every 200 entries.
    let mut cluster = Cluster::start(3, &["--raft-snapshot-logs", "200"]).await?;
    let bucket = unique_bucket("faults");
    create_bucket(&cluster.nodes[0].client(), &bucket).await?;
    let clients: Vec<_> = cluster.nodes.iter().map(fault_client).collect();
    let load = Load::start(clients, &bucket);
    writes_flow(&load, "initial load").await?;

    // (a) kill -9 a follower, run without it, bring it back.
    let leader = cluster.leader_index(0)?;
    let follower = (leader + 1) % 3;
    cluster.nodes[follower].kill9();
    writes_flow(&load, "writes without a follower").await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.nodes[follower].spawn_only()?;
    cluster.nodes[follower].wait_until_ready().await?;

    // (b) kill -9 the leader: a new one is elected and writes resume.
    let leader = cluster.leader_index(follower)?;
    cluster.nodes[leader].kill9();
    let killed_at = Instant::now();
    writes_flow(&load, "writes after the leader was killed").await?;
    let resumed_after = killed_at.elapsed();
    eprintln!(
        "writes resumed {} ms after kill -9 of the leader",
        resumed_after.as_millis()
    );
    cluster.nodes[leader].spawn_only()?;
    cluster.nodes[leader].wait_until_ready().await?;

    // (c) SIGSTOP a node (the leader) for 20 s, then SIGCONT.
    let paused = cluster.leader_index((leader + 1) % 3)?;
    cluster.nodes[paused].pause()?;
    tokio::time::sleep(Duration::from_secs(20)).await;
    cluster.nodes[paused].resume()?;
    writes_flow(&load, "writes after SIGCONT").await?;

    // (d) restart a node with its data (graceful stop, start).
    let restarted = (paused + 1) % 3;
    cluster.nodes[restarted].stop_graceful()?;
    cluster.nodes[restarted].spawn_only()?;
    cluster.nodes[restarted].wait_until_ready().await?;

    // (e) wipe a follower's data directory and bring it back under its
    // id: every log was compacted past its start first, so it must
    // re-sync from a snapshot; its blocks come back by repair.
    coffer_e2e::cluster::compact_logs_past(&cluster, &bucket, 200).await?;
    let leader = cluster.leader_index(0)?;
    let wiped = (leader + 2) % 3;
    cluster.nodes[wiped].kill_and_wipe()?;
    writes_flow(&load, "writes without the wiped node").await?;
    let member = (wiped + 1) % 3;
    let join = (cluster.nodes[member].rpc_addr(), cluster.token().to_owned());
    cluster.nodes[wiped].set_cluster_node(ClusterNode {
        node_id: wiped as u64 + 1,
        zone: ["a", "b", "c"][wiped].to_owned(),
        join: Some(join),
    });
    cluster.nodes[wiped].spawn_only()?;
    cluster.nodes[wiped].wait_until_ready().await?;
    writes_flow(&load, "writes after the wiped node rejoined").await?;
    // Ready means caught up, which here took a snapshot.
    let installed = cluster.nodes[wiped]
        .metric_sum("coffer_raft_snapshots_installed_total", &[])
        .await?;
    assert!(installed >= 1.0, "the wiped node installed no snapshot");

    let history = load.finish().await;
    cluster.wait_for_voters(3, &[]).await?;

    // The wiped node got its blocks back by repair: with three replicas on
    // three nodes it holds every block that metadata names — as many as
    // the leader's last repair pass checked, once a pass finds nothing left
    // to copy — and nothing the others lack. (The others may still hold
    // garbage waiting for GC.)
    let repair_started = Instant::now();
    eventually("the wiped node holds every block again", || async {
        let (wiped_blocks, member_blocks) = (
            block_names(&cluster.nodes[wiped]),
            block_names(&cluster.nodes[member]),
        );
        let leader = cluster.leader_index(member)?;
        let jobs: Vec<serde_json::Value> = serde_json::from_str(&coffer_e2e::cluster::admin(
            &cluster.nodes[leader],
            &["job", "list", "--json"],
        )?)?;
        let last = jobs.last().context("no repair job yet")?;
        let settled = last["kind"] == "repair"
            && last["state"] == "done"
            && last["replicas_copied"] == 0
            && last["errors"] == 0
            && last["total"] == wiped_blocks.len() as u64;
        if settled && wiped_blocks.is_subset(&member_blocks) {
            Ok(())
        } else {
            bail!(
                "wiped node has {} block files, node {member} has {}; last job: {last}",
                wiped_blocks.len(),
                member_blocks.len()
            )
        }
    })
    .await?;
    eprintln!(
        "repair settled {} ms after the load stopped",
        repair_started.elapsed().as_millis()
    );

    let mut violations = history::check(&history);
    // Every key, read from every node after healing.
    let keys: std::collections::BTreeSet<String> = history
        .iter()
        .filter(|op| !matches!(op.kind, Kind::Get { .. }))
        .map(|op| match &op.kind {
            Kind::Put { key, .. } | Kind::Delete { key } | Kind::Get { key, .. } => key.clone(),
        })
        .collect();
    for (index, node) in cluster.nodes.iter().enumerate() {
        let client = node.client();
        let mut finals: BTreeMap<String, Option<String>> = BTreeMap::new();
        for key in &keys {
            finals.insert(key.clone(), read_value(&client, &bucket, key).await?);
        }
        violations.extend(history::check_final(&history, index, &finals));
    }
    assert!(
        violations.is_empty(),
        "{} violations:\n{}",
        violations.len(),
        violations.join("\n")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_a_node_moves_its_blocks_first() -> Result<()> {
    let cluster = Cluster::start(3, &[]).await?;
    let client = cluster.nodes[0].client();
    let bucket = unique_bucket("remove");
    create_bucket(&client, &bucket).await?;
    let mut bodies = Vec::new();
    for index in 0..6 {
        let body = random_bytes(1 + index * 300_000);
        put_bytes(&client, &bucket, &format!("k{index}"), &body).await?;
        bodies.push(body);
    }
    let output = coffer_e2e::cluster::admin(&cluster.nodes[0], &["node", "remove", "3"])?;
    assert!(output.contains("node 3 removed"), "{output}");
    let nodes = cluster.node_list(1)?;
    assert_eq!(
        nodes.iter().map(|node| node.node_id).collect::<Vec<_>>(),
        vec![1, 2],
        "{nodes:?}"
    );
    // Two nodes left: every block is on both, copied before the removal.
    assert_eq!(
        block_names(&cluster.nodes[0]),
        block_names(&cluster.nodes[1])
    );
    let jobs: Vec<serde_json::Value> = serde_json::from_str(&coffer_e2e::cluster::admin(
        &cluster.nodes[0],
        &["job", "list", "--json"],
    )?)?;
    assert!(
        jobs.iter()
            .any(|job| job["kind"] == "drain" && job["state"] == "done" && job["errors"] == 0),
        "{jobs:?}"
    );
    // The removed node's copies are not needed: stop it and read all
    // from both remaining nodes.
    let mut nodes = cluster.nodes;
    nodes.pop();
    let second = nodes[1].client();
    for (index, body) in bodies.iter().enumerate() {
        let key = format!("k{index}");
        assert!(
            get_bytes(&client, &bucket, &key).await? == *body,
            "{key} on node 1"
        );
        assert!(
            get_bytes(&second, &bucket, &key).await? == *body,
            "{key} on node 2"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_replica_is_skipped_and_replaced() -> Result<()> {
    let cluster = Cluster::start(3, &[]).await?;
    let bucket = unique_bucket("corrupt");
    create_bucket(&cluster.nodes[0].client(), &bucket).await?;
    let body = random_bytes(MIB);
    put_bytes(&cluster.nodes[0].client(), &bucket, "k", &body).await?;
    // The object is one block, on every node; damage node 2's copy.
    let files = one_block_file(&cluster.nodes[1]).await?;
    let path = cluster.nodes[1].blocks_dir().join(&files[0]);
    let good = std::fs::read(&path)?;
    let mut damaged = good.clone();
    damaged[good.len() / 2] ^= 0x01;
    std::fs::write(&path, &damaged)?;

    // Node 2 reads its own replica first, finds it fails authentication,
    // and serves the object from another replica.
    let read = get_bytes(&cluster.nodes[1].client(), &bucket, "k").await?;
    assert!(read == body, "the corrupt replica was served");
    assert!(
        cluster.nodes[1]
            .metric_sum("coffer_corrupt_replicas_total", &[])
            .await?
            >= 1.0
    );
    // And the corrupt replica is replaced by a good copy.
    eventually("the corrupt replica is replaced", || async {
        match std::fs::read(&path) {
            Ok(bytes) if bytes == good => Ok(()),
            Ok(_) => bail!("still the damaged copy"),
            Err(error) => bail!("not there yet: {error}"),
        }
    })
    .await
}

/// gRPC over HTTP/2 to a node's RPC port, trusting the region CA, with an
/// optional client identity (PEM certificate + key).
fn rpc_client(node: &Server, identity_pem: Option<Vec<u8>>) -> Result<reqwest::Client> {
    coffer_e2e::server::install_crypto_provider();
    let ca = std::fs::read(node.data_dir().join("region/ca.cert.pem"))?;
    let address: std::net::SocketAddr = node.rpc_addr().parse()?;
    let mut builder = reqwest::Client::builder()
        .http2_prior_knowledge()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca)?)
        // Node certificates name `coffer-node`, whatever the address.
        .resolve("coffer-node", address)
        .timeout(Duration::from_secs(10));
    if let Some(pem) = identity_pem {
        builder = builder.identity(reqwest::Identity::from_pem(&pem)?);
    }
    Ok(builder.build()?)
}

/// The grpc-status of calling `method` with an empty message.
async fn grpc_status(client: &reqwest::Client, node: &Server, method: &str) -> Result<String> {
    let port = node
        .rpc_addr()
        .rsplit_once(':')
        .map(|(_, port)| port.to_owned())
        .unwrap_or_default();
    let response = client
        .post(format!("https://coffer-node:{port}/coffer.v1.{method}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        // One uncompressed, empty message.
        .body(vec![0u8; 5])
        .send()
        .await?;
    Ok(response
        .headers()
        .get("grpc-status")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("none")
        .to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rpc_port_refuses_callers_without_a_region_certificate() -> Result<()> {
    let cluster = Cluster::start(1, &[]).await?;
    let node = &cluster.nodes[0];
    // No client certificate: every service but Join says UNAUTHENTICATED (16).
    let anonymous = rpc_client(node, None)?;
    for method in [
        "Blocks/Stat",
        "Blocks/Get",
        "Raft/Vote",
        "Cluster/Propose",
        "Cluster/AddMember",
    ] {
        assert_eq!(
            grpc_status(&anonymous, node, method).await?,
            "16",
            "{method}"
        );
    }
    // Join answers without a certificate, and refuses a wrong token (16).
    assert_eq!(grpc_status(&anonymous, node, "Cluster/Join").await?, "16");

    // With the node's own certificate the call gets through to the handler,
    // which rejects the empty block reference (INVALID_ARGUMENT, 3).
    let region = node.data_dir().join("region");
    let mut own = std::fs::read(region.join("node.cert.pem"))?;
    own.extend(std::fs::read(region.join("node.key.pem"))?);
    assert_eq!(
        grpc_status(&rpc_client(node, Some(own))?, node, "Blocks/Stat").await?,
        "3"
    );

    // A certificate from another CA does not even complete the handshake.
    let dir = tempfile::tempdir()?;
    let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args([
            "-subj",
            "/CN=coffer-node",
            "-days",
            "1",
            "-addext",
            "subjectAltName=DNS:coffer-node",
        ])
        .output()?;
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let mut foreign = std::fs::read(&cert)?;
    foreign.extend(std::fs::read(&key)?);
    let outcome = grpc_status(&rpc_client(node, Some(foreign))?, node, "Blocks/Stat").await;
    assert!(
        outcome.is_err(),
        "a foreign certificate was accepted: {outcome:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn node_add_prints_a_command_that_joins() -> Result<()> {
    let mut cluster = Cluster::start(1, &[]).await?;
    let refused = coffer_e2e::cluster::admin(
        &cluster.nodes[0],
        &[
            "node",
            "add",
            "--rpc-addr",
            "10.9.9.9:9100",
            "--node-id",
            "1",
        ],
    );
    assert!(refused.is_err(), "a used node id was accepted: {refused:?}");
    let output = coffer_e2e::cluster::admin(
        &cluster.nodes[0],
        &["node", "add", "--rpc-addr", "10.9.9.9:9100", "--zone", "z"],
    )?;
    let command = output
        .lines()
        .find(|line| line.starts_with("COFFER_JOIN_TOKEN="))
        .context("no command")?;
    let token = command
        .strip_prefix("COFFER_JOIN_TOKEN='")
        .and_then(|rest| rest.split_once('\''))
        .map(|(token, _)| token.to_owned())
        .context("no token")?;
    assert!(command.contains("--node-id 2 "), "{command}");
    assert!(command.contains("--zone z "), "{command}");
    let join = command
        .rsplit_once("--join ")
        .map(|(_, address)| address.trim().to_owned())
        .context("no --join")?;
    assert_eq!(join, cluster.nodes[0].rpc_addr());
    // Starting a node as printed (on this host's own port) joins it.
    cluster.add_node(2, "z", (join, token), &[]).await?;
    cluster.wait_for_voters(2, &[]).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn scrub_finds_and_replaces_a_corrupt_replica_nobody_read() -> Result<()> {
    let cluster = Cluster::start(3, &["--scrub-interval-seconds", "1"]).await?;
    let bucket = unique_bucket("scrub");
    create_bucket(&cluster.nodes[0].client(), &bucket).await?;
    put_bytes(&cluster.nodes[0].client(), &bucket, "k", &random_bytes(MIB)).await?;
    let files = one_block_file(&cluster.nodes[2]).await?;
    let path = cluster.nodes[2].blocks_dir().join(&files[0]);
    let good = std::fs::read(&path)?;
    let mut damaged = good.clone();
    damaged[100] ^= 0x80;
    std::fs::write(&path, &damaged)?;
    // No client reads it: node 3's own scrub finds it and repairs it.
    eventually("scrub replaces the corrupt replica", || async {
        match std::fs::read(&path) {
            Ok(bytes) if bytes == good => Ok(()),
            Ok(_) => bail!("still the damaged copy"),
            Err(error) => bail!("not there yet: {error}"),
        }
    })
    .await?;
    let jobs: Vec<serde_json::Value> = serde_json::from_str(&coffer_e2e::cluster::admin(
        &cluster.nodes[2],
        &["job", "list", "--json"],
    )?)?;
    assert!(
        jobs.iter()
            .any(|job| job["kind"] == "scrub" && job["errors"].as_u64() >= Some(1)),
        "{jobs:?}"
    );
    assert!(
        cluster.nodes[2]
            .metric_sum("coffer_corrupt_replicas_total", &[])
            .await?
            >= 1.0
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fourth_node_takes_its_share_of_blocks_and_the_others_drop_theirs() -> Result<()> {
    let mut cluster = Cluster::start(3, &[]).await?;
    let client = cluster.nodes[0].client();
    let bucket = unique_bucket("rebalance");
    create_bucket(&client, &bucket).await?;
    let objects = 24;
    let mut bodies = Vec::new();
    for index in 0..objects {
        let body = random_bytes(1000 + index);
        put_bytes(&client, &bucket, &format!("k{index}"), &body).await?;
        bodies.push(body);
    }
    let join = (cluster.nodes[0].rpc_addr(), cluster.token().to_owned());
    cluster.add_node(4, "d", join, &[]).await?;
    cluster.wait_for_voters(4, &[]).await?;
    // Three replicas of each block over four nodes: the new node gets about
    // three quarters of the blocks and the others drop what it took over.
    eventually("blocks rebalanced to three copies each", || async {
        let counts: Vec<usize> = cluster
            .nodes
            .iter()
            .map(|node| block_names(node).len())
            .collect();
        let total: usize = counts.iter().sum();
        if total == 3 * objects && counts[3] > 0 {
            Ok(())
        } else {
            bail!("block files per node: {counts:?}")
        }
    })
    .await?;
    let fourth = cluster.nodes[3].client();
    for (index, body) in bodies.iter().enumerate() {
        assert!(get_bytes(&fourth, &bucket, &format!("k{index}")).await? == *body);
    }
    Ok(())
}
