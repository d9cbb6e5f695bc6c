//! Content hashes of object data: the MD5 behind every ETag and the optional
//! S3 checksum (CRC32, CRC32C, CRC64NVME, SHA1, SHA256). Values are shown as
//! S3 shows them: base64 of the big-endian digest bytes.

use base64::Engine as _;
use coffer_meta::ChecksumAlgorithm;
use coffer_types::{ErrorCode, S3Error};
use md5::{Digest as _, Md5};

use crate::errors;

pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The header name S3 uses for an algorithm, for error messages.
pub(crate) fn header_name(algorithm: ChecksumAlgorithm) -> &'static str {
    match algorithm {
        ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
        ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
        ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
        ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
        ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
    }
}

fn digest_length_bytes(algorithm: ChecksumAlgorithm) -> usize {
    match algorithm {
        ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
        ChecksumAlgorithm::Crc64Nvme => 8,
        ChecksumAlgorithm::Sha1 => 20,
        ChecksumAlgorithm::Sha256 => 32,
    }
}

/// Decode a client-supplied checksum value; a value that is not base64 of a
/// digest of the right length is refused before any data is read.
pub(crate) fn decode_expected(
    algorithm: ChecksumAlgorithm,
    value_base64: &str,
) -> Result<Vec<u8>, S3Error> {
    let decoded = base64::engine::general_purpose::STANDARD.decode(value_base64.trim());
    match decoded {
        Ok(bytes) if bytes.len() == digest_length_bytes(algorithm) => Ok(bytes),
        _ => Err(errors::invalid_request(format!(
            "Value for {} header is invalid.",
            header_name(algorithm)
        ))),
    }
}

/// Decode Content-MD5 (base64 of 16 bytes) → InvalidDigest.
pub(crate) fn decode_content_md5(value_base64: &str) -> Result<[u8; 16], S3Error> {
    let invalid = || {
        S3Error::new(
            ErrorCode::InvalidDigest,
            "The Content-MD5 you specified was invalid.",
        )
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value_base64.trim())
        .map_err(|_| invalid())?;
    bytes.try_into().map_err(|_| invalid())
}

pub(crate) fn mismatch(algorithm: ChecksumAlgorithm) -> S3Error {
    S3Error::new(
        ErrorCode::BadDigest,
        format!(
            "The {} you specified did not match the calculated checksum.",
            header_name(algorithm)
        ),
    )
}

