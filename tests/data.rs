//! Test data: random bodies, a deterministic streaming body for big objects,
//! hashes and names.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use md5::{Digest as _, Md5};
use rand::{Rng, RngCore};
use sha2::Sha256;

/// `length` random bytes.
pub fn random_bytes(length: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; length];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes
}

pub fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The S3 ETag of a completed multipart upload, quoted: the MD5 of the
/// concatenated binary MD5s of the parts, then `-<part count>`.
pub fn multipart_etag(parts: &[&[u8]]) -> String {
    let mut concatenated = Vec::with_capacity(parts.len() * 16);
    for part in parts {
        concatenated.extend_from_slice(&Md5::digest(part));
    }
    format!("\"{}-{}\"", md5_hex(&concatenated), parts.len())
}

/// A bucket name no other test uses: `e2e-<prefix>-<random>`.
pub fn unique_bucket(prefix: &str) -> String {
    let suffix: u64 = rand::thread_rng().gen();
    let name = format!("e2e-{prefix}-{suffix:016x}");
    name.chars().take(63).collect()
}

/// Bytes produced by `PseudoRandomStream` for a seed, in order; lets a test
/// upload and hash a huge body without ever holding it.
#[derive(Clone, Debug)]
struct Generator {
    state: u64,
}

impl Generator {
    fn new(seed: u64) -> Self {
        // xorshift must not start at zero.
        Self { state: seed | 1 }
    }

    fn fill(&mut self, buffer: &mut [u8]) {
        for chunk in buffer.chunks_mut(8) {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            let bytes = self.state.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// A deterministic body of `length_bytes` from `seed`, as an `http_body`
/// with an exact size (so the SDK sends a Content-Length).
#[derive(Debug)]
pub struct PseudoRandomStream {
    generator: Generator,
    remaining_bytes: u64,
    chunk_size_bytes: usize,
}

impl PseudoRandomStream {
    pub fn new(seed: u64, length_bytes: u64) -> Self {
        Self {
            generator: Generator::new(seed),
            remaining_bytes: length_bytes,
            chunk_size_bytes: 256 * 1024,
        }
    }

    /// The next chunk, or `None` at the end.
    pub fn next_chunk(&mut self) -> Option<Bytes> {
        if self.remaining_bytes == 0 {
            return None;
        }
        let size = (self.chunk_size_bytes as u64).min(self.remaining_bytes) as usize;
        let mut buffer = vec![0u8; size];
        self.generator.fill(&mut buffer);
        self.remaining_bytes -= size as u64;
        Some(Bytes::from(buffer))
    }

    /// SHA-256 hex of the whole stream for `seed` and `length_bytes`,
    /// computed chunk by chunk.
    pub fn sha256_hex(seed: u64, length_bytes: u64) -> String {
        let mut stream = Self::new(seed, length_bytes);
        let mut hasher = Sha256::new();
        while let Some(chunk) = stream.next_chunk() {
            hasher.update(&chunk);
        }
        hex::encode(hasher.finalize())
    }
}

impl Body for PseudoRandomStream {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        Poll::Ready(this.next_chunk().map(|chunk| Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining_bytes == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining_bytes)
    }
}
