//! [`ProviderChain`]: try providers in order until one produces credentials.
//!
//! [`NotLoaded`](crate::ErrorKind::NotLoaded) moves on to the next provider; any other error
//! stops the chain and is returned under the chain's name, because a provider that is configured but
//! broken must be reported, not silently skipped. When nothing loads, the error lists every provider and
//! why. The credentials' path names the winner: `default/env`.
//!
//! A chain asks its providers on every call; wrap it in a [`RefreshCache`](crate::RefreshCache) (or
//! cache the providers in it) for repeated use.
//!
//! ```
//! use mse_auth::{os::Env, CredentialsProvider, EnvironmentProvider, ProviderChain, StaticAccessKeyProvider};
//! # async fn demo() -> Result<(), mse_auth::CredentialsError> {
//! let chain = ProviderChain::first_try(EnvironmentProvider::with_env(Env::from_pairs([("X", "y")])))
//!     .or_else(StaticAccessKeyProvider::new("LTAI5tExampleId", "example-secret")?)
//!     .named("default");
//! let creds = chain.provide_credentials().await?;
//! assert_eq!(creds.provider_path(), "default/static_ak");
//! # Ok(()) }
//! ```

use crate::credentials::Credentials;
use crate::error::{CredentialsError, Result};
use crate::provider::{CredentialsProvider, ProvideCredentials, SharedCredentialsProvider};
use std::borrow::Cow;
use std::fmt::Write;

/// An ordered list of providers.
#[derive(Debug, Clone)]
pub struct ProviderChain {
    name: Cow<'static, str>,
    providers: Vec<SharedCredentialsProvider>,
    transparent: bool,
}

impl ProviderChain {
    /// A chain starting with `provider`, named `chain` until [`named`](Self::named).
    pub fn first_try(provider: impl CredentialsProvider + 'static) -> Self {
        Self {
            name: Cow::Borrowed("chain"),
            providers: vec![SharedCredentialsProvider::new(provider)],
            transparent: false,
        }
    }

    /// Appends a provider to try after the others.
    pub fn or_else(mut self, provider: impl CredentialsProvider + 'static) -> Self {
        self.providers
            .push(SharedCredentialsProvider::new(provider));
        self
    }

    /// Sets the name that prefixes the winner's path (e.g. `default`).
    pub fn named(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// Reports the answering provider's path, and a configured provider's error, as they are, without
    /// the chain's name in front: for a chain that stands for "the other providers" inside a provider
    /// that names itself (the default chain's KMS-rotated AccessKey reports `kms_rotating/env`, not
    /// `kms_rotating/chain/env`). When nothing loads, the error still carries the chain's name.
    ///
    /// ```
    /// use mse_auth::{CredentialsProvider, ProviderChain, StaticAccessKeyProvider};
    /// # async fn demo() -> Result<(), mse_auth::CredentialsError> {
    /// let key = StaticAccessKeyProvider::new("LTAI5tExampleId", "example-secret")?;
    /// let chain = ProviderChain::first_try(key).transparent();
    /// assert_eq!(chain.provide_credentials().await?.provider_path(), "static_ak");
    /// # Ok(()) }
    /// ```
    pub fn transparent(mut self) -> Self {
        self.transparent = true;
        self
    }

    /// The chain's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    async fn load(&self) -> Result<Credentials> {
        let mut reasons = String::new();
        for provider in &self.providers {
            match provider.provide_credentials().await {
                Ok(credentials) => {
                    tracing::debug!(chain = %self.name, provider = credentials.provider_path(), "loaded");
                    if self.transparent {
                        return Ok(credentials);
                    }
                    return Ok(credentials.with_provider_prefix(&self.name));
                }
                Err(err) if err.is_not_loaded() => {
                    let sep = if reasons.is_empty() { "" } else { "; " };
                    let _ = write!(reasons, "{sep}{}: {}", err.provider_path(), err.message());
                }
                Err(other) if self.transparent => return Err(other),
                Err(other) => return Err(other.in_provider(&self.name)),
            }
        }
        Err(CredentialsError::not_loaded(
            self.name.clone(),
            format!(
                "none of the {} providers in the chain loaded credentials ({reasons})",
                self.providers.len()
            ),
        ))
    }
}

