//! Opaque payloads: a format byte, then bincode of a serde type (openraft's
//! messages, coffer-meta's command batches). The format byte lets a later
//! release change the encoding without misreading an older peer.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

const FORMAT_V1: u8 = 1;

pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Bytes, tonic::Status> {
    let mut out = vec![FORMAT_V1];
    bincode::serialize_into(&mut out, value)
        .map_err(|error| tonic::Status::internal(format!("encode: {error}")))?;
    Ok(Bytes::from(out))
}

pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, tonic::Status> {
    use bincode::Options;
    match bytes.split_first() {
        Some((&FORMAT_V1, rest)) => bincode::DefaultOptions::new()
            .with_fixint_encoding()
            .allow_trailing_bytes()
            .with_limit(crate::MESSAGE_BYTES_MAX as u64)
            .deserialize(rest)
            .map_err(|error| tonic::Status::invalid_argument(format!("decode: {error}"))),
        Some((format, _)) => Err(tonic::Status::invalid_argument(format!(
            "unknown payload format {format}"
        ))),
        None => Err(tonic::Status::invalid_argument("empty payload")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let value = (7u64, "seven".to_owned(), vec![1u8, 2, 3]);
        let bytes = encode(&value).expect("encode");
        assert_eq!(bytes[0], FORMAT_V1);
        assert_eq!(
            decode::<(u64, String, Vec<u8>)>(&bytes).expect("decode"),
            value
        );
        assert!(decode::<u64>(&[]).is_err());
        assert!(decode::<u64>(&[9, 0, 0]).is_err());
        // A length prefix far beyond the limit is refused, not allocated.
        let mut huge = vec![FORMAT_V1];
        huge.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode::<Vec<u8>>(&huge).is_err());
    }
}
