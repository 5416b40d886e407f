//! The default credentials chain, in the official SDKs' order (spec §11.1). Provider name `default`;
//! credentials report the winner's path, e.g. `default/env` or `default/cli_profile/ram_role_arn/static_ak`.
//!
//! 0. the KMS-rotated AccessKey, when `ALIBABA_CLOUD_SECRET_NAME` is set
//!    ([`KmsRotatingProvider`]): the answer is the AccessKey
//!    kept in that RAMCredentials secret, read from KMS (`ALIBABA_CLOUD_KMS_ENDPOINT`, or
//!    `ALIBABA_CLOUD_KMS_REGION`) with the credentials of the rest of the chain (1–6), and the path
//!    names both: `default/kms_rotating/env`. The chain then answers only from the secret: an
//!    unreadable one (a KMS error, another secret type, missing fields, no credentials to call KMS
//!    with) stops it with that error, and the secret is read again on its rotation schedule;
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
use crate::kms::KmsClient;
use crate::kms_rotating::{self, KmsRotatingProvider};
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

    /// The chain wrapped in a refresh cache: what applications use. With `ALIBABA_CLOUD_SECRET_NAME`
    /// set, the cache follows the secret's rotation schedule (see
    /// [`kms_rotating`]).
    pub fn build(self) -> RefreshCache<Credentials> {
        let ctx = self.ctx.clone().unwrap_or_default();
        let assembled = self.assemble();
        let cache = ctx.cache_builder(NAME);
        match assembled.kms {
            Some(_) => kms_rotating::schedule(cache).build_for(assembled.into_chain()),
            None => cache.build_for(assembled.into_chain()),
        }
    }

    /// The chain without a cache (for diagnosis: every call walks it).
    pub fn build_chain(self) -> ProviderChain {
        self.assemble().into_chain()
    }

    /// The chain's providers, in the order the chain tries them, each with the name it
    /// reports (`kms_rotating`, `env`, `oidc_role_arn`, `cli_profile`, `profile`, `ecs_ram_role`,
    /// `credentials_uri`). A provider that cannot be built here (unset variables, disabled,
    /// misconfigured) answers every call with the error that says why. For tools that report on each
    /// provider (`mse-auth explain`). `kms_rotating` reads the secret with the credentials of the
    /// others; when it is configured, the chain asks it alone.
    pub fn build_providers(self) -> Vec<(&'static str, SharedCredentialsProvider)> {
        let assembled = self.assemble();
        let kms = match assembled.kms {
            // Cached on the secret's schedule, as the chain serves it.
            Some(kms) => available(kms.and_then(|b| b.build())),
            None => SharedCredentialsProvider::new(Unavailable(CredentialsError::not_loaded(
                kms_rotating::NAME,
                format!("{} is not set", vars::SECRET_NAME),
            ))),
        };
        std::iter::once((kms_rotating::NAME, kms))
            .chain(assembled.rest)
            .collect()
    }

    fn assemble(self) -> Assembled {
        let ctx = self.ctx.clone().unwrap_or_default();
        let rest = self.providers_but_kms(&ctx);
        let secret_name = ctx.env().get_checked(vars::SECRET_NAME);
        let kms = match secret_name {
            Ok(None) => None,
            Ok(Some(name)) if name.trim().is_empty() => None,
            Ok(Some(name)) => Some(kms_rotating_over(&ctx, name, &rest)),
            Err(e) => Some(Err(e.invalid_configuration(kms_rotating::NAME))),
        };
        Assembled { kms, rest }
    }

    /// Providers 1–6.
    fn providers_but_kms(&self, ctx: &Context) -> Vec<(&'static str, SharedCredentialsProvider)> {
        let env = ctx.env();
        let oidc = available(OidcRoleArnProvider::from_env(ctx).and_then(|b| b.build()));
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
        let ecs = available(EcsRamRoleProvider::builder().context(ctx.clone()).build());
        let uri = available(CredentialsUriProvider::from_env(ctx).and_then(|b| b.build()));
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

/// The chain's providers: the KMS-rotated AccessKey when configured (or why it cannot be built),
/// and the others.
struct Assembled {
    kms: Option<Result<kms_rotating::Builder>>,
    rest: Vec<(&'static str, SharedCredentialsProvider)>,
}

impl Assembled {
    /// The KMS-rotated AccessKey alone when it is configured (it signs with the others), else the
    /// others in order.
    fn into_chain(self) -> ProviderChain {
        match self.kms {
            // Bare: the chain's own cache follows the secret's schedule.
            Some(kms) => ProviderChain::first_try(available(kms.and_then(|b| b.build_uncached()))),
            None => in_order(self.rest.into_iter().map(|(_, p)| p)),
        }
        .named(NAME)
    }
}

/// The provider, or one that answers every call with why it cannot be built.
fn available<P: CredentialsProvider + 'static>(built: Result<P>) -> SharedCredentialsProvider {
    match built {
        Ok(p) => SharedCredentialsProvider::new(p),
        Err(e) => SharedCredentialsProvider::new(Unavailable(e)),
    }
}

/// `providers` tried in order: the first that is configured answers.
fn in_order(providers: impl IntoIterator<Item = SharedCredentialsProvider>) -> ProviderChain {
    let mut providers = providers.into_iter();
    let first = providers
        .next()
        .expect("the default chain has six providers");
    providers.fold(ProviderChain::first_try(first), |chain, p| chain.or_else(p))
}

/// The KMS-rotated AccessKey of `secret_name`, read with the credentials of `rest` (chained in
/// order and cached, so KMS calls are signed as the chain without this provider would answer), or
/// why it cannot be built.
fn kms_rotating_over(
    ctx: &Context,
    secret_name: String,
    rest: &[(&'static str, SharedCredentialsProvider)],
) -> Result<kms_rotating::Builder> {
    let source = in_order(rest.iter().map(|(_, p)| p.clone())).transparent();
    let source = ctx.cache_builder("kms_rotating source").build_for(source);
    let kms = KmsClient::builder()
        .credentials(source)
        .context(ctx.clone())
        .build()
        .map_err(|e| e.in_provider(kms_rotating::NAME))?;
    Ok(KmsRotatingProvider::builder(secret_name)
        .kms(kms)
        .context(ctx.clone()))
}

/// Builds the default chain (cached) from the process environment.
pub fn default_provider() -> RefreshCache<Credentials> {
    DefaultChain::builder().build()
}
