//! Authorization of every request by coffer-policy's `authorize`: the
//! caller (an account's root or anonymous), the actions the operation
//! needs (`Operation::actions`), the resource ARN, the condition keys of
//! the request (`keys`), and the bucket's policy, ACL, Object Ownership and
//! Block Public Access (with the owner account's). A request is denied
//! unless allowed. The check also records the operation and bucket for
//! metrics and hands the principal to handlers.
//!
//! A bucket that does not exist is left to the handler (404 NoSuchBucket,
//! as AWS answers everyone). CopyObject's source and DeleteObjects' keys
//! are checked by the hooks and the handler through `Authorizer`.

use std::net::SocketAddr;
use std::sync::Arc;

use coffer_engine::Engine;
use coffer_meta::{AccountRecord, BucketAccess, BucketRecord};
use coffer_policy::{
    arn, authorize, AccountRef, Acl, ConditionKeys, Decision, NamedPolicy, ObjectResource, Outcome,
    Policy, PolicyKind, PublicAccessBlock, Request, Resource, SourceKind,
};
use coffer_types::{BucketName, ErrorCode, S3Error};
use s3s::access::{S3Access, S3AccessContext};
use s3s::dto::{CopyObjectInput, CopySource, PostObjectInput, UploadPartCopyInput};
use s3s::path::S3Path;
use s3s::{S3Request, S3Result};

use crate::acl_convert;
use crate::caller::{session_token, Caller3};
use crate::context::{Principal, RequestInfo, SecureTransport};
use crate::error;
use crate::keys::{self, RequestFacts};
use crate::limits;
use crate::operations::{Operation, RequestShape};

pub struct PolicyAccess {
    authorizer: Authorizer,
}

impl PolicyAccess {
    pub fn new(engine: Arc<Engine>) -> Self {
        Self {
            authorizer: Authorizer { engine },
        }
    }
}

/// Decides single actions; shared by the access check and the handlers
/// that check more than one resource (DeleteObjects, copies).
#[derive(Clone)]
pub struct Authorizer {
    engine: Arc<Engine>,
}

/// A bucket with everything that governs access to it, read once per
/// request.
pub struct BucketContext {
    pub record: BucketRecord,
    /// Whether the bucket policy uses `s3:ExistingObjectTag/…` (then
    /// object requests read the object's tags before deciding).
    pub policy_reads_object_tags: bool,
    pub access: BucketAccess,
    pub owner: AccountRecord,
    owner_ref: AccountRef,
    policy: Option<Policy>,
    policy_is_public: bool,
    /// The bucket's and the owner account's settings combined.
    pub block: PublicAccessBlock,
}

/// An existing object of a bucket with ACLs enabled: who owns it and its
/// ACL, which alone can grant access to it when its owner is not the
/// bucket owner.
pub struct ObjectContext {
    pub owner: AccountRef,
    pub acl: Acl,
}

/// Operations whose object's ACL takes part in the decision.
fn reads_object_acl(operation: Operation) -> bool {
    matches!(
        operation,
        Operation::GetObject
            | Operation::HeadObject
            | Operation::GetObjectAcl
            | Operation::PutObjectAcl
    )
}

pub(crate) fn account_ref(account: &AccountRecord) -> AccountRef {
    AccountRef {
        id: account.id.0.clone(),
        canonical_id: account.canonical_id.0.clone(),
    }
}

fn denied(decision: &Decision) -> S3Error {
    match decision.outcome {
        Outcome::MethodNotAllowed => error::with_message(
            ErrorCode::MethodNotAllowed,
            "The specified method is not allowed against this resource.",
        ),
        _ => error::code(ErrorCode::AccessDenied),
    }
}

