//! A small client for the IAM and STS query APIs on coffer's S3 endpoint:
//! form POSTs signed with AWS's own SigV4 signer (aws-sigv4) for service
//! `iam` or `sts`, as the AWS CLI sends them. The e2e crate has no IAM SDK
//! (it would double the build); the awscli and boto3 checks in
//! `tests/clients` drive the same API with AWS's clients.

use std::time::SystemTime;

use anyhow::{bail, Context, Result};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::server::Server;
use crate::sign::xml_element;

/// An IAM caller: the endpoint and one access key.
#[derive(Clone, Debug)]
pub struct IamClient {
    endpoint: String,
    region: String,
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

/// An answer: status and XML body.
#[derive(Debug)]
pub struct IamAnswer {
    pub status: u16,
    pub body: String,
}

impl IamAnswer {
    /// The text of the first `<tag>`.
    pub fn field(&self, tag: &str) -> Result<String> {
        xml_element(&self.body, tag).with_context(|| format!("no <{tag}> in {}", self.body))
    }

    /// Fail unless the call succeeded.
    pub fn ok(self) -> Result<Self> {
        if self.status != 200 {
            bail!("IAM call failed with {}: {}", self.status, self.body);
        }
        Ok(self)
    }

    /// The error code, if the call failed.
    pub fn error_code(&self) -> Option<String> {
        (self.status != 200)
            .then(|| xml_element(&self.body, "Code"))
            .flatten()
    }
}

impl Server {
    /// An IAM client with the root credentials.
    pub fn iam(&self) -> IamClient {
        self.iam_with(self.access_key_id(), self.secret_access_key())
    }

    /// An IAM client with other credentials.
    pub fn iam_with(&self, access_key_id: &str, secret_access_key: &str) -> IamClient {
        IamClient {
            endpoint: self.endpoint(),
            region: self.region().to_owned(),
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret_access_key.to_owned(),
            session_token: None,
        }
    }
}

impl IamClient {
    /// The same caller with temporary credentials' session token.
    pub fn with_session_token(mut self, token: &str) -> Self {
        self.session_token = Some(token.to_owned());
        self
    }

    /// Call `action` of `service` (`iam` or `sts`) with `params`.
    pub async fn call(
        &self,
        service: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<IamAnswer> {
        let version = if service == "sts" {
            "2011-06-15"
        } else {
            "2010-05-08"
        };
        let mut body = format!("Action={action}&Version={version}");
        for (name, value) in params {
            body.push('&');
            body.push_str(name);
            body.push('=');
            body.push_str(&urlencoding::encode(value));
        }
        let url = format!("{}/", self.endpoint);
        let content_type = "application/x-www-form-urlencoded; charset=utf-8";
        let identity: Identity = Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            self.session_token.clone(),
            None,
            "coffer-e2e",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .context("signing params")?
            .into();
        let signable = SignableRequest::new(
            "POST",
            &url,
            [("content-type", content_type)].into_iter(),
            SignableBody::Bytes(body.as_bytes()),
        )?;
        let (instructions, _signature) = sign(signable, &params)?.into_parts();
        let (headers, _) = instructions.into_parts();
        let mut request = reqwest::Client::new()
            .post(&url)
            .header("content-type", content_type);
        for header in headers {
            request = request.header(header.name(), header.value());
        }
        let response = request.body(body).send().await?;
        Ok(IamAnswer {
            status: response.status().as_u16(),
            body: response.text().await?,
        })
    }

    pub async fn iam(&self, action: &str, params: &[(&str, &str)]) -> Result<IamAnswer> {
        self.call("iam", action, params).await
    }

    /// Create a user with an access key; answers (access key id, secret).
    pub async fn create_user_with_key(&self, user: &str) -> Result<(String, String)> {
        self.iam("CreateUser", &[("UserName", user)]).await?.ok()?;
        let key = self
            .iam("CreateAccessKey", &[("UserName", user)])
            .await?
            .ok()?;
        Ok((key.field("AccessKeyId")?, key.field("SecretAccessKey")?))
    }

    /// Give `user` an inline policy with `statements` (JSON, comma-separated).
    pub async fn put_user_policy(&self, user: &str, name: &str, statements: &str) -> Result<()> {
        let document = format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#);
        self.iam(
            "PutUserPolicy",
            &[
                ("UserName", user),
                ("PolicyName", name),
                ("PolicyDocument", &document),
            ],
        )
        .await?
        .ok()?;
        Ok(())
    }
}
