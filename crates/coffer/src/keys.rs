//! The region master key file: 64 hex characters (256 bits), readable only
//! by its owner. The key itself is never logged or printed; errors name the
//! file, never its content.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use coffer_crypto::MasterKey;
use rand::RngCore;
use zeroize::Zeroizing;

/// Name of the generated key file inside the data directory.
pub const MASTER_KEY_FILE_NAME: &str = "master.key";
const KEY_HEX_CHARS: usize = 64;
/// Room for the key, a newline and some stray whitespace; more is not a key.
const KEY_FILE_BYTES_MAX: u64 = 1024;
/// Permission bits for group and others: any of them set means the key is
/// exposed to other users of the machine.
const GROUP_OTHER_MODE_MASK: u32 = 0o077;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read master key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "master key file {path} has mode {mode:04o}, which lets group or others access it; \
         refusing to start (fix with: chmod 600 {path})"
    )]
    Permissions { path: PathBuf, mode: u32 },
    #[error("master key file {path} is not a regular file")]
    NotAFile { path: PathBuf },
    #[error("master key file {path} is too large to be a key (expected 64 hex characters)")]
    TooLarge { path: PathBuf },
    #[error("master key file {path} holds {length} characters, expected 64 hex characters")]
    WrongLength { path: PathBuf, length: usize },
    #[error("master key file {path} is not hex (expected 64 characters 0-9, a-f)")]
    NotHex { path: PathBuf },
    #[error("master key file {path} was rejected: {source}")]
    Rejected {
        path: PathBuf,
        source: coffer_crypto::CryptoError,
    },
    #[error("cannot create master key file {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where the master key came from; the server logs it (never the key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `--master-key-file` / `COFFER_MASTER_KEY_FILE`.
    Configured(PathBuf),
    /// An existing `<data-dir>/master.key`.
    DataDir(PathBuf),
    /// Generated into `<data-dir>/master.key` on this start.
    Generated(PathBuf),
}

/// The master key from the configured file, else from the data directory,
/// generating it there on first start.
pub fn load_master_key(
    configured: Option<&Path>,
    data_dir: &Path,
) -> Result<(MasterKey, KeyOrigin), KeyError> {
    if let Some(path) = configured {
        let key = parse_key(path, &read_key_hex(path)?)?;
        return Ok((key, KeyOrigin::Configured(path.to_owned())));
    }
    let path = data_dir.join(MASTER_KEY_FILE_NAME);
    let origin = match generate_key_file(&path) {
        Ok(()) => KeyOrigin::Generated(path.clone()),
        // Present already (an earlier start): use it.
        Err(KeyError::Create { source, .. })
            if source.kind() == std::io::ErrorKind::AlreadyExists =>
        {
            KeyOrigin::DataDir(path.clone())
        }
        Err(error) => return Err(error),
    };
    let key = parse_key(&path, &read_key_hex(&path)?)?;
    Ok((key, origin))
}

fn parse_key(path: &Path, hex_text: &str) -> Result<MasterKey, KeyError> {
    MasterKey::from_hex(hex_text).map_err(|source| KeyError::Rejected {
        path: path.to_owned(),
        source,
    })
}

/// Read and check a key file: owner-only permissions, 64 hex characters
/// (surrounding whitespace allowed). The permissions are checked on the open
/// file, so the file checked is the file read.
pub fn read_key_hex(path: &Path) -> Result<Zeroizing<String>, KeyError> {
    let read_error = |source| KeyError::Read {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(read_error)?;
    let metadata = file.metadata().map_err(read_error)?;
    if !metadata.is_file() {
        return Err(KeyError::NotAFile {
            path: path.to_owned(),
        });
    }
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & GROUP_OTHER_MODE_MASK != 0 {
        return Err(KeyError::Permissions {
            path: path.to_owned(),
            mode,
        });
    }
    // Capacity up front so the buffer never reallocates and leaves a copy of
    // the key behind in freed memory.
    let mut raw = Zeroizing::new(Vec::with_capacity(KEY_FILE_BYTES_MAX as usize + 1));
    file.take(KEY_FILE_BYTES_MAX + 1)
        .read_to_end(&mut raw)
        .map_err(read_error)?;
    if raw.len() as u64 > KEY_FILE_BYTES_MAX {
        return Err(KeyError::TooLarge {
            path: path.to_owned(),
        });
    }
    let text = std::str::from_utf8(&raw).map_err(|_| KeyError::NotHex {
        path: path.to_owned(),
    })?;
    let trimmed = text.trim();
    if trimmed.chars().count() != KEY_HEX_CHARS {
        return Err(KeyError::WrongLength {
            path: path.to_owned(),
            length: trimmed.chars().count(),
        });
    }
    if !trimmed.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(KeyError::NotHex {
            path: path.to_owned(),
        });
    }
    Ok(Zeroizing::new(trimmed.to_owned()))
}

/// Create `path` with a fresh random key, mode 0600 from the first byte on,
/// and make it durable (file and directory entry). Fails with
/// `AlreadyExists` rather than overwrite a key: losing the key loses the data.
pub fn generate_key_file(path: &Path) -> Result<(), KeyError> {
    let mut key_bytes = Zeroizing::new([0u8; KEY_HEX_CHARS / 2]);
    rand::rngs::OsRng.fill_bytes(key_bytes.as_mut());
    write_new_key_file(path, key_bytes.as_ref())
}

/// Create `path` holding `key_bytes` as hex, like `generate_key_file`
/// (used by a node that received the region's key when it joined).
pub fn write_new_key_file(path: &Path, key_bytes: &[u8]) -> Result<(), KeyError> {
    let create_error = |source| KeyError::Create {
        path: path.to_owned(),
        source,
    };
    let mut text = Zeroizing::new(hex::encode(key_bytes));
    text.push('\n');

    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(create_error)?;
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(source) = written {
        // A half-written key would stop every later start; remove it so the
        // next start generates a whole one.
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(create_error(source));
    }
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        File::open(dir)
            .and_then(|dir| dir.sync_all())
            .map_err(create_error)?;
    }
    Ok(())
}

/// Where the master key lives when no file is configured.
pub fn data_dir_key_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join(MASTER_KEY_FILE_NAME)
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
