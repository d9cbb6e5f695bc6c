//! The engine's one integration-test binary: a real MetaStore (RocksDB +
//! Raft), BlockStore and RegionKeys in a temp dir, driven through `Engine`.

mod copy;
mod gc;
mod listing;
mod multipart;
mod objects;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use coffer_blob::BlockStore;
use coffer_crypto::{MasterKey, RegionKeys};
use coffer_engine::*;
use coffer_meta::{ContentHeaders, MetaStore};
use coffer_types::{AccountId, BucketName, ErrorCode, ObjectKey, S3Error};
use futures::StreamExt;

/// Small blocks (two segments) so multi-block paths run on small bodies.
pub const BLOCK_SIZE_BYTES: u64 = 128 * 1024;

pub struct Harness {
    pub engine: Arc<Engine>,
    pub owner: AccountId,
    pub bucket: BucketName,
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let meta = MetaStore::open(&dir.path().join("meta"), 1)
            .await
            .expect("open meta");
        let blocks = Arc::new(BlockStore::open(&dir.path().join("blocks")).expect("open blocks"));
        let keys = Arc::new(RegionKeys::new(&MasterKey::generate()));
        let config = EngineConfig {
            region: "us-east-1".to_owned(),
            block_size_bytes: BLOCK_SIZE_BYTES,
        };
        let engine = Engine::new(meta, blocks, keys, config);
        let account = engine
            .ensure_root_account("AKIATESTROOT", "secret-key")
            .await
            .expect("root account");
        let bucket = BucketName::parse("test-bucket").expect("valid name");
        engine
            .create_bucket(
                &account.id,
                &bucket,
                None,
                coffer_meta::BucketAccess::new_bucket_defaults(),
            )
            .await
            .expect("create bucket");
        Self {
            engine,
            owner: account.id,
            bucket,
            dir,
        }
    }

    pub fn put_request(&self, key: &str, content_length: Option<u64>) -> PutObjectRequest {
        PutObjectRequest {
            bucket: self.bucket.clone(),
            key: key_of(key),
            owner: self.owner.clone(),
            content_length,
            content_md5_base64: None,
            checksum: None,
            headers: ContentHeaders::default(),
            user_metadata: Vec::new(),
            tags: Vec::new(),
            precondition: None,
        }
    }

    pub async fn put(&self, key: &str, data: &[u8]) -> coffer_meta::ObjectVersion {
        let request = self.put_request(key, Some(data.len() as u64));
        self.engine
            .put_object(request, body_of(data))
            .await
            .expect("put")
            .version
    }

    pub fn get_request(&self, key: &str) -> GetObjectRequest {
        GetObjectRequest {
            bucket: self.bucket.clone(),
            key: key_of(key),
            version_id: None,
            range: None,
            part_number: None,
            conditions: ReadConditions::default(),
        }
    }

    pub async fn get(
        &self,
        request: GetObjectRequest,
    ) -> Result<(GetObjectOutcome, Vec<u8>), S3Error> {
        let mut outcome = self.engine.get_object(request, true).await?;
        let body = outcome.body.take().expect("GET has a body");
        Ok((outcome, collect(body).await.expect("body reads")))
    }

    pub async fn get_bytes(&self, key: &str) -> Vec<u8> {
        self.get(self.get_request(key)).await.expect("get").1
    }

    /// Block files on disk under the store root.
    pub fn block_files(&self) -> usize {
        count_files(&self.engine.blocks().root().join("blocks"))
    }

    /// Poll `condition` until it holds, for at most 30 s.
    pub async fn wait_for(&self, what: &str, mut condition: impl FnMut() -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !condition() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn count_files(path: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                count_files(&path)
            } else {
                1
            }
        })
        .sum()
}

pub fn key_of(key: &str) -> ObjectKey {
    ObjectKey::parse(key).expect("valid key")
}

/// Deterministic pseudo-random bytes.
pub fn data(length: usize, seed: u64) -> Vec<u8> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..length)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 56) as u8
        })
        .collect()
}

/// A body in uneven chunks, so block boundaries fall inside chunks.
pub fn body_of(data: &[u8]) -> BodyStream {
    let chunks: Vec<Result<Bytes, std::io::Error>> = data
        .chunks(50_000)
        .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
        .collect();
    Box::pin(futures::stream::iter(chunks))
}

/// A body that yields `data` and then fails (the client went away).
pub fn failing_body(data: &[u8]) -> BodyStream {
    let mut chunks: Vec<Result<Bytes, std::io::Error>> = data
        .chunks(50_000)
        .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
        .collect();
    chunks.push(Err(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "client gone",
    )));
    Box::pin(futures::stream::iter(chunks))
}

pub async fn collect(mut stream: DataStream) -> Result<Vec<u8>, std::io::Error> {
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

pub fn code<T>(result: Result<T, S3Error>) -> ErrorCode {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(error) => error.code,
    }
}
