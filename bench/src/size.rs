//! Byte sizes as people type them (`4KiB`, `1MB`, `5GiB`) and object-size
//! distributions (`1KiB..1MiB`).

use std::fmt;
use std::str::FromStr;

use crate::content::mix;

/// Split `"<number><unit>"` after the number's digits and any of
/// `number_chars` (e.g. `_` or `.`), trimming the input first.
pub fn split_number_unit<'a>(text: &'a str, number_chars: &[char]) -> (&'a str, &'a str) {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && !number_chars.contains(&c))
        .unwrap_or(text.len());
    text.split_at(split)
}

/// Parse `123`, `4KiB`, `1MB`, `5GiB` (binary `KiB/MiB/GiB/TiB`, decimal
/// `KB/MB/GB/TB`, plain `B`), case-insensitive, no spaces needed.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let (number, unit) = split_number_unit(text, &['_']);
    let number: u64 = number
        .replace('_', "")
        .parse()
        .map_err(|_| format!("{text:?} is not a size (try 4KiB, 1MB, 5GiB)"))?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" | "k" => 1 << 10,
        "mib" | "m" => 1 << 20,
        "gib" | "g" => 1 << 30,
        "tib" | "t" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        _ => return Err(format!("{text:?}: unknown unit {unit:?}")),
    };
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// Show a byte count the way `parse_bytes` reads it back.
pub fn format_bytes(bytes: u64) -> String {
    for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{}{unit}", bytes / size);
        }
    }
    format!("{bytes}B")
}

/// How big each object is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeSpec {
    Fixed(u64),
    /// Uniform over `[min, max]`, chosen per object from its seed, so a
    /// reader knows the size a writer used.
    Uniform {
        min: u64,
        max: u64,
    },
}

impl SizeSpec {
    pub fn size_for(&self, object_seed: u64) -> u64 {
        match *self {
            SizeSpec::Fixed(size) => size,
            SizeSpec::Uniform { min, max } => {
                let span = max - min + 1;
                // Parsing keeps max < u64::MAX, so the span cannot overflow.
                min + mix(object_seed ^ 0x5EED) % span
            }
        }
    }

    pub fn max(&self) -> u64 {
        match *self {
            SizeSpec::Fixed(size) => size,
            SizeSpec::Uniform { max, .. } => max,
        }
    }
}

impl FromStr for SizeSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.split_once("..") {
            None => Ok(SizeSpec::Fixed(parse_bytes(text)?)),
            Some((min, max)) => {
                let (min, max) = (parse_bytes(min)?, parse_bytes(max)?);
                if min > max || max == u64::MAX {
                    return Err(format!("{text:?}: want MIN..MAX with MIN <= MAX"));
                }
                Ok(SizeSpec::Uniform { min, max })
            }
        }
    }
}

impl fmt::Display for SizeSpec {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SizeSpec::Fixed(size) => write!(formatter, "{}", format_bytes(*size)),
            SizeSpec::Uniform { min, max } => {
                write!(formatter, "{}..{}", format_bytes(*min), format_bytes(*max))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_binary_and_decimal_units() {
        for (text, bytes) in [
            ("0", 0),
            ("4096", 4096),
            ("4KiB", 4096),
            ("4kib", 4096),
            ("4K", 4096),
            ("1MB", 1_000_000),
            ("5GiB", 5 << 30),
            ("1_000B", 1000),
        ] {
            assert_eq!(parse_bytes(text), Ok(bytes), "{text}");
        }
        for bad in [
            "",
            "KiB",
            "4XB",
            "-1",
            "99999999999999999999",
            "20000000TiB",
        ] {
            assert!(parse_bytes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn format_round_trips() {
        for bytes in [0, 1, 4096, 5 << 30, 1_000_000, 3 << 20] {
            assert_eq!(parse_bytes(&format_bytes(bytes)), Ok(bytes));
        }
    }

    #[test]
    fn uniform_sizes_stay_in_range_and_depend_only_on_the_seed() {
        let spec: SizeSpec = "1KiB..4KiB".parse().unwrap();
        assert_eq!(
            spec,
            SizeSpec::Uniform {
                min: 1024,
                max: 4096
            }
        );
        let sizes: Vec<u64> = (0..1000).map(|seed| spec.size_for(seed)).collect();
        assert!(sizes.iter().all(|size| (1024..=4096).contains(size)));
        assert!(sizes.iter().any(|size| *size != sizes[0]));
        assert_eq!(spec.size_for(42), spec.size_for(42));
        assert!("4KiB..1KiB".parse::<SizeSpec>().is_err());
    }
}
