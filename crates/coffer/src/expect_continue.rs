//! `100 Continue` for HTTP/1.1 requests that carry `Expect: 100-continue`
//! and no body.
//!
//! hyper sends the interim `100 Continue` only when the service first reads
//! a non-empty body; for `Content-Length: 0` it answers with the final
//! response alone (RFC 9110 §10.1.1 allows that). S3 clients send
//! `Expect: 100-continue` on every PutObject/UploadPart with a file body,
//! empty files included, and at least one of them cannot cope: botocore
//! before 1.44 (the copy vendored by awscli 1.46.3) keeps the status line of
//! such an early final response on the pooled connection and reuses it for
//! the next `Expect` request there, dropping that response's headers (a
//! `KeyError: 'ETag'` in `aws s3 sync`). Answering every expectation with
//! `100 Continue`, as S3 does, keeps those clients on their normal path.
//!
//! Two halves share one flag per connection: the service marks a request
//! that needs the interim response ([`ContinueOwed::note_request`]), and
//! [`ExpectContinueIo`], wrapped around the connection's byte stream, writes
//! `HTTP/1.1 100 Continue` before any further bytes hyper writes. hyper
//! flushes right after it hands a request to the service, so the interim
//! response leaves at once, before the final one. HTTP/1.1 serves one
//! request at a time per connection, so "the next bytes written" belong to
//! the marked request. This module knows nothing of S3.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use hyper::body::Body;
use hyper::header::EXPECT;
use hyper::{Request, Version};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The interim response, exactly as hyper writes it for non-empty bodies.
const CONTINUE_RESPONSE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Set when the connection owes the client a `100 Continue`.
#[derive(Clone, Debug, Default)]
pub struct ContinueOwed(Arc<AtomicBool>);

impl ContinueOwed {
    /// Mark the connection if `request` expects `100 Continue` and hyper
    /// will not send it because there is no body to read.
    pub fn note_request<B: Body>(&self, request: &Request<B>) {
        if needs_continue_for_empty_body(request) {
            self.0.store(true, Ordering::Release);
        }
    }

    fn take(&self) -> bool {
        self.0.swap(false, Ordering::AcqRel)
    }
}

/// An HTTP/1.1 request with `Expect: 100-continue` whose body is known to be
/// empty. HTTP/1.0 peers must not get 1xx responses; HTTP/2 has no interim
/// bytes of this shape (and hyper handles its expectations itself).
fn needs_continue_for_empty_body<B: Body>(request: &Request<B>) -> bool {
    request.version() == Version::HTTP_11
        && request.body().is_end_stream()
        && request.headers().get_all(EXPECT).iter().any(|value| {
            // Same comparison as hyper's own expectation check.
            value.as_bytes().eq_ignore_ascii_case(b"100-continue")
        })
}

/// A connection's byte stream that writes an owed `100 Continue` before the
/// next bytes (or flush) from hyper. Reads pass through untouched.
pub struct ExpectContinueIo<I> {
    inner: I,
    owed: ContinueOwed,
    /// Bytes of [`CONTINUE_RESPONSE`] already written, while one is being
    /// written (a write may accept only part of it).
    continue_written_bytes: Option<usize>,
}

impl<I> ExpectContinueIo<I> {
    pub fn new(inner: I, owed: ContinueOwed) -> Self {
        Self {
            inner,
            owed,
            continue_written_bytes: None,
        }
    }
}

impl<I: AsyncWrite + Unpin> ExpectContinueIo<I> {
    /// Write the owed interim response, if any, to the end.
    fn poll_write_owed(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.continue_written_bytes.is_none() && self.owed.take() {
            self.continue_written_bytes = Some(0);
        }
        while let Some(written_bytes) = self.continue_written_bytes {
            let rest = &CONTINUE_RESPONSE[written_bytes..];
            let count = ready!(Pin::new(&mut self.inner).poll_write(cx, rest))?;
            if count == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            let written_bytes = written_bytes + count;
            self.continue_written_bytes =
                (written_bytes < CONTINUE_RESPONSE.len()).then_some(written_bytes);
        }
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for ExpectContinueIo<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for ExpectContinueIo<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_write_owed(cx))?;
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_write_owed(cx))?;
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_owed(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A connection closing before its response owes nothing more.
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
#[path = "expect_continue_tests.rs"]
mod tests;
