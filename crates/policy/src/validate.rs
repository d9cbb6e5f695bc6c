//! What PutBucketPolicy (and the IAM policy calls) check beyond grammar:
//! known actions, resources inside the bucket, actions that apply to some
//! resource of their statement, known condition keys, and principals that
//! exist. Messages are AWS's `MalformedPolicy` texts.

use crate::actions::{self, ResourceKind};
use crate::arn;
use crate::document::{Policy, PolicyError, PrincipalKind, Principals, Statement};

/// Answers whether the principals a policy names exist.
pub trait Directory {
    fn account_exists(&self, account_id: &str) -> bool;
    fn canonical_user_exists(&self, canonical_id: &str) -> bool;
    /// `arn:aws:iam::ID:user/…`, `…:role/…` or `arn:aws:sts::ID:assumed-role/…`.
    fn principal_exists(&self, arn: &str) -> bool;
}

/// Global condition keys, and prefixes of the tag-like families.
const GLOBAL_KEYS: &[&str] = &[
    "aws:currenttime",
    "aws:epochtime",
    "aws:multifactorauthage",
    "aws:multifactorauthpresent",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principaltype",
    "aws:referer",
    "aws:requestedregion",
    "aws:securetransport",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceip",
    "aws:sourceowner",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:tokenissuetime",
    "aws:useragent",
    "aws:userid",
    "aws:username",
    "aws:viaawsservice",
    "aws:tagkeys",
];

/// Keys of an AssumeRole request, for trust policies.
const STS_KEYS: &[&str] = &["sts:externalid", "sts:rolesessionname"];

const S3_KEYS: &[&str] = &[
    "s3:authtype",
    "s3:dataaccesspointaccount",
    "s3:dataaccesspointarn",
    "s3:delimiter",
    "s3:locationconstraint",
    "s3:max-keys",
    "s3:object-lock-legal-hold",
    "s3:object-lock-mode",
    "s3:object-lock-remaining-retention-days",
    "s3:object-lock-retain-until-date",
    "s3:prefix",
    "s3:requestobjecttagkeys",
    "s3:resourceaccount",
    "s3:signatureage",
    "s3:signatureversion",
    "s3:tlsversion",
    "s3:versionid",
    "s3:x-amz-acl",
    "s3:x-amz-content-sha256",
    "s3:x-amz-copy-source",
    "s3:x-amz-grant-full-control",
    "s3:x-amz-grant-read",
    "s3:x-amz-grant-read-acp",
    "s3:x-amz-grant-write",
    "s3:x-amz-grant-write-acp",
    "s3:x-amz-metadata-directive",
    "s3:x-amz-object-ownership",
    "s3:x-amz-server-side-encryption",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:x-amz-server-side-encryption-customer-algorithm",
    "s3:x-amz-storage-class",
];

const KEY_PREFIXES: &[&str] = &[
    "aws:principaltag/",
    "aws:requesttag/",
    "aws:resourcetag/",
    "s3:existingobjecttag/",
    "s3:requestobjecttag/",
];

/// Whether `key` (lower-case) is a condition key coffer knows.
pub fn is_known_condition_key(key: &str) -> bool {
    GLOBAL_KEYS.contains(&key)
        || S3_KEYS.contains(&key)
        || STS_KEYS.contains(&key)
        || KEY_PREFIXES.iter().any(|prefix| {
            key.strip_prefix(prefix)
                .is_some_and(|rest| !rest.is_empty())
        })
}

fn malformed(message: &str) -> PolicyError {
    PolicyError::malformed(message)
}

/// Validate a bucket policy for `bucket`.
pub fn validate_bucket_policy(
    policy: &Policy,
    bucket: &str,
    directory: &dyn Directory,
) -> Result<(), PolicyError> {
    for statement in &policy.statements {
        validate_principals(statement, directory)?;
        validate_actions(statement)?;
        let resources = statement
            .resource
            .as_ref()
            .ok_or_else(|| malformed("Missing required field Resource"))?;
        let mut kinds = Vec::new();
        for resource in &resources.values {
            kinds.push(
                bucket_resource_kind(resource, bucket)
                    .ok_or_else(|| malformed("Policy has invalid resource"))?,
            );
        }
        if !statement.action.negated && !resources.negated {
            let applies =
                statement.action.values.iter().any(|pattern| {
                    actions::matching(pattern).any(|(_, kind)| kinds.contains(&kind))
                });
            if !applies {
                return Err(malformed(
                    "Action does not apply to any resource(s) in statement",
                ));
            }
        }
        validate_condition_keys(statement)?;
    }
    Ok(())
}

