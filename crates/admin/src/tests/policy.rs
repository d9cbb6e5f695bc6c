//! The policy explanation route against a fake `PolicyExplainer`: real
//! signed requests through the router; the fake records what it was asked
//! and answers as the gateway's authorizer would (an allow with its
//! statement, an explicit deny, the gateway's errors).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use coffer_types::ErrorCode;

use super::accounts::{call, engine_error, send, signed, RootKey};
use super::{fake_node, metrics_handle};
use crate::{
    router_with, AdminApi, AdminError, ExplainedReasonView, ExplanationView, PolicyExplainRequest,
    PolicyExplainer,
};

const PATH: &str = "/admin/v1/policy/explain";

#[derive(Default)]
struct FakeExplainer {
    /// Every request that reached the explainer, in order.
    asked: Mutex<Vec<PolicyExplainRequest>>,
}

fn reason(effect: &str, sid: Option<&str>, index: u64) -> ExplainedReasonView {
    ExplainedReasonView {
        source: "BucketPolicy".to_owned(),
        account: "111122223333".to_owned(),
        name: "bucket policy of photos".to_owned(),
        sid: sid.map(str::to_owned),
        index,
        effect: effect.to_owned(),
    }
}

#[async_trait::async_trait]
impl PolicyExplainer for FakeExplainer {
    async fn explain(&self, request: &PolicyExplainRequest) -> Result<ExplanationView, AdminError> {
        self.asked.lock().expect("test lock").push(request.clone());
        if request.bucket.as_deref() == Some("Bad_Bucket") {
            return Err(engine_error(
                ErrorCode::InvalidBucketName,
                "The specified bucket is not valid.",
            ));
        }
        if request.access_key_id.as_deref() == Some("AKIAUNKNOWN") {
            return Err(engine_error(
                ErrorCode::InvalidAccessKeyId,
                "The AWS access key Id you provided does not exist in our records.",
            ));
        }
        match request.action.as_str() {
            "s3:GetObject" if request.access_key_id.is_none() => Ok(ExplanationView {
                allowed: false,
                outcome: "ImplicitDeny".to_owned(),
                explanation: "nothing allows anonymous access".to_owned(),
                reasons: Vec::new(),
            }),
            "s3:GetObject" if request.key.as_deref() == Some("cats/1") => Ok(ExplanationView {
                allowed: false,
                outcome: "ExplicitDeny".to_owned(),
                explanation: "an explicit Deny applies".to_owned(),
                reasons: vec![reason("Deny", Some("no-cats"), 1)],
            }),
            "s3:GetObject" => Ok(ExplanationView {
                allowed: true,
                outcome: "Allowed".to_owned(),
                explanation: "cross-account: both accounts allow it".to_owned(),
                reasons: vec![reason("Allow", None, 0)],
            }),
            "s3:Explode" => Err(AdminError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the metadata store failed",
            )),
            other => Err(engine_error(
                ErrorCode::InvalidArgument,
                &format!("Unknown action {other}"),
            )),
        }
    }
}

struct Harness {
    router: axum::Router,
    explainer: Arc<FakeExplainer>,
    // Held so the probe directory outlives the router.
    _dir: tempfile::TempDir,
}

fn harness() -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let explainer = Arc::new(FakeExplainer::default());
    let router = router_with(
        fake_node(true, dir.path().join("tmp")),
        metrics_handle(),
        AdminApi {
            credentials: Some(Arc::new(RootKey)),
            explainer: Some(explainer.clone()),
            ..AdminApi::default()
        },
    );
    Harness {
        router,
        explainer,
        _dir: dir,
    }
}