/// A running checksum of one algorithm.
pub(crate) enum ChecksumHasher {
    Crc32(crc32fast::Hasher),
    Crc32c(u32),
    Crc64Nvme(crc64fast_nvme::Digest),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl ChecksumHasher {
    pub(crate) fn new(algorithm: ChecksumAlgorithm) -> Self {
        match algorithm {
            ChecksumAlgorithm::Crc32 => Self::Crc32(crc32fast::Hasher::new()),
            ChecksumAlgorithm::Crc32c => Self::Crc32c(0),
            ChecksumAlgorithm::Crc64Nvme => Self::Crc64Nvme(crc64fast_nvme::Digest::new()),
            ChecksumAlgorithm::Sha1 => Self::Sha1(sha1::Sha1::new()),
            ChecksumAlgorithm::Sha256 => Self::Sha256(sha2::Sha256::new()),
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Crc32(hasher) => hasher.update(bytes),
            Self::Crc32c(crc) => *crc = crc32c::crc32c_append(*crc, bytes),
            Self::Crc64Nvme(digest) => digest.write(bytes),
            Self::Sha1(hasher) => sha1::Digest::update(hasher, bytes),
            Self::Sha256(hasher) => sha2::Digest::update(hasher, bytes),
        }
    }

    /// The raw big-endian digest bytes.
    pub(crate) fn finish(self) -> Vec<u8> {
        match self {
            Self::Crc32(hasher) => hasher.finalize().to_be_bytes().to_vec(),
            Self::Crc32c(crc) => crc.to_be_bytes().to_vec(),
            Self::Crc64Nvme(digest) => digest.sum64().to_be_bytes().to_vec(),
            Self::Sha1(hasher) => sha1::Digest::finalize(hasher).to_vec(),
            Self::Sha256(hasher) => sha2::Digest::finalize(hasher).to_vec(),
        }
    }
}

/// One-shot checksum of a byte string.
pub(crate) fn checksum_of(algorithm: ChecksumAlgorithm, bytes: &[u8]) -> Vec<u8> {
    let mut hasher = ChecksumHasher::new(algorithm);
    hasher.update(bytes);
    hasher.finish()
}

/// MD5 and the optional checksum, fed together.
pub(crate) struct ContentHasher {
    md5: Md5,
    checksum: Option<(ChecksumAlgorithm, ChecksumHasher)>,
}

pub(crate) struct ContentDigests {
    pub md5: [u8; 16],
    pub checksum: Option<(ChecksumAlgorithm, Vec<u8>)>,
}

impl ContentHasher {
    pub(crate) fn new(algorithm: Option<ChecksumAlgorithm>) -> Self {
        Self {
            md5: Md5::new(),
            checksum: algorithm.map(|a| (a, ChecksumHasher::new(a))),
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        if let Some((_, hasher)) = &mut self.checksum {
            hasher.update(bytes);
        }
    }

    pub(crate) fn finish(self) -> ContentDigests {
        ContentDigests {
            md5: self.md5.finalize().into(),
            checksum: self.checksum.map(|(a, h)| (a, h.finish())),
        }
    }
}

/// `"<md5 hex>"`, as S3 shows a single-part ETag.
pub(crate) fn etag_of_md5(md5: &[u8; 16]) -> String {
    format!("\"{}\"", hex::encode(md5))
}

/// The ETag without surrounding quotes (and a weak `W/` prefix), for
/// comparisons.
pub(crate) fn strip_etag(etag: &str) -> &str {
    let trimmed = etag.trim();
    let trimmed = trimmed.strip_prefix("W/").unwrap_or(trimmed);
    trimmed.trim_matches('"')
}

/// The multipart ETag `"<md5 of the binary part MD5s>-N"` from the client's
/// listed part ETags; a listed ETag that is not an MD5 → InvalidPart.
pub(crate) fn multipart_etag(part_etags: &[&str]) -> Result<String, S3Error> {
    let mut hasher = Md5::new();
    for etag in part_etags {
        let mut md5 = [0u8; 16];
        hex::decode_to_slice(strip_etag(etag), &mut md5)
            .map_err(|_| S3Error::from(ErrorCode::InvalidPart))?;
        hasher.update(md5);
    }
    let md5: [u8; 16] = hasher.finalize().into();
    Ok(format!("\"{}-{}\"", hex::encode(md5), part_etags.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_checksums_of_hello() {
        // Reference values computed with the AWS CLI / Python for "hello".
        let cases = [
            (ChecksumAlgorithm::Crc32, "NhCmhg=="),
            (ChecksumAlgorithm::Crc32c, "mnG7TA=="),
            (ChecksumAlgorithm::Sha1, "qvTGHdzF6KLavt4PO0gs2a6pQ00="),
            (
                ChecksumAlgorithm::Sha256,
                "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=",
            ),
        ];
        for (algorithm, expected) in cases {
            assert_eq!(
                base64_encode(&checksum_of(algorithm, b"hello")),
                expected,
                "{algorithm:?}"
            );
        }
        assert_eq!(checksum_of(ChecksumAlgorithm::Crc64Nvme, b"hello").len(), 8);
    }

    #[test]
    fn multipart_etag_is_md5_of_md5s() {
        let first = etag_of_md5(&Md5::digest(b"a").into());
        let second = etag_of_md5(&Md5::digest(b"b").into());
        let mut concat = Vec::new();
        concat.extend_from_slice(&Md5::digest(b"a"));
        concat.extend_from_slice(&Md5::digest(b"b"));
        let expected = format!("\"{}-2\"", hex::encode(Md5::digest(&concat)));
        assert_eq!(
            multipart_etag(&[&first, &second]).expect("valid etags"),
            expected
        );
        assert_eq!(
            multipart_etag(&["\"nothex\""]).unwrap_err().code,
            ErrorCode::InvalidPart
        );
    }

    #[test]
    fn content_md5_must_be_16_bytes() {
        assert_eq!(
            decode_content_md5("not base64!").unwrap_err().code,
            ErrorCode::InvalidDigest
        );
        assert_eq!(
            decode_content_md5("aGVsbG8=").unwrap_err().code,
            ErrorCode::InvalidDigest
        );
        assert!(decode_content_md5("XUFAKrxLKna5cZ2REBfFkg==").is_ok());
    }
}