/// Validate a user, group, role or session policy.
pub fn validate_identity_policy(policy: &Policy) -> Result<(), PolicyError> {
    for statement in &policy.statements {
        validate_actions(statement)?;
        if let Some(resources) = &statement.resource {
            for resource in &resources.values {
                if resource != "*" && arn::segments(resource).is_none() {
                    return Err(malformed(&format!(
                        "Resource {resource} must be in ARN format or \"*\"."
                    )));
                }
            }
        }
        validate_condition_keys(statement)?;
    }
    Ok(())
}

/// Validate a role's trust policy: principals exist, actions are STS.
pub fn validate_trust_policy(
    policy: &Policy,
    directory: &dyn Directory,
) -> Result<(), PolicyError> {
    for statement in &policy.statements {
        validate_principals(statement, directory)?;
        for action in &statement.action.values {
            let is_sts = action == "*" || action.to_ascii_lowercase().starts_with("sts:");
            if !is_sts {
                return Err(malformed(
                    "AssumeRolepolicy contained an invalid principal or action",
                ));
            }
        }
        validate_condition_keys(statement)?;
    }
    Ok(())
}

/// The kind of `resource` if it lies inside `bucket`.
fn bucket_resource_kind(resource: &str, bucket: &str) -> Option<ResourceKind> {
    let rest = resource.strip_prefix("arn:aws:s3:::")?;
    if rest == bucket {
        return Some(ResourceKind::Bucket);
    }
    rest.strip_prefix(bucket)
        .and_then(|after| after.strip_prefix('/'))
        .map(|_| ResourceKind::Object)
}

fn validate_actions(statement: &Statement) -> Result<(), PolicyError> {
    for action in &statement.action.values {
        if actions::matching(action).next().is_none() {
            return Err(malformed("Policy has invalid action"));
        }
    }
    Ok(())
}

fn validate_condition_keys(statement: &Statement) -> Result<(), PolicyError> {
    for condition in &statement.conditions {
        if !is_known_condition_key(&condition.key) {
            return Err(malformed("Policy has an invalid condition key"));
        }
    }
    Ok(())
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|byte| byte.is_ascii_digit())
}

fn validate_principals(
    statement: &Statement,
    directory: &dyn Directory,
) -> Result<(), PolicyError> {
    let Some(principal) = &statement.principal else {
        return Ok(());
    };
    let Principals::Named(named) = &principal.values else {
        return Ok(());
    };
    let invalid = || malformed("Invalid principal in policy");
    for (kind, values) in named {
        for value in values {
            let valid = match kind {
                PrincipalKind::Aws => aws_principal_valid(value, directory),
                PrincipalKind::CanonicalUser => {
                    value.len() == 64
                        && value.bytes().all(|byte| byte.is_ascii_hexdigit())
                        && directory.canonical_user_exists(value)
                }
                PrincipalKind::Service => value.ends_with(".amazonaws.com") && !value.contains('*'),
                PrincipalKind::Federated => !value.is_empty() && !value.contains('*'),
            };
            if !valid {
                return Err(invalid());
            }
        }
    }
    Ok(())
}

