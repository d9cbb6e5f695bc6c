//! Property tests of the segment format: sealing then opening a whole part
//! returns the plaintext, a range read through `segment_span` returns the
//! right slice, and every kind of tampering (flipped byte, swapped segments,
//! dropped final segment, truncated segment) is detected.

use coffer_crypto::{
    sealed_len, segment_count, segment_span, CryptoError, DataKey, PartCipher,
    SEGMENT_OVERHEAD_BYTES,
};
use coffer_types::limits::SEGMENT_SIZE_BYTES;
use coffer_types::DataId;
use proptest::prelude::*;

const PLAINTEXT_BYTES_MAX: usize = 600 * 1024;

/// Deterministic filler so a case is reproducible from its seed without
/// asking proptest to generate (and shrink) 600 KiB vectors.
fn plaintext(length: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn seal_part(cipher: &PartCipher, plaintext: &[u8]) -> Vec<Vec<u8>> {
    let count = plaintext.chunks(SEGMENT_SIZE_BYTES).count();
    plaintext
        .chunks(SEGMENT_SIZE_BYTES)
        .enumerate()
        .map(|(index, chunk)| {
            let mut buffer = Vec::with_capacity(chunk.len() + SEGMENT_OVERHEAD_BYTES);
            buffer.extend_from_slice(chunk);
            cipher.seal_segment(index as u64, index + 1 == count, &mut buffer);
            buffer
        })
        .collect()
}

/// Opens `segments` as a complete part: the last one given is opened as final.
fn open_part(cipher: &PartCipher, segments: &[Vec<u8>]) -> Result<Vec<u8>, CryptoError> {
    let mut plaintext = Vec::new();
    for (index, segment) in segments.iter().enumerate() {
        let mut buffer = segment.clone();
        cipher.open_segment(index as u64, index + 1 == segments.len(), &mut buffer)?;
        plaintext.extend_from_slice(&buffer);
    }
    Ok(plaintext)
}

fn cipher(key_byte: u8, data_id: [u8; 16], part_number: u32) -> PartCipher {
    PartCipher::new(
        &DataKey::from_bytes([key_byte; 32]),
        DataId(data_id),
        part_number,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sealing_then_opening_returns_the_plaintext(
        length in 0..PLAINTEXT_BYTES_MAX,
        seed in any::<u64>(),
        key_byte in any::<u8>(),
        data_id in any::<[u8; 16]>(),
        part_number in 1u32..=10_000,
    ) {
        let cipher = cipher(key_byte, data_id, part_number);
        let plaintext = plaintext(length, seed);
        let segments = seal_part(&cipher, &plaintext);
        prop_assert_eq!(segments.len() as u64, segment_count(length as u64));
        let total: usize = segments.iter().map(Vec::len).sum();
        prop_assert_eq!(total as u64, sealed_len(length as u64));
        prop_assert_eq!(open_part(&cipher, &segments)?, plaintext);
    }

    #[test]
    fn a_range_read_opens_only_its_segments(
        length in 1..PLAINTEXT_BYTES_MAX,
        seed in any::<u64>(),
        start_fraction in 0.0f64..1.0,
        range_length in 1u64..(300 * 1024),
    ) {
        let cipher = cipher(7, [3; 16], 1);
        let plaintext = plaintext(length, seed);
        let sealed: Vec<u8> = seal_part(&cipher, &plaintext).concat();
        let start = ((length as f64) * start_fraction) as u64;
        let span = segment_span(length as u64, start, range_length).expect("start < length");

        let window = &sealed[span.sealed_offset_bytes as usize..][..span.sealed_length_bytes as usize];
        let mut opened = Vec::new();
        let sealed_segment_bytes = SEGMENT_SIZE_BYTES + SEGMENT_OVERHEAD_BYTES;
        for (offset, chunk) in window.chunks(sealed_segment_bytes).enumerate() {
            let index = span.first_segment_index + offset as u64;
            let is_final = span.includes_final_segment && offset as u64 + 1 == span.segment_count;
            let mut buffer = chunk.to_vec();
            cipher.open_segment(index, is_final, &mut buffer).map_err(|e| TestCaseError::fail(e.to_string()))?;
            opened.extend_from_slice(&buffer);
        }
        let end = (start + range_length).min(length as u64);
        let got = &opened[span.skip_bytes as usize..][..span.plaintext_length_bytes as usize];
        prop_assert_eq!(got, &plaintext[start as usize..end as usize]);
    }

    #[test]
    fn a_flipped_byte_is_detected(
        length in 1..PLAINTEXT_BYTES_MAX,
        seed in any::<u64>(),
        position_fraction in 0.0f64..1.0,
        mask in 1u8..=255,
    ) {
        let cipher = cipher(1, [9; 16], 2);
        let mut segments = seal_part(&cipher, &plaintext(length, seed));
        let total: usize = segments.iter().map(Vec::len).sum();
        let mut position = ((total as f64) * position_fraction) as usize;
        for segment in &mut segments {
            if position < segment.len() {
                segment[position] ^= mask;
                break;
            }
            position -= segment.len();
        }
        prop_assert_eq!(open_part(&cipher, &segments), Err(CryptoError::Authentication));
    }

    #[test]
    fn swapped_segments_are_detected(
        length in (SEGMENT_SIZE_BYTES + 1)..PLAINTEXT_BYTES_MAX,
        seed in any::<u64>(),
        first in any::<prop::sample::Index>(),
        second in any::<prop::sample::Index>(),
    ) {
        let cipher = cipher(2, [8; 16], 3);
        let mut segments = seal_part(&cipher, &plaintext(length, seed));
        let first = first.index(segments.len());
        let mut second = second.index(segments.len());
        if first == second {
            second = (first + 1) % segments.len();
        }
        segments.swap(first, second);
        prop_assert_eq!(open_part(&cipher, &segments), Err(CryptoError::Authentication));
    }

    #[test]
    fn a_dropped_final_segment_is_detected(
        length in (SEGMENT_SIZE_BYTES + 1)..PLAINTEXT_BYTES_MAX,
        seed in any::<u64>(),
    ) {
        let cipher = cipher(3, [7; 16], 4);
        let mut segments = seal_part(&cipher, &plaintext(length, seed));
        segments.pop();
        prop_assert_eq!(open_part(&cipher, &segments), Err(CryptoError::Authentication));
    }

    #[test]
    fn a_truncated_segment_is_detected(
        length in 1..PLAINTEXT_BYTES_MAX,
        seed in any::<u64>(),
        which in any::<prop::sample::Index>(),
        cut_fraction in 0.0f64..1.0,
    ) {
        let cipher = cipher(4, [6; 16], 5);
        let mut segments = seal_part(&cipher, &plaintext(length, seed));
        let which = which.index(segments.len());
        let segment_len = segments[which].len();
        let cut_bytes = 1 + ((segment_len - 1) as f64 * cut_fraction) as usize;
        segments[which].truncate(segment_len - cut_bytes);
        prop_assert_eq!(open_part(&cipher, &segments), Err(CryptoError::Authentication));
    }

    #[test]
    fn segments_do_not_move_between_parts(
        length in 1..(2 * SEGMENT_SIZE_BYTES),
        seed in any::<u64>(),
        other_data_id in any::<[u8; 16]>(),
    ) {
        prop_assume!(other_data_id != [5; 16]);
        let plaintext = plaintext(length, seed);
        let segments = seal_part(&cipher(5, [5; 16], 1), &plaintext);
        prop_assert_eq!(
            open_part(&cipher(5, other_data_id, 1), &segments),
            Err(CryptoError::Authentication)
        );
        prop_assert_eq!(
            open_part(&cipher(5, [5; 16], 2), &segments),
            Err(CryptoError::Authentication)
        );
    }
}
