//! Snapshot transfer: the leader streams the files of a RocksDB checkpoint
//! (coffer-meta's `SnapshotFiles`) over one client-streaming call in
//! bounded chunks; the follower writes them into a staging directory as
//! they arrive and hands the finished directory to openraft to install.
//! Neither side holds more than a few chunks in memory, whatever the size
//! of the metadata.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::time::Duration;

use coffer_meta::{is_checkpoint_file_name, NodeId, SnapshotFiles, SnapshotMeta, TypeConfig};
use futures::StreamExt;
use openraft::error::{Fatal, RemoteError, ReplicationClosed, StreamingError};
use openraft::raft::SnapshotResponse;
use openraft::storage::Snapshot;
use openraft::{AnyError, StorageError, StorageIOError, Vote};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::{Status, Streaming};

use crate::client::record_call;
use crate::codec;
use crate::pb;

/// Bytes of file data per message.
const CHUNK_BYTES: usize = 1024 * 1024;
/// Chunks read ahead of the network.
const CHUNKS_IN_FLIGHT: usize = 4;
/// Limits on what a follower accepts, far above any real checkpoint.
const SNAPSHOT_BYTES_MAX: u64 = 256 * 1024 * 1024 * 1024;
const SNAPSHOT_FILES_MAX: usize = 100_000;
/// The whole transfer, including the follower's install, must finish within
/// this base plus the time to move its bytes at `TRANSFER_BYTES_PER_S_MIN`.
const TRANSFER_TIMEOUT_S_BASE: u64 = 120;
const TRANSFER_BYTES_PER_S_MIN: u64 = 4 * 1024 * 1024;

pub(crate) type SendError = StreamingError<TypeConfig, Fatal<NodeId>>;

fn storage_error(error: impl std::fmt::Display) -> SendError {
    let error: StorageError<NodeId> =
        StorageIOError::read_snapshot(None, AnyError::error(error)).into();
    StreamingError::StorageError(error)
}

/// Stream `snapshot` to the follower behind `client` and return its
/// answer. `chunk_timeout` bounds each message's wait for the network;
/// `cancel` (openraft closing the replication) stops the transfer.
pub(crate) async fn send(
    mut client: pb::raft_client::RaftClient<tonic::transport::Channel>,
    target: NodeId,
    vote: Vote<NodeId>,
    snapshot: Snapshot<TypeConfig>,
    cancel: impl Future<Output = ReplicationClosed>,
    chunk_timeout: Duration,
    transport_error: impl Fn(&Status) -> SendError,
) -> Result<SnapshotResponse<NodeId>, SendError> {
    let files = snapshot.snapshot.files().map_err(storage_error)?;
    let total_bytes: u64 = files.iter().map(|(_, size)| size).sum();
    // The manifest lets the follower tell a complete transfer from one cut
    // short: a cancelled sender ends the request body as cleanly as a
    // finished one.
    let header = codec::encode(&(vote, snapshot.meta.clone(), files.clone()))
        .map_err(|s| transport_error(&s))?;
    let (sender, receiver) = tokio::sync::mpsc::channel::<pb::SnapshotChunk>(CHUNKS_IN_FLIGHT);
    let outgoing = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let timeout =
        Duration::from_secs(TRANSFER_TIMEOUT_S_BASE + total_bytes / TRANSFER_BYTES_PER_S_MIN);
    let mut request = tonic::Request::new(outgoing);
    request.set_timeout(timeout);

    let checkpoint = snapshot.snapshot.checkpoint_dir();
    let produce = async move {
        let send = |chunk: pb::SnapshotChunk| {
            let sender = sender.clone();
            async move {
                match tokio::time::timeout(chunk_timeout, sender.send(chunk)).await {
                    Ok(Ok(())) => Ok(()),
                    // The call ended early; its own result says why.
                    Ok(Err(_)) => Err(None),
                    Err(_) => Err(Some(Status::deadline_exceeded(
                        "a snapshot chunk timed out",
                    ))),
                }
            }
        };
        send(pb::SnapshotChunk {
            header,
            ..Default::default()
        })
        .await?;
        for (name, _) in files {
            let mut file = tokio::fs::File::open(checkpoint.join(&name))
                .await
                .map_err(|error| Some(Status::internal(format!("open {name}: {error}"))))?;
            let mut offset = 0u64;
            loop {
                let mut data = vec![0u8; CHUNK_BYTES];
                let read = read_full(&mut file, &mut data)
                    .await
                    .map_err(|error| Some(Status::internal(format!("read {name}: {error}"))))?;
                data.truncate(read);
                // Every file gets at least one message, so empty ones exist
                // on the other side too.
                if read == 0 && offset > 0 {
                    break;
                }
                send(pb::SnapshotChunk {
                    header: bytes::Bytes::new(),
                    file_name: name.clone(),
                    offset,
                    data: data.into(),
                })
                .await?;
                offset += read as u64;
                if read < CHUNK_BYTES {
                    break;
                }
            }
        }
        Ok::<(), Option<Status>>(())
    };
    let call = async { client.install_snapshot(request).await };
    let transfer = async {
        let (reply, produced) = tokio::join!(call, produce);
        match (reply, produced) {
            (Err(status), _) | (Ok(_), Err(Some(status))) => Err(status),
            (Ok(_), Err(None)) => Err(Status::aborted(
                "the follower ended the snapshot stream early",
            )),
            (Ok(reply), Ok(())) => Ok(reply.into_inner()),
        }
    };
    let started = std::time::Instant::now();
    let reply = tokio::select! {
        closed = cancel => return Err(StreamingError::Closed(closed)),
        reply = tokio::time::timeout(timeout, transfer) => reply.unwrap_or_else(|_| {
            Err(Status::deadline_exceeded("snapshot transfer timed out"))
        }),
    };
    record_call("Raft.InstallSnapshot", started, reply.as_ref().err());
    let reply = reply.map_err(|status| transport_error(&status))?;
    let result: Result<SnapshotResponse<NodeId>, Fatal<NodeId>> =
        codec::decode(&reply.data).map_err(|status| transport_error(&status))?;
    metrics::counter!("coffer_raft_snapshots_sent_total").increment(1);
    metrics::counter!("coffer_raft_snapshot_sent_bytes_total").increment(total_bytes);
    result.map_err(|fatal| StreamingError::RemoteError(RemoteError::new(target, fatal)))
}

