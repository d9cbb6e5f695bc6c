//! One worker function per workload. Each loops taking tickets until the
//! tickets run out or the phase is stopped, and tallies what it measured.

mod list;
mod mixed;
mod multipart;
mod objects;
mod simple;

pub(crate) use list::list;
pub(crate) use mixed::mixed;
pub(crate) use multipart::multipart;
pub(crate) use simple::{get, prefill, put};

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

/// An SDK error on one line: `<status> <code>: <message>` for an S3 error
/// response, else the whole source chain (connection refused, timeout, …).
pub(crate) fn describe<E>(error: SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let Some(service) = error
        .as_service_error()
        .filter(|service| service.code().is_some())
    {
        let status = error
            .raw_response()
            .map_or(0, |response| response.status().as_u16());
        return format!(
            "{status} {}: {}",
            service.code().unwrap_or_default(),
            service.message().unwrap_or("")
        );
    }
    DisplayErrorContext(error).to_string()
}
