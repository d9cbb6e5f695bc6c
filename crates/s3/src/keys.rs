//! The condition keys of a request (the reference's global and S3 keys):
//! read from the connection, the headers and the query string once, then
//! handed to the policy engine.

use std::net::SocketAddr;

use coffer_policy::ConditionKeys;
use http::{HeaderMap, Uri};

use crate::operations::Operation;

/// The `x-amz-grant-*` headers, as their condition keys name them.
pub const GRANT_HEADERS: [&str; 5] = [
    "x-amz-grant-read",
    "x-amz-grant-write",
    "x-amz-grant-read-acp",
    "x-amz-grant-write-acp",
    "x-amz-grant-full-control",
];

/// Headers whose value is the condition key of the same name (`s3:` +
/// header).
const HEADER_KEYS: [&str; 9] = [
    "x-amz-acl",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-customer-algorithm",
    "x-amz-copy-source",
    "x-amz-metadata-directive",
    "x-amz-storage-class",
    "x-amz-content-sha256",
    "x-amz-object-ownership",
];

/// Tags in `x-amz-tagging` beyond this are not turned into keys (S3 allows
/// ten per object; the handler refuses more).
const REQUEST_TAGS_MAX: usize = 50;

/// What the request says about itself, for conditions.
#[derive(Debug, Default)]
pub struct RequestFacts {
    pairs: Vec<(String, String)>,
    tags: Vec<(String, String)>,
    pub version_id: Option<String>,
    prefix: Option<String>,
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// `a=1&b=2` with percent-decoding.
fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => (decode(name), decode(value)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

impl RequestFacts {
    pub fn read(headers: &HeaderMap, uri: &Uri, remote: Option<SocketAddr>, secure: bool) -> Self {
        let mut facts = Self::default();
        let now = time::OffsetDateTime::now_utc();
        let mut set = |key: &str, value: String| facts.pairs.push((key.to_owned(), value));
        if let Some(remote) = remote {
            set("aws:SourceIp", remote.ip().to_canonical().to_string());
        }
        set("aws:SecureTransport", secure.to_string());
        if let Ok(current) = now.format(&time::format_description::well_known::Rfc3339) {
            set("aws:CurrentTime", current);
        }
        set("aws:EpochTime", now.unix_timestamp().to_string());
        if let Some(agent) = header(headers, "user-agent") {
            set("aws:UserAgent", agent);
        }
        if let Some(referer) = header(headers, "referer") {
            set("aws:Referer", referer);
        }
        for name in HEADER_KEYS.iter().chain(GRANT_HEADERS.iter()) {
            if let Some(value) = header(headers, name) {
                set(&format!("s3:{name}"), value);
            }
        }
        let query = form_pairs(uri.query().unwrap_or_default());
        let query_value = |name: &str| {
            query
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        };
        let authorization = header(headers, "authorization").unwrap_or_default();
        let (version, auth_type, age_ms) = if query_value("X-Amz-Signature").is_some() {
            let age_ms = query_value("X-Amz-Date")
                .and_then(|date| {
                    time::PrimitiveDateTime::parse(
                        &date,
                        time::macros::format_description!(
                            "[year][month][day]T[hour][minute][second]Z"
                        ),
                    )
                    .ok()
                })
                .map(|signed| (now - signed.assume_utc()).whole_milliseconds().max(0));
            (Some("AWS4-HMAC-SHA256"), Some("REST-QUERY-STRING"), age_ms)
        } else if query_value("Signature").is_some() && query_value("AWSAccessKeyId").is_some() {
            // SigV2 presigned URLs: the age is always 0.
            (Some("AWS"), Some("REST-QUERY-STRING"), Some(0))
        } else if authorization.starts_with("AWS4-HMAC-SHA256") {
            (Some("AWS4-HMAC-SHA256"), Some("REST-HEADER"), None)
        } else if authorization.starts_with("AWS ") {
            (Some("AWS"), Some("REST-HEADER"), None)
        } else {
            (None, None, None)
        };
        if let Some(version) = version {
            set("s3:signatureversion", version.to_owned());
        }
        if let Some(auth_type) = auth_type {
            set("s3:authType", auth_type.to_owned());
        }
        if let Some(age_ms) = age_ms {
            set("s3:signatureAge", age_ms.to_string());
        }
        for (name, key) in [("delimiter", "s3:delimiter"), ("max-keys", "s3:max-keys")] {
            if let Some(value) = query_value(name) {
                set(key, value);
            }
        }
        facts.prefix = query_value("prefix");
        facts.version_id = query_value("versionId");
        if let Some(tagging) = header(headers, "x-amz-tagging") {
            facts.tags = form_pairs(&tagging)
                .into_iter()
                .take(REQUEST_TAGS_MAX)
                .collect();
        }
        facts
    }

    /// Add the facts to `keys`, with the keys that depend on the operation.
    pub fn add_to(&self, keys: &mut ConditionKeys, operation: Operation) {
        for (key, value) in &self.pairs {
            keys.set(key, value.clone());
        }
        let lists = matches!(
            operation,
            Operation::ListObjects | Operation::ListObjectsV2 | Operation::ListObjectVersions
        );
        if lists {
            // No prefix is the empty prefix (AWS examples allow "" for the
            // bucket's root).
            keys.set("s3:prefix", self.prefix.clone().unwrap_or_default());
        }
        if let Some(version_id) = &self.version_id {
            keys.set("s3:VersionId", version_id.clone());
        }
        if !self.tags.is_empty() {
            keys.set_many(
                "s3:RequestObjectTagKeys",
                self.tags.iter().map(|(key, _)| key.clone()).collect(),
            );
            for (key, value) in &self.tags {
                keys.set(&format!("s3:RequestObjectTag/{key}"), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_of(headers: &[(&str, &str)], uri: &str, operation: Operation) -> ConditionKeys {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                http::header::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                value.parse().expect("value"),
            );
        }
        let uri: Uri = uri.parse().expect("uri");
        let remote: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        let facts = RequestFacts::read(&map, &uri, Some(remote), false);
        let mut keys = ConditionKeys::new();
        facts.add_to(&mut keys, operation);
        keys
    }

    fn one(keys: &ConditionKeys, key: &str) -> Option<String> {
        keys.get(key).and_then(|values| values.first().cloned())
    }

    #[test]
    fn keys_from_connection_headers_and_query() {
        let keys = keys_of(
            &[
                ("authorization", "AWS4-HMAC-SHA256 Credential=..."),
                ("x-amz-acl", "public-read"),
                ("x-amz-server-side-encryption", "AES256"),
                ("x-amz-tagging", "team=blue&cost%20center=42"),
                ("user-agent", "aws-cli/1.0"),
            ],
            "/b?list-type=2&prefix=home%2Falice%2F&max-keys=10&delimiter=%2F",
            Operation::ListObjectsV2,
        );
        assert_eq!(one(&keys, "aws:SourceIp").as_deref(), Some("127.0.0.1"));
        assert_eq!(one(&keys, "aws:SecureTransport").as_deref(), Some("false"));
        assert_eq!(
            one(&keys, "s3:signatureversion").as_deref(),
            Some("AWS4-HMAC-SHA256")
        );
        assert_eq!(one(&keys, "s3:authType").as_deref(), Some("REST-HEADER"));
        assert_eq!(one(&keys, "s3:x-amz-acl").as_deref(), Some("public-read"));
        assert_eq!(
            one(&keys, "s3:x-amz-server-side-encryption").as_deref(),
            Some("AES256")
        );
        assert_eq!(one(&keys, "s3:prefix").as_deref(), Some("home/alice/"));
        assert_eq!(one(&keys, "s3:max-keys").as_deref(), Some("10"));
        assert_eq!(one(&keys, "s3:delimiter").as_deref(), Some("/"));
        assert_eq!(one(&keys, "aws:UserAgent").as_deref(), Some("aws-cli/1.0"));
        assert_eq!(
            keys.get("s3:RequestObjectTagKeys"),
            Some(&["team".to_owned(), "cost center".to_owned()][..])
        );
        assert_eq!(
            one(&keys, "s3:RequestObjectTag/team").as_deref(),
            Some("blue")
        );
        assert!(one(&keys, "aws:EpochTime").is_some());
    }

    #[test]
    fn list_without_prefix_has_the_empty_prefix_and_presigned_urls_have_an_age() {
        let keys = keys_of(&[], "/b", Operation::ListObjects);
        assert_eq!(one(&keys, "s3:prefix").as_deref(), Some(""));
        let keys = keys_of(&[], "/b/k", Operation::GetObject);
        assert_eq!(one(&keys, "s3:prefix"), None);
        assert_eq!(one(&keys, "s3:authType"), None);
        let keys = keys_of(
            &[],
            "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20200101T000000Z&X-Amz-Signature=ab&versionId=v1",
            Operation::GetObject,
        );
        assert_eq!(
            one(&keys, "s3:authType").as_deref(),
            Some("REST-QUERY-STRING")
        );
        assert!(one(&keys, "s3:signatureAge")
            .is_some_and(|age| age.parse::<i64>().is_ok_and(|age| age > 0)));
        assert_eq!(one(&keys, "s3:VersionId").as_deref(), Some("v1"));
        let keys = keys_of(
            &[],
            "/b/k?AWSAccessKeyId=A&Signature=s&Expires=1",
            Operation::GetObject,
        );
        assert_eq!(one(&keys, "s3:signatureversion").as_deref(), Some("AWS"));
        assert_eq!(one(&keys, "s3:signatureAge").as_deref(), Some("0"));
    }
}
