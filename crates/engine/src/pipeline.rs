//! The streaming write pipeline shared by PutObject, UploadPart and the two
//! copies: body chunks are cut into blocks; each block is hashed (MD5 for
//! the ETag plus the requested checksum) on one blocking task while a second
//! task seals it segment by segment and hands it to a write task
//! (`BlockStore`, ending in an fsync); up to `BLOCK_WRITES_IN_FLIGHT` writes
//! run while the next block is sealed. Both stages are fed through channels
//! of depth 2, so a request holds a small, fixed number of blocks in memory
//! however large its body is.
//!
//! A block is sealed only once it is known whether it is the last one: the
//! final segment of a part carries the final flag, so the reader keeps the
//! last full block until more data or the end of the body arrives.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use coffer_blob::BlockStore;
use coffer_crypto::PartCipher;
use coffer_meta::ChecksumAlgorithm;
use coffer_types::limits::SEGMENT_SIZE_BYTES;
use coffer_types::{DataId, ErrorCode, S3Error};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::api::{BodyStream, ExpectedChecksum};
use crate::checksum::{self, ContentDigests, ContentHasher};
use crate::errors;

/// Blocks queued between stages. Two keeps both stages busy while bounding
/// memory to a handful of blocks per request.
const STAGE_QUEUE_DEPTH: usize = 2;

/// Sealed blocks being written (and fsynced) at once per request. Two lets
/// sealing overlap the previous block's fsync; more only adds memory.
const BLOCK_WRITES_IN_FLIGHT: usize = 2;

async fn join_write(write: JoinHandle<Result<(), S3Error>>) -> Result<(), S3Error> {
    write
        .await
        .map_err(|error| errors::task("write block", error))
        .and_then(|result| result)
}

/// What the pipeline must enforce and verify for one run of data.
pub(crate) struct WriteSpec {
    pub block_size_bytes: u64,
    /// Content-Length when known: the body must have exactly this size.
    pub expected_length_bytes: Option<u64>,
    pub size_limit_bytes: u64,
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    pub expected_checksum: ExpectedChecksum,
    pub content_md5: Option<[u8; 16]>,
}

/// Data durably written but not yet referenced by committed metadata.
pub(crate) struct WrittenData {
    pub data_id: DataId,
    pub size_bytes: u64,
    pub digests: ContentDigests,
    pub blocks: WrittenBlocks,
}

impl WrittenData {
    pub(crate) fn checksum(&self) -> Option<coffer_meta::Checksum> {
        self.digests
            .checksum
            .as_ref()
            .map(|(algorithm, raw)| coffer_meta::Checksum {
                algorithm: *algorithm,
                value_base64: checksum::base64_encode(raw),
            })
    }
}

/// The block files of one data id written so far. Until `defuse` is called
/// (just before the metadata that names them is proposed), dropping this —
/// for example because the client went away — deletes them in the
/// background; `discard` deletes them and waits.
pub(crate) struct WrittenBlocks {
    store: Arc<BlockStore>,
    data_id: DataId,
    /// Blocks handed to the sealing stage; an upper bound of what exists.
    block_count: u64,
    sealer: Option<JoinHandle<Result<(), S3Error>>>,
    armed: bool,
}

impl WrittenBlocks {
    fn new(store: Arc<BlockStore>, data_id: DataId) -> Self {
        Self {
            store,
            data_id,
            block_count: 0,
            sealer: None,
            armed: true,
        }
    }

    /// From now on the blocks are kept unless `discard` is called: once a
    /// proposal is in flight it may commit, and only the sweep (which checks
    /// references) may then remove them.
    pub(crate) fn defuse(&mut self) {
        self.armed = false;
    }

    /// Delete the blocks (best effort: the startup sweep catches the rest).
    pub(crate) async fn discard(mut self) {
        self.armed = false;
        delete_after(
            self.store.clone(),
            self.data_id,
            self.block_count,
            self.sealer.take(),
        )
        .await;
    }
}

impl Drop for WrittenBlocks {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (store, data_id, block_count, sealer) = (
            self.store.clone(),
            self.data_id,
            self.block_count,
            self.sealer.take(),
        );
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(delete_after(store, data_id, block_count, sealer));
        }
    }
}

async fn delete_after(
    store: Arc<BlockStore>,
    data_id: DataId,
    block_count: u64,
    sealer: Option<JoinHandle<Result<(), S3Error>>>,
) {
    // Wait for in-flight writes first, or a block could land after the delete.
    if let Some(sealer) = sealer {
        let _ = sealer.await;
    }
    if block_count == 0 {
        return;
    }
    if let Err(error) = store.delete_data(data_id, block_count).await {
        tracing::warn!(%error, %data_id, "could not delete blocks of a failed write; the sweep will");
    }
}

