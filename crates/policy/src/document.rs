//! The policy document: JSON parsed into statements, with AWS's grammar
//! errors (`MalformedPolicy` and its message). Parsing checks the shape
//! only; `validate` checks meaning (known actions, resources inside the
//! bucket, principals that exist).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::condition::{Condition, Operator};

/// A policy may be at most this large (bucket policies: 20 KB, counted
/// after whitespace outside strings is removed).
pub const POLICY_BYTES_MAX: usize = 20 * 1024;

/// Why a policy document was refused: AWS's `MalformedPolicy` message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    pub message: String,
    /// `PolicyTooLarge` instead of `MalformedPolicy`.
    pub too_large: bool,
}

impl PolicyError {
    pub fn malformed(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            too_large: false,
        }
    }
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// `2008-10-17`, also the meaning of a missing `Version`: no variables.
    V2008,
    /// `2012-10-17`: policy variables.
    V2012,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// The kinds of principal a policy can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrincipalKind {
    Aws,
    CanonicalUser,
    Service,
    Federated,
}

impl PrincipalKind {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "AWS" => Some(Self::Aws),
            "CanonicalUser" => Some(Self::CanonicalUser),
            "Service" => Some(Self::Service),
            "Federated" => Some(Self::Federated),
            _ => None,
        }
    }
}

/// `Principal` or `NotPrincipal`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principals {
    /// `"*"` or `{"AWS": "*"}`: everyone, anonymous callers included.
    Everyone,
    /// Named principals by kind (a `"*"` inside `AWS` is `Everyone`).
    Named(BTreeMap<PrincipalKind, Vec<String>>),
}

/// An element that is either positive or its `Not` form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Either<T> {
    pub negated: bool,
    pub values: T,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<Either<Principals>>,
    pub action: Either<Vec<String>>,
    /// `None` only in trust policies, which name no resource.
    pub resource: Option<Either<Vec<String>>>,
    pub conditions: Vec<Condition>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub version: Version,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

/// Which document this is: the grammar differs in `Principal` and
/// `Resource`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    /// A bucket policy: `Principal` required, `Resource` required.
    Bucket,
    /// A user, group or role policy, or a session policy: no `Principal`.
    Identity,
    /// A role's trust policy: `Principal` required, no `Resource`.
    Trust,
}

/// The size AWS counts: the document without whitespace outside strings.
pub fn normalized_length_bytes(text: &str) -> usize {
    let mut length = 0;
    let (mut in_string, mut escaped) = (false, false);
    for byte in text.bytes() {
        if in_string {
            length += 1;
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
        } else if !byte.is_ascii_whitespace() {
            length += 1;
            in_string = byte == b'"';
        }
    }
    length
}

impl Policy {
    /// Parse `text` as a policy of `kind`.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<Self, PolicyError> {
        if normalized_length_bytes(text) > POLICY_BYTES_MAX {
            return Err(PolicyError {
                message: "Policy exceeds the maximum allowed document size.".to_owned(),
                too_large: true,
            });
        }
        let value: Value = serde_json::from_str(text)
            .map_err(|_| PolicyError::malformed("This policy contains invalid Json"))?;
        let Value::Object(fields) = value else {
            return Err(PolicyError::malformed("This policy contains invalid Json"));
        };
        let mut version = Version::V2008;
        let mut id = None;
        let mut statements = None;
        for (name, value) in fields {
            match name.as_str() {
                "Version" => {
                    version = match value.as_str() {
                        Some("2012-10-17") => Version::V2012,
                        Some("2008-10-17") => Version::V2008,
                        _ => {
                            return Err(PolicyError::malformed(
                                "The policy must contain a valid version string",
                            ))
                        }
                    }
                }
                "Id" => id = Some(string(&value, "Id")?),
                "Statement" => {
                    let items = match value {
                        Value::Array(items) => items,
                        single @ Value::Object(_) => vec![single],
                        _ => {
                            return Err(PolicyError::malformed(
                                "Statement is not an object or array",
                            ))
                        }
                    };
                    let parsed = items
                        .into_iter()
                        .map(|item| Statement::parse(item, kind))
                        .collect::<Result<Vec<_>, _>>()?;
                    statements = Some(parsed);
                }
                other => return Err(PolicyError::malformed(format!("Unknown field {other}"))),
            }
        }
        let statements =
            statements.ok_or_else(|| PolicyError::malformed("Missing required field Statement"))?;
        if statements.is_empty() {
            return Err(PolicyError::malformed(
                "Could not parse the policy: Statement is empty!",
            ));
        }
        Ok(Self {
            version,
            id,
            statements,
        })
    }
}

