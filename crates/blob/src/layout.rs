//! Where block files live and how their names parse back into ids. The
//! parse is strict: `sweep` only ever deletes files whose every path
//! component is exactly what `block_path` would have produced.

use std::path::{Path, PathBuf};

use coffer_types::DataId;

pub(crate) const BLOCKS_DIR: &str = "blocks";
pub(crate) const TMP_DIR: &str = "tmp";

/// `blocks/<first 2 hex>/<next 2 hex>`, the directory of a data id's blocks.
pub(crate) fn data_dir(blocks_dir: &Path, data_id: &DataId) -> PathBuf {
    let hex = data_id.to_hex();
    blocks_dir.join(&hex[0..2]).join(&hex[2..4])
}

pub(crate) fn file_name(data_id: &DataId, index: u64) -> String {
    format!("{}-{}", data_id.to_hex(), index)
}

pub(crate) fn block_path(blocks_dir: &Path, data_id: &DataId, index: u64) -> PathBuf {
    data_dir(blocks_dir, data_id).join(file_name(data_id, index))
}

/// Parse `<32 lowercase hex>-<decimal index>`, accepting only the exact
/// spelling `file_name` produces (no leading zeros, no sign, no uppercase).
pub(crate) fn parse_file_name(name: &str) -> Option<(DataId, u64)> {
    let (hex, index_text) = name.split_once('-')?;
    if hex.len() != 32 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let data_id = DataId::from_hex(hex)?;
    if index_text.is_empty() || !index_text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let index: u64 = index_text.parse().ok()?;
    (index.to_string() == index_text).then_some((data_id, index))
}

/// Whether `name` is a two-lowercase-hex directory name (`00`..`ff`).
pub(crate) fn is_fanout_dir_name(name: &str) -> bool {
    name.len() == 2 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let data_id = DataId([0xab; 16]);
        let name = file_name(&data_id, 42);
        assert_eq!(name, format!("{}-42", "ab".repeat(16)));
        assert_eq!(parse_file_name(&name), Some((data_id, 42)));
        let path = block_path(Path::new("/r/blocks"), &data_id, 0);
        assert_eq!(
            path,
            Path::new("/r/blocks/ab/ab").join(format!("{}-0", "ab".repeat(16)))
        );
    }

    #[test]
    fn strange_names_do_not_parse() {
        let hex = "0123456789abcdef0123456789abcdef";
        let rejected = [
            String::new(),
            hex.to_owned(),
            format!("{hex}-"),
            format!("{hex}-01"),
            format!("{hex}-+1"),
            format!("{hex}--1"),
            format!("{hex}-1.tmp"),
            format!("{hex}-1-2"),
            format!("{hex}-99999999999999999999999"),
            format!("{}-1", hex.to_uppercase()),
            format!("{}-1", &hex[1..]),
            format!("{hex}0-1"),
            "notes.txt".to_owned(),
        ];
        for name in rejected {
            assert_eq!(parse_file_name(&name), None, "{name:?}");
        }
        assert_eq!(parse_file_name(&format!("{hex}-0")).map(|p| p.1), Some(0));
        assert!(is_fanout_dir_name("0f"));
        assert!(!is_fanout_dir_name("0F"));
        assert!(!is_fanout_dir_name("0"));
    }
}
