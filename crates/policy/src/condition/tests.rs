//! Every operator with the key present (matching and not) and absent, the
//! qualifiers, and the value parsers.

use super::*;

fn keys(pairs: &[(&str, &[&str])]) -> ConditionKeys {
    let mut keys = ConditionKeys::new();
    for (key, values) in pairs {
        keys.set_many(
            key,
            values.iter().map(|value| (*value).to_owned()).collect(),
        );
    }
    keys
}

fn holds(operator: &str, key: &str, values: &[&str], request: &ConditionKeys) -> bool {
    Condition {
        operator: Operator::parse(operator).expect(operator),
        key: key.to_ascii_lowercase(),
        values: values.iter().map(|value| (*value).to_owned()).collect(),
    }
    .holds(request, Version::V2012)
}

/// (operator, policy value, a request value that matches, one that does not)
const TABLE: &[(&str, &str, &str, &str)] = &[
    ("StringEquals", "abc", "abc", "ABC"),
    ("StringNotEquals", "abc", "ABC", "abc"),
    ("StringEqualsIgnoreCase", "abc", "ABC", "abd"),
    ("StringNotEqualsIgnoreCase", "abc", "abd", "ABC"),
    ("StringLike", "home/*/x?", "home/a/b/x1", "home/a/x"),
    ("StringNotLike", "home/*", "work/a", "home/a"),
    ("NumericEquals", "10", "10.0", "11"),
    ("NumericNotEquals", "10", "11", "10"),
    ("NumericLessThan", "10", "9", "10"),
    ("NumericLessThanEquals", "10", "10", "10.5"),
    ("NumericGreaterThan", "10", "11", "10"),
    ("NumericGreaterThanEquals", "10", "10", "9"),
    (
        "DateEquals",
        "2024-01-01T00:00:00Z",
        "1704067200",
        "2024-01-01T00:00:01Z",
    ),
    (
        "DateNotEquals",
        "2024-01-01T00:00:00Z",
        "2025-01-01T00:00:00Z",
        "2024-01-01T00:00:00.000Z",
    ),
    (
        "DateLessThan",
        "2024-01-01T00:00:00Z",
        "2023-12-31T23:59:59Z",
        "2024-01-01T00:00:00Z",
    ),
    (
        "DateLessThanEquals",
        "2024-01-01",
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:01Z",
    ),
    (
        "DateGreaterThan",
        "2024-01-01T00:00:00Z",
        "2024-01-01T01:00:00+00:30",
        "2023-06-01T00:00:00Z",
    ),
    (
        "DateGreaterThanEquals",
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00Z",
        "2023-12-31T23:59:59Z",
    ),
    ("Bool", "true", "true", "false"),
    ("BinaryEquals", "aGVsbG8=", "aGVsbG8=", "d29ybGQ="),
    ("IpAddress", "127.0.0.0/24", "127.0.0.1", "127.0.1.1"),
    ("NotIpAddress", "127.0.0.0/24", "10.0.0.1", "127.0.0.9"),
    (
        "ArnEquals",
        "arn:aws:iam::1:user/a",
        "arn:aws:iam::1:user/a",
        "arn:aws:iam::1:user/b",
    ),
    (
        "ArnLike",
        "arn:aws:iam::1:user/*",
        "arn:aws:iam::1:user/b",
        "arn:aws:iam::2:user/b",
    ),
    (
        "ArnNotEquals",
        "arn:aws:iam::1:user/a",
        "arn:aws:iam::1:user/b",
        "arn:aws:iam::1:user/a",
    ),
    (
        "ArnNotLike",
        "arn:aws:iam::1:user/*",
        "arn:aws:iam::2:user/b",
        "arn:aws:iam::1:user/b",
    ),
];

#[test]
fn every_operator_present_and_absent() {
    assert_eq!(
        TABLE.len() + 1,
        Base::all().count(),
        "every operator but Null is in the table"
    );
    for (operator, policy, matching, other) in TABLE {
        let base = Operator::parse(operator).expect("known").base;
        let present = |value: &str| keys(&[("k:key", &[value])]);
        assert!(
            holds(operator, "k:key", &[policy], &present(matching)),
            "{operator} {policy} ~ {matching}"
        );
        assert!(
            !holds(operator, "k:key", &[policy], &present(other)),
            "{operator} {policy} !~ {other}"
        );
        // Absent key: positive false, negated true.
        let absent = ConditionKeys::new();
        assert_eq!(
            holds(operator, "k:key", &[policy], &absent),
            base.is_negated(),
            "{operator} absent"
        );
        // IfExists: absent → true; present → the operator decides.
        let if_exists = format!("{operator}IfExists");
        assert!(
            holds(&if_exists, "k:key", &[policy], &absent),
            "{if_exists} absent"
        );
        assert!(
            holds(&if_exists, "k:key", &[policy], &present(matching)),
            "{if_exists} present"
        );
        assert!(
            !holds(&if_exists, "k:key", &[policy], &present(other)),
            "{if_exists} other"
        );
        // Set qualifiers on an absent key.
        assert!(holds(
            &format!("ForAllValues:{operator}"),
            "k:key",
            &[policy],
            &absent
        ));
        assert!(!holds(
            &format!("ForAnyValue:{operator}"),
            "k:key",
            &[policy],
            &absent
        ));
    }
}

