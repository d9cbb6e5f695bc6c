//! HTTPS on the S3 and admin endpoints (`--tls-cert/--tls-key`), and
//! settings read from a TOML file (`--config FILE`).
//!
//! The invariant under test: with TLS configured, a request is served only
//! over a verified TLS session; a client that does not trust the certificate
//! and a client speaking plain HTTP both get no HTTP answer at all.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::types::BucketLocationConstraint;
use coffer_e2e::ops::{create_bucket, put_bytes};
use coffer_e2e::{
    error_status, random_bytes, unique_bucket, ClientOptions, Server, ServerOptions, TlsIdentity,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Bound on reading what a TLS port answers to plain HTTP; the server gives
/// up on a handshake after 10 s, so it closes well within this.
const PLAIN_HTTP_READ_TIMEOUT_MS: u64 = 60_000;
/// More than a TLS alert (7 bytes) and less than any useful HTTP response.
const PLAIN_HTTP_READ_BYTES_MAX: usize = 64 * 1024;

fn tls_options() -> ServerOptions {
    ServerOptions {
        tls: Some(TlsIdentity::localhost_test()),
        ..ServerOptions::default()
    }
}

/// The messages of an error and all its sources, for assertions on why a
/// connection failed.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut messages = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        messages.push(cause.to_string());
        source = cause.source();
    }
    messages.join(": ")
}

