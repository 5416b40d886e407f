//! Alibaba Cloud / MSE / Nacos credential providers built on [`mse_auth`].
//!
//! The network providers ([`RamRoleArnProvider`], [`OidcRoleArnProvider`], [`EcsRamRoleProvider`],
//! [`CredentialsUriProvider`], [`KmsRotatingProvider`], and the CLI's sign-in modes
//! [`CloudSsoProvider`] and [`OAuthProvider`]), credentials printed by a command
//! ([`ExternalProcessProvider`], the CLI profile mode `External`), the profile files ([`ProfileProvider`],
//! [`CliProfileProvider`]), the [`DefaultChain`], the [`KmsClient`] and Nacos login ([`nacos`]). Every
//! STS and KMS call goes one RPC path (sign, send, read); endpoints follow [`endpoint::EndpointSettings`].
//! The core crate's modules and items are re-exported, so applications depend on this crate alone:
//!
//! ```
//! use mse_auth_providers::{Credentials, CredentialsProvider, StaticAccessKeyProvider};
//! # async fn demo() -> Result<(), mse_auth_providers::CredentialsError> {
//! let provider = StaticAccessKeyProvider::new("LTAI5tExampleId", "example-secret")?;
//! let creds: Credentials = provider.provide_credentials().await?;
//! assert_eq!(creds.provider_path(), "static_ak");
//! # Ok(()) }
//! ```
//!
//! # Features
//! - `nacos-sdk` (off by default): the `nacos_sdk` module, adapters for the `nacos-sdk` crate 0.8.3 — an
//!   `AuthPlugin` (login token and AccessKey signing) and a `ConfigFilter` (config encryption). It
//!   needs rustc 1.88 or newer.
//! - `fuzzing` (off by default): a hidden `fuzzing` module, entry points into internal parsers for the
//!   fuzz targets in `fuzz/`. Unstable and for fuzzing only: never use it in an application.
//!
//! The local cloud that the tests run against is the `mse-auth-emulator` crate; the `mse-auth` command
//! line is `mse-auth-cli`.

#![warn(missing_docs, unreachable_pub)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

// The core, explicitly: its modules and its root items, so an application needs this crate alone.
pub use mse_auth::{
    backoff, cache, chain, cipher, credentials, env, error, os, provider, sign, static_ak,
    static_sts, timestamp, vars,
};
pub use mse_auth::{
    Credentials, CredentialsError, CredentialsProvider, EnvironmentProvider, ErrorKind, Expiring,
    ProvideCredentials, ProviderChain, RefreshCache, Result, SharedCredentialsProvider,
    StaticAccessKeyProvider, StaticStsProvider,
};

mod cli_config_write;
pub mod cli_profile;
pub mod cloud_sso;
mod command_line;
pub mod context;
pub mod credentials_uri;
pub mod default_chain;
pub mod ecs_ram_role;
pub mod endpoint;
pub mod external_process;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
mod json_credentials;
pub mod kms;
pub mod kms_data_keys;
pub mod kms_rotating;
pub mod nacos;
#[cfg(feature = "nacos-sdk")]
pub mod nacos_sdk;
pub mod oauth;
pub mod oidc_role_arn;
pub mod profile;
mod profile_mode;
pub mod ram_role_arn;
mod rpc;
mod service_error;
pub mod sts;

pub use cli_profile::CliProfileProvider;
pub use cloud_sso::CloudSsoProvider;
pub use context::Context;
pub use credentials_uri::CredentialsUriProvider;
pub use default_chain::{default_provider, DefaultChain};
pub use ecs_ram_role::EcsRamRoleProvider;
pub use external_process::{CachedExternalProcessProvider, ExternalProcessProvider};
pub use kms::KmsClient;
pub use kms_rotating::{CachedKmsRotatingProvider, KmsRotatingProvider};
pub use oauth::OAuthProvider;
pub use oidc_role_arn::OidcRoleArnProvider;
pub use profile::ProfileProvider;
pub use ram_role_arn::RamRoleArnProvider;
