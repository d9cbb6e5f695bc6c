//! Parameter constraints as AWS's IAM and STS references document them,
//! and a `Reader` that checks them while collecting every failure into
//! one `ValidationError` worded as AWS words it ("2 validation errors
//! detected: Value 'a b' at 'userName' failed to satisfy constraint: …").

use crate::error::IamError;
use crate::form::Params;
use crate::request::Page;

/// A regular expression from AWS's reference, with a hand-written matcher:
/// the patterns are simple character classes, and matching them by hand
/// avoids a regex engine on untrusted input.
pub(crate) struct Pattern {
    pub text: &'static str,
    pub matches: fn(&str) -> bool,
}

/// The documented length bounds (in characters) and pattern of a string
/// parameter.
pub(crate) struct Rule {
    pub min_chars: usize,
    pub max_chars: usize,
    pub pattern: Option<Pattern>,
}

/// `\w` in AWS's (Java) patterns is ASCII only.
fn is_word(character: char) -> bool {
    character.is_ascii_alphanumeric() || character == '_'
}

fn is_name_char(character: char) -> bool {
    is_word(character) || "+=,.@-".contains(character)
}

fn is_printable_ascii(character: char) -> bool {
    ('\u{21}'..='\u{7e}').contains(&character)
}

const NAME_PATTERN: Pattern = Pattern {
    text: r"[\w+=,.@-]+",
    matches: |text| text.chars().all(is_name_char),
};

const PATH_PATTERN: Pattern = Pattern {
    text: r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)",
    matches: |text| {
        text == "/"
            || (text.len() >= 3
                && text.starts_with('/')
                && text.ends_with('/')
                && text.chars().all(is_printable_ascii))
    },
};

const PATH_PREFIX_PATTERN: Pattern = Pattern {
    text: r"\u002F[\u0021-\u007F]*",
    matches: |text| {
        text.starts_with('/') && text.chars().all(|c| ('\u{21}'..='\u{7f}').contains(&c))
    },
};

/// Policy documents: tab, line feed, carriage return and U+0020..U+00FF.
const POLICY_DOCUMENT_PATTERN: Pattern = Pattern {
    text: r"[\u0009\u000A\u000D\u0020-\u00FF]+",
    matches: |text| {
        text.chars()
            .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
    },
};

const DESCRIPTION_PATTERN: Pattern = Pattern {
    text: r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*",
    matches: |text| {
        text.chars()
            .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}'))
    },
};

const MARKER_PATTERN: Pattern = Pattern {
    text: r"[\u0020-\u00FF]+",
    matches: |text| text.chars().all(|c| ('\u{20}'..='\u{ff}').contains(&c)),
};

const WORD_PATTERN: Pattern = Pattern {
    text: r"[\w]+",
    matches: |text| text.chars().all(is_word),
};

