//! Adapters for the [`nacos-sdk`](nacos_sdk) crate 0.8.3 (feature `nacos-sdk`):
//!
//! - [`MseAuthPlugin`], an `AuthPlugin`: a username/password token ([`NacosLogin`](crate::nacos::NacosLogin))
//!   and/or AccessKey signing (Spas v1/v4, from any [`CredentialsProvider`](mse_auth::CredentialsProvider)),
//!   both served from caches that refresh ahead of expiry;
//! - [`MseConfigFilter`], a `ConfigFilter`: encrypts `cipher-…` configs on publish and decrypts them on
//!   read with a [`ConfigCipher`](mse_auth::cipher::ConfigCipher);
//! - [`is_forbidden`], to recognise the 403 that should make the plugin log in again (nacos-sdk 0.8 does
//!   not report it to the plugin: spec §G.4.3).
//!
//! ```no_run
//! use std::sync::Arc;
//! use mse_auth_providers::cipher::ConfigCipher;
//! use mse_auth_providers::nacos::NacosLogin;
//! use mse_auth_providers::nacos_sdk::{MseAuthPlugin, MseConfigFilter};
//! use nacos_sdk::api::config::ConfigServiceBuilder;
//! use nacos_sdk::api::props::ClientProps;
//! # async fn demo(cipher: ConfigCipher) -> Result<(), Box<dyn std::error::Error>> {
//! let plugin = MseAuthPlugin::builder()
//!     .login(NacosLogin::builder("127.0.0.1:8848").username("nacos").password("nacos").build()?)
//!     .build()?;
//! let config = ConfigServiceBuilder::new(ClientProps::new().server_addr("127.0.0.1:8848").env_first(false))
//!     .with_auth_plugin(Arc::new(plugin.clone()))
//!     .add_config_filter(Box::new(MseConfigFilter::new(Arc::new(cipher))))
//!     .build()
//!     .await?;
//! let read = || config.get_config("cipher-gcm-db.yaml".into(), "DEFAULT_GROUP".into());
//! let resp = match read().await {
//!     // The token was refused (e.g. the server's token key rotated): log in again now, not at
//!     // expiry, and retry once if the plugin now hands out another token.
//!     Err(e) if plugin.relogin_if_forbidden(&e).await => read().await?,
//!     other => other?,
//! };
//! println!("{} bytes", resp.content().len());
//! # Ok(()) }
//! ```

mod auth_plugin;
mod config_filter;

pub use auth_plugin::{Builder, MseAuthPlugin, NAME};
pub use config_filter::MseConfigFilter;

/// `true` when nacos-sdk reports that the server refused the request's identity: a gRPC
/// `ErrorResponse` with `errorCode` 403 (rnacos, spec §G.3.2) or a typed response whose `error_code` is
/// 403 (Nacos, spec §A.8). Such a request is not retried by nacos-sdk; call
/// [`MseAuthPlugin::relogin_if_forbidden`] (or [`MseAuthPlugin::relogin`]) and retry it when that
/// says a retry can succeed.
pub fn is_forbidden(err: &nacos_sdk::api::error::Error) -> bool {
    use nacos_sdk::api::error::Error;
    match err {
        Error::ErrResponse(_, _, error_code, _) => *error_code == 403,
        // nacos-sdk formats typed failures as "... error_code=403, message=...".
        Error::ErrResult(text) => text.split("error_code=").skip(1).any(|rest| {
            rest.starts_with("403") && !rest[3..].starts_with(|c: char| c.is_ascii_digit())
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_forbidden;
    use nacos_sdk::api::error::Error;

    #[test]
    fn forbidden_is_recognised_in_both_shapes() {
        assert!(is_forbidden(&Error::ErrResponse(
            None,
            500,
            403,
            Some("unknown user!".into())
        )));
        assert!(!is_forbidden(&Error::ErrResponse(None, 500, 500, None)));
        assert!(is_forbidden(&Error::ErrResult(
            "handle get_config failed: result_code=500, error_code=403, message=token expired!"
                .into()
        )));
        assert!(!is_forbidden(&Error::ErrResult(
            "handle get_config failed: result_code=500, error_code=4030, message=".into()
        )));
        assert!(!is_forbidden(&Error::ErrResult(
            "handle get_config failed: result_code=500, error_code=500, message=403".into()
        )));
        assert!(!is_forbidden(&Error::NoAvailableServer));
    }
}
