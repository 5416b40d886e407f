//! CloudSSO: STS credentials of an access configuration in an account, from the CloudSSO service
//! behind a sign-in URL, with the access token the Alibaba Cloud CLI keeps after a CloudSSO login
//! (`aliyun configure --mode CloudSSO`). Provider name `cloud_sso`.
//!
//! Reached through the CLI profile mode `CloudSSO` ([`CliProfileProvider`](crate::CliProfileProvider)),
//! from the profile keys `cloud_sso_sign_in_url`, `cloud_sso_account_id`, `cloud_sso_access_config`,
//! `access_token` and `cloud_sso_access_token_expire` (unix seconds), or built in code. It reads no
//! environment variable but [`vars::INSECURE_ALLOW_HTTP`](crate::vars::INSECURE_ALLOW_HTTP).
//!
//! The request, as the official clients send it (spec §10): `POST /cloud-credentials` on the
//! `scheme://host[:port]` of the sign-in URL (its path is dropped), with `Accept: application/json`,
//! `Content-Type: application/json`, `Authorization: Bearer <access token>` and the body
//! `{"AccountId": …, "AccessConfigurationId": …}`. The answer must be HTTP 200 with
//! `{"CloudCredential": {"AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"}, "RequestId"}`,
//! `Expiration` being `YYYY-MM-DDTHH:MM:SSZ` (or `….mmmZ`). Budgets are [`Timeouts::CLOUD_SSO`]
//! (5 s connect, 10 s read).
//!
//! The access token cannot be refreshed here: once it has expired (by the context's clock),
//! building fails, and so does every load, with
//! [`InvalidConfiguration`](crate::ErrorKind::InvalidConfiguration) asking for a new login. A refusal
//! of the service is [`Provider`](crate::ErrorKind::Provider), naming the HTTP status and the
//! service's `Code`, `Message` and `RequestId` when its body gives them (401 for a token it does not
//! take, with the same advice). The sign-in URL must be `https`, or plain `http` to a loopback
//! address, or anywhere with [`Builder::allow_http`] or `MSE_AUTH_INSECURE_ALLOW_HTTP=true`. The
//! token never appears in an error, a log or `Debug`.
//!
//! The official clients refresh 15 minutes before the credentials expire; the
//! [`RefreshCache`] of [`Builder::build`] refreshes ahead of expiry by its own rules.
//!
//! ```no_run
//! use std::time::{Duration, SystemTime};
//! use mse_auth_providers::{CloudSsoProvider, CredentialsProvider};
//! # async fn demo() -> Result<(), mse_auth_providers::CredentialsError> {
//! let provider = CloudSsoProvider::builder(
//!     "https://signin-cn-shanghai.alibabacloudsso.com/d-00fc2p61pmj2/login",
//!     "1234567890123456",
//!     "ac-00ccule7tadaijxc69pp",
//! )
//! .access_token("eyJraWQiOi...", SystemTime::now() + Duration::from_secs(3600))
//! .build()?; // a RefreshCache
//! let creds = provider.provide_credentials().await?;
//! assert_eq!(creds.provider_path(), "cloud_sso");
//! # Ok(()) }
//! ```

use crate::context::Context;
use crate::endpoint::{insecure_allow_http, Endpoint};
use crate::http::{HttpRequest, Timeouts};
use crate::json_credentials::{parse_json, sts_credentials};
use crate::service_error::{verb, ServiceError};
use mse_auth::credentials::check_text;
use mse_auth::timestamp::format_utc;
use mse_auth::{Credentials, CredentialsError, CredentialsProvider, ProvideCredentials};
use mse_auth::{RefreshCache, Result};
use serde::Deserialize;
use std::fmt;
use std::time::SystemTime;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Provider name reported in credential paths.
pub const NAME: &str = "cloud_sso";

/// The path of the credentials request on the sign-in URL's host.
const PATH: &str = "/cloud-credentials";

/// What to do about a token that is missing, expired or refused.
const RELOGIN: &str = "log in again with the Alibaba Cloud CLI: aliyun configure --mode CloudSSO";

/// Fetches the STS credentials of a CloudSSO access configuration. See the [module docs](self).
///
/// Uncached: every call is one request. [`Builder::build`] wraps it in a [`RefreshCache`].
pub struct CloudSsoProvider {
    endpoint: Endpoint,
    account_id: String,
    access_config: String,
    access_token: Zeroizing<String>,
    token_expires: SystemTime,
    timeouts: Timeouts,
    ctx: Context,
}