#[tokio::test]
async fn the_described_request_reaches_the_explainer_and_the_answer_comes_back() {
    let Harness {
        router, explainer, ..
    } = harness();
    let (status, reply) = call(
        &router,
        "POST",
        PATH,
        r#"{"access_key_id": "AKIABRAVO", "action": "s3:GetObject", "bucket": "photos",
            "key": "dogs/1", "condition_keys": {"aws:SourceIp": "10.0.0.1", "aws:SecureTransport": "false"}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(
        reply,
        serde_json::json!({
            "allowed": true,
            "outcome": "Allowed",
            "explanation": "cross-account: both accounts allow it",
            "reasons": [{
                "source": "BucketPolicy",
                "account": "111122223333",
                "name": "bucket policy of photos",
                "sid": null,
                "index": 0,
                "effect": "Allow",
            }],
        })
    );
    let asked = explainer.asked.lock().expect("test lock").clone();
    assert_eq!(
        asked,
        vec![PolicyExplainRequest {
            access_key_id: Some("AKIABRAVO".to_owned()),
            action: "s3:GetObject".to_owned(),
            bucket: Some("photos".to_owned()),
            key: Some("dogs/1".to_owned()),
            condition_keys: BTreeMap::from([
                ("aws:SecureTransport".to_owned(), "false".to_owned()),
                ("aws:SourceIp".to_owned(), "10.0.0.1".to_owned()),
            ]),
        }]
    );
}

#[tokio::test]
async fn denials_are_answers_with_their_reasons() {
    let Harness {
        router, explainer, ..
    } = harness();
    let (status, reply) = call(
        &router,
        "POST",
        PATH,
        r#"{"access_key_id": "AKIABRAVO", "action": "s3:GetObject", "bucket": "photos", "key": "cats/1"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["allowed"], false);
    assert_eq!(reply["outcome"], "ExplicitDeny");
    assert_eq!(reply["reasons"][0]["sid"], "no-cats");
    assert_eq!(reply["reasons"][0]["effect"], "Deny");
    assert_eq!(reply["reasons"][0]["index"], 1);

    // Left out and null both mean anonymous; the optional fields default.
    for body in [
        r#"{"action": "s3:GetObject", "bucket": "photos", "key": "dogs/1"}"#,
        r#"{"access_key_id": null, "action": "s3:GetObject", "bucket": "photos", "key": "dogs/1"}"#,
    ] {
        let (status, reply) = call(&router, "POST", PATH, body).await;
        assert_eq!(status, StatusCode::OK, "{reply}");
        assert_eq!(reply["outcome"], "ImplicitDeny", "{reply}");
        assert_eq!(reply["reasons"], serde_json::json!([]));
    }
    let asked = explainer.asked.lock().expect("test lock").clone();
    assert_eq!(asked.len(), 3);
    assert!(asked[1..]
        .iter()
        .all(|request| request.access_key_id.is_none() && request.condition_keys.is_empty()));
}

#[tokio::test]
async fn explainer_errors_keep_their_status_and_code() {
    let Harness { router, .. } = harness();
    let cases = [
        (
            r#"{"access_key_id": "AKIABRAVO", "action": "s3:Fly", "bucket": "photos"}"#,
            StatusCode::BAD_REQUEST,
            Some("InvalidArgument"),
        ),
        (
            r#"{"access_key_id": "AKIABRAVO", "action": "s3:GetObject", "bucket": "Bad_Bucket"}"#,
            StatusCode::BAD_REQUEST,
            Some("InvalidBucketName"),
        ),
        (
            r#"{"access_key_id": "AKIAUNKNOWN", "action": "s3:GetObject", "bucket": "photos"}"#,
            StatusCode::FORBIDDEN,
            Some("InvalidAccessKeyId"),
        ),
        (
            r#"{"action": "s3:Explode"}"#,
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
        ),
    ];
    for (body, expected_status, expected_code) in cases {
        let (status, reply) = call(&router, "POST", PATH, body).await;
        assert_eq!(status, expected_status, "{body}: {reply}");
        assert_eq!(reply["code"].as_str(), expected_code, "{body}: {reply}");
        assert!(
            reply["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{reply}"
        );
    }
}

#[tokio::test]
async fn malformed_requests_are_refused_before_the_explainer() {
    let Harness {
        router, explainer, ..
    } = harness();
    let cases = [
        "not json",
        "{}",
        r#"{"action": 7}"#,
        r#"{"action": "s3:GetObject", "actions": "s3:PutObject"}"#,
        r#"{"action": "s3:GetObject", "condition_key": {"aws:SourceIp": "10.0.0.1"}}"#,
        r#"{"action": "s3:GetObject", "condition_keys": {"aws:SourceIp": 10}}"#,
        r#"{"action": "s3:GetObject", "condition_keys": [["aws:SourceIp", "10.0.0.1"]]}"#,
        r#"{"action": "s3:GetObject", "condition_keys": {"": "x"}}"#,
        r#"{"action": ""}"#,
        r#"{"action": "s3:GetObject", "access_key_id": ""}"#,
        r#"{"action": "s3:GetObject", "bucket": ""}"#,
        r#"{"action": "s3:GetObject", "key": "a"}"#,
    ];
    for body in cases {
        let (status, reply) = call(&router, "POST", PATH, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {reply}");
        assert!(reply["error"].is_string(), "{reply}");
    }
    assert!(explainer.asked.lock().expect("test lock").is_empty());

    let huge = format!(
        r#"{{"action": "s3:GetObject", "bucket": "{}"}}"#,
        "x".repeat(100 * 1024)
    );
    let (status, _) = call(&router, "POST", PATH, &huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // Only POST.
    let (status, _) = call(&router, "GET", PATH, "").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn only_signed_root_requests_are_explained() {
    let Harness {
        router, explainer, ..
    } = harness();
    let unsigned = Request::post(PATH)
        .body(Body::from(r#"{"action": "s3:GetObject"}"#))
        .expect("valid request");
    let (status, _) = send(&router, unsigned).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let mut request = signed("POST", PATH, r#"{"action": "s3:GetObject"}"#);
    *request.body_mut() = Body::from(r#"{"action": "s3:PutObject"}"#);
    let (status, _) = send(&router, request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(explainer.asked.lock().expect("test lock").is_empty());
}

#[tokio::test]
async fn a_node_without_an_explainer_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let router = router_with(
        fake_node(true, dir.path().join("tmp")),
        metrics_handle(),
        AdminApi {
            credentials: Some(Arc::new(RootKey)),
            ..AdminApi::default()
        },
    );
    let (status, reply) = call(&router, "POST", PATH, r#"{"action": "s3:GetObject"}"#).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{reply}");
}