impl Authorizer {
    pub(crate) fn new(engine: Arc<Engine>) -> Self {
        Self { engine }
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// `bucket`, but "no such bucket" is only answered once this node has
    /// caught up (read barrier, then a second look), so a lagging node
    /// never denies a bucket the region has.
    async fn bucket_after_a_miss(
        &self,
        bucket: &BucketName,
    ) -> Result<Option<BucketContext>, S3Error> {
        if let Some(found) = self.bucket(bucket)? {
            return Ok(Some(found));
        }
        self.engine.read_barrier().await?;
        self.bucket(bucket)
    }

    /// The bucket and what governs it; `None` if it does not exist.
    pub fn bucket(&self, bucket: &BucketName) -> Result<Option<BucketContext>, S3Error> {
        let (record, access) = match self.engine.bucket_with_access(bucket) {
            Ok(found) => found,
            Err(failure) if failure.code == ErrorCode::NoSuchBucket => return Ok(None),
            Err(failure) => return Err(failure),
        };
        let owner = self.engine.account_record(&record.owner)?.ok_or_else(|| {
            tracing::error!(bucket = %bucket, "bucket owner account is missing");
            S3Error::internal()
        })?;
        let policy = access.policy.as_deref().and_then(|text| {
            match Policy::parse(text, PolicyKind::Bucket) {
                Ok(policy) => Some(policy),
                Err(failure) => {
                    // Stored policies were validated when they were put.
                    tracing::error!(bucket = %bucket, error = %failure, "stored bucket policy does not parse; ignoring it");
                    None
                }
            }
        });
        let policy_is_public = policy.as_ref().is_some_and(coffer_policy::policy_is_public);
        let bucket_block = access
            .public_access_block
            .map(acl_convert::public_access_block)
            .unwrap_or_default();
        let account_block = self
            .engine
            .account_public_access_block(&record.owner)?
            .map(acl_convert::public_access_block)
            .unwrap_or_default();
        let policy_reads_object_tags = access
            .policy
            .as_deref()
            .is_some_and(|text| text.to_ascii_lowercase().contains("s3:existingobjecttag/"));
        Ok(Some(BucketContext {
            policy_reads_object_tags,
            owner_ref: account_ref(&owner),
            owner,
            record,
            policy,
            policy_is_public,
            block: bucket_block.most_restrictive(account_block),
            access,
        }))
    }

    /// Decide one action on one resource of `bucket` (or an account-level
    /// action when `bucket` is `None`).
    pub fn decide(
        &self,
        principal: &Principal,
        action: &str,
        resource: &str,
        bucket: Option<&BucketContext>,
    ) -> Decision {
        self.decide_on_object(principal, action, resource, bucket, None)
    }

    /// `decide`, with the object's owner and ACL when ACLs are enabled and
    /// the object exists.
    pub fn decide_on_object(
        &self,
        principal: &Principal,
        action: &str,
        resource: &str,
        bucket: Option<&BucketContext>,
        object: Option<&ObjectContext>,
    ) -> Decision {
        let request = Request {
            caller: &principal.caller,
            action,
            resource,
            keys: &principal.keys,
        };
        let identity = principal.policies();
        let Some(bucket) = bucket else {
            return authorize(&request, &identity, None);
        };
        let policy_kind = SourceKind::BucketPolicy;
        let policy_name = format!("bucket policy of {}", bucket.record.name);
        let bucket_acl = acl_convert::bucket_acl(bucket);
        let resource = Resource {
            bucket_owner: &bucket.owner_ref,
            bucket_policy: bucket.policy.as_ref().map(|policy| NamedPolicy {
                kind: &policy_kind,
                account: &bucket.owner_ref.id,
                name: &policy_name,
                policy,
            }),
            bucket_policy_is_public: bucket.policy_is_public,
            bucket_acl: bucket_acl.as_ref(),
            object: object.map(|object| ObjectResource {
                owner: &object.owner,
                acl: Some(&object.acl),
            }),
            public_access_block: bucket.block,
        };
        let decision = authorize(&request, &identity, Some(&resource));
        if !decision.is_allowed() {
            tracing::debug!(action, resource = request.resource, explanation = %decision.explanation, "denied");
        }
        decision
    }

    /// The object's owner and ACL, when the bucket has ACLs enabled and
    /// the object exists.
    pub fn object(
        &self,
        bucket: &BucketContext,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Option<ObjectContext>, S3Error> {
        if bucket.access.ownership_or_default() == coffer_meta::OwnershipRecord::BucketOwnerEnforced
        {
            return Ok(None);
        }
        let Ok(key) = coffer_types::ObjectKey::parse(key) else {
            return Ok(None);
        };
        let version_id = version_id.map(|id| coffer_types::VersionId(id.to_owned()));
        let Some((version, acl)) =
            self.engine
                .object_acl_now(&bucket.record.name, &key, version_id.as_ref())?
        else {
            return Ok(None);
        };
        let owner = if version.owner == bucket.owner.id {
            bucket.owner.clone()
        } else {
            match self.engine.account_record(&version.owner)? {
                Some(owner) => owner,
                // The writer's account is gone: the bucket owner decides.
                None => bucket.owner.clone(),
            }
        };
        Ok(Some(ObjectContext {
            acl: acl_convert::stored_acl(&owner.canonical_id.0, &acl.grants),
            owner: account_ref(&owner),
        }))
    }

    /// `s3:ExistingObjectTag/<key>` for the tags of the object (or the
    /// named version); nothing when it does not exist.
    async fn add_existing_object_tags(
        &self,
        keys: &mut ConditionKeys,
        bucket: &BucketContext,
        key: &str,
        version_id: Option<&str>,
    ) {
        let Ok(key) = coffer_types::ObjectKey::parse(key) else {
            return;
        };
        let version_id = version_id.map(|id| coffer_types::VersionId(id.to_owned()));
        if let Ok((_, tags)) = self
            .engine
            .get_object_tagging(&bucket.record.name, &key, version_id)
            .await
        {
            for (name, value) in tags {
                keys.set(&format!("s3:ExistingObjectTag/{name}"), value);
            }
        }
    }

    /// Require `action` on an object of `bucket`.
    pub fn require_object_action(
        &self,
        principal: &Principal,
        action: &str,
        bucket: &BucketContext,
        key: &str,
    ) -> Result<(), S3Error> {
        let resource = arn::object_arn(bucket.record.name.as_str(), key);
        let decision = self.decide(principal, action, &resource, Some(bucket));
        if decision.is_allowed() {
            Ok(())
        } else {
            Err(denied(&decision))
        }
    }

    fn check_copy_source(
        &self,
        principal: Option<&Principal>,
        source: &CopySource,
    ) -> S3Result<()> {
        let Some(principal) = principal else {
            return Err(error::to_s3s(error::code(ErrorCode::AccessDenied)));
        };
        let CopySource::Bucket {
            bucket,
            key,
            version_id,
        } = source
        else {
            return Err(error::to_s3s(error::with_message(
                ErrorCode::NotImplemented,
                "Access point and outpost copy sources are not supported",
            )));
        };
        let Ok(name) = BucketName::parse(bucket) else {
            // The handler answers NoSuchBucket.
            return Ok(());
        };
        let Some(context) = self.bucket(&name).map_err(error::to_s3s)? else {
            return Ok(());
        };
        let action = if version_id.is_some() {
            "s3:GetObjectVersion"
        } else {
            "s3:GetObject"
        };
        self.require_object_action(principal, action, &context, key)
            .map_err(error::to_s3s)
    }
}

/// The request's bucket as the access check read it (`None`: it does not
/// exist). Any other bucket is read through the check's authorizer;
/// without one (no access check ran) the request is refused.
pub fn request_bucket<T>(
    req: &S3Request<T>,
    bucket: &BucketName,
) -> Result<Option<Arc<BucketContext>>, S3Error> {
    if let Some(context) = req.extensions.get::<Arc<BucketContext>>() {
        if &context.record.name == bucket {
            return Ok(Some(context.clone()));
        }
    }
    let authorizer = req
        .extensions
        .get::<Authorizer>()
        .ok_or_else(|| error::code(ErrorCode::AccessDenied))?;
    Ok(authorizer.bucket(bucket)?.map(Arc::new))
}

fn bucket_of(path: &S3Path) -> Option<&str> {
    match path {
        S3Path::Root => None,
        S3Path::Bucket { bucket } | S3Path::Object { bucket, .. } => Some(bucket),
    }
}

/// `x-amz-expected-bucket-owner` that names another account → 403.
fn check_expected_owner(cx: &S3AccessContext<'_>, bucket: &BucketContext) -> Result<(), S3Error> {
    match cx
        .headers()
        .get("x-amz-expected-bucket-owner")
        .map(|value| value.to_str().unwrap_or_default())
    {
        Some(expected) if expected != bucket.owner.id.0 => {
            Err(error::code(ErrorCode::AccessDenied))
        }
        _ => Ok(()),
    }
}

fn request_shape(cx: &S3AccessContext<'_>, facts: &RequestFacts) -> RequestShape {
    let headers = cx.headers();
    let has = |name: &str| headers.contains_key(name);
    RequestShape {
        version_id: facts.version_id.is_some(),
        acl_headers: has("x-amz-acl") || keys::GRANT_HEADERS.iter().any(|name| has(name)),
        tagging_header: has("x-amz-tagging"),
        object_ownership_header: has("x-amz-object-ownership"),
    }
}

#[async_trait::async_trait]
impl S3Access for PolicyAccess {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let operation = Operation::from_s3s_name(cx.s3_op().name());
        let bucket_name = bucket_of(cx.s3_path()).map(str::to_owned);
        if let Some(info) = cx.extensions_mut().get::<RequestInfo>() {
            // Operations we do not implement share one label, so a client
            // cannot grow the metric's cardinality.
            info.set_operation(
                operation.map_or("NotImplemented", Operation::name),
                bucket_name.as_deref(),
            );
        }
        let access_key = cx
            .credentials()
            .map(|credentials| credentials.access_key.clone());
        let token = session_token(cx.headers(), cx.uri().query());
        let Caller3 {
            caller,
            account,
            identity,
            session_policy,
        } = self
            .authorizer
            .caller(access_key.as_deref(), token.as_deref())
            .map_err(error::to_s3s)?;
        let Some(operation) = operation else {
            // s3s answers NotImplemented; nobody learns more.
            return match account {
                Some(_) => Ok(()),
                None => Err(error::to_s3s(error::code(ErrorCode::AccessDenied))),
            };
        };
        let content_length = cx
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        limits::check_xml_body_length(operation, content_length).map_err(error::to_s3s)?;

        let remote: Option<SocketAddr> = cx
            .extensions_mut()
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|info| info.0);
        let secure = cx
            .extensions_mut()
            .get::<SecureTransport>()
            .is_some_and(|transport| transport.0);
        let tls_version = cx
            .extensions_mut()
            .get::<crate::context::TlsVersion>()
            .map(|version| version.0);
        let facts = RequestFacts::read(cx.headers(), cx.uri(), remote, secure);
        let mut condition_keys = ConditionKeys::new();
        caller.add_condition_keys(&mut condition_keys);
        facts.add_to(&mut condition_keys, operation);
        if let Some(version) = tls_version {
            condition_keys.set("s3:TlsVersion", version.to_owned());
        }
        let shape = request_shape(cx, &facts);

        let bucket = match bucket_name.as_deref().map(BucketName::parse) {
            Some(Ok(name)) => self
                .authorizer
                .bucket_after_a_miss(&name)
                .await
                .map_err(error::to_s3s)?,
            _ => None,
        };
        let mut principal = Principal {
            account: account
                .clone()
                .or_else(|| bucket.as_ref().map(|bucket| bucket.owner.clone())),
            caller,
            keys: condition_keys,
            list_bucket_allowed: false,
            identity,
            session_policy,
        };
        let account_level = matches!(operation, Operation::ListBuckets | Operation::CreateBucket);
        if !account_level && bucket.is_none() {
            // No such bucket (or an invalid name): 404 NoSuchBucket, to
            // every caller, as AWS answers.
            if principal.account.is_none() {
                return Err(error::to_s3s(error::code(ErrorCode::NoSuchBucket)));
            }
            cx.extensions_mut().insert(self.authorizer.clone());
            cx.extensions_mut().insert(principal);
            return Ok(());
        }
        if let Some(bucket) = &bucket {
            check_expected_owner(cx, bucket).map_err(error::to_s3s)?;
            if let (true, S3Path::Object { key, .. }) =
                (bucket.policy_reads_object_tags, cx.s3_path())
            {
                self.authorizer
                    .add_existing_object_tags(
                        &mut principal.keys,
                        bucket,
                        key,
                        facts.version_id.as_deref(),
                    )
                    .await;
            }
        }
        // DeleteObjects is decided per key by the handler, a browser-form
        // upload in `post_object` (the key is in the form).
        if !matches!(operation, Operation::DeleteObjects | Operation::PostObject) {
            let resource = match (&bucket, cx.s3_path()) {
                (None, _) => "*".to_owned(),
                (Some(bucket), S3Path::Object { key, .. }) if !operation.is_bucket_level() => {
                    arn::object_arn(bucket.record.name.as_str(), key)
                }
                (Some(bucket), _) => arn::bucket_arn(bucket.record.name.as_str()),
            };
            let context = if account_level { None } else { bucket.as_ref() };
            let object = match (&bucket, cx.s3_path()) {
                (Some(bucket), S3Path::Object { key, .. }) if reads_object_acl(operation) => self
                    .authorizer
                    .object(bucket, key, facts.version_id.as_deref())
                    .map_err(error::to_s3s)?,
                _ => None,
            };
            for action in operation.actions(shape) {
                let decision = self.authorizer.decide_on_object(
                    &principal,
                    action,
                    &resource,
                    context,
                    object.as_ref(),
                );
                if !decision.is_allowed() {
                    return Err(error::to_s3s(denied(&decision)));
                }
            }
        }
        if let Some(bucket) = &bucket {
            if matches!(operation, Operation::GetObject | Operation::HeadObject) {
                // 404 NoSuchKey only for callers who may list the bucket.
                let list = self.authorizer.decide(
                    &principal,
                    "s3:ListBucket",
                    &arn::bucket_arn(bucket.record.name.as_str()),
                    Some(bucket),
                );
                principal.list_bucket_allowed = list.is_allowed();
            }
            acl_convert::check_request_acl(
                cx.headers(),
                operation,
                bucket,
                principal.account.as_ref(),
            )
            .map_err(error::to_s3s)?;
        }
        if principal.account.is_none() {
            return Err(error::to_s3s(error::code(ErrorCode::AccessDenied)));
        }
        cx.extensions_mut().insert(self.authorizer.clone());
        cx.extensions_mut().insert(principal);
        if let Some(bucket) = bucket {
            // Handlers reuse what the check read instead of reading it again.
            cx.extensions_mut().insert(Arc::new(bucket));
        }
        Ok(())
    }

