//! Percent-encoding as SigV4 and the query protocol use it. Hand-written
//! because the two need different, exact rules: SigV4 keeps only RFC 3986
//! unreserved bytes, and form decoding must refuse malformed escapes
//! rather than guess.

/// Encodes every byte except `A-Z a-z 0-9 - _ . ~` (and `/` when
/// `keep_slash`) as `%XX` with upper-case hex, as SigV4 requires. Policy
/// documents in responses use the same encoding, which botocore's
/// `unquote` reverses exactly (spaces become `%20`, never `+`).
pub(crate) fn aws_uri_encode(bytes: &[u8], keep_slash: bool) -> String {
    const HEX_DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut encoded = String::with_capacity(bytes.len());
    for &byte in bytes {
        let unreserved = byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~');
        if unreserved || (keep_slash && byte == b'/') {
            encoded.push(char::from(byte));
        } else {
            encoded.push('%');
            encoded.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
            encoded.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
        }
    }
    encoded
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Decodes one `application/x-www-form-urlencoded` key or value: `+` is a
/// space and `%XX` a byte. Returns `None` for a malformed escape or bytes
/// that are not UTF-8, so the caller can refuse the request.
pub(crate) fn form_decode(text: &str) -> Option<String> {
    let mut decoded = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(byte) = bytes.next() {
        match byte {
            b'+' => decoded.push(b' '),
            b'%' => {
                let high = hex_value(bytes.next()?)?;
                let low = hex_value(bytes.next()?)?;
                decoded.push(high << 4 | low);
            }
            _ => decoded.push(byte),
        }
    }
    String::from_utf8(decoded).ok()
}

/// Like `form_decode`, but keeps malformed escapes literally. Used only to
/// rebuild the canonical query for SigV4, where refusing is the parser's
/// job and the signature must still be computable.
pub(crate) fn lenient_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let escape = match (byte, bytes.get(index + 1), bytes.get(index + 2)) {
            (b'%', Some(&high), Some(&low)) => hex_value(high).zip(hex_value(low)),
            _ => None,
        };
        match (byte, escape) {
            (_, Some((high, low))) => {
                decoded.push(high << 4 | low);
                index += 3;
            }
            (b'+', None) => {
                decoded.push(b' ');
                index += 1;
            }
            _ => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    decoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_keeps_only_unreserved() {
        assert_eq!(aws_uri_encode(b"a-b_c.d~e", false), "a-b_c.d~e");
        assert_eq!(aws_uri_encode(b"/a b+c*", false), "%2Fa%20b%2Bc%2A");
        assert_eq!(aws_uri_encode(b"/a b/", true), "/a%20b/");
        assert_eq!(aws_uri_encode("é".as_bytes(), false), "%C3%A9");
    }

    #[test]
    fn form_decode_is_strict() {
        assert_eq!(form_decode("%2Fdev%2F").as_deref(), Some("/dev/"));
        assert_eq!(form_decode("a+b%20c").as_deref(), Some("a b c"));
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(form_decode("%4"), None);
        assert_eq!(form_decode("%ff"), None);
    }

    #[test]
    fn lenient_decode_keeps_malformed_escapes() {
        assert_eq!(lenient_decode("a%2Fb+c%zz%4"), b"a/b c%zz%4".to_vec());
    }
}
