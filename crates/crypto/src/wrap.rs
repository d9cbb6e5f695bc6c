//! Envelope encryption with keys derived from the region master key: DEKs
//! (the SSE-S3 key) and secrets at rest (access-key secrets, KMS material).
//!
//! Wrapped format, version 1: `version (1) || nonce (12) || AES-256-GCM
//! ciphertext || tag (16)`, with the caller's `context` as AAD, so a wrapped
//! value cannot be moved to another object or account.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use hkdf::Hkdf;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroize;

use crate::keys::{DataKey, MasterKey, KEY_SIZE_BYTES};
use crate::CryptoError;

/// The first byte of every wrapped value; bump it when the format changes
/// and keep reading the old one.
pub const WRAP_FORMAT_VERSION: u8 = 1;

const NONCE_SIZE_BYTES: usize = 12;
const TAG_SIZE_BYTES: usize = 16;
const HEADER_SIZE_BYTES: usize = 1 + NONCE_SIZE_BYTES;

// Distinct HKDF info strings keep the two derived keys independent: a value
// wrapped as a secret can never be unwrapped as a data key.
const SSE_S3_WRAP_INFO: &[u8] = b"coffer/v1/sse-s3-wrap";
const SECRET_WRAP_INFO: &[u8] = b"coffer/v1/secret-wrap";

/// Keys derived from the master key: the region-managed SSE-S3 key that wraps
/// DEKs, and the key that wraps access-key secrets.
pub struct RegionKeys {
    data_key_wrapper: Aes256Gcm,
    secret_wrapper: Aes256Gcm,
}

impl RegionKeys {
    pub fn new(master: &MasterKey) -> Self {
        let hkdf = Hkdf::<Sha256>::new(None, master.as_bytes());
        Self {
            data_key_wrapper: derive_cipher(&hkdf, SSE_S3_WRAP_INFO),
            secret_wrapper: derive_cipher(&hkdf, SECRET_WRAP_INFO),
        }
    }

    /// Wrap a DEK; `context` (e.g. bucket/key/data id) is bound as AAD.
    pub fn wrap_data_key(&self, key: &DataKey, context: &[u8]) -> Vec<u8> {
        seal(&self.data_key_wrapper, key.as_bytes(), context)
    }

    pub fn unwrap_data_key(&self, wrapped: &[u8], context: &[u8]) -> Result<DataKey, CryptoError> {
        let mut plaintext = open(&self.data_key_wrapper, wrapped, context)?;
        let result = <[u8; KEY_SIZE_BYTES]>::try_from(plaintext.as_slice())
            .map(DataKey::from_bytes)
            .map_err(|_| CryptoError::MalformedKey("wrapped data key has the wrong length"));
        plaintext.zeroize();
        result
    }

    /// Wrap a secret such as an access key's secret.
    pub fn wrap_secret(&self, secret: &[u8], context: &[u8]) -> Vec<u8> {
        seal(&self.secret_wrapper, secret, context)
    }

    pub fn unwrap_secret(&self, wrapped: &[u8], context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        open(&self.secret_wrapper, wrapped, context)
    }
}

impl std::fmt::Debug for RegionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RegionKeys(redacted)")
    }
}

fn derive_cipher(hkdf: &Hkdf<Sha256>, info: &[u8]) -> Aes256Gcm {
    let mut key = [0u8; KEY_SIZE_BYTES];
    hkdf.expand(info, &mut key)
        .expect("32 bytes is far below HKDF-SHA256's 8160-byte output limit");
    let cipher = Aes256Gcm::new(&key.into());
    key.zeroize();
    cipher
}

fn seal(cipher: &Aes256Gcm, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_SIZE_BYTES];
    // Random 96-bit nonces: wrap operations per region key stay far below
    // the 2^32 bound where collisions become a concern.
    OsRng.fill_bytes(&mut nonce);
    let mut out = Vec::with_capacity(HEADER_SIZE_BYTES + plaintext.len() + TAG_SIZE_BYTES);
    out.push(WRAP_FORMAT_VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = cipher
        .encrypt_in_place_detached(
            Nonce::from_slice(&nonce),
            context,
            &mut out[HEADER_SIZE_BYTES..],
        )
        .expect("AES-GCM only refuses plaintexts over 64 GiB; keys and secrets are small");
    out.extend_from_slice(&tag);
    out
}

