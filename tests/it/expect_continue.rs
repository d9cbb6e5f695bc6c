//! `Expect: 100-continue` over raw HTTP/1.1: S3 answers every expectation
//! with `100 Continue`, also for an empty body, and each request on a kept
//! alive connection gets its own final response after it.
//!
//! Regression: without the interim response for `Content-Length: 0`,
//! awscli 1.46.3 (its vendored botocore) reused the empty PUT's status line
//! for the next UploadPart on the same connection and lost its ETag
//! (`aws s3 sync` of a tree with an empty file failed intermittently).

use std::time::Duration;

use anyhow::{bail, Context, Result};
use coffer_e2e::ops::create_bucket;
use coffer_e2e::{md5_hex, unique_bucket, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bound on every wait for the server; a hang fails instead of blocking.
const WAIT_MAX: Duration = Duration::from_secs(30);
/// Responses here are small; more means something is wrong.
const RESPONSE_BYTES_MAX: usize = 64 * 1024;
const CONTINUE_RESPONSE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// One HTTP/1.1 connection that reads responses one at a time, keeping
/// bytes that belong to the next response.
struct Connection {
    stream: TcpStream,
    received: Vec<u8>,
}

/// A parsed response: status line, lower-cased headers, body.
#[derive(Debug)]
struct Response {
    status_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

impl Connection {
    async fn open(server: &Server) -> Result<Self> {
        Ok(Self {
            stream: TcpStream::connect(server.s3_addr()).await?,
            received: Vec::new(),
        })
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream.write_all(bytes).await?;
        Ok(())
    }

    /// Read more bytes; an error if the server closes the connection.
    async fn fill(&mut self) -> Result<()> {
        let mut chunk = [0_u8; 4096];
        let count = tokio::time::timeout(WAIT_MAX, self.stream.read(&mut chunk))
            .await
            .context("the server did not answer within the bound")??;
        if count == 0 {
            bail!(
                "connection closed; unread: {:?}",
                String::from_utf8_lossy(&self.received)
            );
        }
        self.received.extend_from_slice(&chunk[..count]);
        if self.received.len() > RESPONSE_BYTES_MAX {
            bail!("more than {RESPONSE_BYTES_MAX} bytes without a full response");
        }
        Ok(())
    }

    /// The next response (interim or final), framed by Content-Length.
    async fn next_response(&mut self) -> Result<Response> {
        let head_end = loop {
            if let Some(position) = self.received.windows(4).position(|w| w == b"\r\n\r\n") {
                break position + 4;
            }
            self.fill().await?;
        };
        let head = String::from_utf8(self.received[..head_end].to_vec())?;
        let mut lines = head.trim_end().split("\r\n");
        let status_line = lines.next().context("empty head")?.to_owned();
        let headers: Vec<(String, String)> = lines
            .map(|line| {
                let (name, value) = line.split_once(':').unwrap_or((line, ""));
                (name.trim().to_ascii_lowercase(), value.trim().to_owned())
            })
            .collect();
        let body_bytes: usize = headers
            .iter()
            .find(|(name, _)| name == "content-length")
            .map(|(_, value)| value.parse())
            .transpose()?
            .unwrap_or(0);
        while self.received.len() < head_end + body_bytes {
            self.fill().await?;
        }
        let body = self.received[head_end..head_end + body_bytes].to_vec();
        self.received.drain(..head_end + body_bytes);
        Ok(Response {
            status_line,
            headers,
            body,
        })
    }

    /// Assert the next bytes are exactly the interim `100 Continue`.
    async fn expect_continue(&mut self) -> Result<()> {
        while self.received.len() < CONTINUE_RESPONSE.len() {
            self.fill().await?;
        }
        assert_eq!(
            String::from_utf8_lossy(&self.received[..CONTINUE_RESPONSE.len()]),
            String::from_utf8_lossy(CONTINUE_RESPONSE),
            "the server must send 100 Continue first"
        );
        self.received.drain(..CONTINUE_RESPONSE.len());
        Ok(())
    }
}

/// The head of a signed (header SigV4, unsigned payload) request with
/// `Expect: 100-continue`.
fn signed_head(
    server: &Server,
    method: &str,
    path: &str,
    content_length: usize,
    expect: bool,
) -> Result<String> {
    let host = format!("127.0.0.1:{}", server.s3_port());
    let length = content_length.to_string();
    let signed = server.signer().sign_headers(
        method,
        &format!("http://{host}{path}"),
        &[("content-length", &length)],
    )?;
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {length}\r\n");
    if expect {
        head.push_str("Expect: 100-continue\r\n");
    }
    for (name, value) in &signed {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    Ok(head)
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_put_with_expect_gets_100_continue_and_the_connection_stays_in_step() -> Result<()> {
    let server = Server::start().await?;
    let bucket = unique_bucket("expect");
    create_bucket(&server.client(), &bucket).await?;
    let mut connection = Connection::open(&server).await?;

    // 1. Empty PUT: 100 Continue, then its own 200 with the empty MD5.
    let head = signed_head(&server, "PUT", &format!("/{bucket}/empty"), 0, true)?;
    connection.send(head.as_bytes()).await?;
    connection.expect_continue().await?;
    let response = connection.next_response().await?;
    assert_eq!(response.status_line, "HTTP/1.1 200 OK", "{response:?}");
    let empty_etag = format!("\"{}\"", md5_hex(b""));
    assert_eq!(response.header("etag"), Some(empty_etag.as_str()));

    // 2. A PUT with a body on the same connection, sent the way botocore
    // does: headers, wait for 100 Continue, then the body. Exactly one
    // interim response, then this request's ETag, not the previous one's.
    let body = b"hello, coffer";
    let head = signed_head(
        &server,
        "PUT",
        &format!("/{bucket}/second"),
        body.len(),
        true,
    )?;
    connection.send(head.as_bytes()).await?;
    connection.expect_continue().await?;
    connection.send(body).await?;
    let response = connection.next_response().await?;
    assert_eq!(response.status_line, "HTTP/1.1 200 OK", "{response:?}");
    let body_etag = format!("\"{}\"", md5_hex(body));
    assert_eq!(response.header("etag"), Some(body_etag.as_str()));

    // 3. A GET without Expect: no interim response, the object's bytes.
    let head = signed_head(&server, "GET", &format!("/{bucket}/second"), 0, false)?;
    connection.send(head.as_bytes()).await?;
    let response = connection.next_response().await?;
    assert_eq!(response.status_line, "HTTP/1.1 200 OK", "{response:?}");
    assert_eq!(response.body, body);
    assert_eq!(response.header("etag"), Some(body_etag.as_str()));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_put_with_expect_that_fails_auth_still_pairs_responses() -> Result<()> {
    let server = Server::start().await?;
    let bucket = unique_bucket("expect-denied");
    create_bucket(&server.client(), &bucket).await?;
    let mut connection = Connection::open(&server).await?;

    // Anonymous empty PUT: 100 Continue (there is no body to withhold),
    // then the AccessDenied error.
    let host = format!("127.0.0.1:{}", server.s3_port());
    let head = format!(
        "PUT /{bucket}/anonymous HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n"
    );
    connection.send(head.as_bytes()).await?;
    connection.expect_continue().await?;
    let response = connection.next_response().await?;
    assert!(
        response.status_line.starts_with("HTTP/1.1 403"),
        "{response:?}"
    );
    assert!(
        String::from_utf8_lossy(&response.body).contains("<Code>AccessDenied</Code>"),
        "{response:?}"
    );

    // The next request on the connection gets its own answer.
    let head = signed_head(&server, "PUT", &format!("/{bucket}/after"), 0, true)?;
    connection.send(head.as_bytes()).await?;
    connection.expect_continue().await?;
    let response = connection.next_response().await?;
    assert_eq!(response.status_line, "HTTP/1.1 200 OK", "{response:?}");
    let empty_etag = format!("\"{}\"", md5_hex(b""));
    assert_eq!(response.header("etag"), Some(empty_etag.as_str()));
    Ok(())
}
