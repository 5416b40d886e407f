//! Alibaba Cloud / MSE / Nacos credential providers built on [`mse_auth`].
//!
//! This crate re-exports the whole core crate, so applications depend on it alone:
//!
//! ```
//! use mse_auth_providers::{Credentials, CredentialsProvider, StaticAccessKeyProvider};
//! # async fn demo() -> Result<(), mse_auth_providers::CredentialsError> {
//! let provider = StaticAccessKeyProvider::new("LTAI5tExampleId", "example-secret")?;
//! let creds: Credentials = provider.provide_credentials().await?;
//! assert_eq!(creds.provider_path(), "static_ak");
//! # Ok(()) }
//! ```

#![warn(missing_docs)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub use mse_auth::*;

pub mod cli_profile;
pub mod context;
pub mod credentials_uri;
pub mod default_chain;
pub mod ecs_ram_role;
pub mod endpoint;
pub mod http;
mod json_credentials;
pub mod kms;
pub mod kms_data_keys;
pub mod kms_rotating;
pub mod nacos;
#[cfg(feature = "nacos-sdk")]
pub mod nacos_sdk;
pub mod oidc_role_arn;
pub mod profile;
mod profile_mode;
pub mod ram_role_arn;
mod rpc;
pub mod sts;

pub use cli_profile::CliProfileProvider;
pub use context::Context;
pub use credentials_uri::CredentialsUriProvider;
pub use default_chain::{default_provider, DefaultChain};
pub use ecs_ram_role::EcsRamRoleProvider;
pub use kms::KmsClient;
pub use kms_rotating::KmsRotatingProvider;
pub use oidc_role_arn::OidcRoleArnProvider;
pub use profile::ProfileProvider;
pub use ram_role_arn::RamRoleArnProvider;
