//! Condition operators and their evaluation, with AWS's rule for a key the
//! request does not carry: a positive operator is false, a negated one
//! (`StringNotEquals`, `NotIpAddress`, `ArnNotLike`, …) true, `…IfExists`
//! true, `ForAllValues:` true, `ForAnyValue:` false, `Null` decides by
//! presence. Values listed for one key are ORed; for a negated operator
//! the request must differ from all of them.

use std::collections::BTreeMap;
use std::net::IpAddr;

use base64::Engine as _;

use crate::arn;
use crate::document::Version;
use crate::pattern::Pattern;
use crate::variables::{self, Lookup};

/// The base operator, without qualifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

const BASES: [(&str, Base); 27] = [
    ("StringEquals", Base::StringEquals),
    ("StringNotEquals", Base::StringNotEquals),
    ("StringEqualsIgnoreCase", Base::StringEqualsIgnoreCase),
    ("StringNotEqualsIgnoreCase", Base::StringNotEqualsIgnoreCase),
    ("StringLike", Base::StringLike),
    ("StringNotLike", Base::StringNotLike),
    ("NumericEquals", Base::NumericEquals),
    ("NumericNotEquals", Base::NumericNotEquals),
    ("NumericLessThan", Base::NumericLessThan),
    ("NumericLessThanEquals", Base::NumericLessThanEquals),
    ("NumericGreaterThan", Base::NumericGreaterThan),
    ("NumericGreaterThanEquals", Base::NumericGreaterThanEquals),
    ("DateEquals", Base::DateEquals),
    ("DateNotEquals", Base::DateNotEquals),
    ("DateLessThan", Base::DateLessThan),
    ("DateLessThanEquals", Base::DateLessThanEquals),
    ("DateGreaterThan", Base::DateGreaterThan),
    ("DateGreaterThanEquals", Base::DateGreaterThanEquals),
    ("Bool", Base::Bool),
    ("BinaryEquals", Base::BinaryEquals),
    ("IpAddress", Base::IpAddress),
    ("NotIpAddress", Base::NotIpAddress),
    ("ArnEquals", Base::ArnEquals),
    ("ArnLike", Base::ArnLike),
    ("ArnNotEquals", Base::ArnNotEquals),
    ("ArnNotLike", Base::ArnNotLike),
    ("Null", Base::Null),
];

impl Base {
    /// Every operator, for table tests.
    pub fn all() -> impl Iterator<Item = Base> {
        BASES.iter().map(|(_, base)| *base)
    }

    pub fn name(self) -> &'static str {
        BASES
            .iter()
            .find(|(_, base)| *base == self)
            .map_or("", |(name, _)| name)
    }

    /// Negated operators hold when the request matches none of the values
    /// (and when the key is absent).
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            Base::StringNotEquals
                | Base::StringNotEqualsIgnoreCase
                | Base::StringNotLike
                | Base::NumericNotEquals
                | Base::DateNotEquals
                | Base::NotIpAddress
                | Base::ArnNotEquals
                | Base::ArnNotLike
        )
    }

    /// The positive operator a negated one inverts.
    fn positive(self) -> Base {
        match self {
            Base::StringNotEquals => Base::StringEquals,
            Base::StringNotEqualsIgnoreCase => Base::StringEqualsIgnoreCase,
            Base::StringNotLike => Base::StringLike,
            Base::NumericNotEquals => Base::NumericEquals,
            Base::DateNotEquals => Base::DateEquals,
            Base::NotIpAddress => Base::IpAddress,
            Base::ArnNotEquals => Base::ArnEquals,
            Base::ArnNotLike => Base::ArnLike,
            other => other,
        }
    }
}

/// `ForAllValues:` / `ForAnyValue:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetQualifier {
    ForAllValues,
    ForAnyValue,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operator {
    pub base: Base,
    pub if_exists: bool,
    pub set: Option<SetQualifier>,
}