fn string(value: &Value, field: &str) -> Result<String, PolicyError> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| PolicyError::malformed(format!("{field} must be a string")))
}

/// A string or a non-empty array of strings.
fn strings(value: Value, field: &str) -> Result<Vec<String>, PolicyError> {
    let values = match value {
        Value::String(single) => vec![single],
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::String(text) => Ok(text),
                _ => Err(PolicyError::malformed(format!(
                    "{field} must contain only strings"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => {
            return Err(PolicyError::malformed(format!(
                "{field} must be a string or an array of strings"
            )))
        }
    };
    if values.is_empty() {
        return Err(PolicyError::malformed(format!("{field} must not be empty")));
    }
    Ok(values)
}

/// Condition values: strings, numbers or booleans, alone or in an array.
fn condition_values(value: Value) -> Result<Vec<String>, PolicyError> {
    let scalar = |item: Value| match item {
        Value::String(text) => Ok(text),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        _ => Err(PolicyError::malformed("Invalid Condition value")),
    };
    match value {
        Value::Array(items) => items.into_iter().map(scalar).collect(),
        other => Ok(vec![scalar(other)?]),
    }
}

fn principals(value: Value) -> Result<Principals, PolicyError> {
    match value {
        Value::String(text) if text == "*" => Ok(Principals::Everyone),
        Value::Object(fields) => {
            let mut named = BTreeMap::new();
            for (name, value) in fields {
                let kind = PrincipalKind::parse(&name)
                    .ok_or_else(|| PolicyError::malformed("Invalid principal in policy"))?;
                let values = strings(value, "Principal")?;
                if kind == PrincipalKind::Aws && values.iter().any(|value| value == "*") {
                    return Ok(Principals::Everyone);
                }
                named.insert(kind, values);
            }
            if named.is_empty() {
                return Err(PolicyError::malformed("Invalid principal in policy"));
            }
            Ok(Principals::Named(named))
        }
        _ => Err(PolicyError::malformed("Invalid principal in policy")),
    }
}

/// Exactly one of `positive` and `negative`, if `required`.
fn one_of<T>(
    positive: Option<T>,
    negative: Option<T>,
    name: &str,
    required: bool,
) -> Result<Option<Either<T>>, PolicyError> {
    match (positive, negative) {
        (Some(_), Some(_)) => Err(PolicyError::malformed(format!(
            "Statement may contain only one of {name} and Not{name}"
        ))),
        (Some(values), None) => Ok(Some(Either {
            negated: false,
            values,
        })),
        (None, Some(values)) => Ok(Some(Either {
            negated: true,
            values,
        })),
        (None, None) if required => Err(PolicyError::malformed(format!(
            "Missing required field {name}"
        ))),
        (None, None) => Ok(None),
    }
}

impl Statement {
    fn parse(value: Value, kind: PolicyKind) -> Result<Self, PolicyError> {
        let Value::Object(fields) = value else {
            return Err(PolicyError::malformed("Statement is not an object"));
        };
        let mut sid = None;
        let mut effect = None;
        let (mut principal, mut not_principal) = (None, None);
        let (mut action, mut not_action) = (None, None);
        let (mut resource, mut not_resource) = (None, None);
        let mut conditions = Vec::new();
        for (name, value) in fields {
            match name.as_str() {
                "Sid" => sid = Some(string(&value, "Sid")?),
                "Effect" => {
                    effect = Some(match value.as_str() {
                        Some("Allow") => Effect::Allow,
                        Some("Deny") => Effect::Deny,
                        _ => return Err(PolicyError::malformed("Invalid effect")),
                    })
                }
                "Principal" => principal = Some(principals(value)?),
                "NotPrincipal" => not_principal = Some(principals(value)?),
                "Action" => action = Some(strings(value, "Action")?),
                "NotAction" => not_action = Some(strings(value, "NotAction")?),
                "Resource" => resource = Some(strings(value, "Resource")?),
                "NotResource" => not_resource = Some(strings(value, "NotResource")?),
                "Condition" => conditions = parse_conditions(value)?,
                other => return Err(PolicyError::malformed(format!("Unknown field {other}"))),
            }
        }
        let effect =
            effect.ok_or_else(|| PolicyError::malformed("Missing required field Effect"))?;
        let principal = match kind {
            PolicyKind::Identity => {
                if principal.is_some() || not_principal.is_some() {
                    return Err(PolicyError::malformed(
                        "Policy document should not specify a principal.",
                    ));
                }
                None
            }
            PolicyKind::Bucket | PolicyKind::Trust => {
                one_of(principal, not_principal, "Principal", true)?
            }
        };
        if let Some(Either { negated: true, .. }) = &principal {
            if effect == Effect::Allow {
                return Err(PolicyError::malformed(
                    "NotPrincipal can only be used with Deny",
                ));
            }
        }
        let action = one_of(action, not_action, "Action", true)?
            .ok_or_else(|| PolicyError::malformed("Missing required field Action"))?;
        let resource = one_of(
            resource,
            not_resource,
            "Resource",
            kind != PolicyKind::Trust,
        )?;
        Ok(Self {
            sid,
            effect,
            principal,
            action,
            resource,
            conditions,
        })
    }
}

fn parse_conditions(value: Value) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(blocks) = value else {
        return Err(PolicyError::malformed("Condition must be an object"));
    };
    let mut conditions = Vec::new();
    for (operator_name, keys) in blocks {
        let operator = Operator::parse(&operator_name).ok_or_else(|| {
            PolicyError::malformed(format!("Invalid Condition type : {operator_name}"))
        })?;
        let Value::Object(keys) = keys else {
            return Err(PolicyError::malformed(format!(
                "Condition {operator_name} must map keys to values"
            )));
        };
        for (key, values) in keys {
            conditions.push(Condition {
                operator,
                key: key.to_ascii_lowercase(),
                values: condition_values(values)?,
            });
        }
    }
    Ok(conditions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str, kind: PolicyKind) -> String {
        Policy::parse(text, kind).expect_err("refused").message
    }

    #[test]
    fn statement_as_object_or_array_and_version_default() {
        let single = r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#;
        let policy = Policy::parse(single, PolicyKind::Bucket).expect("parses");
        assert_eq!(policy.version, Version::V2008);
        assert_eq!(policy.statements.len(), 1);
        assert_eq!(
            policy.statements[0].principal.as_ref().map(|p| &p.values),
            Some(&Principals::Everyone)
        );
        let array = r#"{"Version":"2012-10-17","Id":"x","Statement":[
            {"Sid":"a","Effect":"Deny","NotPrincipal":{"AWS":["111122223333"]},"NotAction":["s3:Get*"],"NotResource":"arn:aws:s3:::b/p/*",
             "Condition":{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"s3:max-keys":[10, 20]}}},
            {"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}]}"#;
        let policy = Policy::parse(array, PolicyKind::Bucket).expect("parses");
        assert_eq!(policy.version, Version::V2012);
        let first = &policy.statements[0];
        assert!(first.action.negated && first.principal.as_ref().expect("principal").negated);
        assert_eq!(first.conditions.len(), 2);
        assert_eq!(first.conditions[0].key, "aws:securetransport");
        assert_eq!(first.conditions[0].values, ["false"]);
        assert_eq!(first.conditions[1].values, ["10", "20"]);
        assert_eq!(
            policy.statements[1].principal.as_ref().map(|p| &p.values),
            Some(&Principals::Everyone)
        );
    }

    #[test]
    fn grammar_errors_have_aws_messages() {
        let cases: &[(&str, PolicyKind, &str)] = &[
            (
                "not json",
                PolicyKind::Bucket,
                "This policy contains invalid Json",
            ),
            (
                "[]",
                PolicyKind::Bucket,
                "This policy contains invalid Json",
            ),
            (
                r#"{"Version":"2010-01-01","Statement":[]}"#,
                PolicyKind::Bucket,
                "The policy must contain a valid version string",
            ),
            (
                r#"{"Version":"2012-10-17"}"#,
                PolicyKind::Bucket,
                "Missing required field Statement",
            ),
            (
                r#"{"Statement":[{"Principal":"*","Action":"s3:*","Resource":"*"}]}"#,
                PolicyKind::Bucket,
                "Missing required field Effect",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
                PolicyKind::Bucket,
                "Missing required field Principal",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Resource":"*"}]}"#,
                PolicyKind::Bucket,
                "Missing required field Action",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*"}]}"#,
                PolicyKind::Bucket,
                "Missing required field Resource",
            ),
            (
                r#"{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"s3:*","Resource":"*"}]}"#,
                PolicyKind::Bucket,
                "Invalid effect",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"me","Action":"s3:*","Resource":"*"}]}"#,
                PolicyKind::Bucket,
                "Invalid principal in policy",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":{"Bogus":"x"},"Action":"s3:*","Resource":"*"}]}"#,
                PolicyKind::Bucket,
                "Invalid principal in policy",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"1"},"Action":"s3:*","Resource":"*"}]}"#,
                PolicyKind::Bucket,
                "NotPrincipal can only be used with Deny",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","NotAction":"s3:x","Resource":"*"}]}"#,
                PolicyKind::Bucket,
                "Statement may contain only one of Action and NotAction",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringSorta":{"a:b":"c"}}}]}"#,
                PolicyKind::Bucket,
                "Invalid Condition type : StringSorta",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Extra":1}]}"#,
                PolicyKind::Bucket,
                "Unknown field Extra",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#,
                PolicyKind::Identity,
                "Policy document should not specify a principal.",
            ),
            (
                r#"{"Statement":[]}"#,
                PolicyKind::Bucket,
                "Could not parse the policy: Statement is empty!",
            ),
        ];
        for (text, kind, message) in cases {
            assert_eq!(error(text, *kind), *message, "{text}");
        }
    }

    #[test]
    fn size_limit_counts_without_whitespace() {
        let padding = " ".repeat(30 * 1024);
        let text = format!(
            r#"{{{padding}"Statement":{{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b"}}}}"#
        );
        assert!(Policy::parse(&text, PolicyKind::Bucket).is_ok());
        let long = "x".repeat(21 * 1024);
        let text = format!(
            r#"{{"Statement":{{"Sid":"{long}","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b"}}}}"#
        );
        let refused = Policy::parse(&text, PolicyKind::Bucket).expect_err("too large");
        assert!(refused.too_large);
        assert_eq!(
            normalized_length_bytes(r#"{ "a" : " b c " }"#),
            r#"{"a":" b c "}"#.len()
        );
    }

    #[test]
    fn trust_policies_have_no_resource() {
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}}"#;
        let policy = Policy::parse(text, PolicyKind::Trust).expect("parses");
        assert_eq!(policy.statements[0].resource, None);
    }
}
