//! A manual SigV4 signer (aws-sigv4) for requests the SDK refuses to build:
//! presigned URLs that live longer than 7 days, and raw TCP requests.

use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::server::Server;

/// Signs requests with one set of credentials for the `s3` service.
#[derive(Clone, Debug)]
pub struct Signer {
    access_key_id: String,
    secret_access_key: String,
    region: String,
}

impl Server {
    /// A signer with the root credentials.
    pub fn signer(&self) -> Signer {
        Signer {
            access_key_id: self.access_key_id().to_owned(),
            secret_access_key: self.secret_access_key().to_owned(),
            region: self.region().to_owned(),
        }
    }
}

impl Signer {
    fn settings(location: SignatureLocation) -> SigningSettings {
        let mut settings = SigningSettings::default();
        // S3 signs the path exactly as sent.
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.signature_location = location;
        settings
    }

    fn identity(&self) -> Identity {
        Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            None,
            None,
            "coffer-e2e",
        )
        .into()
    }

    /// A presigned URL for `method url` valid for `expires` from `time`
    /// (no bound is enforced here, unlike the SDK).
    pub fn presign(
        &self,
        method: &str,
        url: &str,
        expires: Duration,
        time: SystemTime,
    ) -> Result<String> {
        let identity = self.identity();
        let mut settings = Self::settings(SignatureLocation::QueryParams);
        settings.expires_in = Some(expires);
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("s3")
            .time(time)
            .settings(settings)
            .build()
            .context("signing params")?
            .into();
        let signable = SignableRequest::new(
            method,
            url,
            std::iter::empty(),
            SignableBody::UnsignedPayload,
        )?;
        let (instructions, _signature) = sign(signable, &params)?.into_parts();
        let mut request = http::Request::builder()
            .method(method)
            .uri(url)
            .body(())
            .context("request")?;
        instructions.apply_to_request_http1x(&mut request);
        Ok(request.uri().to_string())
    }

    /// The headers (Authorization, X-Amz-Date, X-Amz-Content-Sha256) that
    /// sign `method url` with `headers` and an unsigned payload, now.
    pub fn sign_headers(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<Vec<(String, String)>> {
        let identity = self.identity();
        let mut settings = Self::settings(SignatureLocation::Headers);
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .context("signing params")?
            .into();
        let signable = SignableRequest::new(
            method,
            url,
            headers.iter().copied(),
            SignableBody::UnsignedPayload,
        )?;
        let (instructions, _signature) = sign(signable, &params)?.into_parts();
        let (signed_headers, _params) = instructions.into_parts();
        Ok(signed_headers
            .into_iter()
            .map(|header| (header.name().to_owned(), header.value().to_owned()))
            .collect())
    }
}

impl Server {
    /// Send `method path_and_query` (already URL-encoded) signed with the
    /// root credentials and an unsigned payload, with extra `headers` (also
    /// signed) and `body`. For requests the SDK would not send as-is.
    pub async fn send_signed(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<reqwest::Response> {
        let url = format!("{}{}", self.endpoint(), path_and_query);
        let signed = self.signer().sign_headers(method, &url, headers)?;
        let mut request = reqwest::Client::new().request(method.parse()?, &url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        for (name, value) in signed {
            request = request.header(name, value);
        }
        Ok(request.body(body).send().await?)
    }
}

/// The text of `<Tag>…</Tag>` in an XML document (first occurrence).
pub fn xml_element(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&close)? + start;
    Some(xml[start..end].to_owned())
}
