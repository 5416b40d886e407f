//! The default credentials chain, in the official SDKs' order (spec §11.1). Provider name `default`;
//! credentials report the winner's path, e.g. `default/env` or `default/cli_profile/ram_role_arn/static_ak`.
//!
//! 1. environment variables ([`EnvironmentProvider`]);
//! 2. OIDC role ARN, when `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and
//!    `ALIBABA_CLOUD_OIDC_TOKEN_FILE` are set;
//! 3. the CLI profile `~/.aliyun/config.json`, unless `ALIBABA_CLOUD_CLI_PROFILE_DISABLED` is true;
//! 4. the ini profile `~/.alibabacloud/credentials` (or `credentials.ini`);
//! 5. the ECS RAM role (instance metadata), unless `ALIBABA_CLOUD_ECS_METADATA_DISABLED` is true; off
//!    ECS it reports "not loaded" within its 1 s connect timeout;
//! 6. the credentials URI, when `ALIBABA_CLOUD_CREDENTIALS_URI` is set.
//!
//! Switches are booleans (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, any case); a switch with
//! another value, or any variable a provider reads that is set but unusable (not UTF-8, a credential
//! with whitespace or control characters), is a misconfiguration that stops the chain with an error
//! naming the variable, once the chain reaches that provider.
//!
//! A provider that is not configured moves the chain on; one that is configured but fails stops it with
//! its error. When nothing loads, the error lists every provider and why. Environment variables are read
//! when the chain is built; files on the first load. The chain is wrapped in a [`RefreshCache`].
//!
//! ```no_run
//! use mse_auth_providers::{CredentialsProvider, DefaultChain};
//! # async fn demo() -> Result<(), mse_auth_providers::CredentialsError> {
//! let provider = DefaultChain::builder().build();
//! let creds = provider.provide_credentials().await?;
//! println!("{} won", creds.provider_path());
//! # Ok(()) }
//! ```

use crate::context::Context;
use crate::{
    CliProfileProvider, CredentialsUriProvider, EcsRamRoleProvider, OidcRoleArnProvider,
    ProfileProvider,
};
use mse_auth::{
    vars, Credentials, CredentialsError, CredentialsProvider, EnvironmentProvider,
    ProvideCredentials, ProviderChain, RefreshCache, Result, SharedCredentialsProvider,
};

/// Provider name reported in credential paths.
pub const NAME: &str = "default";

/// The default chain; see the [module docs](self).
#[derive(Debug)]
pub struct DefaultChain;

/// Settings of the default chain.
#[derive(Debug, Default)]
pub struct Builder {
    ctx: Option<Context>,
    profile: Option<String>,
}

impl DefaultChain {
    /// Settings.
    pub fn builder() -> Builder {
        Builder::default()
    }
}

/// A provider that is not available here, and says why when asked.
#[derive(Debug)]
struct Unavailable(CredentialsError);

impl CredentialsProvider for Unavailable {
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        ProvideCredentials::ready(Err(self.0.clone()))
    }
}

impl Builder {
    /// The context (environment, files, clock, HTTP).
    pub fn context(mut self, ctx: Context) -> Self {
        self.ctx = Some(ctx);
        self
    }

    /// The profile name for both profile files (default: `ALIBABA_CLOUD_PROFILE`).
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// The chain wrapped in a refresh cache: what applications use.
    pub fn build(self) -> RefreshCache<Credentials> {
        let ctx = self.ctx.clone().unwrap_or_default();
        ctx.cache_builder(NAME).build_for(self.build_chain())
    }

    /// The chain without a cache (for diagnosis: every call walks it).
    pub fn build_chain(self) -> ProviderChain {
        let mut providers = self.build_providers().into_iter().map(|(_, p)| p);
        let first = providers
            .next()
            .expect("the default chain has six providers");
        providers
            .fold(ProviderChain::first_try(first), |chain, p| chain.or_else(p))
            .named(NAME)
    }

    /// The chain's providers, uncached, in the order the chain tries them, each with the name it
    /// reports (`env`, `oidc_role_arn`, `cli_profile`, `profile`, `ecs_ram_role`, `credentials_uri`).
    /// A provider that cannot be built here (unset variables, disabled, misconfigured) answers every
    /// call with the error that says why. For tools that report on each provider (`mse-auth explain`).
    pub fn build_providers(self) -> Vec<(&'static str, SharedCredentialsProvider)> {
        let ctx = self.ctx.unwrap_or_default();
        let env = ctx.env();
        let built = |result: Result<RefreshCache<Credentials>>| match result {
            Ok(p) => SharedCredentialsProvider::new(p),
            Err(e) => SharedCredentialsProvider::new(Unavailable(e)),
        };
        let oidc = built(OidcRoleArnProvider::from_env(&ctx).and_then(|b| b.build()));
        let cli_disabled = env.get_bool(vars::CLI_PROFILE_DISABLED);
        let cli = if let Err(e) = cli_disabled {
            // A switch that says neither yes nor no is a misconfiguration: it stops the chain.
            SharedCredentialsProvider::new(Unavailable(
                e.invalid_configuration(crate::cli_profile::NAME),
            ))
        } else if cli_disabled == Ok(Some(true)) {
            SharedCredentialsProvider::new(Unavailable(CredentialsError::not_loaded(
                crate::cli_profile::NAME,
                format!("disabled by {}", vars::CLI_PROFILE_DISABLED),
            )))
        } else {
            let mut b = CliProfileProvider::builder().context(ctx.clone());
            if let Some(p) = &self.profile {
                b = b.profile(p.clone());
            }
            SharedCredentialsProvider::new(b.build())
        };
        let mut ini = ProfileProvider::builder().context(ctx.clone());
        if let Some(p) = &self.profile {
            ini = ini.profile(p.clone());
        }
        let ecs = built(EcsRamRoleProvider::builder().context(ctx.clone()).build());
        let uri = built(CredentialsUriProvider::from_env(&ctx).and_then(|b| b.build()));
        vec![
            (
                mse_auth::env::NAME,
                SharedCredentialsProvider::new(EnvironmentProvider::with_env(env.clone())),
            ),
            (crate::oidc_role_arn::NAME, oidc),
            (crate::cli_profile::NAME, cli),
            (
                crate::profile::NAME,
                SharedCredentialsProvider::new(ini.build()),
            ),
            (crate::ecs_ram_role::NAME, ecs),
            (crate::credentials_uri::NAME, uri),
        ]
    }
}

/// Builds the default chain (cached) from the process environment.
pub fn default_provider() -> RefreshCache<Credentials> {
    DefaultChain::builder().build()
}