/// Seal one block: segment `j` of block `i` has the part-wide index
/// `i * segments_per_block + j`; only the last segment of the last block is
/// final.
fn seal_block(
    cipher: &PartCipher,
    block_index: u64,
    segments_per_block: u64,
    plaintext: &[u8],
    is_last_block: bool,
) -> Vec<u8> {
    let segment_count = plaintext.len().div_ceil(SEGMENT_SIZE_BYTES);
    let mut sealed =
        Vec::with_capacity(plaintext.len() + segment_count * coffer_crypto::SEGMENT_OVERHEAD_BYTES);
    for (position, segment) in plaintext.chunks(SEGMENT_SIZE_BYTES).enumerate() {
        let index = block_index * segments_per_block + position as u64;
        let is_final = is_last_block && position + 1 == segment_count;
        cipher.seal_segment_into(index, is_final, segment, &mut sealed);
    }
    sealed
}

/// The S3 error a failed body chunk stands for. The gateway may wrap an
/// `S3Error` in the `io::Error` (e.g. SignatureDoesNotMatch for a bad chunk
/// signature); anything else means the body ended early.
fn body_error(error: std::io::Error) -> S3Error {
    if let Some(s3) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<S3Error>())
    {
        return s3.clone();
    }
    tracing::debug!(%error, "request body failed");
    S3Error::new(
        ErrorCode::IncompleteBody,
        "The request body terminated unexpectedly",
    )
}

/// Run the pipeline over `body`, writing blocks of `data_id`. On any failure
/// every block written is deleted before this returns.
pub(crate) async fn write_data(
    store: &Arc<BlockStore>,
    cipher: Arc<PartCipher>,
    data_id: DataId,
    spec: WriteSpec,
    body: BodyStream,
) -> Result<WrittenData, S3Error> {
    let block_size_bytes = spec.block_size_bytes;
    let segments_per_block = block_size_bytes / SEGMENT_SIZE_BYTES as u64;
    let mut blocks = WrittenBlocks::new(store.clone(), data_id);

    let (hash_sender, mut hash_receiver) = mpsc::channel::<Bytes>(STAGE_QUEUE_DEPTH);
    let algorithm = spec.checksum_algorithm;
    // The hasher state moves into a blocking task per block rather than
    // holding a blocking thread for the whole upload: with many slow
    // uploads, idle hashers would otherwise starve the sealers and the block
    // store of blocking threads.
    let hasher = tokio::spawn(async move {
        let mut hasher = ContentHasher::new(algorithm);
        while let Some(block) = hash_receiver.recv().await {
            hasher = tokio::task::spawn_blocking(move || {
                hasher.update(&block);
                hasher
            })
            .await
            .map_err(|error| errors::task("hash block", error))?;
        }
        Ok::<_, S3Error>(hasher.finish())
    });

    let (seal_sender, mut seal_receiver) = mpsc::channel::<(u64, Bytes, bool)>(STAGE_QUEUE_DEPTH);
    let sealer_store = store.clone();
    blocks.sealer = Some(tokio::spawn(async move {
        // Block writes (each ending in an fsync) run as their own tasks so
        // the next block is sealed while the previous one reaches the disk.
        let mut writes: VecDeque<JoinHandle<Result<(), S3Error>>> = VecDeque::new();
        let mut outcome = Ok(());
        while let Some((index, plaintext, is_last)) = seal_receiver.recv().await {
            let cipher = cipher.clone();
            let sealed = tokio::task::spawn_blocking(move || {
                seal_block(&cipher, index, segments_per_block, &plaintext, is_last)
            })
            .await
            .map_err(|error| errors::task("seal block", error));
            let sealed = match sealed {
                Ok(sealed) => sealed,
                Err(error) => {
                    outcome = Err(error);
                    break;
                }
            };
            if writes.len() >= BLOCK_WRITES_IN_FLIGHT {
                let oldest = writes.pop_front().expect("at the limit, so not empty");
                outcome = join_write(oldest).await;
                if outcome.is_err() {
                    break;
                }
            }
            let store = sealer_store.clone();
            writes.push_back(tokio::spawn(async move {
                store
                    .write_block(data_id, index, sealed)
                    .await
                    .map_err(|error| errors::blob("write block", error))
            }));
        }
        // Every write is awaited, also after a failure: whoever deletes the
        // blocks waits for this task, so no write may outlive it.
        for write in writes {
            let result = join_write(write).await;
            if outcome.is_ok() {
                outcome = result;
            }
        }
        outcome
    }));

    // Only the plain limits cross the awaits: the spec's trailer reader is
    // `Send` but not `Sync`, and the future must stay `Send`.
    let limits = BodyLimits {
        block_size_bytes,
        expected_length_bytes: spec.expected_length_bytes,
        size_limit_bytes: spec.size_limit_bytes,
    };
    let read = read_body(body, limits, &hash_sender, &seal_sender, &mut blocks).await;
    drop(hash_sender);
    drop(seal_sender);
    // Awaited in place: if this future is dropped meanwhile, the blocks'
    // guard still waits for the sealer before deleting.
    let sealed = match blocks.sealer.as_mut() {
        Some(sealer) => sealer
            .await
            .map_err(|error| errors::task("sealer", error))
            .and_then(|result| result),
        None => Ok(()),
    };
    blocks.sealer = None;
    let digests = hasher
        .await
        .map_err(|error| errors::task("hasher", error))
        .and_then(|result| result);
    // A sealing failure explains a failed send, so it wins over the reader's error.
    let outcome = sealed
        .and(read)
        .and_then(|size_bytes| Ok((size_bytes, digests?)));
    let (size_bytes, digests) = match outcome {
        Ok(done) => done,
        Err(error) => {
            blocks.discard().await;
            return Err(error);
        }
    };
    if let Err(error) = verify(spec, &digests) {
        blocks.discard().await;
        return Err(error);
    }
    Ok(WrittenData {
        data_id,
        size_bytes,
        digests,
        blocks,
    })
}