impl CredentialsProvider for ProviderChain {
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        ProvideCredentials::boxed(self.load())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::Env;
    use crate::test_util::ScriptedProvider;
    use crate::{EnvironmentProvider, StaticAccessKeyProvider};

    fn not_loaded(name: &'static str, reason: &'static str) -> ScriptedProvider {
        ScriptedProvider::new(name).then_err(CredentialsError::not_loaded(name, reason))
    }

    #[tokio::test]
    async fn not_loaded_moves_on_and_winner_is_in_the_path() {
        let second =
            ScriptedProvider::new("second").then_ok(Credentials::new("id", "s", "second").unwrap());
        let chain = ProviderChain::first_try(not_loaded("first", "absent"))
            .or_else(second.clone())
            .named("default");
        let c = chain.provide_credentials().await.unwrap();
        assert_eq!(c.provider_path(), "default/second");
        assert_eq!(second.calls(), 1);
    }

    #[tokio::test]
    async fn other_errors_stop_the_chain_with_context() {
        let third =
            ScriptedProvider::new("third").then_ok(Credentials::new("id", "s", "third").unwrap());
        let chain =
            ProviderChain::first_try(not_loaded("first", "absent"))
                .or_else(ScriptedProvider::new("second").then_err(
                    CredentialsError::provider("second", "denied").with_code("NoPermission"),
                ))
                .or_else(third.clone())
                .named("default");
        let err = chain.provide_credentials().await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Provider);
        assert_eq!(err.to_string(), "default/second: NoPermission: denied");
        assert_eq!(third.calls(), 0, "a broken provider must not be skipped");
    }

    #[tokio::test]
    async fn a_transparent_chain_reports_paths_and_errors_as_they_are() {
        let second =
            ScriptedProvider::new("second").then_ok(Credentials::new("id", "s", "second").unwrap());
        let chain = ProviderChain::first_try(not_loaded("first", "absent"))
            .or_else(second)
            .transparent();
        let c = chain.provide_credentials().await.unwrap();
        assert_eq!(c.provider_path(), "second");
        let chain = ProviderChain::first_try(
            ScriptedProvider::new("p").then_err(CredentialsError::provider("p", "denied")),
        )
        .transparent();
        let err = chain.provide_credentials().await.unwrap_err();
        assert_eq!(err.to_string(), "p: denied");
        let chain = ProviderChain::first_try(not_loaded("first", "absent")).transparent();
        let err = chain.provide_credentials().await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "chain: not loaded: none of the 1 providers in the chain loaded credentials (first: absent)"
        );
    }

    #[tokio::test]
    async fn nothing_loaded_lists_every_provider_and_reason() {
        let chain =
            ProviderChain::first_try(EnvironmentProvider::with_env(Env::from_pairs([("A", "b")])))
                .or_else(not_loaded(
                    "oidc_role_arn",
                    "ALIBABA_CLOUD_ROLE_ARN is not set",
                ))
                .named("default");
        let err = chain.provide_credentials().await.unwrap_err();
        assert!(err.is_not_loaded());
        assert_eq!(
            err.to_string(),
            "default: not loaded: none of the 2 providers in the chain loaded credentials \
             (env: ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set; \
             oidc_role_arn: ALIBABA_CLOUD_ROLE_ARN is not set)"
        );
    }

    #[tokio::test]
    async fn a_failed_call_does_not_stick_the_chain_to_its_last_provider() {
        // The Go/Node chains keep using the last provider after a total failure (spec §11.1).
        let first = ScriptedProvider::new("first")
            .then_err(CredentialsError::not_loaded("first", "absent"))
            .then_ok(Credentials::new("id", "s", "first").unwrap());
        let chain = ProviderChain::first_try(first)
            .or_else(not_loaded("second", "absent"))
            .named("default");
        assert!(chain.provide_credentials().await.is_err());
        let c = chain.provide_credentials().await.unwrap();
        assert_eq!(c.provider_path(), "default/first");
    }

    #[tokio::test]
    async fn nested_chains_nest_paths() {
        let inner = ProviderChain::first_try(StaticAccessKeyProvider::new("id", "s").unwrap())
            .named("cli_profile");
        let outer = ProviderChain::first_try(inner).named("default");
        let c = outer.provide_credentials().await.unwrap();
        assert_eq!(c.provider_path(), "default/cli_profile/static_ak");
    }
}
