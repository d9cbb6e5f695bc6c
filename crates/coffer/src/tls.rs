//! TLS for the S3 and admin endpoints: rustls with the ring provider (never
//! aws-lc, see build-notes), certificate chain and key from PEM files.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsFiles;

/// PEM files bigger than this are not a certificate chain or a key.
const PEM_FILE_BYTES_MAX: u64 = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read TLS file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("TLS file {path} is larger than {PEM_FILE_BYTES_MAX} bytes")]
    TooLarge { path: PathBuf },
    #[error("TLS certificate file {path} is not valid PEM: {source}")]
    BadPem {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("TLS certificate file {path} holds no CERTIFICATE block")]
    NoCertificate { path: PathBuf },
    #[error("TLS key file {path} holds no private key (PKCS#8, PKCS#1 or SEC1 PEM)")]
    NoPrivateKey { path: PathBuf },
    #[error("TLS certificate {cert} and key {key} do not make a valid server identity: {source}")]
    Rejected {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
}

/// Load the chain and key and build a server config that offers HTTP/2 and
/// HTTP/1.1 through ALPN.
pub fn load_server_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let certs = load_certificates(&files.cert)?;
    let key = load_private_key(&files.key)?;
    let rejected = |source| TlsError::Rejected {
        cert: files.cert.clone(),
        key: files.key.clone(),
        source,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(rejected)?
        .with_no_client_auth()
        // Also checks that the key matches the leaf certificate.
        .with_single_cert(certs, key)
        .map_err(rejected)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read_pem_file(path: &Path) -> Result<Vec<u8>, TlsError> {
    let read_error = |source| TlsError::Read {
        path: path.to_owned(),
        source,
    };
    let size_bytes = std::fs::metadata(path).map_err(read_error)?.len();
    if size_bytes > PEM_FILE_BYTES_MAX {
        return Err(TlsError::TooLarge {
            path: path.to_owned(),
        });
    }
    std::fs::read(path).map_err(read_error)
}

fn load_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read_pem_file(path)?;
    let certs = rustls_pemfile::certs(&mut BufReader::new(pem.as_slice()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::BadPem {
            path: path.to_owned(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

fn load_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = zeroize::Zeroizing::new(read_pem_file(path)?);
    // A malformed block is reported as "no key": the parse error could quote
    // key material.
    rustls_pemfile::private_key(&mut BufReader::new(pem.as_slice()))
        .ok()
        .flatten()
        .ok_or_else(|| TlsError::NoPrivateKey {
            path: path.to_owned(),
        })
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
