//! Listeners: an accept loop per endpoint serving an axum router over
//! HTTP/1.1 and HTTP/2 (hyper-util's auto builder), optionally behind TLS.
//!
//! Every HTTP/1.1 request with `Expect: 100-continue` gets `100 Continue`,
//! also when it has no body (see `expect_continue`).
//!
//! A failure on one connection (reset, bad TLS handshake, malformed request)
//! ends that connection only. Shutdown stops accepting, asks open
//! connections to finish their in-flight requests, and waits for them up to
//! a bound.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::expect_continue::{ContinueOwed, ExpectContinueIo};

/// Open connections per endpoint; past this, new connections wait in the
/// kernel's accept queue until one closes.
const CONNECTIONS_MAX: usize = 4096;
/// Time for a client to send a request's headers (slow-loris bound).
const HEADER_READ_TIMEOUT_MS: u64 = 30_000;
const TLS_HANDSHAKE_TIMEOUT_MS: u64 = 10_000;
/// Pause after a failed accept (e.g. out of file descriptors) so the loop
/// does not spin while the condition lasts.
const ACCEPT_ERROR_BACKOFF_MS: u64 = 100;
/// Concurrent HTTP/2 streams per connection.
const HTTP2_STREAMS_MAX: u32 = 128;

/// Bind a listener, with a message that names the endpoint on failure.
pub async fn bind(endpoint: &str, address: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address} for the {endpoint} endpoint"))
}

/// One endpoint to serve.
pub struct Endpoint {
    /// "S3" or "admin", for logs.
    pub name: &'static str,
    pub listener: TcpListener,
    pub tls: Option<TlsAcceptor>,
    pub router: axum::Router,
}

/// Serve until `shutdown` is cancelled, then drain open connections for at
/// most `drain_timeout`. Returns the number of connections still open when
/// the drain bound was reached (they are dropped with the runtime).
pub async fn serve(
    endpoint: Endpoint,
    shutdown: CancellationToken,
    drain_timeout: Duration,
) -> usize {
    let Endpoint {
        name,
        listener,
        tls,
        router,
    } = endpoint;
    let graceful = GracefulShutdown::new();
    let connection_slots = Arc::new(Semaphore::new(CONNECTIONS_MAX));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(HEADER_READ_TIMEOUT_MS));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(HTTP2_STREAMS_MAX);

    loop {
        let permit = tokio::select! {
            permit = connection_slots.clone().acquire_owned() => {
                permit.expect("the connection semaphore is never closed")
            }
            () = shutdown.cancelled() => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(endpoint = name, %error, "accept failed");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_millis(ACCEPT_ERROR_BACKOFF_MS)) => continue,
                        () = shutdown.cancelled() => break,
                    }
                }
            },
            () = shutdown.cancelled() => break,
        };
        // Small responses (errors, HEAD) should not wait for Nagle.
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            name,
            builder: builder.clone(),
            router: router.clone(),
            remote,
            watcher: graceful.watcher(),
        };
        let tls = tls.clone();
        tokio::spawn(async move {
            connection.run(stream, tls).await;
            drop(permit);
        });
    }
    drop(listener);

    let open_count = graceful.count();
    tracing::info!(
        endpoint = name,
        open_connections = open_count,
        "stopped accepting; draining"
    );
    match tokio::time::timeout(drain_timeout, graceful.shutdown()).await {
        Ok(()) => 0,
        Err(_elapsed) => {
            let still_open = CONNECTIONS_MAX - connection_slots.available_permits();
            tracing::warn!(
                endpoint = name,
                still_open,
                "connections still open after the drain timeout; closing them"
            );
            still_open
        }
    }
}

struct Connection {
    name: &'static str,
    builder: auto::Builder<TokioExecutor>,
    router: axum::Router,
    remote: SocketAddr,
    watcher: Watcher,
}

impl Connection {
    async fn run(self, stream: TcpStream, tls: Option<TlsAcceptor>) {
        let Some(acceptor) = tls else {
            return self.serve_io(stream, None).await;
        };
        let handshake = tokio::time::timeout(
            Duration::from_millis(TLS_HANDSHAKE_TIMEOUT_MS),
            acceptor.accept(stream),
        );
        match handshake.await {
            Ok(Ok(tls_stream)) => {
                // `s3:TlsVersion` compares numbers: 1.2, 1.3.
                let version = match tls_stream.get_ref().1.protocol_version() {
                    Some(rustls::ProtocolVersion::TLSv1_3) => "1.3",
                    Some(rustls::ProtocolVersion::TLSv1_2) => "1.2",
                    _ => "1.2",
                };
                self.serve_io(tls_stream, Some(version)).await
            }
            // Scanners and clients with the wrong trust store do this all
            // the time: not worth more than a debug line.
            Ok(Err(error)) => {
                tracing::debug!(endpoint = self.name, remote = %self.remote, %error, "TLS handshake failed")
            }
            Err(_elapsed) => {
                tracing::debug!(endpoint = self.name, remote = %self.remote, "TLS handshake timed out")
            }
        }
    }

    /// Serve one connection; `tls_version` is `None` for plain HTTP.
    async fn serve_io<I>(self, io: I, tls_version: Option<&'static str>)
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let Connection {
            name,
            builder,
            router,
            remote,
            watcher,
        } = self;
        let continue_owed = ContinueOwed::default();
        let io = TokioIo::new(ExpectContinueIo::new(io, continue_owed.clone()));
        // The remote address travels with each request, as axum's
        // `ConnectInfo` (for source-IP conditions and logs).
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            continue_owed.note_request(&request);
            request.extensions_mut().insert(ConnectInfo(remote));
            request
                .extensions_mut()
                .insert(coffer_s3::SecureTransport(tls_version.is_some()));
            if let Some(version) = tls_version {
                request
                    .extensions_mut()
                    .insert(coffer_s3::TlsVersion(version));
            }
            router.clone().oneshot(request)
        });
        let connection = builder.serve_connection(io, service);
        if let Err(error) = watcher.watch(connection).await {
            // Client resets and protocol errors end here, with this
            // connection only.
            tracing::debug!(endpoint = name, %remote, %error, "connection ended with an error");
        }
    }
}

#[cfg(test)]
#[path = "serve_tests.rs"]
mod tests;
