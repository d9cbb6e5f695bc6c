//! A node's membership credentials, kept under `<data-dir>/region/`: the
//! region CA (certificate and key) and this node's certificate and key,
//! all PEM, keys mode 0600. `--init` creates the CA; a joining node gets it
//! (with the master key) over TLS in exchange for a join token, then issues
//! its own certificate. The presence of `node.cert.pem` marks a data
//! directory that already belongs to a region: it restarts from its own
//! files and ignores `--init`/`--join`.
//!
//! The CA key is derived from the master key, so nodes started with the
//! same `COFFER_MASTER_KEY_FILE` join with `--join` alone (no token): each
//! derives the CA and issues its own certificate.
//!
//! A join token is `coffer-join-1.` followed by base64url of the 32-byte
//! secret (derived from the master key) and the CA certificate (DER): the
//! joining node trusts only that CA when it fetches the secrets, and the
//! member checks the secret in constant time.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use base64::Engine as _;
use coffer_crypto::MasterKey;
use coffer_rpc::{NodeIdentity, NODE_TLS_NAME};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use zeroize::Zeroizing;

const REGION_DIR: &str = "region";
const CA_CERT_FILE: &str = "ca.cert.pem";
const CA_KEY_FILE: &str = "ca.key.pem";
const NODE_CERT_FILE: &str = "node.cert.pem";
const NODE_KEY_FILE: &str = "node.key.pem";
const TOKEN_PREFIX: &str = "coffer-join-1.";
const JOIN_SECRET_BYTES: usize = 32;
/// The CA's subject. Fixed: a node certificate is issued by re-creating
/// the CA certificate object from its key, and chains verify by subject
/// and key, both unchanged.
const CA_COMMON_NAME: &str = "coffer region CA";
/// A token longer than this is not one (the CA certificate is ~500 bytes).
const TOKEN_CHARS_MAX: usize = 8192;

/// The files of one node's region membership.
pub struct RegionFiles {
    dir: PathBuf,
}

/// Everything loaded from `RegionFiles`.
pub struct RegionCredentials {
    pub identity: NodeIdentity,
    pub ca_key_pem: Zeroizing<String>,
}

fn ca_params() -> anyhow::Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, CA_COMMON_NAME);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

/// PKCS#8 v1 of an Ed25519 key: this fixed header, then the 32-byte seed
/// (RFC 8410 §7).
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The region CA: an Ed25519 key derived from the master key, and a
/// self-signed certificate for it: (certificate PEM, key PEM). Every node
/// with the master key derives the same key and subject, which is all a
/// chain is verified by.
pub fn create_ca(master_key: &MasterKey) -> anyhow::Result<(String, Zeroizing<String>)> {
    let seed = master_key.region_ca_seed();
    let mut pkcs8 = Zeroizing::new(Vec::with_capacity(48));
    pkcs8.extend_from_slice(&ED25519_PKCS8_PREFIX);
    pkcs8.extend_from_slice(seed.as_ref());
    let key = KeyPair::try_from(pkcs8.as_slice()).context("cannot derive the region CA key")?;
    let cert = ca_params()?
        .self_signed(&key)
        .context("cannot sign the region CA")?;
    Ok((cert.pem(), Zeroizing::new(key.serialize_pem())))
}

/// A certificate for node `node_id`, signed by the region CA, valid for
/// both sides of mutual TLS: (certificate PEM, key PEM).
pub fn issue_node_cert(
    node_id: u64,
    ca_key_pem: &str,
) -> anyhow::Result<(String, Zeroizing<String>)> {
    let ca_key = KeyPair::from_pem(ca_key_pem).context("the region CA key is not valid")?;
    let ca_cert = ca_params()?.self_signed(&ca_key)?;
    let mut params = CertificateParams::new(vec![NODE_TLS_NAME.to_owned()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, format!("coffer node {node_id}"));
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let key = KeyPair::generate().context("cannot generate the node key")?;
    let cert = params
        .signed_by(&key, &ca_cert, &ca_key)
        .context("cannot sign the node certificate")?;
    Ok((cert.pem(), Zeroizing::new(key.serialize_pem())))
}

impl RegionFiles {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join(REGION_DIR),
        }
    }

    /// Whether this data directory already belongs to a region.
    pub fn exist(&self) -> bool {
        self.dir.join(NODE_CERT_FILE).exists()
    }

    /// Store the CA and a fresh certificate for `node_id`. The node
    /// certificate is written last: it marks the set as complete.
    pub fn create(&self, node_id: u64, ca_cert_pem: &str, ca_key_pem: &str) -> anyhow::Result<()> {
        fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        let (cert_pem, key_pem) = issue_node_cert(node_id, ca_key_pem)?;
        write_file(&self.dir.join(CA_CERT_FILE), ca_cert_pem.as_bytes(), 0o644)?;
        write_file(&self.dir.join(CA_KEY_FILE), ca_key_pem.as_bytes(), 0o600)?;
        write_file(&self.dir.join(NODE_KEY_FILE), key_pem.as_bytes(), 0o600)?;
        write_file(&self.dir.join(NODE_CERT_FILE), cert_pem.as_bytes(), 0o644)?;
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .with_context(|| format!("cannot sync {}", self.dir.display()))?;
        Ok(())
    }

    pub fn load(&self) -> anyhow::Result<RegionCredentials> {
        let read = |name: &str| {
            let path = self.dir.join(name);
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))
        };
        Ok(RegionCredentials {
            identity: NodeIdentity {
                ca_cert_pem: read(CA_CERT_FILE)?,
                cert_pem: read(NODE_CERT_FILE)?,
                key_pem: Zeroizing::new(read(NODE_KEY_FILE)?),
            },
            ca_key_pem: Zeroizing::new(read(CA_KEY_FILE)?),
        })
    }
}