/// Fill `buffer` unless the file ends first; returns the bytes read.
async fn read_full(file: &mut tokio::fs::File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        let read = file.read(&mut buffer[filled..]).await?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    Ok(filled)
}

/// The header of a transfer: the leader's vote, the snapshot meta and
/// every file that follows with its size.
pub(crate) struct Received {
    pub vote: Vote<NodeId>,
    pub meta: SnapshotMeta,
    pub manifest: Vec<(String, u64)>,
}

/// Read the header of a transfer.
pub(crate) async fn receive_header(
    stream: &mut Streaming<pb::SnapshotChunk>,
) -> Result<Received, Status> {
    let first = stream
        .message()
        .await?
        .ok_or_else(|| Status::invalid_argument("an empty snapshot stream"))?;
    if first.header.is_empty() {
        return Err(Status::invalid_argument(
            "a snapshot stream starts with its header",
        ));
    }
    let (vote, meta, manifest): (_, _, Vec<(String, u64)>) = codec::decode(&first.header)?;
    let total_bytes = manifest
        .iter()
        .fold(0u64, |total, (_, size)| total.saturating_add(*size));
    if manifest.len() > SNAPSHOT_FILES_MAX || total_bytes > SNAPSHOT_BYTES_MAX {
        return Err(Status::resource_exhausted(
            "the snapshot is larger than allowed",
        ));
    }
    Ok(Received {
        vote,
        meta,
        manifest,
    })
}

/// Write the rest of the stream into `staged`, checking every name, every
/// offset and the limits before a byte reaches the disk, and at the end
/// that exactly the files of `manifest` arrived, each whole. Returns the
/// bytes received.
pub(crate) async fn receive_files(
    stream: &mut (impl futures::Stream<Item = Result<pb::SnapshotChunk, Status>> + Unpin),
    staged: &SnapshotFiles,
    manifest: &[(String, u64)],
) -> Result<u64, Status> {
    let dir = staged.checkpoint_dir();
    let mut finished: BTreeMap<String, u64> = BTreeMap::new();
    let mut open: Option<(String, tokio::fs::File, u64)> = None;
    let mut total_bytes: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if !chunk.header.is_empty() {
            return Err(Status::invalid_argument("a second snapshot header"));
        }
        total_bytes = total_bytes.saturating_add(chunk.data.len() as u64);
        if total_bytes > SNAPSHOT_BYTES_MAX {
            return Err(Status::resource_exhausted(
                "the snapshot is larger than allowed",
            ));
        }
        let continues = matches!(&open, Some((name, _, _)) if *name == chunk.file_name);
        if !continues {
            if let Some((name, file, written)) = open.take() {
                close(file, &name).await?;
                finished.insert(name, written);
            }
            if !is_checkpoint_file_name(&chunk.file_name) {
                return Err(Status::invalid_argument(
                    "a snapshot file name that is not plain",
                ));
            }
            if finished.contains_key(&chunk.file_name) || finished.len() >= SNAPSHOT_FILES_MAX {
                return Err(Status::invalid_argument(
                    "a snapshot file sent twice, or too many files",
                ));
            }
            let file = create(&dir, &chunk.file_name).await?;
            open = Some((chunk.file_name.clone(), file, 0));
        }
        let Some((_, file, written)) = open.as_mut() else {
            return Err(Status::internal("no open snapshot file"));
        };
        if chunk.offset != *written {
            return Err(Status::invalid_argument("a snapshot chunk out of order"));
        }
        file.write_all(&chunk.data)
            .await
            .map_err(|error| Status::internal(format!("write snapshot file: {error}")))?;
        *written += chunk.data.len() as u64;
    }
    if let Some((name, file, written)) = open.take() {
        close(file, &name).await?;
        finished.insert(name, written);
    }
    let expected: BTreeMap<String, u64> = manifest.iter().cloned().collect();
    if finished != expected {
        return Err(Status::aborted(format!(
            "the snapshot stream ended with {} of {} files complete",
            finished
                .iter()
                .filter(|(name, size)| expected.get(*name) == Some(size))
                .count(),
            expected.len()
        )));
    }
    Ok(total_bytes)
}

