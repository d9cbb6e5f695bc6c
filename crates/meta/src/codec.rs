//! Encoding of every value this crate persists (records, Raft log entries,
//! votes, snapshots): one format-version byte, then bincode. A value written
//! by a newer format, or a damaged one, decodes to `MetaError::Storage`
//! rather than a panic, so a bad disk never takes the process down silently.

use bincode::Options;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::MetaError;

/// The format of every value written today. A change to any persisted type
/// gets a new version here and a migration in `decode`.
pub const FORMAT_VERSION_V1: u8 = 1;

/// Encode `value` behind the current format version.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, MetaError> {
    let mut bytes = vec![FORMAT_VERSION_V1];
    bincode::serialize_into(&mut bytes, value)
        .map_err(|error| MetaError::Storage(format!("encode: {error}")))?;
    Ok(bytes)
}

/// Decode a value written by `encode`, checking its format version.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, MetaError> {
    match bytes.split_first() {
        Some((&FORMAT_VERSION_V1, body)) => {
            // `bincode::serialize`'s format, but a value with bytes left over
            // is refused: it was written as some other type.
            let options = bincode::DefaultOptions::new()
                .with_fixint_encoding()
                .reject_trailing_bytes();
            options
                .deserialize(body)
                .map_err(|error| MetaError::Storage(format!("decode: {error}")))
        }
        Some((version, _)) => Err(MetaError::Storage(format!(
            "unknown format version {version}"
        ))),
        None => Err(MetaError::Storage("decode: empty value".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_version_check() {
        let value = (42u64, "text".to_owned());
        let bytes = encode(&value).expect("encoding a tuple cannot fail");
        assert_eq!(bytes[0], FORMAT_VERSION_V1);
        assert_eq!(decode::<(u64, String)>(&bytes).expect("round trip"), value);

        let mut future = bytes.clone();
        future[0] = 2;
        assert!(matches!(
            decode::<(u64, String)>(&future),
            Err(MetaError::Storage(_))
        ));
        assert!(matches!(
            decode::<(u64, String)>(&[]),
            Err(MetaError::Storage(_))
        ));
        assert!(matches!(
            decode::<(u64, String)>(&bytes[..4]),
            Err(MetaError::Storage(_))
        ));
        // A value of another type with bytes left over is refused.
        let optional = encode(&Some(7u64)).expect("encoding cannot fail");
        assert!(matches!(
            decode::<u64>(&optional),
            Err(MetaError::Storage(_))
        ));
    }
}