fn verify(spec: WriteSpec, digests: &ContentDigests) -> Result<(), S3Error> {
    if let Some(expected) = spec.content_md5 {
        if expected != digests.md5 {
            return Err(S3Error::new(
                ErrorCode::BadDigest,
                "The Content-MD5 you specified did not match what we received.",
            ));
        }
    }
    let Some((algorithm, actual)) = &digests.checksum else {
        return Ok(());
    };
    let expected = match spec.expected_checksum {
        ExpectedChecksum::None => None,
        ExpectedChecksum::Value(value) => Some(value),
        // Known only now that the whole body (and its trailer) was read.
        ExpectedChecksum::Trailer(read_trailer) => read_trailer(),
    };
    if let Some(value) = expected {
        if &checksum::decode_expected(*algorithm, &value)? != actual {
            return Err(checksum::mismatch(*algorithm));
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
struct BodyLimits {
    block_size_bytes: u64,
    expected_length_bytes: Option<u64>,
    size_limit_bytes: u64,
}

/// Read the body into blocks and feed both stages. Returns the body size.
async fn read_body(
    mut body: BodyStream,
    spec: BodyLimits,
    hash_sender: &mpsc::Sender<Bytes>,
    seal_sender: &mpsc::Sender<(u64, Bytes, bool)>,
    blocks: &mut WrittenBlocks,
) -> Result<u64, S3Error> {
    let block_size = usize::try_from(spec.block_size_bytes).expect("block size is a few MiB");
    // A stage only stops early after failing; it logged why, and its error wins.
    let stage_gone = S3Error::internal;
    let mut current = BytesMut::with_capacity(block_size);
    // The last full block, kept until we know whether more data follows.
    let mut held: Option<Bytes> = None;
    let mut size_bytes: u64 = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(body_error)?;
        size_bytes += chunk.len() as u64;
        if spec
            .expected_length_bytes
            .is_some_and(|expected| size_bytes > expected)
        {
            return Err(errors::invalid_request(
                "The request body is longer than the Content-Length you specified.",
            ));
        }
        if size_bytes > spec.size_limit_bytes {
            return Err(ErrorCode::EntityTooLarge.into());
        }
        let mut rest = &chunk[..];
        while !rest.is_empty() {
            if let Some(previous) = held.take() {
                seal_sender
                    .send((blocks.block_count, previous, false))
                    .await
                    .map_err(|_| stage_gone())?;
                blocks.block_count += 1;
            }
            let take = (block_size - current.len()).min(rest.len());
            current.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if current.len() == block_size {
                let full =
                    std::mem::replace(&mut current, BytesMut::with_capacity(block_size)).freeze();
                hash_sender
                    .send(full.clone())
                    .await
                    .map_err(|_| stage_gone())?;
                held = Some(full);
            }
        }
    }
    if spec
        .expected_length_bytes
        .is_some_and(|expected| size_bytes < expected)
    {
        return Err(S3Error::new(
            ErrorCode::IncompleteBody,
            "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        ));
    }
    let last = if current.is_empty() {
        held.take()
    } else {
        let last = current.freeze();
        hash_sender
            .send(last.clone())
            .await
            .map_err(|_| stage_gone())?;
        Some(last)
    };
    if let Some(last) = last {
        seal_sender
            .send((blocks.block_count, last, true))
            .await
            .map_err(|_| stage_gone())?;
        blocks.block_count += 1;
    }
    Ok(size_bytes)
}
