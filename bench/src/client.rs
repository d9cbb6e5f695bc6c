//! The S3 endpoint under test and the SDK client that talks to it.
//!
//! The client is configured to measure the store, not the SDK: no retries
//! (a failure is counted, not hidden), no client-side checksums beyond what
//! S3 requires, unsigned streaming payloads, no stalled-stream guard.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use aws_credential_types::Credentials;
use aws_sdk_s3::config::{
    BehaviorVersion, Region, RequestChecksumCalculation, ResponseChecksumValidation,
    StalledStreamProtectionConfig,
};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns, ResolveDnsError};
use aws_smithy_types::retry::RetryConfig;

/// Where to send requests and as whom.
#[derive(Clone, Debug)]
pub struct Target {
    /// `http(s)://host:port`.
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
    /// Virtual-hosted-style requests (`bucket.host`) instead of path style.
    pub virtual_host: bool,
    /// PEM file of a CA (or self-signed certificate) to trust for https.
    pub ca_file: Option<PathBuf>,
}

impl Target {
    pub fn client(&self) -> Result<aws_sdk_s3::Client> {
        let credentials = Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            None,
            None,
            "coffer-bench",
        );
        let mut http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring));
        if let Some(ca_file) = &self.ca_file {
            let pem = std::fs::read(ca_file)
                .with_context(|| format!("reading CA file {}", ca_file.display()))?;
            let trust_store = tls::TrustStore::default().with_pem_certificate(pem);
            let context = tls::TlsContext::builder()
                .with_trust_store(trust_store)
                .build()
                .context("building the TLS context")?;
            http = http.tls_context(context);
        }
        let http = if self.virtual_host {
            http.build_with_resolver(SubdomainResolver {
                endpoint_host: endpoint_host(&self.endpoint)?,
            })
        } else {
            http.build_https()
        };
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .credentials_provider(credentials)
            .http_client(http)
            .endpoint_url(&self.endpoint)
            .force_path_style(!self.virtual_host)
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .build();
        Ok(aws_sdk_s3::Client::from_conf(config))
    }
}

/// The host part of `scheme://host[:port][/...]`.
fn endpoint_host(endpoint: &str) -> Result<String> {
    let uri: http::Uri = endpoint
        .parse()
        .with_context(|| format!("endpoint {endpoint:?} is not a URL"))?;
    uri.host()
        .map(|host| host.trim_matches(['[', ']']).to_owned())
        .with_context(|| format!("endpoint {endpoint:?} has no host"))
}

/// Resolves `<bucket>.<endpoint host>` like the endpoint host itself, so
/// virtual-hosted-style benchmarks against `localhost` or an IP need no DNS
/// setup.
#[derive(Clone, Debug)]
struct SubdomainResolver {
    endpoint_host: String,
}

impl ResolveDns for SubdomainResolver {
    fn resolve_dns<'a>(&'a self, name: &'a str) -> DnsFuture<'a> {
        let host = match name.strip_suffix(&self.endpoint_host) {
            Some(prefix) if prefix.ends_with('.') => self.endpoint_host.clone(),
            _ => name.to_owned(),
        };
        DnsFuture::new(async move {
            if let Ok(address) = host.parse::<IpAddr>() {
                return Ok(vec![address]);
            }
            let addresses = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(ResolveDnsError::new)?;
            Ok(addresses.map(|address| address.ip()).collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_hosts() {
        assert_eq!(endpoint_host("http://127.0.0.1:9000").unwrap(), "127.0.0.1");
        assert_eq!(endpoint_host("https://localhost").unwrap(), "localhost");
        assert_eq!(endpoint_host("http://[::1]:9000").unwrap(), "::1");
        assert!(endpoint_host("not a url").is_err());
    }

    #[tokio::test]
    async fn bucket_subdomains_resolve_like_the_endpoint() {
        let resolver = SubdomainResolver {
            endpoint_host: "127.0.0.1".to_owned(),
        };
        let addresses = resolver.resolve_dns("bench.127.0.0.1").await.unwrap();
        assert_eq!(addresses, vec![IpAddr::from([127, 0, 0, 1])]);
    }
}
