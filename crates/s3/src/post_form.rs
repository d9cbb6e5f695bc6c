//! Browser-form uploads (POST Object) before s3s sees them. s3s parses the
//! form, checks SigV4 form signatures and the policy's conditions, but
//! compares SigV2 form signatures with a plain `!=` and does not replace
//! `${filename}` in the key. This reads the fields ahead of the file part
//! (at most `FIELDS_BYTES_MAX`), verifies a SigV2 signature in constant
//! time, substitutes `${filename}`, and hands s3s the same body stream.

use axum::body::Body;
use axum::extract::Request;
use bytes::{Bytes, BytesMut};
use coffer_engine::Engine;
use coffer_types::{ErrorCode, S3Error};
use futures::StreamExt;

/// The form fields before the file, with their part headers. AWS refuses
/// more than 20 KB with MaxPostPreDataLengthExceeded; policies of a few KB
/// fit either way.
pub const FIELDS_BYTES_MAX: usize = 64 * 1024;

/// One part of the form before the file: its name (lower-cased), and
/// where its value lies in the prefix.
struct Part {
    name: String,
    value: std::ops::Range<usize>,
}

/// What the prefix of a form holds.
struct Prefix {
    parts: Vec<Part>,
    /// The file part's `filename`, once its headers were seen.
    file_name: Option<String>,
}

fn boundary_of(request: &Request) -> Option<String> {
    let content_type = request
        .headers()
        .get(http::header::CONTENT_TYPE)?
        .to_str()
        .ok()?;
    content_type.split(';').find_map(|parameter| {
        let (name, value) = parameter.trim().split_once('=')?;
        name.eq_ignore_ascii_case("boundary")
            .then(|| value.trim_matches('"').to_owned())
    })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| at + from)
}

/// `name="…"` or `filename="…"` of a Content-Disposition header.
fn disposition_parameter(headers: &str, parameter: &str) -> Option<String> {
    let line = headers.split("\r\n").find(|line| {
        line.to_ascii_lowercase()
            .starts_with("content-disposition:")
    })?;
    line.split(';').skip(1).find_map(|item| {
        let (name, value) = item.trim().split_once('=')?;
        name.eq_ignore_ascii_case(parameter)
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// Parse the parts in `bytes` up to the file part's headers. `None`: the
/// file part has not been reached yet (read more).
fn parse(bytes: &[u8], boundary: &str) -> Option<Prefix> {
    let delimiter = format!("--{boundary}");
    let mut at = find(bytes, delimiter.as_bytes(), 0)? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        // Each delimiter is followed by CRLF and the part's headers.
        let headers_start = at + 2;
        let headers_end = find(bytes, b"\r\n\r\n", headers_start)?;
        let headers = String::from_utf8_lossy(bytes.get(headers_start..headers_end)?);
        let name = disposition_parameter(&headers, "name")?.to_ascii_lowercase();
        let value_start = headers_end + 4;
        if name == "file" {
            return Some(Prefix {
                parts,
                file_name: disposition_parameter(&headers, "filename"),
            });
        }
        let next = find(bytes, format!("\r\n{delimiter}").as_bytes(), value_start)?;
        parts.push(Part {
            name,
            value: value_start..next,
        });
        at = next + 2 + delimiter.len();
    }
}

fn field<'a>(bytes: &'a [u8], prefix: &Prefix, name: &str) -> Option<&'a str> {
    prefix
        .parts
        .iter()
        .find(|part| part.name == name)
        .and_then(|part| std::str::from_utf8(bytes.get(part.value.clone())?).ok())
}

/// Check a SigV2 form signature (base64 HMAC-SHA1 of the base64 policy)
/// in constant time.
async fn verify_sigv2(
    engine: &Engine,
    access_key: &str,
    policy: &str,
    signature: &str,
) -> Result<(), S3Error> {
    let credentials = engine.find_credentials(access_key).await?.ok_or_else(|| {
        S3Error::new(
            ErrorCode::InvalidAccessKeyId,
            "The AWS Access Key Id you provided does not exist in our records.",
        )
    })?;
    // The string a SigV2 form signs is its base64 policy.
    if crate::sigv2::signature_matches(&credentials.secret_access_key, policy, signature) {
        Ok(())
    } else {
        Err(S3Error::from(ErrorCode::SignatureDoesNotMatch))
    }
}

