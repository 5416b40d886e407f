//! # mse-auth
//!
//! Credentials for Alibaba Cloud, MSE and Nacos: one [`CredentialsProvider`] trait for every auth mode,
//! a lock-free [`RefreshCache`] that never storms the upstream and keeps serving valid credentials when
//! it fails, and a [`ProviderChain`] that says which provider won.
//!
//! This is the core crate: no HTTP client, no sockets. The network providers (RAM role ARN, OIDC, ECS
//! RAM role, credentials URI, KMS, Nacos login), profile files and the default chain live in
//! `mse-auth-providers`, which re-exports everything here.
//! [`cipher`]: config encryption (the MSE KMS schemes, nacos-plugin AES, our authenticated AES-256-GCM).
//!
//! ## The secrecy promise
//! Secrets, security tokens, signatures and passwords never appear in `Debug` or `Display` output, in
//! error messages, in logs at any level, or in URLs. [`Credentials`] shows a masked AccessKey id; the
//! secret and token are wiped from memory when the last clone is dropped.
//!
//! ```
//! use mse_auth::{CredentialsProvider, EnvironmentProvider, ProviderChain, RefreshCache, StaticAccessKeyProvider};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), mse_auth::CredentialsError> {
//! let chain = ProviderChain::first_try(EnvironmentProvider::new())
//!     .or_else(StaticAccessKeyProvider::new("LTAI5tExampleId", "example-secret")?)
//!     .named("default");
//! let provider = RefreshCache::new(chain);
//! let creds = provider.provide_credentials().await?;
//! println!("{creds}"); // e.g. "AccessKey LTA****eId from default/static_ak"
//! # Ok(()) }
//! ```
//!
//! ## Features
//! - `test-util` (off by default): `test_util`, fakes for tests — in-memory `Env`/`Fs`, a scripted
//!   credentials provider and a captured log.

#![warn(missing_docs, unreachable_pub)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod backoff;
pub mod cache;
pub mod chain;
pub mod cipher;
pub mod credentials;
pub mod env;
pub mod error;
pub mod os;
pub mod provider;
pub mod sign;
pub mod static_ak;
pub mod static_sts;
#[cfg(any(test, feature = "test-util"))]
pub mod test_util;
pub mod timestamp;
pub mod vars;

pub use cache::{Expiring, RefreshCache};
pub use chain::ProviderChain;
pub use credentials::Credentials;
pub use env::EnvironmentProvider;
pub use error::{CredentialsError, ErrorKind, Result};
pub use provider::{CredentialsProvider, ProvideCredentials, SharedCredentialsProvider};
pub use static_ak::StaticAccessKeyProvider;
pub use static_sts::StaticStsProvider;
