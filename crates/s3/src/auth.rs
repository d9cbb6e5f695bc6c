//! SigV4/SigV2 secret lookup for s3s. s3s does the signature math (with a
//! constant-time comparison for SigV4; SigV2 is verified in constant time
//! by `sigv2` before s3s repeats it); we only answer "what is the secret of
//! this access key". Unknown keys are InvalidAccessKeyId, as AWS says.

use std::sync::Arc;

use coffer_engine::Engine;
use coffer_types::ErrorCode;
use s3s::auth::{S3Auth, SecretKey};
use s3s::S3Result;

use crate::error;

pub struct EngineAuth {
    engine: Arc<Engine>,
}

impl EngineAuth {
    pub fn new(engine: Arc<Engine>) -> Self {
        Self { engine }
    }
}

#[async_trait::async_trait]
impl S3Auth for EngineAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.engine.find_credentials(access_key).await {
            Ok(Some(credentials)) => Ok(SecretKey::from(credentials.secret_access_key.as_str())),
            Ok(None) => Err(error::to_s3s(error::with_message(
                ErrorCode::InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records.",
            ))),
            Err(failure) => {
                tracing::error!(error = %failure, "credential lookup failed");
                Err(error::to_s3s(failure))
            }
        }
    }
}
