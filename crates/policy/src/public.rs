//! Block Public Access settings and AWS's test for a public bucket policy:
//! a policy is public unless every Allow statement is limited to fixed
//! principals or by a condition on one of the keys that pins the caller
//! (a fixed source IP range no broader than /8 or /32, a fixed source ARN,
//! account, VPC, …).

use std::net::IpAddr;

use crate::condition::{Base, Cidr, Condition};
use crate::document::{Effect, Policy, PrincipalKind, Principals, Statement};

/// The four settings; at bucket and account level, the most restrictive
/// combination applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// All four on: AWS's default for new buckets.
    pub const ALL: Self = Self {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };

    /// Each setting on if either side has it on.
    pub fn most_restrictive(self, other: Self) -> Self {
        Self {
            block_public_acls: self.block_public_acls || other.block_public_acls,
            ignore_public_acls: self.ignore_public_acls || other.ignore_public_acls,
            block_public_policy: self.block_public_policy || other.block_public_policy,
            restrict_public_buckets: self.restrict_public_buckets || other.restrict_public_buckets,
        }
    }
}

/// Keys whose fixed value makes a statement non-public.
const PINNING_KEYS: &[&str] = &[
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:principalorgid",
    "aws:userid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

/// Whether `policy` is public by AWS's rules.
pub fn policy_is_public(policy: &Policy) -> bool {
    policy.statements.iter().any(statement_is_public)
}

fn statement_is_public(statement: &Statement) -> bool {
    if statement.effect == Effect::Deny {
        return false;
    }
    let Some(principal) = &statement.principal else {
        return false;
    };
    let open_principal = principal.negated
        || match &principal.values {
            Principals::Everyone => true,
            Principals::Named(named) => named.iter().any(|(kind, values)| {
                *kind == PrincipalKind::Federated
                    || values
                        .iter()
                        .any(|value| value.contains('*') || value.contains('?'))
            }),
        };
    open_principal && !statement.conditions.iter().any(condition_pins_caller)
}

fn is_fixed(value: &str) -> bool {
    !value.contains('*') && !value.contains('?') && !value.contains("${")
}

fn condition_pins_caller(condition: &Condition) -> bool {
    let operator = condition.operator;
    if operator.if_exists || operator.set.is_some() || operator.base.is_negated() {
        return false;
    }
    if condition.key == "aws:sourceip" {
        return operator.base == Base::IpAddress
            && condition
                .values
                .iter()
                .all(|value| Cidr::parse(value).is_some_and(is_narrow));
    }
    if !PINNING_KEYS.contains(&condition.key.as_str()) {
        return false;
    }
    let exact = matches!(
        operator.base,
        Base::StringEquals
            | Base::StringEqualsIgnoreCase
            | Base::ArnEquals
            | Base::StringLike
            | Base::ArnLike
    );
    exact
        && condition.values.iter().all(|value| {
            if condition.key == "aws:userid" {
                // A role's every session (`AROAID:*`) pins no one.
                is_fixed(value)
            } else if condition.key == "s3:dataaccesspointarn" {
                // An access point name may be a wildcard if the account is fixed.
                crate::arn::segments(value).is_some_and(|segments| is_fixed(segments[4]))
            } else {
                is_fixed(value)
            }
        })
}

/// At most a /8 for IPv4 or a /32 for IPv6; private IPv4 ranges count
/// whatever their size.
fn is_narrow(cidr: Cidr) -> bool {
    match cidr.network {
        IpAddr::V4(network) => cidr.prefix_bits >= 8 || network.is_private(),
        IpAddr::V6(_) => cidr.prefix_bits >= 32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::PolicyKind;

    fn public(statement: &str) -> bool {
        let text = format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#);
        policy_is_public(&Policy::parse(&text, PolicyKind::Bucket).expect("parses"))
    }

    #[test]
    fn public_policy_table() {
        let get = r#""Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*""#;
        let cases: &[(String, bool)] = &[
            (
                format!(r#"{{"Effect":"Allow","Principal":"*",{get}}}"#),
                true,
            ),
            (
                format!(r#"{{"Effect":"Allow","Principal":{{"AWS":"*"}},{get}}}"#),
                true,
            ),
            (
                format!(r#"{{"Effect":"Deny","Principal":"*",{get}}}"#),
                false,
            ),
            (
                format!(r#"{{"Effect":"Allow","Principal":{{"AWS":"111122223333"}},{get}}}"#),
                false,
            ),
            (
                format!(
                    r#"{{"Effect":"Allow","Principal":{{"Federated":"graph.facebook.com"}},{get}}}"#
                ),
                true,
            ),
            (
                format!(
                    r#"{{"Effect":"Allow","Principal":"*",{get},"Condition":{{"IpAddress":{{"aws:SourceIp":"203.0.113.0/24"}}}}}}"#
                ),
                false,
            ),
            (
                format!(
                    r#"{{"Effect":"Allow","Principal":"*",{get},"Condition":{{"IpAddress":{{"aws:SourceIp":"0.0.0.0/1"}}}}}}"#
                ),
                true,
            ),
            (
                format!(
                    r#"{{"Effect":"Allow","Principal":"*",{get},"Condition":{{"IpAddress":{{"aws:SourceIp":"2001:db8::/16"}}}}}}"#
                ),
                true,
            ),
            (
                format!(
                    r#"{{"Effect":"Allow","Principal":"*",{get},"Condition":{{"IpAddress":{{"aws:SourceIp":"2001:db8::/48"}}}}}}"#
                ),
                false,
            ),
            (
                format!(
                    r#"{{"Effect":"Allow","Principal":"*",{get},"Condition":{{"NotIpAddress":{{"aws:SourceIp":"10.0.0.0/8"}}}}}}"#
                ),
                true,
            ),
            (
                format!(
                    r#"{{"Effect":"Allow","Principal":"*",{get},"Condition":{{"StringEquals":{{"aws:SourceVpc":"vpc-91237329"}}}}}}"#
                ),
                false,
            ),
            (
                format!(
                    r#"{{"Effect":"Allow","Principal":"*",{get},"Condition":{{"StringLike":{{"aws:SourceVpc":"vpc-*"}}}}}}"#
                ),
                true,
            ),
            (
                format!(
                    r#"{{"Effect":"Allow","Principal":"*",{get},"Condition":{{"StringEquals":{{"aws:SourceAccount":"111122223333"}}}}}}"#
                ),
                false,
            ),
            (
                format!(
                    r#"{{"Effect":"Allow","Principal":"*",{get},"Condition":{{"StringEquals":{{"aws:userid":"AROAEXAMPLE:*"}}}}}}"#
                ),
                true,
            ),
            (
                format!(
                    r#"{{"Effect":"Allow","Principal":"*",{get},"Condition":{{"StringEquals":{{"s3:prefix":"x"}}}}}}"#
                ),
                true,
            ),
            (
                format!(
                    r#"{{"Effect":"Allow","Principal":"*",{get},"Condition":{{"StringEquals":{{"aws:SourceAccount":"${{aws:username}}"}}}}}}"#
                ),
                true,
            ),
        ];
        for (statement, expected) in cases {
            assert_eq!(public(statement), *expected, "{statement}");
        }
    }

    #[test]
    fn most_restrictive_combination() {
        let bucket = PublicAccessBlock {
            block_public_acls: true,
            ..PublicAccessBlock::default()
        };
        let account = PublicAccessBlock {
            restrict_public_buckets: true,
            ..PublicAccessBlock::default()
        };
        let both = bucket.most_restrictive(account);
        assert!(both.block_public_acls && both.restrict_public_buckets);
        assert!(!both.ignore_public_acls && !both.block_public_policy);
        assert_eq!(
            PublicAccessBlock::default().most_restrictive(PublicAccessBlock::ALL),
            PublicAccessBlock::ALL
        );
    }
}
