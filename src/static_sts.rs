//! Static STS token: an AccessKey pair plus a security token given in code. Provider name `static_sts`.
//!
//! The token's expiration is usually unknown, so nothing refreshes it (spec §4); set
//! [`expiration`](StaticStsProvider::expiration) when you know it so callers can see it.
//!
//! ```
//! use mse_auth::{CredentialsProvider, StaticStsProvider};
//! # async fn demo() -> Result<(), mse_auth::CredentialsError> {
//! let provider = StaticStsProvider::new("STS.NUgYrLnoC37mZZCNnAbez", "secret", "token")?;
//! let creds = provider.provide_credentials().await?;
//! assert!(creds.is_sts());
//! assert_eq!(creds.provider_path(), "static_sts");
//! # Ok(()) }
//! ```

use crate::credentials::Credentials;
use crate::error::Result;
use crate::provider::{CredentialsProvider, ProvideCredentials};
use std::time::SystemTime;

/// Provider name reported in credential paths.
pub const NAME: &str = "static_sts";

/// Serves one STS credential.
#[derive(Debug, Clone)]
pub struct StaticStsProvider {
    credentials: Credentials,
}

impl StaticStsProvider {
    /// Fails with `InvalidConfiguration` when any of the three parts is empty.
    pub fn new(
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
        security_token: impl Into<String>,
    ) -> Result<Self> {
        Ok(Self {
            credentials: Credentials::builder()
                .access_key_id(access_key_id)
                .access_key_secret(access_key_secret)
                .security_token(security_token)
                .provider_path(NAME)
                .build()?,
        })
    }

    /// Records when the token expires.
    pub fn expiration(self, at: SystemTime) -> Result<Self> {
        let c = &self.credentials;
        Ok(Self {
            credentials: Credentials::builder()
                .access_key_id(c.access_key_id())
                .access_key_secret(c.access_key_secret())
                .security_token(c.security_token().unwrap_or_default())
                .expiration(at)
                .provider_path(NAME)
                .build()?,
        })
    }
}

impl CredentialsProvider for StaticStsProvider {
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        ProvideCredentials::ready(Ok(self.credentials.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn empty_token_is_rejected_naming_it() {
        let err = StaticStsProvider::new("id", "secret", "").unwrap_err();
        assert_eq!(
            err.to_string(),
            "static_sts: invalid configuration: the security token is empty"
        );
    }

    #[tokio::test]
    async fn expiration_is_reported() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(42);
        let p = StaticStsProvider::new("id", "secret", "tok")
            .unwrap()
            .expiration(at)
            .unwrap();
        let c = p.provide_credentials().await.unwrap();
        assert_eq!(c.expiration(), Some(at));
        assert_eq!(c.security_token(), Some("tok"));
    }
}
