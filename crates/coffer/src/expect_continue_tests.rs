//! Which requests are owed `100 Continue`, how the stream writes it (also
//! through partial writes), and what a real connection served by
//! `serve::serve` sends for empty and non-empty bodies.

use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::put;
use http_body_util::{Empty, Full};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::serve::{bind, serve, Endpoint};

/// Bound on every wait on the server; a hang fails the test instead.
const WAIT_MAX: Duration = Duration::from_secs(30);

fn request(version: Version, expect: Option<&str>) -> hyper::http::request::Builder {
    let builder = Request::put("/object").version(version);
    match expect {
        Some(value) => builder.header(EXPECT, value),
        None => builder,
    }
}

#[test]
fn owed_only_for_http11_expectations_without_a_body() {
    let empty = |version, expect| {
        request(version, expect)
            .body(Empty::<&'static [u8]>::new())
            .expect("valid request")
    };
    let cases = [
        (
            "1.1, 100-continue, empty",
            empty(Version::HTTP_11, Some("100-continue")),
            true,
        ),
        (
            "1.1, any case",
            empty(Version::HTTP_11, Some("100-Continue")),
            true,
        ),
        ("1.1, no Expect", empty(Version::HTTP_11, None), false),
        (
            "1.1, other expectation",
            empty(Version::HTTP_11, Some("something")),
            false,
        ),
        (
            "1.0 must not get 1xx",
            empty(Version::HTTP_10, Some("100-continue")),
            false,
        ),
        (
            "2 has no such bytes",
            empty(Version::HTTP_2, Some("100-continue")),
            false,
        ),
    ];
    for (name, request, want) in cases {
        assert_eq!(needs_continue_for_empty_body(&request), want, "{name}");
        let owed = ContinueOwed::default();
        owed.note_request(&request);
        assert_eq!(owed.take(), want, "{name}: flag");
        assert!(!owed.take(), "{name}: taking clears the flag");
    }
    // hyper sends the interim response itself when there is a body to read.
    let with_body = request(Version::HTTP_11, Some("100-continue"))
        .body(Full::new(&b"data"[..]))
        .expect("valid request");
    assert!(!needs_continue_for_empty_body(&with_body));
}

/// A writer that takes at most one byte per call, to exercise partial writes.
#[derive(Default)]
struct OneByteWriter {
    written: Vec<u8>,
    flush_count: usize,
}

impl AsyncRead for OneByteWriter {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        _buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for OneByteWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match buf.first() {
            Some(byte) => {
                this.written.push(*byte);
                Poll::Ready(Ok(1))
            }
            None => Poll::Ready(Ok(0)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().flush_count += 1;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn writes_the_owed_interim_response_whole_before_the_next_bytes() {
    let owed = ContinueOwed::default();
    let mut io = ExpectContinueIo::new(OneByteWriter::default(), owed.clone());

    io.write_all(b"first").await.expect("write");
    assert_eq!(io.inner.written, b"first", "nothing owed, nothing added");

    owed.0.store(true, Ordering::Release);
    io.write_all(b"HTTP/1.1 200 OK\r\n\r\n")
        .await
        .expect("write");
    let mut want = b"first".to_vec();
    want.extend_from_slice(CONTINUE_RESPONSE);
    want.extend_from_slice(b"HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!(io.inner.written, want, "one byte at a time, in order");

    io.write_all(b"next").await.expect("write");
    want.extend_from_slice(b"next");
    assert_eq!(io.inner.written, want, "owed once, written once");
}

#[tokio::test]
async fn a_flush_sends_the_owed_interim_response() {
    let owed = ContinueOwed::default();
    let mut io = ExpectContinueIo::new(OneByteWriter::default(), owed.clone());
    owed.0.store(true, Ordering::Release);
    io.flush().await.expect("flush");
    assert_eq!(io.inner.written, CONTINUE_RESPONSE);
    assert_eq!(io.inner.flush_count, 1);
}

/// A `PUT /object` handler that reports it started, waits to be released,
/// then answers with the body length it read.
fn gated_router(started: mpsc::Sender<()>, release: mpsc::Receiver<()>) -> axum::Router {
    let release = std::sync::Arc::new(tokio::sync::Mutex::new(release));
    axum::Router::new().route(
        "/object",
        put(move |body: axum::body::Bytes| async move {
            started
                .send(())
                .await
                .expect("the test waits for the start");
            release.lock().await.recv().await;
            format!("read {} bytes", body.len())
        }),
    )
}

async fn start_server(router: axum::Router) -> (SocketAddr, CancellationToken) {
    let listener = bind("test", "127.0.0.1:0".parse().expect("literal"))
        .await
        .expect("bind");
    let address = listener.local_addr().expect("bound");
    let shutdown = CancellationToken::new();
    let endpoint = Endpoint {
        name: "test",
        listener,
        tls: None,
        router,
    };
    tokio::spawn(serve(endpoint, shutdown.clone(), Duration::from_secs(5)));
    (address, shutdown)
}

/// Read from `stream` into `received` until it ends with `suffix`.
async fn read_until_ends_with(stream: &mut TcpStream, received: &mut Vec<u8>, suffix: &[u8]) {
    let read = async {
        while !received.ends_with(suffix) {
            let mut chunk = [0_u8; 1024];
            let count = stream.read(&mut chunk).await.expect("read");
            assert!(
                count > 0,
                "connection closed; received {:?}",
                String::from_utf8_lossy(received)
            );
            received.extend_from_slice(&chunk[..count]);
        }
    };
    tokio::time::timeout(WAIT_MAX, read)
        .await
        .expect("the server answers within the bound");
}

#[tokio::test]
async fn a_served_connection_sends_100_continue_for_empty_and_non_empty_bodies() {
    let (started_sender, mut started) = mpsc::channel(1);
    let (release, release_receiver) = mpsc::channel(1);
    let (address, shutdown) = start_server(gated_router(started_sender, release_receiver)).await;
    let mut stream = TcpStream::connect(address).await.expect("connect");

    // Empty body: the interim response arrives while the handler is still
    // held, so it does not depend on the final response.
    stream
        .write_all(
            b"PUT /object HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n",
        )
        .await
        .expect("send");
    let mut received = Vec::new();
    read_until_ends_with(&mut stream, &mut received, CONTINUE_RESPONSE).await;
    assert_eq!(received, CONTINUE_RESPONSE);
    started.recv().await.expect("handler started");
    release.send(()).await.expect("handler waits");
    received.clear();
    read_until_ends_with(&mut stream, &mut received, b"read 0 bytes").await;
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");

    // Non-empty body on the same connection: hyper's own interim response,
    // exactly once, then the body, then this request's own final response.
    stream
        .write_all(
            b"PUT /object HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
        )
        .await
        .expect("send");
    received.clear();
    read_until_ends_with(&mut stream, &mut received, CONTINUE_RESPONSE).await;
    assert_eq!(received, CONTINUE_RESPONSE);
    stream.write_all(b"hello").await.expect("send body");
    started.recv().await.expect("handler started");
    release.send(()).await.expect("handler waits");
    received.clear();
    read_until_ends_with(&mut stream, &mut received, b"read 5 bytes").await;
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(!text.contains("100 Continue"), "{text}");

    // HTTP/1.0 must not see a 1xx response.
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream
        .write_all(
            b"PUT /object HTTP/1.0\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n",
        )
        .await
        .expect("send");
    started.recv().await.expect("handler started");
    release.send(()).await.expect("handler waits");
    received.clear();
    read_until_ends_with(&mut stream, &mut received, b"read 0 bytes").await;
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.0 200 OK\r\n"), "{text}");
    shutdown.cancel();
}