    async fn copy_object(&self, req: &mut S3Request<CopyObjectInput>) -> S3Result<()> {
        let principal = req.extensions.get::<Principal>().cloned();
        self.authorizer
            .check_copy_source(principal.as_ref(), &req.input.copy_source)
    }

    /// A browser-form upload: s3:PutObject on the form's key (plus
    /// s3:PutObjectAcl / s3:PutObjectTagging for those fields), with the
    /// form's ACL checked against Object Ownership and Block Public Access
    /// like a header's — and carried on as the `x-amz-acl` header, which
    /// is where PutObject reads it.
    async fn post_object(&self, req: &mut S3Request<PostObjectInput>) -> S3Result<()> {
        let principal = req
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| error::to_s3s(error::code(ErrorCode::AccessDenied)))?;
        let Some(bucket) = req.extensions.get::<Arc<BucketContext>>().cloned() else {
            // The handler answers NoSuchBucket.
            return Ok(());
        };
        if let Some(acl) = &req.input.acl {
            let value = http::HeaderValue::from_str(acl.as_str())
                .map_err(|_| error::to_s3s(error::code(ErrorCode::InvalidArgument)))?;
            req.headers.insert("x-amz-acl", value);
        }
        let mut principal = principal;
        principal.keys.set("s3:authType", "POST");
        if let Some(acl) = &req.input.acl {
            principal.keys.set("s3:x-amz-acl", acl.as_str().to_owned());
        }
        let shape = crate::operations::RequestShape {
            acl_headers: req.input.acl.is_some(),
            tagging_header: req.input.tagging.is_some(),
            ..Default::default()
        };
        let resource = arn::object_arn(bucket.record.name.as_str(), &req.input.key);
        for action in Operation::PostObject.actions(shape) {
            let decision = self
                .authorizer
                .decide(&principal, action, &resource, Some(&bucket));
            if !decision.is_allowed() {
                return Err(error::to_s3s(denied(&decision)));
            }
        }
        acl_convert::check_request_acl(
            &req.headers,
            Operation::PutObject,
            &bucket,
            principal.account.as_ref(),
        )
        .map_err(error::to_s3s)
    }

    async fn upload_part_copy(&self, req: &mut S3Request<UploadPartCopyInput>) -> S3Result<()> {
        let principal = req.extensions.get::<Principal>().cloned();
        self.authorizer
            .check_copy_source(principal.as_ref(), &req.input.copy_source)
    }
}