impl fmt::Debug for CloudSsoProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudSsoProvider")
            .field("endpoint", &self.endpoint)
            .field("account_id", &self.account_id)
            .field("access_config", &self.access_config)
            .field("token_expires", &format_utc(self.token_expires))
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

/// The success body; the secrets are wiped on drop.
#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
struct Response {
    #[serde(rename = "CloudCredential")]
    cloud_credential: Option<CloudCredential>,
}

#[derive(Deserialize, Zeroize)]
#[serde(rename_all = "PascalCase")]
struct CloudCredential {
    access_key_id: Option<String>,
    access_key_secret: Option<String>,
    security_token: Option<String>,
    expiration: Option<String>,
}

/// Parses a 200 answer into credentials. Problems are [`Provider`](crate::ErrorKind::Provider) errors
/// naming what is wrong, never a value but the expiration.
fn parse_response(body: &[u8]) -> Result<Credentials> {
    const WHAT: &str = "the CloudSSO response";
    let response: Response = parse_json(body, WHAT, NAME)?;
    let Some(c) = &response.cloud_credential else {
        return Err(CredentialsError::provider(
            NAME,
            format!("{WHAT} lacks CloudCredential"),
        ));
    };
    sts_credentials(
        WHAT,
        [
            ("CloudCredential.AccessKeyId", c.access_key_id.as_deref()),
            (
                "CloudCredential.AccessKeySecret",
                c.access_key_secret.as_deref(),
            ),
            ("CloudCredential.SecurityToken", c.security_token.as_deref()),
            ("CloudCredential.Expiration", c.expiration.as_deref()),
        ],
        NAME,
    )
}

/// The error for a token that has expired at `at`.
fn expired(at: SystemTime) -> CredentialsError {
    CredentialsError::invalid_configuration(
        NAME,
        format!(
            "the CloudSSO access token expired at {}: {RELOGIN}",
            format_utc(at)
        ),
    )
}

impl CloudSsoProvider {
    /// Settings for a provider of the access configuration `access_configuration_id` in the account
    /// `account_id`, from the CloudSSO service of `sign_in_url` (the CLI's `cloud_sso_sign_in_url`;
    /// only its `scheme://host[:port]` is used). The access token is required:
    /// [`Builder::access_token`].
    pub fn builder(
        sign_in_url: impl Into<String>,
        account_id: impl Into<String>,
        access_configuration_id: impl Into<String>,
    ) -> Builder {
        Builder {
            sign_in_url: sign_in_url.into(),
            account_id: account_id.into(),
            access_config: access_configuration_id.into(),
            access_token: None,
            allow_http: false,
            timeouts: Timeouts::CLOUD_SSO,
            context: None,
        }
    }

    async fn load(&self) -> Result<Credentials> {
        if self.token_expires <= self.ctx.time().now() {
            return Err(expired(self.token_expires));
        }
        let body = serde_json::json!({
            "AccountId": self.account_id,
            "AccessConfigurationId": self.access_config,
        })
        .to_string();
        let request = HttpRequest::post_json(self.endpoint.url(PATH), body, self.timeouts)
            .header("Accept", "application/json")
            .header(
                "Authorization",
                format!("Bearer {}", self.access_token.as_str()),
            );
        let response = self
            .ctx
            .http()
            .send(request)
            .await
            .map_err(|e| e.into_credentials_error(NAME))?;
        let status = response.status;
        let body = Zeroizing::new(response.body);
        if status != 200 {
            let what = format!(
                "the CloudSSO service at {} {} the credentials request",
                self.endpoint.origin(),
                verb(status)
            );
            let hint = (status == 401).then_some(RELOGIN);
            return Err(ServiceError::read(&body, &[self.access_token.as_str()])
                .into_error(NAME, &what, hint)
                .with_status(status));
        }
        let credentials = parse_response(&body)?;
        tracing::debug!(
            provider = NAME,
            endpoint = %self.endpoint.origin(),
            access_key_id = %credentials.masked_access_key_id(),
            "got CloudSSO credentials"
        );
        Ok(credentials)
    }
}

impl CredentialsProvider for CloudSsoProvider {
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        ProvideCredentials::boxed(self.load())
    }
}