/// Create (or replace) `path` with `mode` from the first byte, fsynced.
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The one-line join token for this region.
pub fn format_token(join_secret: &[u8], ca_cert_pem: &str) -> anyhow::Result<String> {
    let der = rustls_pemfile::certs(&mut ca_cert_pem.as_bytes())
        .next()
        .ok_or_else(|| anyhow!("the region CA file holds no certificate"))?
        .context("the region CA file is not PEM")?;
    let mut raw = Zeroizing::new(Vec::with_capacity(join_secret.len() + der.len()));
    raw.extend_from_slice(join_secret);
    raw.extend_from_slice(&der);
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw.as_slice())
    ))
}

/// A parsed join token: the secret and the CA certificate as PEM.
pub struct JoinToken {
    pub secret: Zeroizing<Vec<u8>>,
    pub ca_cert_pem: String,
}

impl std::fmt::Debug for JoinToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinToken").finish_non_exhaustive()
    }
}

pub fn parse_token(text: &str) -> Result<JoinToken, String> {
    let text = text.trim();
    if text.len() > TOKEN_CHARS_MAX {
        return Err("too long to be a join token".to_owned());
    }
    let body = text.strip_prefix(TOKEN_PREFIX).ok_or_else(|| {
        format!("a join token starts with {TOKEN_PREFIX:?} (run `coffer admin node token`)")
    })?;
    let raw = Zeroizing::new(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| "the join token is not valid base64url".to_owned())?,
    );
    if raw.len() <= JOIN_SECRET_BYTES {
        return Err("the join token is truncated".to_owned());
    }
    let (secret, der) = raw.split_at(JOIN_SECRET_BYTES);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    Ok(JoinToken {
        secret: Zeroizing::new(secret.to_vec()),
        ca_cert_pem: pem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_and_rejects_garbage() {
        let (ca_cert_pem, _key) = create_ca(&MasterKey::generate()).expect("CA");
        let secret = [7u8; 32];
        let token = format_token(&secret, &ca_cert_pem).expect("token");
        assert!(token.starts_with(TOKEN_PREFIX));
        assert!(!token.contains(char::is_whitespace), "one line");
        let parsed = parse_token(&format!("  {token}\n")).expect("parse");
        assert_eq!(parsed.secret.as_slice(), &secret);
        let original = rustls_pemfile::certs(&mut ca_cert_pem.as_bytes())
            .next()
            .unwrap()
            .unwrap();
        let back = rustls_pemfile::certs(&mut parsed.ca_cert_pem.as_bytes())
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(original, back);

        assert!(parse_token("nope").is_err());
        assert!(parse_token(&format!("{TOKEN_PREFIX}!!!")).is_err());
        assert!(parse_token(&format!("{TOKEN_PREFIX}AAAA")).is_err());
        assert!(parse_token(&"x".repeat(TOKEN_CHARS_MAX + 1)).is_err());
    }

    #[test]
    fn files_round_trip_with_private_keys() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let files = RegionFiles::new(dir.path());
        assert!(!files.exist());
        let master = MasterKey::generate();
        let (ca_cert_pem, ca_key_pem) = create_ca(&master).expect("CA");
        // Derived: the same master key gives the same CA key.
        assert_eq!(
            create_ca(&master).expect("CA").1.as_str(),
            ca_key_pem.as_str()
        );
        assert_ne!(
            create_ca(&MasterKey::generate()).expect("CA").1.as_str(),
            ca_key_pem.as_str()
        );
        files.create(3, &ca_cert_pem, &ca_key_pem).expect("create");
        assert!(files.exist());
        let loaded = files.load().expect("load");
        assert_eq!(loaded.identity.ca_cert_pem, ca_cert_pem);
        assert_eq!(loaded.ca_key_pem.as_str(), ca_key_pem.as_str());
        for name in [CA_KEY_FILE, NODE_KEY_FILE] {
            let mode = fs::metadata(dir.path().join(REGION_DIR).join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{name} is private");
        }
    }
}
