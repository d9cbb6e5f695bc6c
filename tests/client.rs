//! AWS SDK clients for a `Server`, and helpers to read S3 errors out of SDK
//! results.

use std::fmt::Debug;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_s3::config::{BehaviorVersion, Region};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_async::time::TimeSource;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::retry::RetryConfig;

use crate::server::Server;

/// How a test wants its SDK client to differ from the default.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// Virtual-hosted-style addressing: the endpoint becomes
    /// `http(s)://<domain>:<port>` and every name resolves to 127.0.0.1.
    pub virtual_host_domain: Option<String>,
    /// Shift the client's clock by this many seconds (signed).
    pub clock_skew_seconds: i64,
    /// Override the credentials (access key id, secret).
    pub credentials: Option<(String, String)>,
    /// The session token of temporary credentials (STS).
    pub session_token: Option<String>,
    /// Retry attempts; 1 (no retries) by default so tests see every error.
    pub max_attempts: Option<u32>,
    /// With a TLS server: do not trust its certificate, only the platform's
    /// roots (which cannot vouch for a self-signed test certificate).
    pub distrust_server_certificate: bool,
    /// Give up on an operation (all attempts) after this long; fault tests
    /// talk to paused nodes, which never answer.
    pub operation_timeout: Option<Duration>,
}

/// A clock that runs `skew_seconds` away from the system clock.
#[derive(Debug)]
struct SkewedClock {
    skew_seconds: i64,
}

impl TimeSource for SkewedClock {
    fn now(&self) -> SystemTime {
        let now = SystemTime::now();
        let shift = Duration::from_secs(self.skew_seconds.unsigned_abs());
        if self.skew_seconds >= 0 {
            now + shift
        } else {
            now - shift
        }
    }
}

/// Resolves every host name to loopback, so `bucket.localhost` reaches the
/// server without touching the system resolver.
#[derive(Clone, Debug)]
struct LoopbackResolver;

impl ResolveDns for LoopbackResolver {
    fn resolve_dns<'a>(&'a self, _name: &'a str) -> DnsFuture<'a> {
        DnsFuture::ready(Ok(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]))
    }
}

impl Server {
    /// A path-style SDK client with the root credentials.
    pub fn client(&self) -> aws_sdk_s3::Client {
        self.client_with(ClientOptions::default())
    }

    /// An SDK client configured by `options`.
    pub fn client_with(&self, options: ClientOptions) -> aws_sdk_s3::Client {
        let (access_key_id, secret) = options.credentials.clone().unwrap_or_else(|| {
            (
                self.access_key_id().to_owned(),
                self.secret_access_key().to_owned(),
            )
        });
        let credentials = Credentials::new(
            access_key_id,
            secret,
            options.session_token.clone(),
            None,
            "coffer-e2e",
        );
        let mut http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring));
        if let Some(pem) = self.tls_cert_pem() {
            if !options.distrust_server_certificate {
                // Only the server's own certificate: no platform roots.
                let trust_store = tls::TrustStore::empty().with_pem_certificate(pem.to_vec());
                let context = tls::TlsContext::builder()
                    .with_trust_store(trust_store)
                    .build()
                    .expect("building a TlsContext only moves fields");
                http = http.tls_context(context);
            }
        }
        let http = if options.virtual_host_domain.is_some() {
            http.build_with_resolver(LoopbackResolver)
        } else {
            http.build_https()
        };
        let mut builder = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(self.region().to_owned()))
            .credentials_provider(credentials)
            .http_client(http)
            .retry_config(
                RetryConfig::standard().with_max_attempts(options.max_attempts.unwrap_or(1)),
            );
        builder = match &options.virtual_host_domain {
            Some(domain) => builder
                .endpoint_url(format!("{}://{domain}:{}", self.scheme(), self.s3_port()))
                .force_path_style(false),
            None => builder.endpoint_url(self.endpoint()).force_path_style(true),
        };
        if let Some(timeout) = options.operation_timeout {
            builder = builder.timeout_config(
                aws_smithy_types::timeout::TimeoutConfig::builder()
                    .operation_timeout(timeout)
                    .connect_timeout(Duration::from_secs(3))
                    .build(),
            );
        }
        if options.clock_skew_seconds != 0 {
            builder = builder.time_source(SkewedClock {
                skew_seconds: options.clock_skew_seconds,
            });
        }
        aws_sdk_s3::Client::from_conf(builder.build())
    }
}

/// The S3 error code of a failed SDK call (`None` when the response had no
/// parsable error body, e.g. HEAD or 304).
pub fn error_code<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> Option<String> {
    match error {
        SdkError::ServiceError(service) => service.err().code().map(str::to_owned),
        _ => None,
    }
}

/// The HTTP status of a failed SDK call, if a response arrived.
pub fn error_status<E>(error: &SdkError<E, HttpResponse>) -> Option<u16> {
    error
        .raw_response()
        .map(|response| response.status().as_u16())
}

/// Assert that an SDK call failed with `status` and (when given) `code`.
#[track_caller]
pub fn assert_s3_error<T: Debug, E: ProvideErrorMetadata + Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
    status: u16,
    code: Option<&str>,
) {
    match result {
        Ok(value) => panic!("expected {status} {code:?}, got success: {value:?}"),
        Err(error) => {
            let actual_status = error_status(&error);
            let actual_code = error_code(&error);
            assert_eq!(
                actual_status,
                Some(status),
                "status for expected {code:?}: {error:?}"
            );
            if let Some(code) = code {
                assert_eq!(
                    actual_code.as_deref(),
                    Some(code),
                    "error code (status {actual_status:?}): {error:?}"
                );
            }
        }
    }
}

/// Records the headers of the last request the SDK put on the wire, to check
/// how it encoded a body (e.g. aws-chunked with a trailing checksum).
#[derive(Clone, Debug, Default)]
pub struct CaptureRequestHeaders {
    headers: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
    uri: std::sync::Arc<std::sync::Mutex<String>>,
}

impl CaptureRequestHeaders {
    /// The captured request URI.
    pub fn uri(&self) -> String {
        self.uri
            .lock()
            .expect("no test thread panics holding it")
            .clone()
    }

    /// The captured value of `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        let headers = self
            .headers
            .lock()
            .expect("no test thread panics holding it");
        headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
    }
}

impl aws_sdk_s3::config::Intercept for CaptureRequestHeaders {
    fn name(&self) -> &'static str {
        "CaptureRequestHeaders"
    }

    fn read_before_transmit(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &aws_sdk_s3::config::RuntimeComponents,
        _cfg: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let captured = context
            .request()
            .headers()
            .iter()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect();
        *self
            .headers
            .lock()
            .expect("no test thread panics holding it") = captured;
        *self.uri.lock().expect("no test thread panics holding it") =
            context.request().uri().to_owned();
        Ok(())
    }
}
