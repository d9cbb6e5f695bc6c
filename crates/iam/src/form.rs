//! The query protocol's parameters: `key=value` pairs from the query string
//! and from an `application/x-www-form-urlencoded` body, merged into one
//! bounded map.

use std::collections::BTreeMap;

use crate::error::IamError;

/// The largest body the protocol accepts. Callers should refuse larger
/// bodies before reading them; the parser checks again so it never relies
/// on that.
pub const MAX_BODY_BYTES: usize = 128 * 1024;

/// The most parameters one request may carry. The largest real request
/// (AssumeRole with ten policy ARNs and fifty tags) needs about 120.
pub const MAX_PARAMETERS: usize = 256;

/// Parameter names are short (`PolicyArns.member.10.arn`); a long one is
/// garbage, and bounding it keeps error messages small.
const MAX_KEY_BYTES: usize = 128;

/// Decoded parameters by name.
#[derive(Debug, Default, Clone)]
pub(crate) struct Params {
    values: BTreeMap<String, String>,
}

impl Params {
    /// Parses the raw query string (without `?`) and the body. Both are
    /// form-encoded; botocore sends parameters in the body of a POST, and
    /// hand-written clients sometimes use a GET query string.
    pub(crate) fn parse(query: &str, body: &[u8]) -> Result<Params, IamError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(IamError::invalid_parameter_value(format!(
                "The request body must not exceed {MAX_BODY_BYTES} bytes."
            )));
        }
        let body = std::str::from_utf8(body).map_err(|_| {
            IamError::invalid_parameter_value("The request body is not valid form data.")
        })?;
        let mut params = Params::default();
        params.add_all(query)?;
        params.add_all(body)?;
        Ok(params)
    }

    fn add_all(&mut self, encoded: &str) -> Result<(), IamError> {
        for pair in encoded.split('&').filter(|pair| !pair.is_empty()) {
            let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            let malformed =
                || IamError::invalid_parameter_value("The request contains a malformed parameter.");
            let key = crate::percent::form_decode(raw_key).ok_or_else(malformed)?;
            let value = crate::percent::form_decode(raw_value).ok_or_else(malformed)?;
            if key.is_empty() || key.len() > MAX_KEY_BYTES {
                return Err(malformed());
            }
            if self.values.len() >= MAX_PARAMETERS {
                return Err(IamError::invalid_parameter_value(format!(
                    "The request must not contain more than {MAX_PARAMETERS} parameters."
                )));
            }
            // Two values for one name would leave the meaning to whichever
            // copy a reader picks; refuse rather than choose.
            if self.values.contains_key(&key) {
                return Err(IamError::invalid_parameter_value(format!(
                    "The parameter {key} appears more than once."
                )));
            }
            self.values.insert(key, value);
        }
        Ok(())
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn merges_query_and_body() {
        let params = Params::parse(
            "Action=CreateUser",
            b"Version=2010-05-08&UserName=alice&Path=%2Fdev%2F&&Empty=",
        )
        .expect("well-formed");
        assert_eq!(params.get("Action"), Some("CreateUser"));
        assert_eq!(params.get("Path"), Some("/dev/"));
        assert_eq!(params.get("Empty"), Some(""));
        assert_eq!(params.get("Missing"), None);
    }

    #[test]
    fn refuses_duplicates_bad_escapes_and_floods() {
        let duplicate = Params::parse("UserName=a", b"UserName=b").unwrap_err();
        assert_eq!(duplicate.code, ErrorCode::InvalidParameterValue);
        let bad_escape = Params::parse("", b"UserName=%G1").unwrap_err();
        assert_eq!(bad_escape.code, ErrorCode::InvalidParameterValue);
        let not_utf8 = Params::parse("", &[0xff, b'=', b'1']).unwrap_err();
        assert_eq!(not_utf8.code, ErrorCode::InvalidParameterValue);
        let flood: String = (0..=MAX_PARAMETERS)
            .map(|index| format!("k{index}=v&"))
            .collect();
        assert!(Params::parse("", flood.as_bytes()).is_err());
        let too_big = vec![b'a'; MAX_BODY_BYTES + 1];
        assert!(Params::parse("", &too_big).is_err());
        let long_key = "k".repeat(MAX_KEY_BYTES + 1);
        assert!(Params::parse(&long_key, b"").is_err());
    }
}
