//! Glob patterns of the policy language: `*` matches any run of characters
//! (including `/` and nothing), `?` exactly one. A pattern may also come
//! from a policy with variables substituted, where an escaped `${*}` or a
//! variable's value stands for itself, so patterns are token lists rather
//! than strings.

/// One element of a compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    Literal(char),
    AnyRun,
    AnyOne,
}

/// A compiled glob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    tokens: Vec<Token>,
}

impl Pattern {
    /// `*` and `?` are wildcards; every other character is literal.
    pub fn glob(text: &str) -> Self {
        Self {
            tokens: text
                .chars()
                .map(|character| match character {
                    '*' => Token::AnyRun,
                    '?' => Token::AnyOne,
                    other => Token::Literal(other),
                })
                .collect(),
        }
    }

    /// Every character literal.
    pub fn literal(text: &str) -> Self {
        Self {
            tokens: text.chars().map(Token::Literal).collect(),
        }
    }

    pub fn from_tokens(tokens: Vec<Token>) -> Self {
        Self { tokens }
    }

    /// The pattern as text, wildcards as `*` and `?`.
    pub fn render(&self) -> String {
        self.tokens
            .iter()
            .map(|token| match token {
                Token::Literal(character) => *character,
                Token::AnyRun => '*',
                Token::AnyOne => '?',
            })
            .collect()
    }

    /// Whether the pattern has a wildcard.
    pub fn has_wildcard(&self) -> bool {
        self.tokens
            .iter()
            .any(|token| !matches!(token, Token::Literal(_)))
    }

    /// Whether the pattern matches all of `text`.
    pub fn matches(&self, text: &str) -> bool {
        self.matches_with(text, |pattern, actual| pattern == actual)
    }

    /// Case-insensitive match (actions, IgnoreCase operators).
    pub fn matches_ignore_case(&self, text: &str) -> bool {
        self.matches_with(text, |pattern, actual| {
            pattern == actual || pattern.to_lowercase().eq(actual.to_lowercase())
        })
    }

    /// Iterative glob matching with single backtracking point: linear in
    /// practice, and never exponential whatever the input.
    fn matches_with(&self, text: &str, equal: impl Fn(char, char) -> bool) -> bool {
        let text: Vec<char> = text.chars().collect();
        let tokens = &self.tokens;
        let (mut token_at, mut text_at) = (0usize, 0usize);
        let mut backtrack: Option<(usize, usize)> = None;
        while text_at < text.len() {
            match tokens.get(token_at) {
                Some(Token::AnyRun) => {
                    backtrack = Some((token_at, text_at));
                    token_at += 1;
                    continue;
                }
                Some(Token::AnyOne) => {
                    token_at += 1;
                    text_at += 1;
                    continue;
                }
                Some(Token::Literal(expected)) if equal(*expected, text[text_at]) => {
                    token_at += 1;
                    text_at += 1;
                    continue;
                }
                _ => {}
            }
            match backtrack {
                Some((star_token, star_text)) => {
                    token_at = star_token + 1;
                    text_at = star_text + 1;
                    backtrack = Some((star_token, star_text + 1));
                }
                None => return false,
            }
        }
        tokens[token_at.min(tokens.len())..]
            .iter()
            .all(|token| *token == Token::AnyRun)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "", true),
            ("*", "anything/with/slashes", true),
            ("a*", "a", true),
            ("a*c", "abc", true),
            ("a*c", "ab/xc", true),
            ("a*c", "abd", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("a?c", "abbc", false),
            ("??", "é!", true),
            ("abc", "abc", true),
            ("abc", "ABC", false),
            ("abc", "abcd", false),
            ("*.txt", "dir/file.txt", true),
            ("*.txt", "dir/file.txt.gz", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("", "", true),
            ("", "a", false),
            ("**", "x", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                Pattern::glob(pattern).matches(text),
                *expected,
                "{pattern:?} ~ {text:?}"
            );
        }
    }

    #[test]
    fn ignore_case_and_literals() {
        assert!(Pattern::glob("s3:get*").matches_ignore_case("S3:GetObject"));
        assert!(!Pattern::glob("s3:get*").matches("S3:GetObject"));
        assert!(Pattern::literal("a*").matches("a*"));
        assert!(!Pattern::literal("a*").matches("ab"));
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let pattern = Pattern::glob(&"*a".repeat(50));
        let text = "a".repeat(5_000) + "b";
        assert!(!pattern.matches(&text));
    }
}
