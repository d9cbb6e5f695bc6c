//! The streaming segment format (DESIGN.md §6), version 1.
//!
//! Per part: key = HKDF-SHA256(ikm = DEK, no salt, info = "coffer/v1/segment"
//! || data id (16) || part number (u32 BE)). Per segment: nonce = part number
//! (u32 BE) || segment index (u64 BE); AAD = format version || data id ||
//! part number (u32 BE) || segment index (u64 BE) || final flag (1 byte).
//! The nonce is unique per (key, segment) because each part has its own key
//! and indexes never repeat inside a part.
//!
//! Segments are sealed with ring's AES-256-GCM (the same construction as the
//! `aes-gcm` crate, bit for bit — `the_format_is_stable` pins it): ring's
//! stitched AES-NI/CLMUL code seals several times faster, and sealing sits
//! on every byte of every PUT (bench/RESULTS.md, "profile").

use coffer_types::DataId;
use hkdf::Hkdf;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use sha2::Sha256;
use zeroize::Zeroize;

use crate::keys::{DataKey, KEY_SIZE_BYTES};
use crate::CryptoError;

/// Bound into every segment's AAD; the metadata that names a part's data
/// should record it so a future format can be told apart.
pub const SEGMENT_FORMAT_VERSION: u8 = 1;

const SEGMENT_KEY_INFO: &[u8] = b"coffer/v1/segment";
const KEY_INFO_SIZE_BYTES: usize = SEGMENT_KEY_INFO.len() + 16 + 4;
const AAD_SIZE_BYTES: usize = 1 + 16 + 4 + 8 + 1;

/// Seals and opens the segments of one part.
pub struct PartCipher {
    // Holding the expanded cipher means the key schedule runs once per part,
    // not once per segment. "Less safe" only because ring cannot see that
    // our nonces never repeat; the module comment says why they do not.
    cipher: LessSafeKey,
    data_id: DataId,
    part_number: u32,
}