/// Create a bucket, put an object bigger than one TLS record and one AEAD
/// segment, read it back whole and by range.
async fn round_trip(client: &aws_sdk_s3::Client, prefix: &str) -> Result<()> {
    let bucket = unique_bucket(prefix);
    create_bucket(client, &bucket).await?;
    let body = random_bytes(300 * 1024 + 17);
    put_bytes(client, &bucket, "over/tls", &body).await?;
    let object = client
        .get_object()
        .bucket(&bucket)
        .key("over/tls")
        .send()
        .await
        .context("get over https")?;
    let got = object.body.collect().await?.into_bytes();
    assert_eq!(got.len(), body.len(), "length of the object read back");
    assert!(
        got == body,
        "the object read back differs from what was put"
    );
    let ranged = client
        .get_object()
        .bucket(&bucket)
        .key("over/tls")
        .range("bytes=70000-70099")
        .send()
        .await
        .context("range get over https")?;
    let part = ranged.body.collect().await?.into_bytes();
    assert_eq!(&part[..], &body[70_000..70_100]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn sdk_client_trusting_the_certificate_round_trips_over_https() -> Result<()> {
    let server = Server::start_with(tls_options()).await?;
    assert!(
        server.endpoint().starts_with("https://"),
        "{}",
        server.endpoint()
    );
    round_trip(&server.client(), "tls").await
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_endpoint_serves_health_over_https() -> Result<()> {
    let server = Server::start_with(tls_options()).await?;
    assert!(
        server.admin_url().starts_with("https://"),
        "{}",
        server.admin_url()
    );
    assert_eq!(server.admin_get("/health/ready").await?.0, 200);
    assert_eq!(server.admin_get("/health/live").await?.0, 200);
    let (status, metrics) = server.admin_get("/metrics").await?;
    assert_eq!(status, 200);
    assert!(metrics.contains("coffer_"), "no coffer metrics:\n{metrics}");

    // reqwest with only its built-in web roots cannot verify the
    // self-signed certificate: no response, and no fallback to HTTP.
    coffer_e2e::server::install_crypto_provider();
    let untrusting = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let error = untrusting
        .get(format!("{}/health/ready", server.admin_url()))
        .send()
        .await
        .expect_err("a client that does not trust the certificate must fail");
    assert!(
        error.is_connect(),
        "expected a connect error, got {error:?}"
    );
    assert!(
        error_chain(&error).to_lowercase().contains("certificate"),
        "expected a certificate error: {}",
        error_chain(&error)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn sdk_client_not_trusting_the_certificate_fails_the_handshake() -> Result<()> {
    let server = Server::start_with(tls_options()).await?;
    let untrusting = server.client_with(ClientOptions {
        distrust_server_certificate: true,
        ..ClientOptions::default()
    });
    let bucket = unique_bucket("untrusted");
    let result = untrusting.create_bucket().bucket(&bucket).send().await;
    let error = match result {
        Ok(output) => panic!("an untrusting client was served: {output:?}"),
        Err(error) => error,
    };
    assert_eq!(error_status(&error), None, "a response arrived: {error:?}");
    assert!(
        matches!(error, SdkError::DispatchFailure(_)),
        "expected a connection failure, got {error:?}"
    );
    let chain = error_chain(&error);
    assert!(
        chain.to_lowercase().contains("certificate"),
        "expected a certificate error: {chain}"
    );

    // The request never reached the S3 layer: the bucket does not exist.
    let trusted = server.client();
    let head = trusted.head_bucket().bucket(&bucket).send().await;
    let head_error = head.expect_err("the untrusted create must not have happened");
    assert_eq!(error_status(&head_error), Some(404), "{head_error:?}");
    // And a trusting client still works on the same server.
    create_bucket(&trusted, &bucket).await?;
    Ok(())
}

/// Send a plain HTTP/1.1 request on a raw TCP connection and return every
/// byte the server sends back before it closes the connection.
async fn plain_http_exchange(address: SocketAddr, path: &str) -> Result<Vec<u8>> {
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    let read = async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) => return Ok(()),
                Ok(count) => {
                    answer.extend_from_slice(&buffer[..count]);
                    if answer.len() > PLAIN_HTTP_READ_BYTES_MAX {
                        bail!("the TLS port sent more than {PLAIN_HTTP_READ_BYTES_MAX} bytes");
                    }
                }
                // A reset is also "no HTTP response".
                Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => return Ok(()),
                Err(error) => return Err(error.into()),
            }
        }
    };
    tokio::time::timeout(Duration::from_millis(PLAIN_HTTP_READ_TIMEOUT_MS), read)
        .await
        .context("the TLS port neither answered nor closed the connection")??;
    Ok(answer)
}

/// Nothing, or a TLS record (content type 0x15 = alert), never HTTP.
fn assert_not_http(answer: &[u8], endpoint: &str) {
    assert!(
        !answer.starts_with(b"HTTP/"),
        "the {endpoint} TLS port answered plain HTTP: {:?}",
        String::from_utf8_lossy(answer)
    );
    assert!(
        answer.is_empty() || answer[0] == 0x15,
        "the {endpoint} TLS port sent something other than a TLS alert: {answer:02x?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_to_a_tls_port_gets_no_http_response() -> Result<()> {
    let server = Server::start_with(tls_options()).await?;
    let answer = plain_http_exchange(server.s3_addr(), "/").await?;
    assert_not_http(&answer, "S3");
    let answer = plain_http_exchange(server.admin_addr(), "/health/ready").await?;
    assert_not_http(&answer, "admin");

    // The SDK pointed at http:// on the TLS port gets no response either.
    let plain_endpoint = format!("http://127.0.0.1:{}", server.s3_port());
    let config = server
        .client()
        .config()
        .to_builder()
        .endpoint_url(plain_endpoint)
        .build();
    let plain_client = aws_sdk_s3::Client::from_conf(config);
    let bucket = unique_bucket("plain");
    let result = plain_client.create_bucket().bucket(&bucket).send().await;
    let error = match result {
        Ok(output) => panic!("plain HTTP was served on the TLS port: {output:?}"),
        Err(error) => error,
    };
    assert_eq!(error_status(&error), None, "a response arrived: {error:?}");

    // The server is still healthy and the plain request created nothing.
    let head = server.client().head_bucket().bucket(&bucket).send().await;
    let head_error = head.expect_err("the plain-HTTP create must not have happened");
    assert_eq!(error_status(&head_error), Some(404), "{head_error:?}");
    Ok(())
}

/// The whole command line of a running process.
fn process_arguments(pid: u32) -> Result<Vec<String>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline"))
        .with_context(|| format!("read /proc/{pid}/cmdline"))?;
    Ok(raw
        .split(|byte| *byte == 0)
        .filter(|argument| !argument.is_empty())
        .map(|argument| String::from_utf8_lossy(argument).into_owned())
        .collect())
}

/// The server was started with `--config FILE` and none of the flags the
/// file replaces, so whatever took effect came from the file.
fn assert_settings_came_from_the_file(server: &Server) -> Result<String> {
    let pid = server.pid().context("the server is not running")?;
    let arguments = process_arguments(pid)?;
    let config_path = server.config_file_path().to_string_lossy().into_owned();
    assert!(
        arguments
            .windows(2)
            .any(|pair| pair[0] == "--config" && pair[1] == config_path),
        "not started with --config {config_path}: {arguments:?}"
    );
    for flag in [
        "--data-dir",
        "--s3-listen",
        "--admin-listen",
        "--region",
        "--tls-cert",
        "--tls-key",
    ] {
        assert!(
            !arguments.iter().any(|argument| argument.starts_with(flag)),
            "{flag} was passed as a flag: {arguments:?}"
        );
    }
    std::fs::read_to_string(server.config_file_path()).context("read the config file back")
}

#[tokio::test(flavor = "multi_thread")]
async fn config_file_sets_listen_addresses_region_and_data_dir() -> Result<()> {
    let region = "eu-west-3";
    let server = Server::start_with(ServerOptions {
        region: Some(region.to_owned()),
        settings_in_config_file: true,
        ..ServerOptions::default()
    })
    .await?;
    let file = assert_settings_came_from_the_file(&server)?;
    assert!(file.contains(&format!("region = \"{region}\"")), "{file}");
    assert!(
        file.contains(&format!("s3_listen = \"127.0.0.1:{}\"", server.s3_port())),
        "{file}"
    );

    // The admin port from the file answered readiness (the harness waited
    // on it); the S3 port from the file serves S3 in the file's region.
    assert_eq!(server.admin_get("/health/ready").await?.0, 200);
    let client = server.client();
    let bucket = unique_bucket("config");
    create_bucket(&client, &bucket).await?;
    let location = client
        .get_bucket_location()
        .bucket(&bucket)
        .send()
        .await
        .context("get bucket location")?;
    assert_eq!(
        location.location_constraint(),
        Some(&BucketLocationConstraint::EuWest3),
        "the bucket was not created in the configured region"
    );
    put_bytes(&client, &bucket, "k", b"in the configured data dir").await?;

    // The data directory from the file holds the generated master key and
    // the metadata: nothing went to the default ./data.
    let data_dir = server.data_dir();
    assert!(
        data_dir.join("master.key").is_file(),
        "no master.key in {}",
        data_dir.display()
    );
    let entries = std::fs::read_dir(&data_dir)?.count();
    assert!(
        entries > 1,
        "{} holds only {entries} entries",
        data_dir.display()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn config_file_can_turn_on_tls() -> Result<()> {
    let server = Server::start_with(ServerOptions {
        settings_in_config_file: true,
        ..tls_options()
    })
    .await?;
    let file = assert_settings_came_from_the_file(&server)?;
    assert!(file.contains("tls_cert = "), "{file}");
    round_trip(&server.client(), "cfgtls").await?;
    let answer = plain_http_exchange(server.s3_addr(), "/").await?;
    assert_not_http(&answer, "S3");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn config_file_with_an_unknown_key_is_refused() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config_path = dir.path().join("coffer.toml");
    // A typo of `region`: it must not silently fall back to us-east-1.
    std::fs::write(
        &config_path,
        format!(
            "data_dir = \"{}\"\nregoin = \"eu-west-3\"\n",
            dir.path().join("data").display()
        ),
    )?;
    let output = run_to_exit(&[
        "server".as_ref(),
        "--config".as_ref(),
        config_path.as_os_str(),
    ])
    .await?;
    assert!(!output.status.success(), "started with a bad config file");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stderr.contains("regoin") || stdout.contains("regoin"),
        "the error does not name the unknown key:\n{stderr}\n{stdout}"
    );
    Ok(())
}

/// Run the binary with only `arguments` and no COFFER_* settings, and wait
/// (bounded) for it to exit by itself.
async fn run_to_exit(arguments: &[&std::ffi::OsStr]) -> Result<std::process::Output> {
    let mut command = tokio::process::Command::new(coffer_e2e::server::coffer_binary()?);
    command.args(arguments).kill_on_drop(true);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("COFFER_") {
            command.env_remove(&name);
        }
    }
    // Ephemeral ports (two loopback addresses, as the endpoints must
    // differ), in case the file were wrongly accepted.
    command
        .env("COFFER_S3_LISTEN", "127.0.0.1:0")
        .env("COFFER_ADMIN_LISTEN", "127.0.0.2:0");
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .context("coffer did not exit within 60 s of a bad config file")??;
    Ok(output)
}

// AWS refuses a SigV4 scope naming another region (400
// AuthorizationHeaderMalformed); the region comes from the config file here.
#[tokio::test(flavor = "multi_thread")]
async fn config_file_region_is_the_sigv4_region() -> Result<()> {
    let server = Server::start_with(ServerOptions {
        region: Some("eu-west-3".to_owned()),
        settings_in_config_file: true,
        ..ServerOptions::default()
    })
    .await?;
    // A request signed for another region's scope: AWS answers 400
    // AuthorizationHeaderMalformed ("the region 'us-east-1' is wrong;
    // expecting 'eu-west-3'").
    let config = server
        .client()
        .config()
        .to_builder()
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .build();
    let wrong_region = aws_sdk_s3::Client::from_conf(config);
    coffer_e2e::assert_s3_error(
        wrong_region.list_buckets().send().await,
        400,
        Some("AuthorizationHeaderMalformed"),
    );
    server.client().list_buckets().send().await?;
    Ok(())
}