fn aws_principal_valid(value: &str, directory: &dyn Directory) -> bool {
    if is_account_id(value) {
        return directory.account_exists(value);
    }
    let Some(segments) = arn::segments(value) else {
        return false;
    };
    if value.contains('*') || value.contains('?') || !is_account_id(segments[4]) {
        return false;
    }
    match (segments[2], segments[5]) {
        ("iam", "root") => directory.account_exists(segments[4]),
        ("iam", resource) if resource.starts_with("user/") || resource.starts_with("role/") => {
            directory.principal_exists(value)
        }
        ("sts", resource) if resource.starts_with("assumed-role/") => {
            directory.principal_exists(value)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::PolicyKind;

    struct Known;

    impl Directory for Known {
        fn account_exists(&self, account_id: &str) -> bool {
            account_id == "111122223333" || account_id == "444455556666"
        }
        fn canonical_user_exists(&self, canonical_id: &str) -> bool {
            canonical_id == "a".repeat(64)
        }
        fn principal_exists(&self, arn: &str) -> bool {
            arn == "arn:aws:iam::111122223333:user/alice"
                || arn == "arn:aws:iam::111122223333:role/reader"
        }
    }

    fn check(statement: &str) -> Result<(), String> {
        let text = format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#);
        let policy = Policy::parse(&text, PolicyKind::Bucket).map_err(|error| error.message)?;
        validate_bucket_policy(&policy, "photos", &Known).map_err(|error| error.message)
    }

    #[test]
    fn bucket_policy_validation_table() {
        let canonical = "a".repeat(64);
        let cases: Vec<(String, Result<(), &str>)> = vec![
            (r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#.to_owned(), Ok(())),
            (r#"{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::photos"}"#.to_owned(), Ok(())),
            (r#"{"Effect":"Allow","Principal":"*","Action":["s3:*"],"Resource":["arn:aws:s3:::photos","arn:aws:s3:::photos/*"]}"#.to_owned(), Ok(())),
            (r#"{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::444455556666:root","arn:aws:iam::111122223333:user/alice","arn:aws:iam::111122223333:role/reader"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#.to_owned(), Ok(())),
            (format!(r#"{{"Effect":"Allow","Principal":{{"CanonicalUser":"{canonical}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}}"#), Ok(())),
            (r#"{"Effect":"Allow","Principal":{"Service":"cloudfront.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#.to_owned(), Ok(())),
            (r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}"#.to_owned(), Err("Policy has invalid resource")),
            (r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}"#.to_owned(), Err("Policy has invalid resource")),
            (r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photosx/*"}"#.to_owned(), Err("Policy has invalid resource")),
            (r#"{"Effect":"Allow","Principal":"*","Action":"s3:Frobnicate","Resource":"arn:aws:s3:::photos/*"}"#.to_owned(), Err("Policy has invalid action")),
            (r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos"}"#.to_owned(), Err("Action does not apply to any resource(s) in statement")),
            (r#"{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::photos/*"}"#.to_owned(), Err("Action does not apply to any resource(s) in statement")),
            (r#"{"Effect":"Allow","Principal":{"AWS":"999999999999"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#.to_owned(), Err("Invalid principal in policy")),
            (r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/nobody"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#.to_owned(), Err("Invalid principal in policy")),
            (r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#.to_owned(), Err("Invalid principal in policy")),
            (r#"{"Effect":"Allow","Principal":{"CanonicalUser":"abc"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#.to_owned(), Err("Invalid principal in policy")),
            (r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*","Condition":{"StringEquals":{"s3:bogus":"x"}}}"#.to_owned(), Err("Policy has an invalid condition key")),
            (r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*","Condition":{"StringEquals":{"s3:ExistingObjectTag/team":"x","aws:PrincipalTag/dept":"y"}}}"#.to_owned(), Ok(())),
        ];
        for (statement, expected) in cases {
            assert_eq!(
                check(&statement),
                expected.map_err(str::to_owned),
                "{statement}"
            );
        }
    }

    #[test]
    fn identity_and_trust_policies() {
        let identity = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:*","iam:GetUser"],"Resource":"*"}}"#,
            PolicyKind::Identity,
        )
        .expect("parses");
        assert_eq!(validate_identity_policy(&identity), Ok(()));
        let bad = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"photos/*"}}"#,
            PolicyKind::Identity,
        )
        .expect("parses");
        assert!(validate_identity_policy(&bad).is_err());
        let trust = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"}}"#,
            PolicyKind::Trust,
        )
        .expect("parses");
        assert_eq!(validate_trust_policy(&trust, &Known), Ok(()));
        let trust_bad = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject"}}"#,
            PolicyKind::Trust,
        )
        .expect("parses");
        assert!(validate_trust_policy(&trust_bad, &Known).is_err());
    }
}
