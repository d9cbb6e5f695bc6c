//! TLS loading: good files, and each way the files can be wrong. The PEM
//! fixtures in testdata/ are throwaway self-signed P-256 identities made
//! for these tests (`openssl req -x509 -newkey ec ...`), valid until 2125.

use super::*;

const CERT_PEM: &str = include_str!("testdata/localhost.cert.pem");
const KEY_PEM: &str = include_str!("testdata/localhost.key.pem");
const OTHER_KEY_PEM: &str = include_str!("testdata/other.key.pem");

fn files(dir: &Path, cert: &str, key: &str) -> TlsFiles {
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    std::fs::write(&files.cert, cert).expect("write cert");
    std::fs::write(&files.key, key).expect("write key");
    files
}

#[test]
fn a_matching_pair_loads_with_h2_and_http1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = load_server_config(&files(dir.path(), CERT_PEM, KEY_PEM)).expect("valid pair");
    assert_eq!(
        config.alpn_protocols,
        [b"h2".to_vec(), b"http/1.1".to_vec()]
    );
}

#[test]
fn each_kind_of_bad_input_has_its_own_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let check = |cert: &str, key: &str, expected: &str| {
        let result = load_server_config(&files(dir.path(), cert, key));
        let error = result
            .err()
            .unwrap_or_else(|| panic!("{expected}: expected an error"));
        let kind = match error {
            TlsError::Read { .. } => "Read",
            TlsError::TooLarge { .. } => "TooLarge",
            TlsError::BadPem { .. } => "BadPem",
            TlsError::NoCertificate { .. } => "NoCertificate",
            TlsError::NoPrivateKey { .. } => "NoPrivateKey",
            TlsError::Rejected { .. } => "Rejected",
        };
        assert_eq!(kind, expected);
    };
    check("", KEY_PEM, "NoCertificate");
    check(KEY_PEM, KEY_PEM, "NoCertificate");
    check(CERT_PEM, "", "NoPrivateKey");
    check(CERT_PEM, CERT_PEM, "NoPrivateKey");
    check(
        CERT_PEM,
        "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n",
        "NoPrivateKey",
    );
    check(CERT_PEM, OTHER_KEY_PEM, "Rejected");
    check(&"A".repeat(2 * 1024 * 1024), KEY_PEM, "TooLarge");
}

#[test]
fn missing_files_name_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = TlsFiles {
        cert: dir.path().join("absent-cert.pem"),
        key: dir.path().join("absent-key.pem"),
    };
    let error = load_server_config(&files).expect_err("missing files");
    assert!(matches!(error, TlsError::Read { .. }));
    assert!(error.to_string().contains("absent-cert.pem"), "{error}");
}
