//! The SigV4 credential scope's region must be this region's. s3s verifies
//! the signature with whatever region the client put in its scope, so a
//! request signed for another region would pass; AWS refuses it with 400
//! AuthorizationHeaderMalformed (header) or AuthorizationQueryParametersError
//! (presigned URL), naming the region it expected.

use coffer_types::{ErrorCode, S3Error};
use http::HeaderMap;

/// Check the region of `Credential=AKID/DATE/REGION/s3/aws4_request` in the
/// Authorization header or the `X-Amz-Credential` query parameter. Requests
/// without a SigV4 scope (anonymous, SigV2) pass; malformed scopes are left
/// to s3s, which rejects them.
pub fn check_region(headers: &HeaderMap, query: &str, region: &str) -> Result<(), S3Error> {
    if let Some(authorization) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .filter(|value| value.starts_with("AWS4-HMAC-SHA256"))
    {
        let credential = authorization
            .split([' ', ','])
            .find_map(|part| part.trim().strip_prefix("Credential="));
        if let Some(scope_region) = credential.and_then(scope_region) {
            if scope_region != region {
                return Err(S3Error::new(
                    ErrorCode::AuthorizationHeaderMalformed,
                    format!("The authorization header is malformed; the region '{scope_region}' is wrong; expecting '{region}'"),
                ));
            }
        }
        return Ok(());
    }
    for pair in query.split('&') {
        if let Some(value) = pair.strip_prefix("X-Amz-Credential=") {
            let decoded = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
            if let Some(scope_region) = scope_region(&decoded) {
                if scope_region != region {
                    return Err(S3Error::new(
                        ErrorCode::AuthorizationQueryParametersError,
                        format!("Error parsing the X-Amz-Credential parameter; the region '{scope_region}' is wrong; expecting '{region}'"),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// `AKID/DATE/REGION/SERVICE/aws4_request` → `REGION`. Access key ids never
/// contain '/', so splitting from the right is unambiguous.
fn scope_region(credential: &str) -> Option<&str> {
    let mut parts = credential.rsplit('/');
    let terminator = parts.next()?;
    let _service = parts.next()?;
    let region = parts.next()?;
    (terminator == "aws4_request").then_some(region)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            value.parse().expect("ascii test header"),
        );
        headers
    }

    #[test]
    fn header_scope_must_name_this_region() {
        let signed = |region: &str| {
            header(&format!(
                "AWS4-HMAC-SHA256 Credential=AKID/20261127/{region}/s3/aws4_request, SignedHeaders=host, Signature=00"
            ))
        };
        assert!(check_region(&signed("eu-west-3"), "", "eu-west-3").is_ok());
        let error = check_region(&signed("us-east-1"), "", "eu-west-3").unwrap_err();
        assert_eq!(error.code, ErrorCode::AuthorizationHeaderMalformed);
        assert!(error.message.contains("expecting 'eu-west-3'"));
    }

    #[test]
    fn query_scope_must_name_this_region() {
        let query = |region: &str| {
            format!("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20261127%2F{region}%2Fs3%2Faws4_request&X-Amz-Expires=60")
        };
        assert!(check_region(&HeaderMap::new(), &query("us-east-1"), "us-east-1").is_ok());
        let error = check_region(&HeaderMap::new(), &query("us-west-2"), "us-east-1").unwrap_err();
        assert_eq!(error.code, ErrorCode::AuthorizationQueryParametersError);
    }

    #[test]
    fn anonymous_sigv2_and_malformed_scopes_pass_through() {
        assert!(check_region(&HeaderMap::new(), "", "us-east-1").is_ok());
        assert!(check_region(&header("AWS AKID:c2lnbmF0dXJl"), "", "us-east-1").is_ok());
        assert!(check_region(
            &header("AWS4-HMAC-SHA256 Credential=garbage"),
            "",
            "us-east-1"
        )
        .is_ok());
    }
}
