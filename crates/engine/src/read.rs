//! Lazy decryption of object data. A byte range is cut into windows of at
//! most one block; each window reads exactly the sealed bytes of the
//! segments it covers (`read_block_range`), opens them, and yields the
//! requested slice. At most one window is read ahead of the one the client
//! is consuming, so memory stays bounded whatever the object size.

use std::sync::Arc;

use bytes::Bytes;
use coffer_blob::BlockStore;
use coffer_crypto::{DataKey, PartCipher, SEGMENT_OVERHEAD_BYTES};
use coffer_meta::PartLayout;
use coffer_types::limits::SEGMENT_SIZE_BYTES;
use futures::StreamExt;

use crate::api::DataStream;

const SEGMENT_BYTES: u64 = SEGMENT_SIZE_BYTES as u64;
const SEALED_SEGMENT_BYTES: u64 = SEGMENT_BYTES + SEGMENT_OVERHEAD_BYTES as u64;
/// Windows in flight: the one being sent and one read ahead.
const WINDOWS_IN_FLIGHT: usize = 2;

/// One block's share of the requested range.
#[derive(Clone, Debug)]
struct Window {
    part: Arc<PartLayout>,
    block_index: u64,
    /// Plaintext offsets within the part, end exclusive.
    start: u64,
    end: u64,
}

/// Iterates the windows of `start..end` (object offsets) over the parts.
struct WindowPlan {
    parts: Vec<Arc<PartLayout>>,
    part_index: usize,
    /// Object offset where `parts[part_index]` begins.
    part_base: u64,
    position: u64,
    end: u64,
}

impl Iterator for WindowPlan {
    type Item = Result<Window, std::io::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.position < self.end {
            let part = self.parts.get(self.part_index)?.clone();
            let part_end = self.part_base + part.size_bytes;
            if self.position >= part_end {
                self.part_base = part_end;
                self.part_index += 1;
                continue;
            }
            let block_size = part.block_size_bytes;
            if block_size == 0 || block_size % SEGMENT_BYTES != 0 {
                self.position = self.end;
                return Some(Err(corrupt(format!(
                    "part {} has block size {block_size}",
                    part.part_number
                ))));
            }
            let start = self.position - self.part_base;
            let block_index = start / block_size;
            let end = ((block_index + 1) * block_size).min(self.end.min(part_end) - self.part_base);
            self.position = self.part_base + end;
            return Some(Ok(Window {
                part,
                block_index,
                start,
                end,
            }));
        }
        None
    }
}

fn corrupt(message: String) -> std::io::Error {
    tracing::error!(%message, "stored object data is unreadable");
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "stored data failed verification",
    )
}

/// Sealed bytes decrypted on the async worker rather than a blocking thread:
/// one full segment, about 15 µs with AES-NI.
const OPEN_INLINE_BYTES_MAX: usize = SEALED_SEGMENT_BYTES as usize;

/// The segments of a part that one window covers.
#[derive(Clone, Copy)]
struct Extent {
    first_segment: u64,
    last_segment: u64,
    /// Segments in the whole part (the last one carries the final flag).
    segment_count: u64,
}

/// Decrypt the sealed segments of `extent` in the buffer they were read
/// into, moving each plaintext down behind the previous one.
fn open_extent(
    key: &DataKey,
    part: &PartLayout,
    extent: Extent,
    mut sealed: Vec<u8>,
) -> Result<Vec<u8>, std::io::Error> {
    let cipher = PartCipher::new(key, part.data_id, part.part_number);
    let (mut read, mut written) = (0usize, 0usize);
    for index in extent.first_segment..=extent.last_segment {
        let plain_length = SEGMENT_BYTES.min(part.size_bytes - index * SEGMENT_BYTES);
        let take = (plain_length as usize + SEGMENT_OVERHEAD_BYTES).min(sealed.len() - read);
        let is_final = index + 1 == extent.segment_count;
        let opened = cipher
            .open_segment_in_place(index, is_final, &mut sealed[read..read + take])
            .map_err(|error| corrupt(format!("segment {index} of {}: {error}", part.data_id)))?;
        sealed.copy_within(read..read + opened, written);
        read += take;
        written += opened;
    }
    sealed.truncate(written);
    Ok(sealed)
}

