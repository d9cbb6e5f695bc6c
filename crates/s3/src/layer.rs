//! The HTTP layer around s3s: a request id on every response and in the
//! request's tracing span, metrics, the presigned-URL and SigV2 checks s3s
//! lacks (SigV2 itself lives in `sigv2`), and the rewrite of every error
//! body into complete S3 error XML (s3s omits Resource and RequestId, and
//! must not send a body with 304).

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use coffer_types::limits::PRESIGNED_EXPIRES_SECONDS_MAX;
use coffer_types::{ErrorCode, S3Error};
use http::{HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;
use tracing::Instrument;

use crate::context::RequestInfo;
use crate::sigv2::SigV2Verifier;

/// Error bodies we re-render are tiny; anything bigger is not an s3s
/// error document and is replaced by a generic one.
const ERROR_BODY_BYTES_MAX: usize = 64 * 1024;

pub fn new_request_id() -> String {
    // AWS request ids are 16 upper-case hex characters.
    let id = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .to_ascii_uppercase();
    id[..16].to_owned()
}

/// What the layer's checks need, shared by every request.
pub struct LayerState {
    pub sigv2: SigV2Verifier,
    pub region: String,
    /// The IAM/STS query API served on the same listener.
    pub iam: crate::iam_api::IamEndpoint,
    pub engine: Arc<coffer_engine::Engine>,
}

pub async fn handle(
    State(state): State<Arc<LayerState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let request_id = new_request_id();
    let method = request.method().clone();
    let resource = request.uri().path().to_owned();
    let info = RequestInfo::new();
    request.extensions_mut().insert(info.clone());

    let span = tracing::info_span!(
        "s3_request",
        request_id = %request_id,
        method = %method,
        operation = tracing::field::Empty,
        bucket = tracing::field::Empty,
        status = tracing::field::Empty,
    );

    if crate::iam_api::is_query_api(&request) {
        let response = state
            .iam
            .handle(request, &request_id)
            .instrument(span.clone())
            .await;
        let status = response.status().as_u16();
        span.record("operation", "IamQuery");
        span.record("status", status);
        span.in_scope(|| {
            tracing::info!(
                duration_ms = started.elapsed().as_millis() as u64,
                "request done"
            )
        });
        crate::metrics::request_done("IamQuery", status, started.elapsed());
        return response;
    }
    let form_post = is_form_post(&request);
    let checked = match precheck(&mut request, &state).await {
        Ok(()) if form_post => crate::post_form::prepare(request, &state.engine).await,
        Ok(()) => Ok(request),
        Err(failure) => Err(failure),
    };
    let response = match checked {
        Err(failure) => plain_error(failure),
        Ok(request) => next.run(request).instrument(span.clone()).await,
    };
    let response = finish_response(response, &method, &resource, &request_id, form_post).await;

    let facts = info.snapshot();
    let operation = facts.operation.unwrap_or("Unknown");
    let status = response.status().as_u16();
    span.record("operation", operation);
    if let Some(bucket) = &facts.bucket {
        span.record("bucket", bucket.as_str());
    }
    span.record("status", status);
    span.in_scope(|| {
        tracing::info!(
            duration_ms = started.elapsed().as_millis() as u64,
            "request done"
        )
    });
    crate::metrics::request_done(operation, status, started.elapsed());
    response
}

/// Checks s3s does not make (see lib.rs): presigned X-Amz-Expires must be
/// 1..=604800; SigV2 requests are verified completely here (constant-time
/// compare, date and expiry) before s3s repeats the signature check;
/// browser POST uploads go through `post_form` (SigV2 form signatures in
/// constant time, `${filename}`).
async fn precheck(request: &mut Request, state: &LayerState) -> Result<(), S3Error> {
    let query = request.uri().query().unwrap_or("");
    crate::scope::check_region(request.headers(), query, &state.region)?;
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name == "X-Amz-Expires" {
            check_presigned_expires(value)?;
        }
    }
    state.sigv2.check(request).await
}

/// `POST` with a `multipart/form-data` body: a browser-form PostObject.
fn is_form_post(request: &Request) -> bool {
    request.method() == Method::POST
        && request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| {
                value
                    .trim_start()
                    .to_ascii_lowercase()
                    .starts_with("multipart/form-data")
            })
}

pub fn check_presigned_expires(value: &str) -> Result<(), S3Error> {
    match value.parse::<u64>() {
        Ok(seconds) if seconds > PRESIGNED_EXPIRES_SECONDS_MAX => Err(S3Error::new(
            ErrorCode::AuthorizationQueryParametersError,
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        )),
        Ok(0) | Err(_) => Err(S3Error::new(
            ErrorCode::AuthorizationQueryParametersError,
            "X-Amz-Expires should be a number between 1 and 604800",
        )),
        Ok(_) => Ok(()),
    }
}

fn plain_error(failure: S3Error) -> Response {
    let status = StatusCode::from_u16(failure.code.http_status())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Response::new(Body::from(render_error_xml(
        failure.code.as_str(),
        &failure.message,
        "",
        "",
    )));
    *response.status_mut() = status;
    response
}