fn open(cipher: &Aes256Gcm, wrapped: &[u8], context: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if wrapped.len() < HEADER_SIZE_BYTES + TAG_SIZE_BYTES {
        return Err(CryptoError::Authentication);
    }
    if wrapped[0] != WRAP_FORMAT_VERSION {
        return Err(CryptoError::Authentication);
    }
    let nonce = Nonce::from_slice(&wrapped[1..HEADER_SIZE_BYTES]);
    let mut buffer = wrapped[HEADER_SIZE_BYTES..].to_vec();
    match cipher.decrypt_in_place(nonce, context, &mut buffer) {
        Ok(()) => Ok(buffer),
        Err(_) => Err(CryptoError::Authentication),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> RegionKeys {
        RegionKeys::new(&MasterKey::from_hex(&"11".repeat(32)).expect("valid hex"))
    }

    #[test]
    fn data_key_round_trips() {
        let keys = keys();
        let key = DataKey::generate();
        let wrapped = keys.wrap_data_key(&key, b"bucket/key");
        assert_eq!(wrapped.len(), 1 + 12 + 32 + 16);
        assert_eq!(wrapped[0], WRAP_FORMAT_VERSION);
        let unwrapped = keys
            .unwrap_data_key(&wrapped, b"bucket/key")
            .expect("same context");
        assert_eq!(unwrapped.as_bytes(), key.as_bytes());
    }

    #[test]
    fn wrapping_twice_uses_fresh_nonces() {
        let keys = keys();
        let key = DataKey::generate();
        assert_ne!(
            keys.wrap_data_key(&key, b"c"),
            keys.wrap_data_key(&key, b"c")
        );
    }

    #[test]
    fn secret_round_trips_including_empty() {
        let keys = keys();
        for secret in [&b""[..], b"s", b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"] {
            let wrapped = keys.wrap_secret(secret, b"AKIA");
            assert_eq!(
                keys.unwrap_secret(&wrapped, b"AKIA").expect("same context"),
                secret
            );
        }
    }

    #[test]
    fn wrong_context_key_or_purpose_fails() {
        let keys = keys();
        let other = RegionKeys::new(&MasterKey::from_hex(&"22".repeat(32)).expect("valid hex"));
        let key = DataKey::generate();
        let wrapped = keys.wrap_data_key(&key, b"bucket/a");
        assert_eq!(
            keys.unwrap_data_key(&wrapped, b"bucket/b").err(),
            Some(CryptoError::Authentication)
        );
        assert_eq!(
            other.unwrap_data_key(&wrapped, b"bucket/a").err(),
            Some(CryptoError::Authentication)
        );
        // The secret key is a different derived key.
        assert_eq!(
            keys.unwrap_secret(&wrapped, b"bucket/a"),
            Err(CryptoError::Authentication)
        );
        let secret = keys.wrap_secret(&[7u8; 32], b"bucket/a");
        assert_eq!(
            keys.unwrap_data_key(&secret, b"bucket/a").err(),
            Some(CryptoError::Authentication)
        );
    }

    #[test]
    fn malformed_input_is_refused_without_panicking() {
        let keys = keys();
        let wrapped = keys.wrap_secret(b"secret", b"ctx");
        for length in 0..wrapped.len() {
            assert_eq!(
                keys.unwrap_secret(&wrapped[..length], b"ctx"),
                Err(CryptoError::Authentication),
                "truncated to {length}"
            );
        }
        for position in 0..wrapped.len() {
            let mut flipped = wrapped.clone();
            flipped[position] ^= 0x01;
            assert_eq!(
                keys.unwrap_secret(&flipped, b"ctx"),
                Err(CryptoError::Authentication),
                "flipped byte {position}"
            );
        }
    }

    #[test]
    fn same_master_key_derives_same_keys() {
        let wrapped = keys().wrap_secret(b"persisted", b"ctx");
        assert_eq!(
            keys().unwrap_secret(&wrapped, b"ctx").expect("same master"),
            b"persisted"
        );
    }
}
