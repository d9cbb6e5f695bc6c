//! Master key file rules, on real files in a temp directory.

use std::os::unix::fs::PermissionsExt;

use super::*;

const VALID_HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";

fn write_key_file(dir: &Path, name: &str, content: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write key file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

#[test]
fn an_owner_only_file_with_64_hex_chars_is_accepted() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (mode, content) in [
        (0o600, format!("{VALID_HEX}\n")),
        (0o400, format!("  {VALID_HEX}  \r\n")),
    ] {
        let path = write_key_file(dir.path(), "key", &content, mode);
        assert_eq!(
            read_key_hex(&path).expect("accepted").as_str(),
            VALID_HEX,
            "mode {mode:o}"
        );
        std::fs::remove_file(&path).expect("cleanup");
    }
}

#[test]
fn a_file_open_to_group_or_others_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    for mode in [0o644, 0o640, 0o604, 0o660, 0o602, 0o620, 0o610] {
        let path = write_key_file(dir.path(), &format!("key-{mode:o}"), VALID_HEX, mode);
        match read_key_hex(&path) {
            Err(KeyError::Permissions { mode: reported, .. }) => assert_eq!(reported, mode),
            other => panic!("mode {mode:o}: expected Permissions, got {other:?}"),
        }
    }
}

#[test]
fn malformed_keys_are_refused_without_echoing_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, String); 5] = [
        ("short", VALID_HEX[..63].to_owned()),
        ("long", format!("{VALID_HEX}0")),
        ("empty", String::new()),
        ("not hex", format!("{}g", &VALID_HEX[..63])),
        (
            "inner space",
            format!("{} {}", &VALID_HEX[..32], &VALID_HEX[33..]),
        ),
    ];
    for (name, content) in cases {
        let path = write_key_file(dir.path(), name, &content, 0o600);
        let error = read_key_hex(&path).expect_err(name);
        match (name, &error) {
            ("not hex" | "inner space", KeyError::NotHex { .. }) => {}
            ("short", KeyError::WrongLength { length: 63, .. }) => {}
            ("long", KeyError::WrongLength { length: 65, .. }) => {}
            ("empty", KeyError::WrongLength { length: 0, .. }) => {}
            _ => panic!("{name}: unexpected {error:?}"),
        }
        assert!(!error.to_string().contains(&VALID_HEX[..16]), "{error}");
    }
}

#[test]
fn oversized_missing_and_non_files_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = write_key_file(dir.path(), "big", &"a".repeat(4096), 0o600);
    assert!(matches!(read_key_hex(&big), Err(KeyError::TooLarge { .. })));
    assert!(matches!(
        read_key_hex(&dir.path().join("missing")),
        Err(KeyError::Read { .. })
    ));
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).expect("mkdir");
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    assert!(matches!(read_key_hex(&sub), Err(KeyError::NotAFile { .. })));
}

#[test]
fn generation_creates_an_owner_only_key_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(MASTER_KEY_FILE_NAME);
    generate_key_file(&path).expect("generated");
    let mode = std::fs::metadata(&path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let first = read_key_hex(&path).expect("a generated key reads back");
    assert_eq!(first.len(), 64);

    match generate_key_file(&path) {
        Err(KeyError::Create { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::AlreadyExists)
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(
        read_key_hex(&path).expect("still there"),
        first,
        "the key was not replaced"
    );

    let other_dir = tempfile::tempdir().expect("tempdir");
    let other = other_dir.path().join(MASTER_KEY_FILE_NAME);
    generate_key_file(&other).expect("generated");
    assert_ne!(
        read_key_hex(&other).expect("reads"),
        first,
        "keys are random"
    );
}

#[test]
fn load_refuses_a_configured_file_with_loose_permissions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_key_file(dir.path(), "configured.key", VALID_HEX, 0o644);
    let result = load_master_key(Some(&path), dir.path());
    assert!(matches!(result, Err(KeyError::Permissions { .. })));
    assert!(
        !dir.path().join(MASTER_KEY_FILE_NAME).exists(),
        "a configured key never falls back to generating one"
    );
}

#[test]
fn load_generates_once_then_reuses_the_data_dir_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (first, origin) = load_master_key(None, dir.path()).expect("generated");
    let path = dir.path().join(MASTER_KEY_FILE_NAME);
    assert_eq!(origin, KeyOrigin::Generated(path.clone()));
    let (second, origin) = load_master_key(None, dir.path()).expect("reused");
    assert_eq!(origin, KeyOrigin::DataDir(path.clone()));
    assert_eq!(first.to_hex(), second.to_hex());

    // A data-dir key is held to the same permission rule.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    assert!(matches!(
        load_master_key(None, dir.path()),
        Err(KeyError::Permissions { .. })
    ));
}

#[test]
fn load_uses_a_configured_owner_only_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_key_file(dir.path(), "configured.key", VALID_HEX, 0o600);
    let (key, origin) = load_master_key(Some(&path), dir.path()).expect("loaded");
    assert_eq!(origin, KeyOrigin::Configured(path));
    assert_eq!(key.to_hex(), VALID_HEX.to_ascii_lowercase());
}