impl Operator {
    /// Parse `[ForAllValues:|ForAnyValue:]Base[IfExists]`; `Null` takes no
    /// `IfExists`.
    pub fn parse(name: &str) -> Option<Self> {
        let (set, rest) = if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else {
            (None, name)
        };
        let (if_exists, base_name) = match rest.strip_suffix("IfExists") {
            Some(base_name) => (true, base_name),
            None => (false, rest),
        };
        let base = BASES
            .iter()
            .find(|(candidate, _)| *candidate == base_name)
            .map(|(_, base)| *base)?;
        if base == Base::Null && if_exists {
            return None;
        }
        Some(Self {
            base,
            if_exists,
            set,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub operator: Operator,
    /// Lower-cased: condition keys are case-insensitive.
    pub key: String,
    pub values: Vec<String>,
}

/// The condition keys of one request, by lower-cased name. Most keys have
/// one value; `s3:RequestObjectTagKeys` and the like have several.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConditionKeys {
    values: BTreeMap<String, Vec<String>>,
}

impl ConditionKeys {
    pub fn new() -> Self {
        Self::default()
    }

    /// Set `key` to one value.
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.values
            .insert(key.to_ascii_lowercase(), vec![value.into()]);
        self
    }

    /// Set `key` to several values.
    pub fn set_many(&mut self, key: &str, values: Vec<String>) -> &mut Self {
        self.values.insert(key.to_ascii_lowercase(), values);
        self
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.values
            .get(&key.to_ascii_lowercase())
            .map(Vec::as_slice)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.values
            .iter()
            .map(|(key, values)| (key.as_str(), values.as_slice()))
    }
}

impl Lookup for ConditionKeys {
    fn first_value(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .and_then(|values| values.first())
            .map(String::as_str)
    }
}

impl Condition {
    /// Whether the condition holds for the request's `keys`.
    pub fn holds(&self, keys: &ConditionKeys, version: Version) -> bool {
        let operator = self.operator;
        let request = keys.get(&self.key).filter(|values| !values.is_empty());
        if operator.base == Base::Null {
            let wants_absent = self
                .values
                .iter()
                .any(|value| value.eq_ignore_ascii_case("true"));
            let wants_present = self
                .values
                .iter()
                .any(|value| value.eq_ignore_ascii_case("false"));
            return (wants_absent && request.is_none()) || (wants_present && request.is_some());
        }
        let Some(request) = request else {
            return match operator.set {
                Some(SetQualifier::ForAllValues) => true,
                Some(SetQualifier::ForAnyValue) => false,
                None => operator.if_exists || operator.base.is_negated(),
            };
        };
        // Policy values with variables substituted; a value whose variable
        // has no value matches nothing.
        let policy_values: Vec<String> = self
            .values
            .iter()
            .filter_map(|value| variables::substitute_text(value, version, keys))
            .collect();
        let negated = operator.base.is_negated();
        let positive = operator.base.positive();
        let each = |value: &str| {
            let matched = policy_values
                .iter()
                .any(|policy_value| compare(positive, value, policy_value));
            matched != negated
        };
        match operator.set {
            Some(SetQualifier::ForAllValues) => request.iter().all(|value| each(value)),
            Some(SetQualifier::ForAnyValue) => request.iter().any(|value| each(value)),
            // A single-valued key: its one value decides. For a list
            // without a qualifier a positive operator needs one match and
            // a negated one needs every value to differ.
            None if negated => request.iter().all(|value| each(value)),
            None => request.iter().any(|value| each(value)),
        }
    }
}

/// Compare one request value with one policy value under a positive
/// operator. Values that do not parse as the operator's type never match.
fn compare(base: Base, request: &str, policy: &str) -> bool {
    match base {
        Base::StringEquals => request == policy,
        Base::StringEqualsIgnoreCase => request.to_lowercase() == policy.to_lowercase(),
        Base::StringLike => Pattern::glob(policy).matches(request),
        Base::NumericEquals
        | Base::NumericLessThan
        | Base::NumericLessThanEquals
        | Base::NumericGreaterThan
        | Base::NumericGreaterThanEquals => {
            match (request.trim().parse::<f64>(), policy.trim().parse::<f64>()) {
                (Ok(request), Ok(policy)) => ordered(base, request.partial_cmp(&policy)),
                _ => false,
            }
        }
        Base::DateEquals
        | Base::DateLessThan
        | Base::DateLessThanEquals
        | Base::DateGreaterThan
        | Base::DateGreaterThanEquals => match (parse_date(request), parse_date(policy)) {
            (Some(request), Some(policy)) => ordered(base, Some(request.cmp(&policy))),
            _ => false,
        },
        Base::Bool => request.eq_ignore_ascii_case(policy),
        Base::BinaryEquals => {
            let engine = base64::engine::general_purpose::STANDARD;
            match (engine.decode(request), engine.decode(policy)) {
                (Ok(request), Ok(policy)) => request == policy,
                _ => request == policy,
            }
        }
        Base::IpAddress => match (request.parse::<IpAddr>(), Cidr::parse(policy)) {
            (Ok(address), Some(cidr)) => cidr.contains(address),
            _ => false,
        },
        Base::ArnEquals | Base::ArnLike => arn::arn_like(policy, request),
        // Negated and `Null` operators never reach here.
        _ => false,
    }
}

fn ordered(base: Base, ordering: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let Some(ordering) = ordering else {
        return false;
    };
    match base {
        Base::NumericEquals | Base::DateEquals => ordering == Equal,
        Base::NumericLessThan | Base::DateLessThan => ordering == Less,
        Base::NumericLessThanEquals | Base::DateLessThanEquals => ordering != Greater,
        Base::NumericGreaterThan | Base::DateGreaterThan => ordering == Greater,
        Base::NumericGreaterThanEquals | Base::DateGreaterThanEquals => ordering != Less,
        _ => false,
    }
}

/// An ISO 8601 time (`2024-01-31T12:00:00Z`, with or without fraction or
/// offset, or a bare date) or epoch seconds, as nanoseconds since the
/// epoch.
pub fn parse_date(text: &str) -> Option<i128> {
    use time::format_description::well_known::{Iso8601, Rfc3339};
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return Some(i128::from(seconds) * 1_000_000_000);
    }
    if let Ok(moment) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Some(moment.unix_timestamp_nanos());
    }
    if let Ok(moment) = time::OffsetDateTime::parse(text, &Iso8601::DEFAULT) {
        return Some(moment.unix_timestamp_nanos());
    }
    let date = time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()?;
    Some(date.midnight().assume_utc().unix_timestamp_nanos())
}

/// An IPv4 or IPv6 network; a bare address is a /32 or /128.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub network: IpAddr,
    pub prefix_bits: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address.parse().ok()?;
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix_bits = match prefix {
            Some(prefix) => prefix.parse::<u8>().ok().filter(|bits| *bits <= width)?,
            None => width,
        };
        Some(Self {
            network,
            prefix_bits,
        })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        // An IPv4 client seen through an IPv6 socket is still itself.
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, address) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                prefix_equal(&network.octets(), &address.octets(), self.prefix_bits)
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                prefix_equal(&network.octets(), &address.octets(), self.prefix_bits)
            }
            _ => false,
        }
    }
}

fn prefix_equal(left: &[u8], right: &[u8], bits: u8) -> bool {
    let full_bytes = usize::from(bits / 8);
    let rest_bits = bits % 8;
    if left[..full_bytes] != right[..full_bytes] {
        return false;
    }
    if rest_bits == 0 {
        return true;
    }
    let mask = 0xFFu8 << (8 - rest_bits);
    (left[full_bytes] & mask) == (right[full_bytes] & mask)
}

#[cfg(test)]
mod tests;
