//! Virtual-hosted-style addressing (`bucket.domain`) alongside path style.
//! s3s's own `SingleDomain`/`MultiDomain` treat any other valid host name as
//! a CNAME bucket, which would break path-style requests to `localhost` or
//! to a node's own name; this parser only takes a bucket from a host that
//! ends in one of the configured domains.

use s3s::host::{S3Host, VirtualHost};
use s3s::S3Result;

pub struct DomainHost {
    domains: Vec<String>,
}

impl DomainHost {
    pub fn new(domains: &[String]) -> Self {
        Self {
            domains: domains
                .iter()
                .map(|d| d.trim_end_matches('.').to_ascii_lowercase())
                .collect(),
        }
    }

    /// The bucket named by `host`, if it is `<bucket>.<one of our domains>`.
    pub fn bucket_of<'a>(&self, host: &'a str) -> Option<&'a str> {
        let name = strip_port(host);
        self.domains.iter().find_map(|domain| {
            let bucket = name.strip_suffix(domain.as_str())?.strip_suffix('.')?;
            (!bucket.is_empty()).then_some(bucket)
        })
    }
}

fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

impl S3Host for DomainHost {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        match self.bucket_of(host) {
            Some(bucket) => Ok(VirtualHost::new(strip_port(host)).with_bucket(bucket)),
            // Path style: the bucket is the first path segment.
            None => Ok(VirtualHost::new(strip_port(host))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_come_only_from_configured_domains() {
        let host = DomainHost::new(&["s3.example.com".to_owned(), "localhost".to_owned()]);
        let cases = [
            ("photos.s3.example.com", Some("photos")),
            ("photos.s3.example.com:9000", Some("photos")),
            ("my.dotted.bucket.s3.example.com", Some("my.dotted.bucket")),
            ("s3.example.com", None),
            ("s3.example.com:443", None),
            ("photos.localhost:9000", Some("photos")),
            ("localhost:9000", None),
            ("node1.internal", None),
            ("evil-s3.example.com", None),
        ];
        for (header, bucket) in cases {
            assert_eq!(host.bucket_of(header), bucket, "{header}");
            let parsed = host.parse_host_header(header).expect("never fails");
            assert_eq!(parsed.bucket(), bucket, "{header}");
        }
    }
}