async fn create(dir: &Path, name: &str) -> Result<tokio::fs::File, Status> {
    tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dir.join(name))
        .await
        .map_err(|error| Status::internal(format!("create snapshot file: {error}")))
}

async fn close(mut file: tokio::fs::File, name: &str) -> Result<(), Status> {
    file.flush()
        .await
        .map_err(|error| Status::internal(format!("write {name}: {error}")))
}

#[cfg(test)]
mod tests {
    use coffer_meta::SnapshotDirs;

    use super::*;

    fn chunk(name: &str, offset: u64, data: &[u8]) -> Result<pb::SnapshotChunk, Status> {
        Ok(pb::SnapshotChunk {
            header: bytes::Bytes::new(),
            file_name: name.to_owned(),
            offset,
            data: bytes::Bytes::copy_from_slice(data),
        })
    }

    async fn receive(
        chunks: Vec<Result<pb::SnapshotChunk, Status>>,
        manifest: &[(&str, u64)],
    ) -> Result<u64, Status> {
        let root = tempfile::tempdir().expect("temp dir");
        let dirs = SnapshotDirs::open(root.path().join("snapshots")).expect("dirs");
        let staged = dirs.staging().expect("staging");
        let manifest: Vec<(String, u64)> = manifest
            .iter()
            .map(|(name, size)| ((*name).to_owned(), *size))
            .collect();
        receive_files(&mut futures::stream::iter(chunks), &staged, &manifest).await
    }

    #[tokio::test]
    async fn a_complete_transfer_is_accepted() {
        let chunks = vec![
            chunk("000008.sst", 0, b"abc"),
            chunk("000008.sst", 3, b"de"),
            chunk("CURRENT", 0, b""),
        ];
        let received = receive(chunks, &[("000008.sst", 5), ("CURRENT", 0)]).await;
        assert_eq!(received.expect("complete"), 5);
    }

    /// A leader that gives up mid-transfer ends the stream cleanly; the
    /// follower must not take the files it has for a checkpoint.
    #[tokio::test]
    async fn a_stream_cut_short_is_refused() {
        let manifest = [("000008.sst", 5), ("CURRENT", 16)];
        // A file missing entirely.
        let missing = receive(vec![chunk("000008.sst", 0, b"abcde")], &manifest).await;
        assert_eq!(missing.expect_err("cut").code(), tonic::Code::Aborted);
        // The last file only half sent.
        let half = receive(
            vec![
                chunk("000008.sst", 0, b"abcde"),
                chunk("CURRENT", 0, b"MANI"),
            ],
            &manifest,
        )
        .await;
        assert_eq!(half.expect_err("cut").code(), tonic::Code::Aborted);
        // A file the manifest does not name.
        let extra = receive(
            vec![
                chunk("000008.sst", 0, b"abcde"),
                chunk("OPTIONS-1", 0, b"x"),
            ],
            &[("000008.sst", 5)],
        )
        .await;
        assert_eq!(extra.expect_err("extra").code(), tonic::Code::Aborted);
    }

    #[tokio::test]
    async fn bad_names_and_orders_are_refused() {
        let traversal = receive(vec![chunk("../escape", 0, b"x")], &[("../escape", 1)]).await;
        assert_eq!(
            traversal.expect_err("name").code(),
            tonic::Code::InvalidArgument
        );
        let gap = receive(
            vec![chunk("000008.sst", 0, b"ab"), chunk("000008.sst", 5, b"c")],
            &[("000008.sst", 3)],
        )
        .await;
        assert_eq!(gap.expect_err("order").code(), tonic::Code::InvalidArgument);
    }
}