/// Builds a [`CloudSsoProvider`]; see [`CloudSsoProvider::builder`].
pub struct Builder {
    sign_in_url: String,
    account_id: String,
    access_config: String,
    access_token: Option<(Zeroizing<String>, SystemTime)>,
    allow_http: bool,
    timeouts: Timeouts,
    context: Option<Context>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = Endpoint::origin_of(&self.sign_in_url, true)
            .map_or_else(|_| "<unusable>".to_owned(), |e| e.origin());
        f.debug_struct("Builder")
            .field("sign_in_origin", &shown)
            .field("account_id", &self.account_id)
            .field("access_config", &self.access_config)
            .field(
                "token_expires",
                &self.access_token.as_ref().map(|(_, at)| format_utc(*at)),
            )
            .field("allow_http", &self.allow_http)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// The CLI's `access_token` and the time it expires (`cloud_sso_access_token_expire`).
    pub fn access_token(mut self, token: impl Into<String>, expires_at: SystemTime) -> Self {
        self.access_token = Some((Zeroizing::new(token.into()), expires_at));
        self
    }

    /// `true` permits a plain `http` sign-in URL to any host (default: only to loopback addresses).
    /// Credentials then cross the network unencrypted.
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Connect and read budgets (default [`Timeouts::CLOUD_SSO`]: 5 s and 10 s).
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The outside world (default [`Context::default`]).
    pub fn context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }

    /// Checks the settings and returns the provider inside a [`RefreshCache`].
    /// [`InvalidConfiguration`](crate::ErrorKind::InvalidConfiguration) for a missing or expired
    /// access token, an empty sign-in URL, account id or access configuration id, or an unusable
    /// sign-in URL.
    pub fn build(self) -> Result<RefreshCache<Credentials>> {
        let provider = self.build_uncached()?;
        Ok(provider.ctx.cache_builder(NAME).build_for(provider))
    }

    /// Checks the settings and returns the provider without a cache (for composition and tests).
    pub fn build_uncached(self) -> Result<CloudSsoProvider> {
        let ctx = self.context.unwrap_or_default();
        let invalid = |why: String| CredentialsError::invalid_configuration(NAME, why);
        let Some((access_token, token_expires)) =
            self.access_token.filter(|(t, _)| !t.trim().is_empty())
        else {
            return Err(invalid(format!(
                "the CloudSSO access token is empty: {RELOGIN}"
            )));
        };
        if let Err(problem) = check_text(&access_token) {
            return Err(invalid(format!("the CloudSSO access token {problem}")));
        }
        if token_expires <= ctx.time().now() {
            return Err(expired(token_expires));
        }
        for (value, what) in [
            (&self.sign_in_url, "sign-in URL"),
            (&self.account_id, "account id"),
            (&self.access_config, "access configuration id"),
        ] {
            if value.trim().is_empty() {
                return Err(invalid(format!(
                    "CloudSSO needs a sign-in URL, an account id and an access configuration id: \
                     the {what} is empty"
                )));
            }
        }
        let allow_http = self.allow_http || insecure_allow_http(ctx.env(), NAME)?;
        let endpoint = Endpoint::origin_of(&self.sign_in_url, allow_http)
            .map_err(|e| invalid(format!("the CloudSSO sign-in URL: {e}")))?;
        Ok(CloudSsoProvider {
            endpoint,
            account_id: self.account_id.trim().to_owned(),
            access_config: self.access_config.trim().to_owned(),
            access_token,
            token_expires,
            timeouts: self.timeouts,
            ctx,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mse_auth::os::Env;
    use mse_auth::{vars, ErrorKind};
    use std::time::Duration;

    const URL: &str = "https://signin-cn-shanghai.alibabacloudsso.com/d-1/login";

    fn ctx() -> Context {
        Context::default().with_env(Env::from_pairs::<&str, &str>([]))
    }

    fn later() -> SystemTime {
        SystemTime::now() + Duration::from_secs(3600)
    }

    fn build_err(builder: Builder) -> CredentialsError {
        let err = builder.context(ctx()).build_uncached().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration, "{err}");
        assert!(!format!("{err} {err:?}").contains("sentinel"), "{err:?}");
        err
    }

    #[test]
    fn the_request_goes_to_the_sign_in_origin() {
        let p = CloudSsoProvider::builder(URL, " 123 ", "ac-1")
            .access_token("sentinel-token", later())
            .context(ctx())
            .build_uncached()
            .unwrap();
        assert_eq!(
            p.endpoint.url(PATH).as_str(),
            "https://signin-cn-shanghai.alibabacloudsso.com/cloud-credentials"
        );
        assert_eq!(p.account_id, "123");
        let shown = format!("{p:?}");
        assert!(
            !shown.contains("sentinel") && shown.contains("ac-1"),
            "{shown}"
        );
    }

    #[test]
    fn a_missing_or_expired_token_and_empty_settings_are_refused() {
        let err = build_err(CloudSsoProvider::builder(URL, "1", "ac"));
        assert_eq!(
            err.to_string(),
            "cloud_sso: invalid configuration: the CloudSSO access token is empty: log in again \
             with the Alibaba Cloud CLI: aliyun configure --mode CloudSSO"
        );
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let err = build_err(CloudSsoProvider::builder(URL, "1", "ac").access_token("sentinel", at));
        assert_eq!(
            err.message(),
            "the CloudSSO access token expired at 2023-11-14T22:13:20Z: log in again with the \
             Alibaba Cloud CLI: aliyun configure --mode CloudSSO"
        );
        let err = build_err(
            CloudSsoProvider::builder(URL, "1", "ac").access_token("sentinel\n", later()),
        );
        assert_eq!(
            err.message(),
            "the CloudSSO access token holds a control character"
        );
        for (builder, what) in [
            (CloudSsoProvider::builder(" ", "1", "ac"), "sign-in URL"),
            (CloudSsoProvider::builder(URL, "", "ac"), "account id"),
            (
                CloudSsoProvider::builder(URL, "1", ""),
                "access configuration id",
            ),
        ] {
            let err = build_err(builder.access_token("sentinel", later()));
            assert_eq!(
                err.message(),
                format!(
                    "CloudSSO needs a sign-in URL, an account id and an access configuration id: \
                     the {what} is empty"
                )
            );
        }
    }

    #[test]
    fn plain_http_needs_loopback_or_an_opt_in() {
        let err = build_err(
            CloudSsoProvider::builder("http://sso.example.com/login?t=sentinel", "1", "ac")
                .access_token("sentinel", later()),
        );
        assert_eq!(
            err.message(),
            "the CloudSSO sign-in URL: refusing plain http to http://sso.example.com: credentials \
             would cross the network unencrypted; use https, or opt in with \
             MSE_AUTH_INSECURE_ALLOW_HTTP=true (CLI: --insecure-allow-http)"
        );
        let opted_in = ctx().with_env(Env::from_pairs([(vars::INSECURE_ALLOW_HTTP, "true")]));
        assert!(
            CloudSsoProvider::builder("http://sso.example.com/login", "1", "ac")
                .access_token("t", later())
                .context(opted_in)
                .build_uncached()
                .is_ok()
        );
        assert!(
            CloudSsoProvider::builder("http://127.0.0.1:9/login", "1", "ac")
                .access_token("t", later())
                .context(ctx())
                .build_uncached()
                .is_ok()
        );
    }

    fn parse_err(body: &str) -> CredentialsError {
        let err = parse_response(body.as_bytes()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Provider);
        assert!(!format!("{err:?}").contains("sentinel"), "{err:?}");
        err
    }

    const OK: &str = r#"{"RequestId":"1","CloudCredential":{"AccessKeyId":"STS.id",
        "AccessKeySecret":"sentinel-secret","SecurityToken":"sentinel-token",
        "Expiration":"2023-11-14T22:13:20Z"}}"#;

    #[test]
    fn a_success_body_becomes_sts_credentials() {
        let c = parse_response(OK.as_bytes()).unwrap();
        assert_eq!(c.access_key_id(), "STS.id");
        assert_eq!(c.access_key_secret(), "sentinel-secret");
        assert_eq!(c.security_token(), Some("sentinel-token"));
        assert_eq!(c.provider_path(), "cloud_sso");
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(c.expiration(), Some(at));
    }

    #[test]
    fn unusable_bodies_are_named() {
        assert_eq!(
            parse_err("<html>").message(),
            "the CloudSSO response is not JSON (line 1, column 1)"
        );
        assert_eq!(
            parse_err("null").message(),
            "the CloudSSO response is not a JSON object of string fields"
        );
        assert_eq!(
            parse_err(r#"{"Credentials":{}}"#).message(),
            "the CloudSSO response lacks CloudCredential"
        );
        assert_eq!(
            parse_err(&OK.replace(r#""AccessKeyId":"STS.id","#, "").replace("sentinel-token", ""))
                .message(),
            "the CloudSSO response lacks CloudCredential.AccessKeyId, CloudCredential.SecurityToken"
        );
        assert!(parse_err(&OK.replace("22:13:20Z", "22:13:20"))
            .message()
            .starts_with(
                "the CloudSSO response has a bad CloudCredential.Expiration: `2023-11-14T22:13:20`"
            ));
        assert_eq!(
            parse_err(&OK.replace("sentinel-secret", "sentinel\\u0007")).message(),
            "the CloudSSO response's CloudCredential.AccessKeySecret holds a control character"
        );
    }
}
