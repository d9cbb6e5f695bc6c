//! Raw key material: the region master key and per-object data keys. Both
//! are zeroized on drop and never printed.

use std::fmt;

use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::Zeroize;

use crate::CryptoError;

/// Bytes in every key this crate handles (AES-256).
pub(crate) const KEY_SIZE_BYTES: usize = 32;

/// The 256-bit region master key. Never logged (`Debug` is redacted).
pub struct MasterKey {
    bytes: [u8; KEY_SIZE_BYTES],
}

impl MasterKey {
    /// Parse 64 hex characters (surrounding whitespace allowed).
    pub fn from_hex(text: &str) -> Result<Self, CryptoError> {
        let trimmed = text.trim();
        if trimmed.len() != KEY_SIZE_BYTES * 2 {
            return Err(CryptoError::MalformedKey(
                "master key must be 64 hex characters",
            ));
        }
        let mut bytes = [0u8; KEY_SIZE_BYTES];
        if hex::decode_to_slice(trimmed, &mut bytes).is_err() {
            // The partially decoded bytes are key material too.
            bytes.zeroize();
            return Err(CryptoError::MalformedKey(
                "master key must be 64 hex characters",
            ));
        }
        Ok(Self { bytes })
    }

    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_SIZE_BYTES];
        OsRng.fill_bytes(&mut bytes);
        Self { bytes }
    }

    /// The key as 64 lowercase hex characters, for writing a key file. The
    /// caller owns the returned secret and must not log it.
    pub fn to_hex(&self) -> String {
        hex::encode(self.bytes)
    }

    pub(crate) fn as_bytes(&self) -> &[u8; KEY_SIZE_BYTES] {
        &self.bytes
    }

    /// The secret half of the region's join token: derived (HKDF) from the
    /// master key, so every member can check a token without storing one,
    /// and it changes only with the master key.
    pub fn join_secret(&self) -> zeroize::Zeroizing<[u8; KEY_SIZE_BYTES]> {
        self.derive(JOIN_SECRET_INFO)
    }

    /// The seed of the region CA's Ed25519 key: every node that holds the
    /// master key arrives at the same CA, so nodes given the same
    /// `COFFER_MASTER_KEY_FILE` can join without a token.
    pub fn region_ca_seed(&self) -> zeroize::Zeroizing<[u8; KEY_SIZE_BYTES]> {
        self.derive(REGION_CA_INFO)
    }

    fn derive(&self, info: &[u8]) -> zeroize::Zeroizing<[u8; KEY_SIZE_BYTES]> {
        let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(None, &self.bytes);
        let mut secret = zeroize::Zeroizing::new([0u8; KEY_SIZE_BYTES]);
        hkdf.expand(info, secret.as_mut())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        secret
    }

    /// The raw key, for handing to a joining node over mutual TLS only.
    pub fn to_bytes(&self) -> zeroize::Zeroizing<[u8; KEY_SIZE_BYTES]> {
        zeroize::Zeroizing::new(self.bytes)
    }

    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let bytes: [u8; KEY_SIZE_BYTES] = bytes
            .try_into()
            .map_err(|_| CryptoError::MalformedKey("master key must be 32 bytes"))?;
        Ok(Self { bytes })
    }
}

/// HKDF info of the join-token secret; never reused for another key.
const JOIN_SECRET_INFO: &[u8] = b"coffer/v1/join-token";
/// HKDF info of the region CA key seed.
const REGION_CA_INFO: &[u8] = b"coffer/v1/region-ca";

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(redacted)")
    }
}

/// A per-object (or per-upload) data key. Zeroized on drop.
pub struct DataKey {
    bytes: [u8; KEY_SIZE_BYTES],
}

impl DataKey {
    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_SIZE_BYTES];
        OsRng.fill_bytes(&mut bytes);
        Self { bytes }
    }

    /// Adopt existing key material, e.g. a key derived for SSE-C.
    pub fn from_bytes(bytes: [u8; KEY_SIZE_BYTES]) -> Self {
        Self { bytes }
    }

    pub(crate) fn as_bytes(&self) -> &[u8; KEY_SIZE_BYTES] {
        &self.bytes
    }
}

impl Drop for DataKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_key_round_trips_through_hex() {
        let key = MasterKey::generate();
        let text = key.to_hex();
        assert_eq!(text.len(), 64);
        let parsed = MasterKey::from_hex(&format!("  {text}\n")).expect("valid hex");
        assert_eq!(parsed.as_bytes(), key.as_bytes());
    }

    #[test]
    fn master_key_rejects_malformed_text() {
        let cases = [
            "",
            "00",
            &"0".repeat(63),
            &"0".repeat(65),
            &"g".repeat(64),
            &format!("{} {}", "0".repeat(32), "0".repeat(31)),
        ];
        for text in cases {
            assert!(
                matches!(MasterKey::from_hex(text), Err(CryptoError::MalformedKey(_))),
                "{text:?} should be rejected"
            );
        }
        // Uppercase hex is still hex.
        assert!(MasterKey::from_hex(&"AB".repeat(32)).is_ok());
    }

    #[test]
    fn debug_output_is_redacted() {
        let master = MasterKey::from_hex(&"ab".repeat(32)).expect("valid hex");
        assert_eq!(format!("{master:?}"), "MasterKey(redacted)");
        let data = DataKey::from_bytes([0xcd; 32]);
        assert_eq!(format!("{data:?}"), "DataKey(redacted)");
        assert!(!format!("{data:?}").contains("cd"));
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(
            MasterKey::generate().as_bytes(),
            MasterKey::generate().as_bytes()
        );
        assert_ne!(
            DataKey::generate().as_bytes(),
            DataKey::generate().as_bytes()
        );
    }
}