const VERSION_ID_PATTERN: Pattern = Pattern {
    text: r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?",
    matches: |text| {
        let Some(rest) = text.strip_prefix('v') else {
            return false;
        };
        let (number, suffix) = match rest.split_once('.') {
            Some((number, suffix)) => (number, Some(suffix)),
            None => (rest, None),
        };
        let number_ok = !number.starts_with('0')
            && !number.is_empty()
            && number.chars().all(|c| c.is_ascii_digit());
        let suffix_ok = suffix.is_none_or(|suffix| {
            suffix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        number_ok && suffix_ok
    },
};

const ROLE_SESSION_NAME_PATTERN: Pattern = Pattern {
    text: r"[\w+=,.@-]*",
    matches: |text| text.chars().all(is_name_char),
};

const EXTERNAL_ID_PATTERN: Pattern = Pattern {
    text: r"[\w+=,.@:\/-]*",
    matches: |text| {
        text.chars()
            .all(|c| is_name_char(c) || c == ':' || c == '/')
    },
};

pub(crate) const USER_NAME: Rule = Rule {
    min_chars: 1,
    max_chars: 64,
    pattern: Some(NAME_PATTERN),
};

pub(crate) const GROUP_NAME: Rule = Rule {
    min_chars: 1,
    max_chars: 128,
    pattern: Some(NAME_PATTERN),
};

pub(crate) const ROLE_NAME: Rule = Rule {
    min_chars: 1,
    max_chars: 64,
    pattern: Some(NAME_PATTERN),
};

pub(crate) const POLICY_NAME: Rule = Rule {
    min_chars: 1,
    max_chars: 128,
    pattern: Some(NAME_PATTERN),
};

pub(crate) const PATH: Rule = Rule {
    min_chars: 1,
    max_chars: 512,
    pattern: Some(PATH_PATTERN),
};

pub(crate) const PATH_PREFIX: Rule = Rule {
    min_chars: 1,
    max_chars: 512,
    pattern: Some(PATH_PREFIX_PATTERN),
};

pub(crate) const POLICY_DOCUMENT: Rule = Rule {
    min_chars: 1,
    max_chars: 131_072,
    pattern: Some(POLICY_DOCUMENT_PATTERN),
};

/// STS's inline session policy (`Policy` on AssumeRole).
pub(crate) const SESSION_POLICY: Rule = Rule {
    min_chars: 1,
    max_chars: 2048,
    pattern: Some(POLICY_DOCUMENT_PATTERN),
};

pub(crate) const POLICY_DESCRIPTION: Rule = Rule {
    min_chars: 0,
    max_chars: 1000,
    pattern: None,
};

pub(crate) const ROLE_DESCRIPTION: Rule = Rule {
    min_chars: 0,
    max_chars: 1000,
    pattern: Some(DESCRIPTION_PATTERN),
};

pub(crate) const ARN: Rule = Rule {
    min_chars: 20,
    max_chars: 2048,
    pattern: None,
};

pub(crate) const MARKER: Rule = Rule {
    min_chars: 1,
    max_chars: 320,
    pattern: Some(MARKER_PATTERN),
};

pub(crate) const ACCESS_KEY_ID: Rule = Rule {
    min_chars: 16,
    max_chars: 128,
    pattern: Some(WORD_PATTERN),
};

/// AWS documents no length for version ids; 128 is our bound.
pub(crate) const VERSION_ID: Rule = Rule {
    min_chars: 1,
    max_chars: 128,
    pattern: Some(VERSION_ID_PATTERN),
};

pub(crate) const ROLE_SESSION_NAME: Rule = Rule {
    min_chars: 2,
    max_chars: 64,
    pattern: Some(ROLE_SESSION_NAME_PATTERN),
};

pub(crate) const EXTERNAL_ID: Rule = Rule {
    min_chars: 2,
    max_chars: 1224,
    pattern: Some(EXTERNAL_ID_PATTERN),
};

/// AWS lists every failed constraint; a bound keeps a hostile request
/// from growing the message without limit.
const MAX_ERRORS: usize = 10;

/// Values are echoed in messages as AWS does, but cut short: a 128 KiB
/// policy document is no help in an error.
const MAX_ECHOED_CHARS: usize = 128;

/// Reads typed parameters, recording every constraint failure. Getters
/// return a placeholder for a missing or invalid value; `finish` then
/// refuses the request, so placeholders never reach a handler.
pub(crate) struct Reader<'a> {
    params: &'a Params,
    errors: Vec<String>,
    /// See `Limits::session_duration_seconds_min`.
    pub(crate) session_duration_seconds_min: u32,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(params: &'a Params) -> Self {
        Reader {
            params,
            errors: Vec::new(),
            session_duration_seconds_min: crate::request::ASSUME_ROLE_MIN_DURATION_SECONDS,
        }
    }

    /// AWS names members in lower camel case: `UserName` → `userName`.
    fn member_name(key: &str) -> String {
        let mut characters = key.chars();
        match characters.next() {
            Some(first) => first.to_lowercase().chain(characters).collect(),
            None => String::new(),
        }
    }

    fn fail(&mut self, member: &str, value: Option<&str>, constraint: &str) {
        if self.errors.len() >= MAX_ERRORS {
            return;
        }
        let shown = match value {
            None => "null".to_string(),
            Some(value) if value.chars().count() > MAX_ECHOED_CHARS => {
                let cut: String = value.chars().take(MAX_ECHOED_CHARS).collect();
                format!("'{cut}...'")
            }
            Some(value) => format!("'{value}'"),
        };
        self.errors.push(format!(
            "Value {shown} at '{member}' failed to satisfy constraint: {constraint}"
        ));
    }

    fn check(&mut self, member: &str, value: &str, rule: &Rule) {
        let length_chars = value.chars().count();
        if length_chars < rule.min_chars {
            let constraint = format!(
                "Member must have length greater than or equal to {}",
                rule.min_chars
            );
            self.fail(member, Some(value), &constraint);
        }
        if length_chars > rule.max_chars {
            let constraint = format!(
                "Member must have length less than or equal to {}",
                rule.max_chars
            );
            self.fail(member, Some(value), &constraint);
        }
        if let Some(pattern) = &rule.pattern {
            if !(pattern.matches)(value) {
                let constraint = format!(
                    "Member must satisfy regular expression pattern: {}",
                    pattern.text
                );
                self.fail(member, Some(value), &constraint);
            }
        }
    }

    pub(crate) fn optional(&mut self, key: &str, rule: &Rule) -> Option<String> {
        let value = self.params.get(key)?;
        self.check(&Self::member_name(key), value, rule);
        Some(value.to_string())
    }

    pub(crate) fn required(&mut self, key: &str, rule: &Rule) -> String {
        match self.optional(key, rule) {
            Some(value) => value,
            None => {
                self.fail(&Self::member_name(key), None, "Member must not be null");
                String::new()
            }
        }
    }

    pub(crate) fn optional_u32(&mut self, key: &str, min: u32, max: u32) -> Option<u32> {
        let text = self.params.get(key)?;
        let member = Self::member_name(key);
        let parsed = if !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) {
            text.parse::<u64>().ok()
        } else {
            None
        };
        let Some(number) = parsed else {
            self.fail(&member, Some(text), "Member must be a number");
            return None;
        };
        if number < u64::from(min) {
            let constraint = format!("Member must have value greater than or equal to {min}");
            self.fail(&member, Some(text), &constraint);
            return None;
        }
        if number > u64::from(max) {
            let constraint = format!("Member must have value less than or equal to {max}");
            self.fail(&member, Some(text), &constraint);
            return None;
        }
        u32::try_from(number).ok()
    }

    pub(crate) fn optional_bool(&mut self, key: &str) -> Option<bool> {
        let text = self.params.get(key)?;
        match text {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                let member = Self::member_name(key);
                self.fail(&member, Some(text), "Member must be one of: [true, false]");
                None
            }
        }
    }

    /// A parameter restricted to an enumeration, e.g. `Status`.
    pub(crate) fn optional_choice<T: Copy>(
        &mut self,
        key: &str,
        choices: &[(&str, T)],
    ) -> Option<T> {
        let text = self.params.get(key)?;
        let found = choices
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, value)| *value);
        if found.is_none() {
            let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
            let constraint = format!("Member must satisfy enum value set: [{}]", names.join(", "));
            self.fail(&Self::member_name(key), Some(text), &constraint);
        }
        found
    }

    pub(crate) fn required_choice<T: Copy>(
        &mut self,
        key: &str,
        choices: &[(&str, T)],
    ) -> Option<T> {
        if self.params.get(key).is_none() {
            self.fail(&Self::member_name(key), None, "Member must not be null");
            return None;
        }
        self.optional_choice(key, choices)
    }

    /// `Marker` and `MaxItems`, which every IAM list action takes.
    pub(crate) fn page(&mut self) -> Page {
        Page {
            marker: self.optional("Marker", &MARKER),
            max_items: self.optional_u32("MaxItems", 1, 1000),
        }
    }

    /// A query-protocol list: `Key.member.1[.suffix]`, `Key.member.2…`,
    /// read until the first gap and bounded by `max_items`.
    pub(crate) fn members(
        &mut self,
        key: &str,
        suffix: Option<&str>,
        max_items: usize,
        rule: &Rule,
    ) -> Vec<String> {
        let mut items = Vec::new();
        for index in 1..=max_items.saturating_add(1) {
            let item_key = match suffix {
                Some(suffix) => format!("{key}.member.{index}.{suffix}"),
                None => format!("{key}.member.{index}"),
            };
            let Some(value) = self.params.get(&item_key) else {
                break;
            };
            if index > max_items {
                let constraint =
                    format!("Member must have length less than or equal to {max_items}");
                self.fail(&Self::member_name(key), Some("[...]"), &constraint);
                break;
            }
            let member = format!("{}.{index}.member", Self::member_name(key));
            self.check(&member, value, rule);
            items.push(value.to_string());
        }
        items
    }

    pub(crate) fn finish(self) -> Result<(), IamError> {
        match self.errors.len() {
            0 => Ok(()),
            1 => Err(IamError::validation_error(format!(
                "1 validation error detected: {}",
                self.errors.join("; ")
            ))),
            count => Err(IamError::validation_error(format!(
                "{count} validation errors detected: {}",
                self.errors.join("; ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
