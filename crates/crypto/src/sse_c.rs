//! SSE-C (DESIGN.md §6): the customer's key never touches disk. Per object
//! a random salt is stored; the DEK is HKDF-SHA256(customer key, salt), and
//! an HMAC of the key (the verifier) is stored so a wrong key is refused
//! before any data is read.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::keys::{DataKey, KEY_SIZE_BYTES};
use crate::CryptoError;

/// Bytes of the random per-object salt.
pub const SSE_C_SALT_SIZE_BYTES: usize = 32;
/// Bytes of the stored key verifier (HMAC-SHA256).
pub const SSE_C_VERIFIER_SIZE_BYTES: usize = 32;

const DATA_KEY_INFO: &[u8] = b"coffer/v1/sse-c-dek";
const VERIFIER_LABEL: &[u8] = b"coffer/v1/sse-c-verify";

/// A customer-provided 256-bit key (`x-amz-server-side-encryption-customer-key`,
/// already base64-decoded). Zeroized on drop, never printed.
pub struct CustomerKey {
    bytes: [u8; KEY_SIZE_BYTES],
}

impl CustomerKey {
    /// Accepts exactly 32 bytes, as AWS requires for AES256.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let bytes = <[u8; KEY_SIZE_BYTES]>::try_from(bytes)
            .map_err(|_| CryptoError::MalformedKey("SSE-C key must be 256 bits"))?;
        Ok(Self { bytes })
    }

    /// A fresh random salt for a new object.
    pub fn generate_salt() -> [u8; SSE_C_SALT_SIZE_BYTES] {
        let mut salt = [0u8; SSE_C_SALT_SIZE_BYTES];
        OsRng.fill_bytes(&mut salt);
        salt
    }

    /// The object's DEK for this key and salt.
    pub fn data_key(&self, salt: &[u8]) -> DataKey {
        let mut bytes = [0u8; KEY_SIZE_BYTES];
        Hkdf::<Sha256>::new(Some(salt), &self.bytes)
            .expand(DATA_KEY_INFO, &mut bytes)
            .expect("32 bytes is far below HKDF-SHA256's 8160-byte output limit");
        let key = DataKey::from_bytes(bytes);
        bytes.zeroize();
        key
    }

    /// What to store next to the salt to recognise this key later.
    pub fn verifier(&self, salt: &[u8]) -> [u8; SSE_C_VERIFIER_SIZE_BYTES] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.bytes)
            .expect("HMAC accepts keys of any length");
        mac.update(VERIFIER_LABEL);
        mac.update(salt);
        mac.finalize().into_bytes().into()
    }

    /// Check this key against a stored verifier, in constant time.
    /// A mismatch is `Authentication` (S3 answers 403 AccessDenied).
    pub fn verify(&self, salt: &[u8], stored_verifier: &[u8]) -> Result<(), CryptoError> {
        let expected = self.verifier(salt);
        if bool::from(expected.as_slice().ct_eq(stored_verifier)) {
            Ok(())
        } else {
            Err(CryptoError::Authentication)
        }
    }
}

impl Drop for CustomerKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl std::fmt::Debug for CustomerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomerKey(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PartCipher;
    use coffer_types::DataId;

    #[test]
    fn right_key_verifies_and_wrong_key_is_refused() {
        let key = CustomerKey::from_slice(&[3; 32]).expect("32 bytes");
        let salt = CustomerKey::generate_salt();
        let verifier = key.verifier(&salt);
        assert_eq!(key.verify(&salt, &verifier), Ok(()));
        let wrong = CustomerKey::from_slice(&[4; 32]).expect("32 bytes");
        assert_eq!(
            wrong.verify(&salt, &verifier),
            Err(CryptoError::Authentication)
        );
        assert_eq!(
            key.verify(&[0; 32], &verifier),
            Err(CryptoError::Authentication)
        );
        assert_eq!(
            key.verify(&salt, &verifier[..31]),
            Err(CryptoError::Authentication)
        );
        assert_eq!(key.verify(&salt, &[]), Err(CryptoError::Authentication));
    }

    #[test]
    fn data_key_depends_on_key_and_salt() {
        let key = CustomerKey::from_slice(&[3; 32]).expect("32 bytes");
        let data_id = DataId([1; 16]);
        let mut sealed = b"secret".to_vec();
        PartCipher::new(&key.data_key(&[1; 32]), data_id, 1).seal_segment(0, true, &mut sealed);

        let mut same = sealed.clone();
        PartCipher::new(&key.data_key(&[1; 32]), data_id, 1)
            .open_segment(0, true, &mut same)
            .expect("same key and salt");
        assert_eq!(same, b"secret");

        let mut other_salt = sealed.clone();
        let result = PartCipher::new(&key.data_key(&[2; 32]), data_id, 1).open_segment(
            0,
            true,
            &mut other_salt,
        );
        assert_eq!(result, Err(CryptoError::Authentication));
    }

    #[test]
    fn only_256_bit_keys_are_accepted() {
        assert!(CustomerKey::from_slice(&[0; 31]).is_err());
        assert!(CustomerKey::from_slice(&[0; 33]).is_err());
        assert_eq!(
            format!("{:?}", CustomerKey::from_slice(&[9; 32]).expect("32")),
            "CustomerKey(redacted)"
        );
    }
}
