//! The one mapping from coffer's `S3Error` to s3s's error type. Every
//! handler returns `coffer_types::S3Error` and converts here, so the code,
//! HTTP status and message of every answer come from `ErrorCode`'s table.

use coffer_types::{ErrorCode, S3Error};
use s3s::S3ErrorCode;

/// Convert a coffer error to the s3s error that s3s renders as XML.
pub fn to_s3s(error: S3Error) -> s3s::S3Error {
    let code = s3s_code(error.code);
    let mut out = s3s::S3Error::with_message(code, error.message);
    if let Ok(status) = http::StatusCode::from_u16(error.code.http_status()) {
        out.set_status_code(status);
    }
    out
}

/// The s3s code with the same `<Code>` string. s3s knows every AWS code;
/// the parse falls back to `Custom` for any it does not.
pub fn s3s_code(code: ErrorCode) -> S3ErrorCode {
    S3ErrorCode::from_bytes(code.as_str().as_bytes())
        .unwrap_or_else(|| S3ErrorCode::Custom(code.as_str().into()))
}

/// Shorthand for handlers: an error with the table's default message.
pub fn code(code: ErrorCode) -> S3Error {
    S3Error::from(code)
}

/// An error with a custom message.
pub fn with_message(code: ErrorCode, message: impl Into<String>) -> S3Error {
    S3Error::new(code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_keeps_its_name_and_status() {
        for &code in ErrorCode::ALL {
            let converted = to_s3s(S3Error::from(code));
            assert_eq!(converted.code().as_str(), code.as_str(), "{code}");
            assert_eq!(
                converted.status_code().map(|s| s.as_u16()),
                Some(code.http_status()),
                "{code}"
            );
            assert!(converted.message().is_some_and(|m| !m.is_empty()), "{code}");
        }
    }

    #[test]
    fn message_is_kept() {
        let converted = to_s3s(S3Error::new(
            ErrorCode::InvalidArgument,
            "max-keys must be >= 0",
        ));
        assert_eq!(converted.message(), Some("max-keys must be >= 0"));
        assert_eq!(converted.status_code(), Some(http::StatusCode::BAD_REQUEST));
    }
}
