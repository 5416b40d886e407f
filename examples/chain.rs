//! Builds a provider chain (environment first, then a demo AccessKey), caches it, and prints the masked
//! credentials and which provider won.
//!
//! `cargo run --example chain` — set `ALIBABA_CLOUD_ACCESS_KEY_ID` and `ALIBABA_CLOUD_ACCESS_KEY_SECRET`
//! to see the environment provider win instead.

use mse_auth::{
    CredentialsProvider, EnvironmentProvider, ProviderChain, RefreshCache, StaticAccessKeyProvider,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), mse_auth::CredentialsError> {
    let chain = ProviderChain::first_try(EnvironmentProvider::new())
        .or_else(StaticAccessKeyProvider::new(
            "LTAI5tDemoKeyId0000",
            "demo-secret",
        )?)
        .named("default");
    let provider = RefreshCache::new(chain);
    let credentials = provider.provide_credentials().await?;
    println!("provider: {}", credentials.provider_path());
    println!("credentials: {credentials}");
    println!("debug: {credentials:?}");
    Ok(())
}
