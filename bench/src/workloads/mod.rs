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

use aws_sdk_s3::error::DisplayErrorContext;

/// An SDK error with its whole source chain on one line.
pub(crate) fn describe<E: std::error::Error>(error: E) -> String {
    DisplayErrorContext(error).to_string()
}