async fn finish_response(
    response: Response,
    method: &Method,
    resource: &str,
    request_id: &str,
    form_post: bool,
) -> Response {
    let status = response.status();
    let (mut parts, body) = response.into_parts();
    let body = if status == StatusCode::NOT_MODIFIED {
        // 304 carries no body (RFC 9110); s3s renders one.
        parts.headers.remove(http::header::CONTENT_LENGTH);
        parts.headers.remove(http::header::CONTENT_TYPE);
        Body::empty()
    } else if status.is_client_error() || status.is_server_error() {
        let (code, message) = match http_body_util::Limited::new(body, ERROR_BODY_BYTES_MAX)
            .collect()
            .await
        {
            Ok(collected) => parse_error_xml(&collected.to_bytes()),
            Err(_) => None,
        }
        .unwrap_or_else(|| fallback_code(status));
        // s3s sometimes sends the code as its message: use AWS's words.
        let message = if message.is_empty() || message == code {
            ErrorCode::ALL
                .iter()
                .find(|known| known.as_str() == code)
                .map(|known| S3Error::from(*known).message)
                .unwrap_or(message)
        } else {
            message
        };
        let policy_failure = form_post
            .then(|| post_policy_failure(&code, &message))
            .flatten();
        let (code, message) = match policy_failure {
            Some(message) => {
                parts.status = StatusCode::FORBIDDEN;
                (ErrorCode::AccessDenied.as_str().to_owned(), message)
            }
            None => (code, message),
        };
        let xml = render_error_xml(&code, &message, resource, request_id);
        parts.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        if method == Method::HEAD {
            // HEAD answers carry no body; keep the length of the one a GET would get.
            parts.headers.remove(http::header::CONTENT_LENGTH);
            Body::empty()
        } else {
            parts
                .headers
                .insert(http::header::CONTENT_LENGTH, HeaderValue::from(xml.len()));
            Body::from(xml)
        }
    } else {
        body
    };
    if let Ok(value) = HeaderValue::from_str(request_id) {
        parts.headers.insert("x-amz-request-id", value.clone());
        parts.headers.insert("x-amz-id-2", value);
    }
    Response::from_parts(parts, body)
}

/// s3s's answers to a browser-form upload the POST policy refused, in
/// AWS's words: 403 AccessDenied "Invalid according to Policy: …" for an
/// expired policy, a failed condition or a field no condition covers.
fn post_policy_failure(code: &str, message: &str) -> Option<String> {
    let reason = if code == "InvalidPolicyDocument" && message.starts_with("Policy condition") {
        format!("Policy Condition failed: {message}")
    } else if code == "AccessDenied" && message == "Request has expired" {
        "Policy expired.".to_owned()
    } else if code == "AccessDenied" && message.starts_with("Each form field") {
        let field = message.split('"').nth(1).unwrap_or_default();
        format!("Extra input fields: {field}")
    } else {
        return None;
    };
    Some(format!("Invalid according to Policy: {reason}"))
}

fn fallback_code(status: StatusCode) -> (String, String) {
    let code = if status.is_server_error() {
        ErrorCode::InternalError
    } else {
        ErrorCode::InvalidRequest
    };
    let message = S3Error::from(code).message;
    (code.as_str().to_owned(), message)
}

/// `<Code>` and `<Message>` of an s3s error document.
pub fn parse_error_xml(body: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(body).ok()?;
    let element = |name: &str| -> Option<String> {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = text.find(&open)? + open.len();
        let end = start + text[start..].find(&close)?;
        quick_xml::escape::unescape(&text[start..end])
            .ok()
            .map(|s| s.into_owned())
    };
    let code = element("Code")?;
    let message = element("Message").unwrap_or_else(|| code.clone());
    Some((code, message))
}

pub fn render_error_xml(code: &str, message: &str, resource: &str, request_id: &str) -> String {
    use quick_xml::escape::escape;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><Resource>{}</Resource><RequestId>{}</RequestId></Error>",
        escape(code),
        escape(message),
        escape(resource),
        escape(request_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_xml_round_trips_with_escaping() {
        let xml = render_error_xml(
            "NoSuchKey",
            "The key <a&b> does not exist",
            "/bucket/a&b",
            "ABCDEF0123456789",
        );
        assert!(xml.contains("<Resource>/bucket/a&amp;b</Resource>"));
        assert!(xml.contains("<RequestId>ABCDEF0123456789</RequestId>"));
        let (code, message) = parse_error_xml(xml.as_bytes()).expect("parses");
        assert_eq!(code, "NoSuchKey");
        assert_eq!(message, "The key <a&b> does not exist");
    }

    #[test]
    fn s3s_error_documents_parse() {
        let body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SignatureDoesNotMatch</Code></Error>";
        let (code, message) = parse_error_xml(body).expect("parses");
        assert_eq!(code, "SignatureDoesNotMatch");
        assert_eq!(message, "SignatureDoesNotMatch");
        assert!(parse_error_xml(b"not xml").is_none());
    }

    #[test]
    fn presigned_expiry_bounds() {
        assert!(check_presigned_expires("1").is_ok());
        assert!(check_presigned_expires("604800").is_ok());
        for bad in ["604801", "0", "-5", "abc", ""] {
            assert_eq!(
                check_presigned_expires(bad).unwrap_err().code,
                ErrorCode::AuthorizationQueryParametersError,
                "{bad}"
            );
        }
    }

    #[test]
    fn request_ids_look_like_aws() {
        let id = new_request_id();
        assert_eq!(id.len(), 16);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
        assert_ne!(id, new_request_id());
    }
}
