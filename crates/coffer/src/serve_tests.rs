//! The accept loop over real loopback sockets: requests are served, one bad
//! connection does not stop the others, shutdown drains in-flight requests
//! and cuts the ones that outlive the bound, TLS works and a failed
//! handshake is harmless.

use std::sync::Arc;

use axum::routing::get;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, Mutex};

use super::*;

const DRAIN_LONG: Duration = Duration::from_secs(60);

/// A handler that reports it started and waits to be released.
#[derive(Clone)]
struct Gate {
    started: mpsc::Sender<()>,
    release: Arc<Mutex<mpsc::Receiver<()>>>,
}

fn test_router(gate: Option<Gate>) -> axum::Router {
    axum::Router::new()
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
        )
        .route(
            "/slow",
            get(move || async move {
                if let Some(gate) = gate {
                    gate.started.send(()).await.expect("test waits for start");
                    gate.release.lock().await.recv().await;
                }
                "done"
            }),
        )
}

async fn start(
    router: axum::Router,
    tls: Option<TlsAcceptor>,
    drain: Duration,
) -> (
    SocketAddr,
    CancellationToken,
    tokio::task::JoinHandle<usize>,
) {
    let listener = bind("test", "127.0.0.1:0".parse().expect("literal"))
        .await
        .expect("bind");
    let address = listener.local_addr().expect("bound");
    let shutdown = CancellationToken::new();
    let endpoint = Endpoint {
        name: "test",
        listener,
        tls,
        router,
    };
    let task = tokio::spawn(serve(endpoint, shutdown.clone(), drain));
    (address, shutdown, task)
}

async fn request<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response
}

async fn plain_get(address: SocketAddr, path: &str) -> String {
    request(TcpStream::connect(address).await.expect("connect"), path).await
}

#[tokio::test]
async fn serves_requests_with_the_peer_address() {
    let (address, shutdown, task) = start(test_router(None), None, DRAIN_LONG).await;
    let response = plain_get(address, "/peer").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("127.0.0.1"), "{response}");
    shutdown.cancel();
    assert_eq!(task.await.expect("serve task"), 0);
}

#[tokio::test]
async fn a_broken_connection_does_not_stop_the_server() {
    let (address, shutdown, task) = start(test_router(None), None, DRAIN_LONG).await;
    let mut junk = TcpStream::connect(address).await.expect("connect");
    junk.write_all(b"\x16\x03\x01 this is not HTTP\r\n\r\n")
        .await
        .expect("send");
    let mut answer = Vec::new();
    // hyper answers 400 or just closes; either way the connection ends.
    let _ = junk.read_to_end(&mut answer).await;
    drop(
        TcpStream::connect(address)
            .await
            .expect("connect and hang up at once"),
    );

    let response = plain_get(address, "/peer").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    shutdown.cancel();
    assert_eq!(task.await.expect("serve task"), 0);
}

fn gate() -> (Gate, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let (started_tx, started_rx) = mpsc::channel(1);
    let (release_tx, release_rx) = mpsc::channel(1);
    let gate = Gate {
        started: started_tx,
        release: Arc::new(Mutex::new(release_rx)),
    };
    (gate, started_rx, release_tx)
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let (gate, mut started, release) = gate();
    let (address, shutdown, task) = start(test_router(Some(gate)), None, DRAIN_LONG).await;
    let client = tokio::spawn(plain_get(address, "/slow"));
    started
        .recv()
        .await
        .expect("the request reached the handler");
    shutdown.cancel();
    // Once the listener is closed the loop has reached the drain...
    let mut closed = false;
    for _ in 0..10_000 {
        if TcpStream::connect(address).await.is_err() {
            closed = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(closed, "the listener closes on shutdown");
    // ...where it waits for the request in flight.
    assert!(!task.is_finished(), "the server waits for the request");
    release.send(()).await.expect("handler waits");
    let response = client.await.expect("client task");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("done"), "{response}");
    assert_eq!(task.await.expect("serve task"), 0, "nothing was cut");
}

#[tokio::test]
async fn the_drain_is_bounded() {
    let (gate, mut started, _release) = gate();
    let drain = Duration::from_millis(200);
    let (address, shutdown, task) = start(test_router(Some(gate)), None, drain).await;
    let _client = tokio::spawn(plain_get(address, "/slow"));
    started
        .recv()
        .await
        .expect("the request reached the handler");
    shutdown.cancel();
    // The handler never finishes: serve gives up on it after the bound.
    assert_eq!(task.await.expect("serve task"), 1);
}

fn tls_client() -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    let pem = include_bytes!("testdata/localhost.cert.pem");
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots
            .add(cert.expect("fixture parses"))
            .expect("fixture is a CA-less self-signed cert");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the defaults")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[tokio::test]
async fn tls_serves_https_and_survives_plain_http() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = crate::config::TlsFiles {
        cert: dir.path().join("cert.pem"),
        key: dir.path().join("key.pem"),
    };
    std::fs::write(&files.cert, include_str!("testdata/localhost.cert.pem")).expect("write");
    std::fs::write(&files.key, include_str!("testdata/localhost.key.pem")).expect("write");
    let acceptor = TlsAcceptor::from(crate::tls::load_server_config(&files).expect("valid"));
    let (address, shutdown, task) = start(test_router(None), Some(acceptor), DRAIN_LONG).await;

    // Plain HTTP to the TLS port: the handshake fails, the connection drops.
    let plain = plain_get(address, "/peer").await;
    assert!(!plain.contains("200"), "{plain}");

    let tcp = TcpStream::connect(address).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("valid name");
    let tls_stream = tls_client().connect(name, tcp).await.expect("handshake");
    let response = request(tls_stream, "/peer").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    shutdown.cancel();
    assert_eq!(task.await.expect("serve task"), 0);
}