impl PartCipher {
    pub fn new(key: &DataKey, data_id: DataId, part_number: u32) -> Self {
        let mut info = [0u8; KEY_INFO_SIZE_BYTES];
        let (label, rest) = info.split_at_mut(SEGMENT_KEY_INFO.len());
        label.copy_from_slice(SEGMENT_KEY_INFO);
        rest[..16].copy_from_slice(&data_id.0);
        rest[16..].copy_from_slice(&part_number.to_be_bytes());

        let mut part_key = [0u8; KEY_SIZE_BYTES];
        Hkdf::<Sha256>::new(None, key.as_bytes())
            .expand(&info, &mut part_key)
            .expect("32 bytes is far below HKDF-SHA256's 8160-byte output limit");
        let cipher = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &part_key).expect("HKDF produced a 32-byte AES-256 key"),
        );
        part_key.zeroize();
        Self {
            cipher,
            data_id,
            part_number,
        }
    }

    /// Seal one segment (at most 64 KiB) in place, appending the tag.
    ///
    /// Reserve `SEGMENT_OVERHEAD_BYTES` of spare capacity to avoid a
    /// reallocation when the tag is appended.
    pub fn seal_segment(&self, segment_index: u64, is_final: bool, buffer: &mut Vec<u8>) {
        debug_assert!(
            buffer.len() <= coffer_types::limits::SEGMENT_SIZE_BYTES,
            "segments hold at most SEGMENT_SIZE_BYTES of plaintext"
        );
        self.seal_tail(segment_index, is_final, buffer, 0);
    }

    /// Append `plaintext` to `out` sealed as one segment, tag included: one
    /// copy of the data instead of copy-then-seal-then-copy.
    pub fn seal_segment_into(
        &self,
        segment_index: u64,
        is_final: bool,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) {
        debug_assert!(
            plaintext.len() <= coffer_types::limits::SEGMENT_SIZE_BYTES,
            "segments hold at most SEGMENT_SIZE_BYTES of plaintext"
        );
        let start = out.len();
        out.extend_from_slice(plaintext);
        self.seal_tail(segment_index, is_final, out, start);
    }

    /// Seal `buffer[start..]` in place and append its tag.
    fn seal_tail(&self, segment_index: u64, is_final: bool, buffer: &mut Vec<u8>, start: usize) {
        let nonce = Nonce::assume_unique_for_key(self.nonce(segment_index));
        let aad = self.aad(segment_index, is_final);
        let tag = self
            .cipher
            .seal_in_place_separate_tag(nonce, Aad::from(aad), &mut buffer[start..])
            .expect("AES-GCM only refuses plaintexts over 64 GiB; a segment is 64 KiB");
        buffer.extend_from_slice(tag.as_ref());
    }

    /// Open one sealed segment in place, removing the tag.
    pub fn open_segment(
        &self,
        segment_index: u64,
        is_final: bool,
        buffer: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        // Refuses buffers shorter than a tag without panicking. On failure
        // ring zeroes what it decrypted, so no unauthenticated plaintext
        // remains; callers discard the buffer.
        let plaintext_length = self.open_segment_in_place(segment_index, is_final, buffer)?;
        buffer.truncate(plaintext_length);
        Ok(())
    }

    /// Open one sealed segment in place within a larger buffer: the
    /// plaintext ends up at the front of `sealed`; returns its length.
    /// Lets a reader decrypt a run of segments in the buffer it read them
    /// into, without a copy per segment.
    pub fn open_segment_in_place(
        &self,
        segment_index: u64,
        is_final: bool,
        sealed: &mut [u8],
    ) -> Result<usize, CryptoError> {
        let nonce = Nonce::assume_unique_for_key(self.nonce(segment_index));
        let aad = self.aad(segment_index, is_final);
        self.cipher
            .open_in_place(nonce, Aad::from(aad), sealed)
            .map(|plaintext| plaintext.len())
            .map_err(|_| CryptoError::Authentication)
    }

    pub fn data_id(&self) -> DataId {
        self.data_id
    }

    pub fn part_number(&self) -> u32 {
        self.part_number
    }

    fn nonce(&self, segment_index: u64) -> [u8; 12] {
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&self.part_number.to_be_bytes());
        nonce[4..].copy_from_slice(&segment_index.to_be_bytes());
        nonce
    }

    fn aad(&self, segment_index: u64, is_final: bool) -> [u8; AAD_SIZE_BYTES] {
        let mut aad = [0u8; AAD_SIZE_BYTES];
        aad[0] = SEGMENT_FORMAT_VERSION;
        aad[1..17].copy_from_slice(&self.data_id.0);
        aad[17..21].copy_from_slice(&self.part_number.to_be_bytes());
        aad[21..29].copy_from_slice(&segment_index.to_be_bytes());
        aad[29] = u8::from(is_final);
        aad
    }
}