/// A request described by an operator, for `coffer admin policy explain`.
#[derive(Clone, Debug, Default)]
pub struct ExplainRequest {
    /// The caller's access key id; `None` is an anonymous caller.
    pub access_key_id: Option<String>,
    /// `s3:GetObject`, …
    pub action: String,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// Condition keys to set (e.g. `aws:SourceIp`, `aws:SecureTransport`);
    /// `aws:SecureTransport` is `true` unless given.
    pub condition_keys: Vec<(String, String)>,
}

/// One statement or grant that took part in a decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExplainedReason {
    /// `IdentityPolicy`, `SessionPolicy`, `BucketPolicy`, `BucketAcl`, `ObjectAcl`.
    pub source: String,
    pub account: String,
    pub name: String,
    pub sid: Option<String>,
    pub index: usize,
    /// `Allow` or `Deny`.
    pub effect: String,
}

/// The answer: allowed or not, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    pub allowed: bool,
    /// `Allowed`, `ExplicitDeny`, `ImplicitDeny`, `MethodNotAllowed`,
    /// `NoSuchBucket`.
    pub outcome: String,
    pub explanation: String,
    pub reasons: Vec<ExplainedReason>,
}

/// Decide a described request exactly as the gateway would, and say why.
pub fn explain(engine: &Arc<Engine>, request: &ExplainRequest) -> Result<Explanation, S3Error> {
    let authorizer = Authorizer {
        engine: engine.clone(),
    };
    if coffer_policy::actions::resource_kind(&request.action).is_none() {
        return Err(error::with_message(
            ErrorCode::InvalidArgument,
            format!("Unknown action {}", request.action),
        ));
    }
    let Caller3 {
        caller,
        account,
        identity,
        session_policy,
    } = authorizer.caller(request.access_key_id.as_deref(), None)?;
    let bucket = match request.bucket.as_deref() {
        Some(name) => {
            let name = BucketName::parse(name)?;
            match authorizer.bucket(&name)? {
                Some(bucket) => Some(bucket),
                None => {
                    return Ok(Explanation {
                        allowed: false,
                        outcome: "NoSuchBucket".to_owned(),
                        explanation: "the bucket does not exist".to_owned(),
                        reasons: Vec::new(),
                    })
                }
            }
        }
        None => None,
    };
    let mut keys = ConditionKeys::new();
    caller.add_condition_keys(&mut keys);
    keys.set("aws:SecureTransport", "true");
    for (key, value) in &request.condition_keys {
        keys.set(key, value.clone());
    }
    let principal = Principal {
        account,
        caller,
        keys,
        list_bucket_allowed: false,
        identity,
        session_policy,
    };
    let resource = match (&bucket, &request.key) {
        (Some(bucket), Some(key)) => arn::object_arn(bucket.record.name.as_str(), key),
        (Some(bucket), None) => arn::bucket_arn(bucket.record.name.as_str()),
        (None, _) => "*".to_owned(),
    };
    let decision = authorizer.decide(&principal, &request.action, &resource, bucket.as_ref());
    Ok(Explanation {
        allowed: decision.is_allowed(),
        outcome: format!("{:?}", decision.outcome),
        explanation: decision.explanation.clone(),
        reasons: decision
            .reasons
            .iter()
            .map(|reason| ExplainedReason {
                source: format!("{:?}", reason.kind),
                account: reason.account.clone(),
                name: reason.name.clone(),
                sid: reason.sid.clone(),
                index: reason.index,
                effect: format!("{:?}", reason.effect),
            })
            .collect(),
    })
}