#[test]
fn null_decides_by_presence() {
    let present = keys(&[("aws:username", &["alice"])]);
    let absent = ConditionKeys::new();
    assert!(holds("Null", "aws:username", &["true"], &absent));
    assert!(!holds("Null", "aws:username", &["true"], &present));
    assert!(holds("Null", "aws:username", &["false"], &present));
    assert!(!holds("Null", "aws:username", &["false"], &absent));
    assert_eq!(Operator::parse("NullIfExists"), None);
}

#[test]
fn values_of_one_key_are_ored_and_negations_anded() {
    let request = keys(&[("s3:prefix", &["photos/"])]);
    assert!(holds(
        "StringEquals",
        "s3:prefix",
        &["docs/", "photos/"],
        &request
    ));
    assert!(!holds(
        "StringNotEquals",
        "s3:prefix",
        &["docs/", "photos/"],
        &request
    ));
    assert!(holds(
        "StringNotEquals",
        "s3:prefix",
        &["docs/", "misc/"],
        &request
    ));
    // Keys are case-insensitive.
    assert!(holds("StringEquals", "S3:Prefix", &["photos/"], &request));
}

#[test]
fn set_qualifiers_on_multivalued_keys() {
    let tags = keys(&[("s3:requestobjecttagkeys", &["team", "cost"])]);
    let key = "s3:RequestObjectTagKeys";
    assert!(holds(
        "ForAllValues:StringEquals",
        key,
        &["team", "cost", "env"],
        &tags
    ));
    assert!(!holds("ForAllValues:StringEquals", key, &["team"], &tags));
    assert!(holds("ForAnyValue:StringEquals", key, &["team"], &tags));
    assert!(!holds("ForAnyValue:StringEquals", key, &["env"], &tags));
    // ForAllValues over an empty set holds.
    let empty = keys(&[("s3:requestobjecttagkeys", &[])]);
    assert!(holds("ForAllValues:StringEquals", key, &["team"], &empty));
    assert!(holds("ForAnyValue:StringNotEquals", key, &["team"], &tags));
    assert!(!holds(
        "ForAllValues:StringNotEquals",
        key,
        &["team"],
        &tags
    ));
}

#[test]
fn ip_addresses_v4_and_v6() {
    let cases: &[(&str, &str, bool)] = &[
        ("127.0.0.1", "127.0.0.1", true),
        ("127.0.0.1/32", "127.0.0.2", false),
        ("10.0.0.0/8", "10.255.1.2", true),
        ("0.0.0.0/0", "203.0.113.9", true),
        ("2001:db8::/32", "2001:db8:1::5", true),
        ("2001:DB8::/32", "2001:db9::5", false),
        ("::1", "::1", true),
        ("127.0.0.0/8", "::ffff:127.0.0.1", true),
        ("10.0.0.0/33", "10.0.0.1", false),
        ("garbage", "10.0.0.1", false),
    ];
    for (cidr, address, expected) in cases {
        let request = keys(&[("aws:sourceip", &[address])]);
        assert_eq!(
            holds("IpAddress", "aws:SourceIp", &[cidr], &request),
            *expected,
            "{cidr} ∋ {address}"
        );
    }
}

#[test]
fn policy_variables_in_condition_values() {
    let request = keys(&[
        ("aws:username", &["alice"]),
        ("s3:prefix", &["home/alice/"]),
    ]);
    assert!(holds(
        "StringLike",
        "s3:prefix",
        &["home/${aws:username}/*"],
        &request
    ));
    let other = keys(&[("aws:username", &["bob"]), ("s3:prefix", &["home/alice/"])]);
    assert!(!holds(
        "StringLike",
        "s3:prefix",
        &["home/${aws:username}/*"],
        &other
    ));
}

#[test]
fn unparsable_values_never_match() {
    let request = keys(&[("s3:max-keys", &["ten"])]);
    assert!(!holds("NumericLessThan", "s3:max-keys", &["100"], &request));
    let date = keys(&[("aws:currenttime", &["yesterday"])]);
    assert!(!holds(
        "DateLessThan",
        "aws:CurrentTime",
        &["2030-01-01T00:00:00Z"],
        &date
    ));
}