/// Read the fields ahead of the file, check a SigV2 signature, replace
/// `${filename}` in the key, and give back the request with the same body.
pub async fn prepare(request: Request, engine: &Engine) -> Result<Request, S3Error> {
    let Some(boundary) = boundary_of(&request) else {
        return Err(S3Error::new(
            ErrorCode::MalformedPOSTRequest,
            "The body of your POST request is not well-formed multipart/form-data.",
        ));
    };
    let (parts, body) = request.into_parts();
    let mut stream = body.into_data_stream();
    let mut buffered = BytesMut::new();
    let prefix = loop {
        if let Some(prefix) = parse(&buffered, &boundary) {
            break prefix;
        }
        if buffered.len() > FIELDS_BYTES_MAX {
            return Err(S3Error::new(
                ErrorCode::MaxPostPreDataLengthExceededError,
                "Your POST request fields preceding the upload file were too large.",
            ));
        }
        match stream.next().await {
            Some(Ok(chunk)) => buffered.extend_from_slice(&chunk),
            Some(Err(_)) => return Err(S3Error::from(ErrorCode::IncompleteBody)),
            None => {
                return Err(S3Error::new(
                    ErrorCode::MalformedPOSTRequest,
                    "The body of your POST request is not well-formed multipart/form-data.",
                ))
            }
        }
    };
    if let (Some(access_key), Some(signature)) = (
        field(&buffered, &prefix, "awsaccesskeyid"),
        field(&buffered, &prefix, "signature"),
    ) {
        let policy = field(&buffered, &prefix, "policy").unwrap_or("");
        verify_sigv2(engine, access_key, policy, signature).await?;
    }
    let mut head = buffered.freeze();
    let key_part = prefix.parts.iter().find(|part| part.name == "key");
    if let (Some(key_part), Some(file_name)) = (key_part, &prefix.file_name) {
        let key = String::from_utf8_lossy(&head[key_part.value.clone()]).into_owned();
        if key.contains("${filename}") {
            // A browser sends a bare name; older ones a full path.
            let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
            let mut rebuilt = BytesMut::with_capacity(head.len() + base.len());
            rebuilt.extend_from_slice(&head[..key_part.value.start]);
            rebuilt.extend_from_slice(key.replace("${filename}", base).as_bytes());
            rebuilt.extend_from_slice(&head[key_part.value.end..]);
            head = rebuilt.freeze();
        }
    }
    let mut parts = parts;
    // The length changed with the substitution; the body is streamed.
    parts.headers.remove(http::header::CONTENT_LENGTH);
    let body = futures::stream::once(async move { Ok::<Bytes, axum::Error>(head) }).chain(stream);
    Ok(Request::from_parts(parts, Body::from_stream(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)], file_name: &str) -> Vec<u8> {
        let mut body = String::new();
        for (name, value) in fields {
            body.push_str(&format!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n"
        ));
        body.into_bytes()
    }

    #[test]
    fn the_fields_before_the_file_are_found() {
        let body = form(
            &[("key", "up/${filename}"), ("Policy", "cG9saWN5")],
            "C:\\docs\\a.txt",
        );
        let prefix = parse(&body, "XyZ").expect("complete prefix");
        assert_eq!(field(&body, &prefix, "key"), Some("up/${filename}"));
        assert_eq!(field(&body, &prefix, "policy"), Some("cG9saWN5"));
        assert_eq!(prefix.file_name.as_deref(), Some("C:\\docs\\a.txt"));
        // Cut before the file part: more is needed.
        let cut = find(&body, b"name=\"file\"", 0).expect("file part");
        assert!(parse(&body[..cut], "XyZ").is_none());
    }
}