impl std::fmt::Debug for PartCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartCipher")
            .field("data_id", &self.data_id)
            .field("part_number", &self.part_number)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA_ID: DataId = DataId([0x42; 16]);

    fn sealed(cipher: &PartCipher, index: u64, is_final: bool, plaintext: &[u8]) -> Vec<u8> {
        let mut buffer = plaintext.to_vec();
        cipher.seal_segment(index, is_final, &mut buffer);
        buffer
    }

    #[test]
    fn round_trip_grows_by_the_tag() {
        let cipher = PartCipher::new(&DataKey::from_bytes([1; 32]), DATA_ID, 1);
        for plaintext in [&b""[..], b"x", &[9u8; 65_536][..]] {
            let mut buffer = sealed(&cipher, 3, true, plaintext);
            assert_eq!(
                buffer.len(),
                plaintext.len() + crate::SEGMENT_OVERHEAD_BYTES
            );
            if !plaintext.is_empty() {
                assert_ne!(&buffer[..plaintext.len()], plaintext, "ciphertext differs");
            }
            cipher
                .open_segment(3, true, &mut buffer)
                .expect("authentic");
            assert_eq!(buffer, plaintext);
        }
    }

    #[test]
    fn the_format_is_stable() {
        // A fixed vector: if this changes, data written earlier can no longer
        // be read. Bump SEGMENT_FORMAT_VERSION instead of changing it.
        let cipher = PartCipher::new(&DataKey::from_bytes([1; 32]), DATA_ID, 7);
        let buffer = sealed(&cipher, 2, false, b"coffer");
        let again = sealed(
            &PartCipher::new(&DataKey::from_bytes([1; 32]), DATA_ID, 7),
            2,
            false,
            b"coffer",
        );
        assert_eq!(
            buffer, again,
            "sealing is deterministic for the same inputs"
        );
        assert_eq!(hex::encode(&buffer), EXPECTED_VECTOR);
    }

    // Computed independently with Python's `cryptography` package (HKDF-SHA256
    // and AESGCM) from the format described at the top of this file.
    const EXPECTED_VECTOR: &str = "9b967855878d5a0bfbc36ea83d3642c2c5e62e231689";

    #[test]
    fn every_binding_is_checked() {
        let key = DataKey::from_bytes([1; 32]);
        let cipher = PartCipher::new(&key, DATA_ID, 1);
        let buffer = sealed(&cipher, 5, false, b"hello segment");
        let attempts: [(&str, PartCipher, u64, bool); 5] = [
            ("index", PartCipher::new(&key, DATA_ID, 1), 6, false),
            ("final flag", PartCipher::new(&key, DATA_ID, 1), 5, true),
            ("part", PartCipher::new(&key, DATA_ID, 2), 5, false),
            (
                "data id",
                PartCipher::new(&key, DataId([0x43; 16]), 1),
                5,
                false,
            ),
            (
                "key",
                PartCipher::new(&DataKey::from_bytes([2; 32]), DATA_ID, 1),
                5,
                false,
            ),
        ];
        for (what, other, index, is_final) in attempts {
            let mut copy = buffer.clone();
            assert_eq!(
                other.open_segment(index, is_final, &mut copy),
                Err(CryptoError::Authentication),
                "wrong {what} must fail"
            );
            // No unauthenticated plaintext is left behind for a careless caller.
            assert!(
                !copy.windows(13).any(|window| window == b"hello segment"),
                "a failed open must not leave the plaintext in the buffer"
            );
        }
    }

    #[test]
    fn sealing_into_a_buffer_appends_the_same_bytes() {
        let cipher = PartCipher::new(&DataKey::from_bytes([4; 32]), DATA_ID, 2);
        let mut out = b"prefix".to_vec();
        cipher.seal_segment_into(5, false, b"first", &mut out);
        cipher.seal_segment_into(6, true, b"second", &mut out);
        let mut expected = b"prefix".to_vec();
        expected.extend(sealed(&cipher, 5, false, b"first"));
        expected.extend(sealed(&cipher, 6, true, b"second"));
        assert_eq!(out, expected);
    }

    #[test]
    fn opening_in_place_leaves_the_plaintext_in_front() {
        let cipher = PartCipher::new(&DataKey::from_bytes([5; 32]), DATA_ID, 3);
        let mut buffer = sealed(&cipher, 9, true, b"in place");
        let length = cipher.open_segment_in_place(9, true, &mut buffer).unwrap();
        assert_eq!(&buffer[..length], b"in place");
        let mut tampered = sealed(&cipher, 9, true, b"in place");
        tampered[0] ^= 1;
        assert_eq!(
            cipher.open_segment_in_place(9, true, &mut tampered),
            Err(CryptoError::Authentication)
        );
    }

    #[test]
    fn short_buffers_fail_cleanly() {
        let cipher = PartCipher::new(&DataKey::from_bytes([1; 32]), DATA_ID, 1);
        for length in 0..=16 {
            let mut buffer = vec![0u8; length];
            assert_eq!(
                cipher.open_segment(0, true, &mut buffer),
                Err(CryptoError::Authentication)
            );
        }
    }
}
