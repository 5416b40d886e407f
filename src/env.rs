//! Environment variables: `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and optionally
//! `ALIBABA_CLOUD_SECURITY_TOKEN`. Provider name `env`.
//!
//! Read at every call, so a changed environment is seen. Empty values count as unset. Neither id nor
//! secret set → [`NotLoaded`](crate::ErrorKind::NotLoaded) (a chain moves on); only one of them, or
//! a token without them → [`InvalidConfiguration`](crate::ErrorKind::InvalidConfiguration). So is a
//! value that is not UTF-8, is only whitespace, has leading or trailing whitespace, or holds a control
//! character (a tab, a newline …): values are never trimmed, and the error names the variable, never
//! the value ([`Env::get_credential`]).
//!
//! ```
//! use mse_auth::{os::Env, CredentialsProvider, EnvironmentProvider};
//! # async fn demo() -> Result<(), mse_auth::CredentialsError> {
//! let env = Env::from_pairs([
//!     ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tExampleId"),
//!     ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "example-secret"),
//! ]);
//! let creds = EnvironmentProvider::with_env(env).provide_credentials().await?;
//! assert_eq!(creds.provider_path(), "env");
//! # Ok(()) }
//! ```

use crate::credentials::Credentials;
use crate::error::{CredentialsError, Result};
use crate::os::Env;
use crate::provider::{CredentialsProvider, ProvideCredentials};
use crate::vars;

/// Provider name reported in credential paths.
pub const NAME: &str = "env";

/// Reads credentials from the environment.
#[derive(Debug, Clone, Default)]
pub struct EnvironmentProvider {
    env: Env,
}

impl EnvironmentProvider {
    /// Reads the process environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the given environment (tests, embedding).
    pub fn with_env(env: Env) -> Self {
        Self { env }
    }

    fn load(&self) -> Result<Credentials> {
        let read = |name: &str| {
            self.env
                .get_credential(name)
                .map_err(|e| e.invalid_configuration(NAME))
        };
        let id = read(vars::ACCESS_KEY_ID)?;
        let secret = read(vars::ACCESS_KEY_SECRET)?;
        let token = read(vars::SECURITY_TOKEN)?;
        let (id, secret) = match (id, secret) {
            (Some(id), Some(secret)) => (id, secret),
            (None, None) if token.is_none() => {
                return Err(CredentialsError::not_loaded(
                    NAME,
                    format!(
                        "{} and {} are not set",
                        vars::ACCESS_KEY_ID,
                        vars::ACCESS_KEY_SECRET
                    ),
                ))
            }
            (id, _) => {
                let (set, unset) = match id {
                    Some(_) => (vars::ACCESS_KEY_ID, vars::ACCESS_KEY_SECRET),
                    None if token.is_some() => (vars::SECURITY_TOKEN, vars::ACCESS_KEY_ID),
                    None => (vars::ACCESS_KEY_SECRET, vars::ACCESS_KEY_ID),
                };
                return Err(CredentialsError::invalid_configuration(
                    NAME,
                    format!("{set} is set but {unset} is not: set both, or neither"),
                ));
            }
        };
        let builder = Credentials::builder()
            .access_key_id(id)
            .access_key_secret(secret)
            .provider_path(NAME);
        match token {
            Some(token) => builder.security_token(token),
            None => builder,
        }
        .build()
    }
}

impl CredentialsProvider for EnvironmentProvider {
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        ProvideCredentials::ready(self.load())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Credentials> {
        EnvironmentProvider::with_env(Env::from_pairs(pairs.iter().copied())).load()
    }

    #[test]
    fn absent_is_not_loaded() {
        let err = load(&[]).unwrap_err();
        assert!(err.is_not_loaded());
        assert_eq!(
            err.to_string(),
            "env: not loaded: ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set"
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        let err = load(&[(vars::ACCESS_KEY_ID, ""), (vars::ACCESS_KEY_SECRET, "")]).unwrap_err();
        assert!(err.is_not_loaded());
    }

    #[test]
    fn half_set_is_invalid_configuration_naming_both_vars() {
        let err = load(&[(vars::ACCESS_KEY_ID, "id")]).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "env: invalid configuration: ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not: set both, or neither"
        );
        let err = load(&[(vars::ACCESS_KEY_SECRET, "sentinel-secret")]).unwrap_err();
        assert!(err.to_string().contains(
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET is set but ALIBABA_CLOUD_ACCESS_KEY_ID is not"
        ));
        assert!(!format!("{err:?}").contains("sentinel-secret"));
        let err = load(&[(vars::SECURITY_TOKEN, "tok")]).unwrap_err();
        assert!(err.to_string().contains(
            "ALIBABA_CLOUD_SECURITY_TOKEN is set but ALIBABA_CLOUD_ACCESS_KEY_ID is not"
        ));
    }

    #[test]
    fn token_makes_sts_credentials() {
        let c = load(&[
            (vars::ACCESS_KEY_ID, "id"),
            (vars::ACCESS_KEY_SECRET, "secret"),
            (vars::SECURITY_TOKEN, "tok"),
        ])
        .unwrap();
        assert_eq!(c.access_key_id(), "id");
        assert_eq!(c.security_token(), Some("tok"));
        assert_eq!(c.provider_path(), "env");
    }

    #[test]
    fn padded_blank_or_control_values_are_refused_naming_the_variable() {
        let cases = [
            (vars::ACCESS_KEY_ID, " id ", "ALIBABA_CLOUD_ACCESS_KEY_ID has leading or trailing whitespace: remove it"),
            (vars::ACCESS_KEY_ID, "   ", "ALIBABA_CLOUD_ACCESS_KEY_ID holds only whitespace: set a value, or unset it"),
            (vars::ACCESS_KEY_SECRET, "sentinel\n", "ALIBABA_CLOUD_ACCESS_KEY_SECRET holds a control character (a tab, a newline or another): remove it"),
            (vars::ACCESS_KEY_SECRET, "sen\ttinel", "ALIBABA_CLOUD_ACCESS_KEY_SECRET holds a control character (a tab, a newline or another): remove it"),
            (vars::SECURITY_TOKEN, "sentinel\u{1b}[2J", "ALIBABA_CLOUD_SECURITY_TOKEN holds a control character (a tab, a newline or another): remove it"),
        ];
        for (name, value, message) in cases {
            let mut env = vec![
                (vars::ACCESS_KEY_ID, "id"),
                (vars::ACCESS_KEY_SECRET, "secret"),
            ];
            env.retain(|(n, _)| *n != name);
            env.push((name, value));
            let err = load(&env).unwrap_err();
            assert_eq!(
                err.kind(),
                crate::ErrorKind::InvalidConfiguration,
                "{value:?}"
            );
            assert_eq!(
                err.to_string(),
                format!("env: invalid configuration: {message}")
            );
            assert!(!format!("{err:?}").contains("sentinel"), "{err:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_non_utf8_value_is_an_error_not_unset() {
        use std::os::unix::ffi::OsStringExt;
        let env = Env::from_os_pairs([
            (vars::ACCESS_KEY_ID, std::ffi::OsString::from("id")),
            (
                vars::ACCESS_KEY_SECRET,
                std::ffi::OsString::from_vec(vec![0xff, b's']),
            ),
        ]);
        let err = EnvironmentProvider::with_env(env).load().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "env: invalid configuration: ALIBABA_CLOUD_ACCESS_KEY_SECRET is not valid UTF-8: set it to text, or unset it"
        );
    }
}
