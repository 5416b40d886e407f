//! Static AccessKey: a long-term AccessKey pair given in code. Provider name `static_ak`.
//!
//! ```
//! use mse_auth::{CredentialsProvider, StaticAccessKeyProvider};
//! # async fn demo() -> Result<(), mse_auth::CredentialsError> {
//! let provider = StaticAccessKeyProvider::new("LTAI5tExampleId", "example-secret")?;
//! let creds = provider.provide_credentials().await?;
//! assert_eq!(creds.provider_path(), "static_ak");
//! assert!(creds.expiration().is_none());
//! # Ok(()) }
//! ```

use crate::credentials::Credentials;
use crate::error::Result;
use crate::provider::{CredentialsProvider, ProvideCredentials};

/// Provider name reported in credential paths.
pub const NAME: &str = "static_ak";

/// Serves one long-term AccessKey pair.
#[derive(Debug, Clone)]
pub struct StaticAccessKeyProvider {
    credentials: Credentials,
}

impl StaticAccessKeyProvider {
    /// Fails with `InvalidConfiguration` when the id or secret is empty.
    pub fn new(
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
    ) -> Result<Self> {
        Ok(Self {
            credentials: Credentials::new(access_key_id, access_key_secret, NAME)?,
        })
    }
}

impl CredentialsProvider for StaticAccessKeyProvider {
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        ProvideCredentials::ready(Ok(self.credentials.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_secret_is_invalid_configuration() {
        let err = StaticAccessKeyProvider::new("id", "").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "static_ak: invalid configuration: the access key secret is empty"
        );
    }

    #[tokio::test]
    async fn serves_the_pair_and_hides_the_secret_in_debug() {
        let p = StaticAccessKeyProvider::new("LTAI5tExampleId", "sentinel-secret").unwrap();
        assert!(!format!("{p:?}").contains("sentinel-secret"));
        let c = p.provide_credentials().await.unwrap();
        assert_eq!(
            (c.access_key_id(), c.access_key_secret()),
            ("LTAI5tExampleId", "sentinel-secret")
        );
        assert!(!c.is_sts());
    }
}
