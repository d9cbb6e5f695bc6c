//! Policy variables (`${aws:username}`, `${s3:prefix, 'default'}`) and the
//! escapes `${*}`, `${?}` and `${$}`. Variables exist only in policies of
//! version 2012-10-17; under 2008-10-17 the text is taken as written.
//! A substituted value is literal: a `*` in a user name is not a wildcard.

use crate::document::Version;
use crate::pattern::{Pattern, Token};

/// Values of condition keys, looked up by lower-cased key name.
pub trait Lookup {
    fn first_value(&self, key: &str) -> Option<&str>;
}

/// Compile `text` into a glob, substituting variables under `version`.
/// `None` when a variable has no value and no default: AWS then treats
/// the element as matching nothing.
pub fn substitute(text: &str, version: Version, lookup: &dyn Lookup) -> Option<Pattern> {
    if version == Version::V2008 || !text.contains("${") {
        return Some(Pattern::glob(text));
    }
    let mut tokens = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        push_glob(&mut tokens, &rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            // An unterminated `${` is plain text.
            push_glob(&mut tokens, &rest[start..]);
            return Some(Pattern::from_tokens(tokens));
        };
        let inner = &after[..end];
        match inner {
            "*" => tokens.push(Token::Literal('*')),
            "?" => tokens.push(Token::Literal('?')),
            "$" => tokens.push(Token::Literal('$')),
            _ => {
                let (name, default) = split_default(inner);
                let value = lookup
                    .first_value(&name.to_ascii_lowercase())
                    .map(str::to_owned)
                    .or(default)?;
                tokens.extend(value.chars().map(Token::Literal));
            }
        }
        rest = &after[end + 1..];
    }
    push_glob(&mut tokens, rest);
    Some(Pattern::from_tokens(tokens))
}

/// Substitute and render as plain text (for exact-match operators, where
/// `*` has no special meaning anyway).
pub fn substitute_text(text: &str, version: Version, lookup: &dyn Lookup) -> Option<String> {
    if version == Version::V2008 || !text.contains("${") {
        return Some(text.to_owned());
    }
    substitute(text, version, lookup).map(|pattern| pattern.render())
}

fn push_glob(tokens: &mut Vec<Token>, text: &str) {
    tokens.extend(text.chars().map(|character| match character {
        '*' => Token::AnyRun,
        '?' => Token::AnyOne,
        other => Token::Literal(other),
    }));
}

/// `name, 'default'` → (`name`, Some(`default`)).
fn split_default(inner: &str) -> (&str, Option<String>) {
    match inner.split_once(',') {
        Some((name, default)) => {
            let default = default.trim();
            let unquoted = default
                .strip_prefix('\'')
                .and_then(|value| value.strip_suffix('\''))
                .unwrap_or(default);
            (name.trim(), Some(unquoted.to_owned()))
        }
        None => (inner.trim(), None),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    struct Values(BTreeMap<String, String>);

    impl Lookup for Values {
        fn first_value(&self, key: &str) -> Option<&str> {
            self.0.get(key).map(String::as_str)
        }
    }

    fn values() -> Values {
        Values(BTreeMap::from([
            ("aws:username".to_owned(), "alice".to_owned()),
            ("aws:userid".to_owned(), "AIDA*odd".to_owned()),
        ]))
    }

    #[test]
    fn substitution_table() {
        let v = values();
        let cases: &[(&str, Version, &str, bool)] = &[
            (
                "home/${aws:username}/*",
                Version::V2012,
                "home/alice/x",
                true,
            ),
            (
                "home/${aws:username}/*",
                Version::V2012,
                "home/bob/x",
                false,
            ),
            (
                "home/${AWS:UserName}/*",
                Version::V2012,
                "home/alice/x",
                true,
            ),
            // 2008: no variables, the text is literal (and `$`, `{` are plain).
            (
                "home/${aws:username}/*",
                Version::V2008,
                "home/${aws:username}/x",
                true,
            ),
            (
                "home/${aws:username}/*",
                Version::V2008,
                "home/alice/x",
                false,
            ),
            // Escapes are literal characters.
            ("a${*}b", Version::V2012, "a*b", true),
            ("a${*}b", Version::V2012, "axb", false),
            ("a${?}", Version::V2012, "a?", true),
            ("a${$}", Version::V2012, "a$", true),
            // A value with a `*` is literal.
            ("${aws:userid}", Version::V2012, "AIDA*odd", true),
            ("${aws:userid}", Version::V2012, "AIDAxodd", false),
            // Defaults.
            (
                "t/${aws:PrincipalTag/team, 'none'}/*",
                Version::V2012,
                "t/none/x",
                true,
            ),
            // Unterminated: plain text.
            ("a${b", Version::V2012, "a${b", true),
        ];
        for (text, version, target, expected) in cases {
            let pattern = substitute(text, *version, &v).expect("has values");
            assert_eq!(
                pattern.matches(target),
                *expected,
                "{text:?} {version:?} ~ {target:?}"
            );
        }
        assert_eq!(substitute("${aws:missing}/x", Version::V2012, &v), None);
        assert_eq!(
            substitute_text("u=${aws:username}", Version::V2012, &v).as_deref(),
            Some("u=alice")
        );
    }
}
