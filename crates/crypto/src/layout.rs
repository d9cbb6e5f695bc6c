//! Pure arithmetic that maps plaintext lengths and ranges onto the sealed
//! (ciphertext) layout, so a range read fetches and opens only the segments
//! it needs. Every function is total: no panics, no overflow (results
//! saturate or return `None` for impossible inputs).
//!
//! Layout of a sealed part: segment `i` holds plaintext bytes
//! `i * 64 KiB ..` and sits at sealed offset `i * (64 KiB + 16)`; every
//! segment but the last is full; a zero-length part has no segments.

use coffer_types::limits::SEGMENT_SIZE_BYTES;

use crate::SEGMENT_OVERHEAD_BYTES;

const SEGMENT_BYTES: u64 = SEGMENT_SIZE_BYTES as u64;
const OVERHEAD_BYTES: u64 = SEGMENT_OVERHEAD_BYTES as u64;

/// Bytes of one full sealed segment (64 KiB of plaintext plus its tag).
pub const SEALED_SEGMENT_SIZE_BYTES: u64 = SEGMENT_BYTES + OVERHEAD_BYTES;

/// Segments needed for `plaintext_len` bytes (zero for an empty input).
pub fn segment_count(plaintext_len: u64) -> u64 {
    plaintext_len.div_ceil(SEGMENT_BYTES)
}

/// Sealed size of `plaintext_len` bytes: the plaintext plus one tag per
/// segment. Saturates at `u64::MAX` (far beyond any object size).
pub fn sealed_len(plaintext_len: u64) -> u64 {
    plaintext_len.saturating_add(segment_count(plaintext_len).saturating_mul(OVERHEAD_BYTES))
}

/// The plaintext size that seals to exactly `sealed_len` bytes, or `None`
/// when no plaintext does (a trailing piece too short to hold data and tag).
pub fn plaintext_len(sealed_len: u64) -> Option<u64> {
    let full_segments = sealed_len / SEALED_SEGMENT_SIZE_BYTES;
    let remainder = sealed_len % SEALED_SEGMENT_SIZE_BYTES;
    let full_bytes = full_segments * SEGMENT_BYTES;
    match remainder {
        0 => Some(full_bytes),
        // A segment is never empty, so a tail of 16 bytes or less is damage.
        r if r <= OVERHEAD_BYTES => None,
        r => Some(full_bytes + (r - OVERHEAD_BYTES)),
    }
}

/// Plaintext bytes in segment `segment_index` of a part of `plaintext_len`
/// bytes, or `None` when the part has no such segment.
pub fn segment_plaintext_len(plaintext_len: u64, segment_index: u64) -> Option<u64> {
    let start = segment_index.checked_mul(SEGMENT_BYTES)?;
    (start < plaintext_len).then(|| (plaintext_len - start).min(SEGMENT_BYTES))
}

/// Where segment `segment_index` starts in the sealed part. Saturates.
pub fn sealed_segment_offset(segment_index: u64) -> u64 {
    segment_index.saturating_mul(SEALED_SEGMENT_SIZE_BYTES)
}

/// The segments that cover a plaintext range, and where they are sealed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentSpan {
    /// Index of the first segment to open.
    pub first_segment_index: u64,
    /// How many consecutive segments to open (at least one).
    pub segment_count: u64,
    /// Offset of the first segment in the sealed part.
    pub sealed_offset_bytes: u64,
    /// Sealed bytes to read: exactly the covering segments.
    pub sealed_length_bytes: u64,
    /// Plaintext bytes to drop from the front of the first opened segment.
    pub skip_bytes: u64,
    /// Plaintext bytes the caller returns in total (the range after clamping
    /// to the part's end).
    pub plaintext_length_bytes: u64,
    /// Whether the last covering segment is the part's final segment (open
    /// it with `is_final = true`).
    pub includes_final_segment: bool,
}

