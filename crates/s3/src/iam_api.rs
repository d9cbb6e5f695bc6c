//! The IAM and STS query APIs on the S3 endpoint (`aws iam --endpoint-url`,
//! boto3's `iam`/`sts` clients): a `POST /` form (or a `GET /?Action=…`
//! signed for service `iam` or `sts`) is taken here before s3s sees it.
//! `coffer_iam` verifies the signature, parses the form and renders the
//! XML; this module finds the caller, decides the IAM action with the same
//! `authorize` as S3 (identity policies; an account root may do anything
//! in its account) and calls the engine (`handlers`).

mod entities;
mod handlers;
mod sts;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use coffer_iam::{IamError, IamRequest, Service};
use coffer_policy::{ConditionKeys, Outcome};
use http::{HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;

use crate::access::Authorizer;
use crate::caller::Caller3;
use crate::context::Principal;

/// The query API's state: the engine through the gateway's authorizer.
pub struct IamEndpoint {
    pub(crate) authorizer: Authorizer,
    limits: coffer_iam::Limits,
}

/// Whether `request` is an IAM/STS query-API call rather than S3: S3 has no
/// operation on `POST /` with a URL-encoded form (browser uploads are
/// multipart on a bucket), and a `GET /` signed for `iam`/`sts` is not
/// ListBuckets.
pub fn is_query_api(request: &Request) -> bool {
    if request.uri().path() != "/" {
        return false;
    }
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|value: &HeaderValue| value.to_str().ok())
            .unwrap_or("")
    };
    let form = header(http::header::CONTENT_TYPE)
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded");
    let scoped = {
        let authorization = header(http::header::AUTHORIZATION);
        authorization.contains("/iam/aws4_request") || authorization.contains("/sts/aws4_request")
    };
    (request.method() == Method::POST && (form || scoped))
        || (request.method() == Method::GET && scoped)
}

impl IamEndpoint {
    pub async fn handle(&self, request: Request, request_id: &str) -> Response {
        let service_guess = {
            let authorization = request
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("");
            if authorization.contains("/sts/") {
                Service::Sts
            } else {
                Service::Iam
            }
        };
        match self.answer(request).await {
            Ok(response) => xml_response(
                StatusCode::OK,
                coffer_iam::render(&response, request_id),
                request_id,
            ),
            Err(error) => {
                let status = StatusCode::from_u16(error.status_code_u16())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                xml_response(
                    status,
                    coffer_iam::render_error(&error, service_guess, request_id),
                    request_id,
                )
            }
        }
    }

    async fn answer(&self, request: Request) -> Result<coffer_iam::IamResponse, IamError> {
        let (parts, body) = request.into_parts();
        let body = http_body_util::Limited::new(body, coffer_iam::MAX_BODY_BYTES)
            .collect()
            .await
            .map_err(|_| {
                IamError::invalid_input(format!(
                    "The request body is larger than {} bytes or could not be read.",
                    coffer_iam::MAX_BODY_BYTES
                ))
            })?
            .to_bytes();
        let headers: Vec<(&str, &str)> = parts
            .headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect();
        let auth = coffer_iam::parse_authorization(&headers)?;
        let credentials = self
            .authorizer
            .engine()
            .find_credentials(&auth.access_key_id)
            .await
            .map_err(|failure| {
                tracing::error!(error = %failure, "credential lookup failed");
                IamError::service_failure()
            })?
            .ok_or_else(IamError::invalid_client_token_id)?;
        let query = parts.uri.query().unwrap_or("");
        let http_request = coffer_iam::HttpRequest {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query,
            headers: &headers,
            body: &body,
        };
        coffer_iam::verify(
            &auth,
            &http_request,
            &credentials.secret_access_key,
            time::OffsetDateTime::now_utc(),
        )?;
        let session = credentials
            .session
            .as_ref()
            .map(|session| session.of.clone());
        let parsed = coffer_iam::parse_request_with(auth.service, query, &body, &self.limits)?;
        let token = crate::caller::session_token(&parts.headers, parts.uri.query());
        let Caller3 {
            caller,
            account,
            identity,
            session_policy,
        } = self
            .authorizer
            .caller_of(credentials, token.as_deref())
            .map_err(|failure| match failure.code {
                coffer_types::ErrorCode::ExpiredToken => IamError::expired_token(),
                coffer_types::ErrorCode::InvalidToken => IamError::invalid_client_token_id(),
                coffer_types::ErrorCode::AccessDenied => IamError::access_denied(failure.message),
                _ => IamError::invalid_client_token_id(),
            })?;
        let account = account.ok_or_else(IamError::invalid_client_token_id)?;
        let mut keys = ConditionKeys::new();
        caller.add_condition_keys(&mut keys);
        let principal = Principal {
            account: Some(account.clone()),
            caller,
            keys,
            list_bucket_allowed: false,
            identity,
            session_policy,
        };
        let call = handlers::Call {
            engine: self.authorizer.engine(),
            account: &account,
            principal: &principal,
            operation: parsed.operation(),
            session: session.as_ref(),
        };
        // Session tokens of a root or user (GetSessionToken) cannot call
        // IAM, as in AWS without MFA.
        let token_session = matches!(
            session,
            Some(coffer_meta::iam::SessionOf::Root | coffer_meta::iam::SessionOf::User { .. })
        );
        if token_session && parsed.service() == Service::Iam {
            return Err(IamError::access_denied(
                "Temporary credentials from GetSessionToken cannot call IAM.",
            ));
        }
        // Everyone may ask who they are and get a session token, as in
        // AWS; AssumeRole is decided with the role's trust policy.
        let decided_elsewhere = matches!(
            parsed,
            IamRequest::GetCallerIdentity(_)
                | IamRequest::GetSessionToken(_)
                | IamRequest::AssumeRole(_)
        );
        if !decided_elsewhere {
            let resource = call.resource_of(&parsed).await;
            let decision = self
                .authorizer
                .decide(&principal, parsed.action(), &resource, None);
            if decision.outcome != Outcome::Allowed {
                return Err(IamError::access_denied_for(
                    &call.caller_arn(),
                    parsed.action(),
                    &resource,
                ));
            }
        }
        call.run(parsed).await
    }
}

fn xml_response(status: StatusCode, body: String, request_id: &str) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(coffer_iam::CONTENT_TYPE),
    );
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", value);
    }
    response
}

/// The endpoint for `router`.
pub(crate) fn endpoint(
    engine: Arc<coffer_engine::Engine>,
    sts_min_duration_seconds: u32,
) -> IamEndpoint {
    IamEndpoint {
        authorizer: Authorizer::new(engine),
        limits: coffer_iam::Limits {
            session_duration_seconds_min: sts_min_duration_seconds,
        },
    }
}
