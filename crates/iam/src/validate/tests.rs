use super::*;

fn valid(rule: &Rule, value: &str) -> bool {
    let params = Params::parse("", format!("Key={}", encode(value)).as_bytes())
        .expect("test values encode cleanly");
    let mut reader = Reader::new(&params);
    reader.required("Key", rule);
    reader.finish().is_ok()
}

fn encode(value: &str) -> String {
    crate::percent::aws_uri_encode(value.as_bytes(), false)
}

#[test]
fn name_rules() {
    let cases: &[(&str, &Rule, &str, bool)] = &[
        ("user", &USER_NAME, "alice", true),
        ("user", &USER_NAME, "a", true),
        ("user", &USER_NAME, "Alice_Bob+tag=1,x.y@z-w", true),
        ("user", &USER_NAME, &"a".repeat(64), true),
        ("user", &USER_NAME, &"a".repeat(65), false),
        ("user", &USER_NAME, "", false),
        ("user", &USER_NAME, "al ice", false),
        ("user", &USER_NAME, "al/ice", false),
        ("user", &USER_NAME, "al:ice", false),
        ("user", &USER_NAME, "ålice", false),
        ("group", &GROUP_NAME, &"g".repeat(128), true),
        ("group", &GROUP_NAME, &"g".repeat(129), false),
        ("role", &ROLE_NAME, &"r".repeat(64), true),
        ("role", &ROLE_NAME, &"r".repeat(65), false),
        ("policy", &POLICY_NAME, &"p".repeat(128), true),
        ("policy", &POLICY_NAME, &"p".repeat(129), false),
        ("policy", &POLICY_NAME, "read*", false),
        ("session", &ROLE_SESSION_NAME, "ab", true),
        ("session", &ROLE_SESSION_NAME, "a", false),
        ("session", &ROLE_SESSION_NAME, "user@example.com", true),
        ("external id", &EXTERNAL_ID, "tenant:7/a", true),
        ("external id", &EXTERNAL_ID, "tenant 7", false),
        ("access key", &ACCESS_KEY_ID, "AKIAIOSFODNN7EXAMPLE", true),
        ("access key", &ACCESS_KEY_ID, "AKIA", false),
        ("access key", &ACCESS_KEY_ID, "AKIAIOSFODNN7EXAMPL-", false),
    ];
    for (what, rule, value, expected) in cases {
        assert_eq!(valid(rule, value), *expected, "{what} {value:?}");
    }
}

#[test]
fn path_rules() {
    let cases: &[(&Rule, &str, bool)] = &[
        (&PATH, "/", true),
        (&PATH, "/dev/", true),
        (&PATH, "/a/b/c/", true),
        (&PATH, "//", false),
        (&PATH, "///", true),
        (&PATH, "/dev", false),
        (&PATH, "dev/", false),
        (&PATH, "", false),
        (&PATH, "/a b/", false),
        (&PATH, &format!("/{}/", "a".repeat(510)), true),
        (&PATH, &format!("/{}/", "a".repeat(511)), false),
        (&PATH_PREFIX, "/", true),
        (&PATH_PREFIX, "/dev", true),
        (&PATH_PREFIX, "/dev/", true),
        (&PATH_PREFIX, "dev", false),
        (&PATH_PREFIX, "/a b", false),
    ];
    for (rule, value, expected) in cases {
        assert_eq!(valid(rule, value), *expected, "{value:?}");
    }
}

#[test]
fn document_and_version_rules() {
    let cases: &[(&Rule, &str, bool)] = &[
        (
            &POLICY_DOCUMENT,
            "{\n\t\"Version\": \"2012-10-17\"\r\n}",
            true,
        ),
        (&POLICY_DOCUMENT, "{\"Sid\":\"café\"}", true),
        (&POLICY_DOCUMENT, "{\"Sid\":\"\u{263a}\"}", false),
        (&POLICY_DOCUMENT, "\u{1}", false),
        (&POLICY_DOCUMENT, "", false),
        (&VERSION_ID, "v1", true),
        (&VERSION_ID, "v10", true),
        (&VERSION_ID, "v1.a-B", true),
        (&VERSION_ID, "v0", false),
        (&VERSION_ID, "v", false),
        (&VERSION_ID, "1", false),
        (&VERSION_ID, "v1.a_b", false),
        (&ROLE_DESCRIPTION, "", true),
        (&ROLE_DESCRIPTION, "Reads things.", true),
        (&ROLE_DESCRIPTION, "\u{7f}", false),
        (&MARKER, "opaque token 1", true),
        (&ARN, "arn:aws:iam::1:role/r", true),
        (&ARN, "arn:aws:iam::1:r", false),
    ];
    for (rule, value, expected) in cases {
        assert_eq!(valid(rule, value), *expected, "{value:?}");
    }
}

#[test]
fn members_are_camel_case_and_values_are_cut() {
    assert_eq!(Reader::member_name("UserName"), "userName");
    assert_eq!(Reader::member_name("PolicyArns"), "policyArns");
    assert_eq!(Reader::member_name(""), "");

    let long = "x".repeat(500);
    let params = Params::parse("", format!("UserName={long}").as_bytes()).expect("valid form");
    let mut reader = Reader::new(&params);
    reader.required("UserName", &USER_NAME);
    let error = reader.finish().unwrap_err();
    assert!(error.message.contains(&format!("'{}...'", "x".repeat(128))));
    assert!(!error.message.contains(&"x".repeat(129)));
}