/// The segments of a part of `plaintext_len` bytes that cover the plaintext
/// range `start .. start + length`. The range is clamped to the part's end;
/// `None` when it is empty or starts at or past the end.
pub fn segment_span(plaintext_len: u64, start: u64, length: u64) -> Option<SegmentSpan> {
    if length == 0 || start >= plaintext_len {
        return None;
    }
    let end = start.saturating_add(length).min(plaintext_len);
    let first_segment_index = start / SEGMENT_BYTES;
    let last_segment_index = (end - 1) / SEGMENT_BYTES;
    let sealed_offset_bytes = sealed_segment_offset(first_segment_index);
    let sealed_end_bytes =
        sealed_segment_offset(last_segment_index + 1).min(sealed_len(plaintext_len));
    Some(SegmentSpan {
        first_segment_index,
        segment_count: last_segment_index - first_segment_index + 1,
        sealed_offset_bytes,
        sealed_length_bytes: sealed_end_bytes - sealed_offset_bytes,
        skip_bytes: start - first_segment_index * SEGMENT_BYTES,
        plaintext_length_bytes: end - start,
        includes_final_segment: last_segment_index + 1 == segment_count(plaintext_len),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIB64: u64 = 64 * 1024;

    #[test]
    fn counts_and_sealed_lengths() {
        let cases = [
            (0, 0, 0),
            (1, 1, 17),
            (KIB64 - 1, 1, KIB64 + 15),
            (KIB64, 1, KIB64 + 16),
            (KIB64 + 1, 2, KIB64 + 1 + 32),
            (4 * 1024 * 1024, 64, 4 * 1024 * 1024 + 64 * 16),
            (u64::MAX, u64::MAX / KIB64 + 1, u64::MAX),
        ];
        for (plaintext, segments, sealed) in cases {
            assert_eq!(segment_count(plaintext), segments, "count of {plaintext}");
            assert_eq!(sealed_len(plaintext), sealed, "sealed len of {plaintext}");
        }
    }

    #[test]
    fn plaintext_len_inverts_sealed_len() {
        for plaintext in [
            0,
            1,
            15,
            16,
            17,
            KIB64 - 1,
            KIB64,
            KIB64 + 1,
            3 * KIB64 + 77,
        ] {
            assert_eq!(plaintext_len(sealed_len(plaintext)), Some(plaintext));
        }
        for impossible in [1, 16, SEALED_SEGMENT_SIZE_BYTES + 16] {
            assert_eq!(plaintext_len(impossible), None, "{impossible}");
        }
        assert!(plaintext_len(u64::MAX).is_some());
    }

    #[test]
    fn per_segment_lengths() {
        assert_eq!(segment_plaintext_len(0, 0), None);
        assert_eq!(segment_plaintext_len(10, 0), Some(10));
        assert_eq!(segment_plaintext_len(KIB64 + 10, 0), Some(KIB64));
        assert_eq!(segment_plaintext_len(KIB64 + 10, 1), Some(10));
        assert_eq!(segment_plaintext_len(KIB64 + 10, 2), None);
        assert_eq!(segment_plaintext_len(u64::MAX, u64::MAX), None);
        assert_eq!(sealed_segment_offset(2), 2 * (KIB64 + 16));
        assert_eq!(sealed_segment_offset(u64::MAX), u64::MAX);
    }

    #[test]
    fn spans_cover_exactly_the_needed_segments() {
        let total = 3 * KIB64 + 100;
        let whole = segment_span(total, 0, u64::MAX).expect("non-empty");
        assert_eq!(
            whole,
            SegmentSpan {
                first_segment_index: 0,
                segment_count: 4,
                sealed_offset_bytes: 0,
                sealed_length_bytes: sealed_len(total),
                skip_bytes: 0,
                plaintext_length_bytes: total,
                includes_final_segment: true,
            }
        );
        let inside = segment_span(total, KIB64 + 5, 10).expect("non-empty");
        assert_eq!(
            inside,
            SegmentSpan {
                first_segment_index: 1,
                segment_count: 1,
                sealed_offset_bytes: KIB64 + 16,
                sealed_length_bytes: KIB64 + 16,
                skip_bytes: 5,
                plaintext_length_bytes: 10,
                includes_final_segment: false,
            }
        );
        let straddle = segment_span(total, 2 * KIB64 - 1, 2).expect("non-empty");
        assert_eq!(straddle.first_segment_index, 1);
        assert_eq!(straddle.segment_count, 2);
        assert_eq!(straddle.skip_bytes, KIB64 - 1);
        let tail = segment_span(total, total - 1, 1).expect("non-empty");
        assert_eq!(tail.first_segment_index, 3);
        assert_eq!(tail.sealed_length_bytes, 100 + 16);
        assert!(tail.includes_final_segment);
        assert_eq!(segment_span(total, total, 1), None);
        assert_eq!(segment_span(total, 0, 0), None);
        assert_eq!(segment_span(0, 0, 1), None);
        assert!(segment_span(u64::MAX, u64::MAX - 1, u64::MAX).is_some());
    }
}