/// Check every segment of block `index` of `part` (the whole sealed block
/// file as read from disk): its length and each AES-GCM tag. For scrub.
pub(crate) fn verify_block(
    key: &DataKey,
    part: &PartLayout,
    index: u64,
    sealed: Vec<u8>,
) -> Result<(), std::io::Error> {
    let segments_per_block = (part.block_size_bytes / SEGMENT_BYTES).max(1);
    let segment_count = part.size_bytes.div_ceil(SEGMENT_BYTES);
    let first_segment = index * segments_per_block;
    if first_segment >= segment_count {
        return Err(corrupt(format!(
            "block {}-{index} is past the part's end",
            part.data_id
        )));
    }
    let last_segment = (first_segment + segments_per_block).min(segment_count) - 1;
    let plain_bytes =
        ((last_segment + 1) * SEGMENT_BYTES).min(part.size_bytes) - first_segment * SEGMENT_BYTES;
    let expected = plain_bytes + (last_segment - first_segment + 1) * SEGMENT_OVERHEAD_BYTES as u64;
    if sealed.len() as u64 != expected {
        return Err(corrupt(format!(
            "block {}-{index} has {} bytes, not {expected}",
            part.data_id,
            sealed.len()
        )));
    }
    let extent = Extent {
        first_segment,
        last_segment,
        segment_count,
    };
    open_extent(key, part, extent, sealed).map(|_| ())
}

/// Replicas tried per block before a read gives up on corruption.
const CORRUPT_REPLICAS_TRIED_MAX: usize = 7;

/// Check a sealed extent's length and open it (inline when small).
async fn open_sealed(
    key: &Arc<DataKey>,
    part: &Arc<PartLayout>,
    extent: Extent,
    sealed: Vec<u8>,
    sealed_length: u64,
) -> Result<Vec<u8>, std::io::Error> {
    if sealed.len() as u64 != sealed_length {
        return Err(corrupt(format!(
            "block {} is short: {} of {sealed_length} bytes",
            part.data_id,
            sealed.len()
        )));
    }
    // A small read (one 4 KiB object, one segment) decrypts in microseconds:
    // doing it here saves a hand-off to a blocking thread and back, which
    // costs more than the decryption (bench/RESULTS.md, "small").
    if sealed.len() <= OPEN_INLINE_BYTES_MAX {
        open_extent(key, part, extent, sealed)
    } else {
        let (key, part) = (key.clone(), part.clone());
        tokio::task::spawn_blocking(move || open_extent(&key, &part, extent, sealed))
            .await
            .map_err(|error| corrupt(format!("decrypt task: {error}")))?
    }
}

