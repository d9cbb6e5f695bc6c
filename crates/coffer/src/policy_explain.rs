//! The admin API's policy explanations (`coffer_admin::PolicyExplainer`)
//! over the S3 gateway's authorizer (`coffer_s3::explain`): the admin crate
//! may not know the gateway, so the binary joins the two and converts
//! between their types.

use std::sync::Arc;

use async_trait::async_trait;
use coffer_admin::{
    AdminError, ExplainedReasonView, ExplanationView, PolicyExplainRequest, PolicyExplainer,
};
use coffer_engine::Engine;

pub(crate) struct GatewayExplainer {
    pub engine: Arc<Engine>,
}

fn to_gateway(request: &PolicyExplainRequest) -> coffer_s3::ExplainRequest {
    coffer_s3::ExplainRequest {
        access_key_id: request.access_key_id.clone(),
        action: request.action.clone(),
        bucket: request.bucket.clone(),
        key: request.key.clone(),
        condition_keys: request
            .condition_keys
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
    }
}

fn to_view(explanation: coffer_s3::Explanation) -> ExplanationView {
    ExplanationView {
        allowed: explanation.allowed,
        outcome: explanation.outcome,
        explanation: explanation.explanation,
        reasons: explanation
            .reasons
            .into_iter()
            .map(|reason| ExplainedReasonView {
                source: reason.source,
                account: reason.account,
                name: reason.name,
                sid: reason.sid,
                index: reason.index as u64,
                effect: reason.effect,
            })
            .collect(),
    }
}

#[async_trait]
impl PolicyExplainer for GatewayExplainer {
    async fn explain(&self, request: &PolicyExplainRequest) -> Result<ExplanationView, AdminError> {
        // The gateway decides on this node's applied state without a
        // barrier; an operator asking right after changing a policy
        // (perhaps through another node) expects that change to count.
        self.engine.read_barrier().await?;
        let explanation = coffer_s3::explain(&self.engine, &to_gateway(request))?;
        Ok(to_view(explanation))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_answers_convert_field_by_field() {
        let request = PolicyExplainRequest {
            access_key_id: Some("AKIABRAVO".to_owned()),
            action: "s3:GetObject".to_owned(),
            bucket: Some("photos".to_owned()),
            key: Some("cats/1".to_owned()),
            condition_keys: [
                ("aws:SourceIp", "10.0.0.1"),
                ("aws:SecureTransport", "false"),
            ]
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect(),
        };
        let converted = to_gateway(&request);
        assert_eq!(converted.access_key_id.as_deref(), Some("AKIABRAVO"));
        assert_eq!(converted.action, "s3:GetObject");
        assert_eq!(converted.bucket.as_deref(), Some("photos"));
        assert_eq!(converted.key.as_deref(), Some("cats/1"));
        assert_eq!(
            converted.condition_keys,
            vec![
                ("aws:SecureTransport".to_owned(), "false".to_owned()),
                ("aws:SourceIp".to_owned(), "10.0.0.1".to_owned()),
            ]
        );

        let view = to_view(coffer_s3::Explanation {
            allowed: false,
            outcome: "ExplicitDeny".to_owned(),
            explanation: "an explicit Deny applies".to_owned(),
            reasons: vec![coffer_s3::ExplainedReason {
                source: "BucketPolicy".to_owned(),
                account: "111122223333".to_owned(),
                name: "bucket policy of photos".to_owned(),
                sid: Some("no-cats".to_owned()),
                index: 2,
                effect: "Deny".to_owned(),
            }],
        });
        assert_eq!(
            view,
            ExplanationView {
                allowed: false,
                outcome: "ExplicitDeny".to_owned(),
                explanation: "an explicit Deny applies".to_owned(),
                reasons: vec![ExplainedReasonView {
                    source: "BucketPolicy".to_owned(),
                    account: "111122223333".to_owned(),
                    name: "bucket policy of photos".to_owned(),
                    sid: Some("no-cats".to_owned()),
                    index: 2,
                    effect: "Deny".to_owned(),
                }],
            }
        );
    }
}
