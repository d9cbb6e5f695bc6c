//! Root account credentials from `COFFER_ROOT_ACCESS_KEY` and
//! `COFFER_ROOT_SECRET_KEY`, or the documented development defaults. They
//! come from the environment only: flags would show the secret in `ps`.

use zeroize::Zeroizing;

/// The development access key id used when no root credentials are set.
pub const DEV_ACCESS_KEY_ID: &str = "coffer-dev-access";
/// The development secret used when no root credentials are set. Printing it
/// is fine only because it is this documented, public default.
pub const DEV_SECRET_ACCESS_KEY: &str = "coffer-dev-secret-change-me";

const ACCESS_KEY_ID_CHARS_MIN: usize = 3;
const ACCESS_KEY_ID_CHARS_MAX: usize = 128;
const SECRET_CHARS_MIN: usize = 16;
const SECRET_CHARS_MAX: usize = 128;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialsError {
    #[error(
        "COFFER_ROOT_ACCESS_KEY and COFFER_ROOT_SECRET_KEY must be set together (only {0} is set)"
    )]
    Half(&'static str),
    #[error(
        "COFFER_ROOT_ACCESS_KEY must be {ACCESS_KEY_ID_CHARS_MIN}-{ACCESS_KEY_ID_CHARS_MAX} \
         characters from A-Z, a-z, 0-9, '-', '_', '.'"
    )]
    BadAccessKeyId,
    // Never echo the secret, not even a bad one.
    #[error(
        "COFFER_ROOT_SECRET_KEY must be {SECRET_CHARS_MIN}-{SECRET_CHARS_MAX} printable ASCII \
         characters without spaces"
    )]
    BadSecret,
}

pub struct RootCredentials {
    pub access_key_id: String,
    pub secret_access_key: Zeroizing<String>,
    /// True when the development defaults are in use.
    pub is_dev_default: bool,
}

impl std::fmt::Debug for RootCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("is_dev_default", &self.is_dev_default)
            .finish()
    }
}

pub fn root_credentials(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<RootCredentials, CredentialsError> {
    let access_key_id = env("COFFER_ROOT_ACCESS_KEY").filter(|value| !value.is_empty());
    let secret = env("COFFER_ROOT_SECRET_KEY")
        .filter(|value| !value.is_empty())
        .map(Zeroizing::new);
    match (access_key_id, secret) {
        (None, None) => Ok(RootCredentials {
            access_key_id: DEV_ACCESS_KEY_ID.to_owned(),
            secret_access_key: Zeroizing::new(DEV_SECRET_ACCESS_KEY.to_owned()),
            is_dev_default: true,
        }),
        (Some(_), None) => Err(CredentialsError::Half("COFFER_ROOT_ACCESS_KEY")),
        (None, Some(_)) => Err(CredentialsError::Half("COFFER_ROOT_SECRET_KEY")),
        (Some(access_key_id), Some(secret)) => {
            // '/' would break the SigV4 credential scope, so only a safe
            // alphabet is accepted.
            let id_ok = (ACCESS_KEY_ID_CHARS_MIN..=ACCESS_KEY_ID_CHARS_MAX)
                .contains(&access_key_id.len())
                && access_key_id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !id_ok {
                return Err(CredentialsError::BadAccessKeyId);
            }
            let secret_ok = (SECRET_CHARS_MIN..=SECRET_CHARS_MAX).contains(&secret.len())
                && secret.bytes().all(|b| b.is_ascii_graphic());
            if !secret_ok {
                return Err(CredentialsError::BadSecret);
            }
            Ok(RootCredentials {
                access_key_id,
                secret_access_key: secret,
                is_dev_default: false,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn unset_means_dev_defaults() {
        let credentials = root_credentials(&env_of(&[])).expect("defaults");
        assert!(credentials.is_dev_default);
        assert_eq!(credentials.access_key_id, DEV_ACCESS_KEY_ID);
        assert_eq!(
            credentials.secret_access_key.as_str(),
            DEV_SECRET_ACCESS_KEY
        );
        assert!(DEV_SECRET_ACCESS_KEY.len() >= SECRET_CHARS_MIN);
    }

    #[test]
    fn given_credentials_are_used_and_never_debug_printed() {
        let credentials = root_credentials(&env_of(&[
            ("COFFER_ROOT_ACCESS_KEY", "AKIAEXAMPLE123"),
            (
                "COFFER_ROOT_SECRET_KEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ),
        ]))
        .expect("valid");
        assert!(!credentials.is_dev_default);
        assert_eq!(credentials.access_key_id, "AKIAEXAMPLE123");
        assert!(!format!("{credentials:?}").contains("wJalr"));
    }

    #[test]
    fn invalid_credentials_are_refused() {
        let cases: &[(&'static [(&'static str, &'static str)], CredentialsError)] = &[
            (
                &[("COFFER_ROOT_ACCESS_KEY", "AKIAEXAMPLE123")],
                CredentialsError::Half("COFFER_ROOT_ACCESS_KEY"),
            ),
            (
                &[("COFFER_ROOT_SECRET_KEY", "0123456789abcdef")],
                CredentialsError::Half("COFFER_ROOT_SECRET_KEY"),
            ),
            (
                &[
                    ("COFFER_ROOT_ACCESS_KEY", "AK/IA"),
                    ("COFFER_ROOT_SECRET_KEY", "0123456789abcdef"),
                ],
                CredentialsError::BadAccessKeyId,
            ),
            (
                &[
                    ("COFFER_ROOT_ACCESS_KEY", "AKIAEXAMPLE"),
                    ("COFFER_ROOT_SECRET_KEY", "short"),
                ],
                CredentialsError::BadSecret,
            ),
            (
                &[
                    ("COFFER_ROOT_ACCESS_KEY", "AKIAEXAMPLE"),
                    ("COFFER_ROOT_SECRET_KEY", "has a space in it!!"),
                ],
                CredentialsError::BadSecret,
            ),
        ];
        for (env, expected) in cases {
            let error = root_credentials(&env_of(env)).expect_err("must be refused");
            assert_eq!(&error, expected, "{env:?}");
            assert!(!error.to_string().contains("0123456789abcdef"));
        }
    }
}