/// Read and open one window.
async fn read_window(
    store: Arc<BlockStore>,
    key: Arc<DataKey>,
    window: Window,
) -> Result<Bytes, std::io::Error> {
    let part = &window.part;
    let segments_per_block = part.block_size_bytes / SEGMENT_BYTES;
    let segment_count = part.size_bytes.div_ceil(SEGMENT_BYTES);
    let first_segment = window.start / SEGMENT_BYTES;
    let last_segment = (window.end - 1) / SEGMENT_BYTES;
    let extent_start = first_segment * SEGMENT_BYTES;
    let extent_end = ((last_segment + 1) * SEGMENT_BYTES).min(part.size_bytes);
    let sealed_length = (extent_end - extent_start)
        + (last_segment - first_segment + 1) * SEGMENT_OVERHEAD_BYTES as u64;
    let offset = (first_segment - window.block_index * segments_per_block) * SEALED_SEGMENT_BYTES;
    let extent = Extent {
        first_segment,
        last_segment,
        segment_count,
    };
    // A replica whose bytes fail authentication is skipped (and replaced in
    // the background); the next replica is tried, up to every node.
    let mut corrupt_nodes: Vec<u64> = Vec::new();
    let opened = loop {
        let (node, sealed) = store
            .read_block_range_avoiding(
                part.data_id,
                window.block_index,
                offset,
                sealed_length,
                &corrupt_nodes,
            )
            .await
            .map_err(|error| {
                corrupt(format!(
                    "reading block {}-{}: {error}",
                    part.data_id, window.block_index
                ))
            })?;
        match open_sealed(&key, &window.part, extent, sealed, sealed_length).await {
            Ok(opened) => break opened,
            Err(error) => {
                let Some(node) = node else {
                    return Err(error);
                };
                tracing::warn!(node, data_id = %part.data_id, block = window.block_index, %error, "corrupt replica; reading another");
                store.discard_corrupt_replica(node, part.data_id, window.block_index);
                corrupt_nodes.push(node);
                if corrupt_nodes.len() >= CORRUPT_REPLICAS_TRIED_MAX {
                    return Err(error);
                }
            }
        }
    };
    let from = (window.start - extent_start) as usize;
    let to = (window.end - extent_start) as usize;
    Ok(Bytes::from(opened).slice(from..to))
}

/// The plaintext of `start..end` (object offsets) of an object made of
/// `parts`, decrypted lazily. A failure ends the stream with an error (the
/// client sees a truncated body); nothing after it is sent.
pub(crate) fn data_stream(
    store: Arc<BlockStore>,
    key: Arc<DataKey>,
    parts: &[PartLayout],
    start: u64,
    end: u64,
) -> DataStream {
    let plan = WindowPlan {
        parts: parts.iter().cloned().map(Arc::new).collect(),
        part_index: 0,
        part_base: 0,
        position: start,
        end,
    };
    let windows = futures::stream::iter(plan).map(move |window| {
        let (store, key) = (store.clone(), key.clone());
        async move { read_window(store, key, window?).await }
    });
    let stream = windows
        .buffered(WINDOWS_IN_FLIGHT)
        .scan(false, |failed, item| {
            let next = if *failed {
                None
            } else {
                *failed = item.is_err();
                Some(item)
            };
            futures::future::ready(next)
        });
    Box::pin(stream)
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_types::DataId;

    fn part(part_number: u32, size_bytes: u64, block_size_bytes: u64) -> PartLayout {
        PartLayout {
            part_number,
            data_id: DataId([0; 16]),
            size_bytes,
            block_size_bytes,
            etag: String::new(),
            checksum: None,
        }
    }

    fn windows(parts: Vec<PartLayout>, start: u64, end: u64) -> Vec<(u32, u64, u64, u64)> {
        let plan = WindowPlan {
            parts: parts.into_iter().map(Arc::new).collect(),
            part_index: 0,
            part_base: 0,
            position: start,
            end,
        };
        plan.map(|w| w.expect("valid plan"))
            .map(|w| (w.part.part_number, w.block_index, w.start, w.end))
            .collect()
    }

    #[test]
    fn windows_follow_blocks_and_parts() {
        let block = 128 * 1024;
        assert_eq!(
            windows(vec![part(1, 300 * 1024, block)], 0, 300 * 1024),
            vec![
                (1, 0, 0, block),
                (1, 1, block, 2 * block),
                (1, 2, 2 * block, 300 * 1024)
            ]
        );
        assert_eq!(
            windows(vec![part(1, 10, block), part(2, 10, block)], 5, 15),
            vec![(1, 0, 5, 10), (2, 0, 0, 5)]
        );
        assert_eq!(windows(vec![part(1, 10, block)], 3, 3), vec![]);
    }
}
