//! OAuth: STS credentials for the user of an Alibaba Cloud CLI OAuth login
//! (`aliyun configure --mode OAuth`), exchanged for its OAuth access token, which is refreshed with
//! its refresh token. Provider name `oauth`.
//!
//! Reached through the CLI profile mode `OAuth` ([`CliProfileProvider`](crate::CliProfileProvider)),
//! from the profile keys `oauth_site_type` (`CN`, the default, or `INTL`, in any case),
//! `oauth_access_token`, `oauth_access_token_expire` (unix seconds), `oauth_refresh_token`, and the
//! STS credentials of the last exchange, `access_key_id`, `access_key_secret`, `sts_token` and
//! `sts_expiration` (unix seconds); or built in code. Environment:
//! [`vars::OAUTH_ENDPOINT`](crate::vars::OAUTH_ENDPOINT) (`ALIBABA_CLOUD_OAUTH_ENDPOINT`, ours) moves
//! the service from its site's (`https://oauth.aliyun.com`, `https://oauth.alibabacloud.com`; see
//! [`OAuthSite`]), a host or `scheme://host[:port]`, plain `http` only to loopback unless
//! [`Builder::allow_http`] or `MSE_AUTH_INSECURE_ALLOW_HTTP=true` opts in.
//!
//! A load, as the official clients do it (spec §10):
//! 1. the STS credentials the profile holds, when all four are there and have not expired (by the
//!    context's clock), are returned without a call — on the first load only: every later load is a
//!    refresh, which wants new credentials;
//! 2. with a refresh token, when the access token is missing or expires within 1200 s:
//!    `POST /v1/token`, form body `grant_type=refresh_token`, `refresh_token`, `client_id` (the
//!    site's) and `Timestamp` (`YYYY-MM-DDTHH:MM:SSZ`, UTC), answered by
//!    `{"access_token", "refresh_token", "expires_in", "token_type"}` (`expires_in` defaults to
//!    3600 s); the refresh token rotates, the old one is spent;
//! 3. `POST /v1/exchange` with `Authorization: Bearer <access token>` and
//!    `Content-Type: application/json`, no body, answered by `AccessKeyId`, `AccessKeySecret`,
//!    `SecurityToken` and `Expiration` at the top level (the Python client's spelling; the Go client's
//!    `accessKeyId`, `accessKeySecret`, `securityToken`, `expiration` are accepted too); a body with
//!    `error` is a refusal.
//!
//! Loads are serialised, write-back included (the refresh token can be spent once, and the file must
//! end with the newest one). Budgets are [`Timeouts::OAUTH`]
//! (5 s connect, 10 s read).
//!
//! With [`Builder::write_back`] (the CLI profile provider sets it), new tokens and credentials are
//! written back into the CLI's `config.json`, as the official clients do: after a load that
//! refreshed the token and exchanged it, the seven keys `oauth_refresh_token`, `oauth_access_token`,
//! `oauth_access_token_expire`, `access_key_id`, `access_key_secret`, `sts_token` and
//! `sts_expiration`; after an exchange alone the last four; after a refresh whose exchange failed, the
//! first three (so the new refresh token is not lost). Only those keys of the OAuth profile change:
//! the file is read again, every other profile and key stays as it was, in its order, and the new
//! file (mode 0600) replaces the old one in one rename ([`Fs::rewrite`](crate::os::Fs::rewrite)). A
//! failed write is logged at `warn` and does not fail the load.
//!
//! Errors: no token at all, or an access token that has expired without a refresh token, is
//! [`InvalidConfiguration`](crate::ErrorKind::InvalidConfiguration) asking for a new login; a refusal
//! of the service is [`Provider`](crate::ErrorKind::Provider), naming the HTTP status and the
//! service's `error` and `error_description` (or `Code`, `Message`, `RequestId`) when its body gives
//! them. No token or secret appears in an error, a log or `Debug`.
//!
//! ```no_run
//! use std::time::{Duration, SystemTime};
//! use mse_auth_providers::oauth::{OAuthProvider, OAuthSite};
//! use mse_auth_providers::CredentialsProvider;
//! # async fn demo() -> Result<(), mse_auth_providers::CredentialsError> {
//! let provider = OAuthProvider::builder()
//!     .site(OAuthSite::Intl)
//!     .refresh_token("example-refresh-token")
//!     .access_token("example-access-token", SystemTime::now() + Duration::from_secs(600))
//!     .build()?; // a RefreshCache
//! let creds = provider.provide_credentials().await?; // refreshes first: 600 s < 1200 s
//! assert_eq!(creds.provider_path(), "oauth");
//! # Ok(()) }
//! ```

use crate::cli_config_write::{update_profile, Update};
use crate::context::Context;
use crate::endpoint::{Endpoint, EndpointSettings, Product};
use crate::http::{HttpRequest, Timeouts};
use crate::json_credentials::{parse_json, sts_credentials};
use crate::service_error::{verb, ServiceError};
use aws_smithy_async::rt::sleep::AsyncSleep;
use mse_auth::credentials::check_text;
use mse_auth::timestamp::format_utc;
use mse_auth::{Credentials, CredentialsError, CredentialsProvider, ProvideCredentials};
use mse_auth::{RefreshCache, Result};
use serde::Deserialize;
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Provider name reported in credential paths.
pub const NAME: &str = "oauth";

/// The access token is refreshed when it expires within this (spec §10).
pub const REFRESH_AHEAD: Duration = Duration::from_secs(1200);

/// `expires_in` when the token response has none (spec §10).
const DEFAULT_EXPIRES_IN: u64 = 3600;
const TOKEN_PATH: &str = "/v1/token";
const EXCHANGE_PATH: &str = "/v1/exchange";
/// What to do about tokens that are missing, expired or refused.
const RELOGIN: &str = "log in again with the Alibaba Cloud CLI: aliyun configure --mode OAuth";
/// How often a write-back tries a config file another process is writing, and the pause between.
const WRITE_ATTEMPTS: u32 = 3;
const WRITE_PAUSE: Duration = Duration::from_millis(100);

/// The site of an Alibaba Cloud account: where its OAuth service is, and the CLI's OAuth client id
/// there (spec §10).
///
/// ```
/// use mse_auth_providers::oauth::OAuthSite;
/// assert_eq!(OAuthSite::from_name("intl"), Some(OAuthSite::Intl));
/// assert_eq!(OAuthSite::default().endpoint(), "https://oauth.aliyun.com");
/// assert_eq!(OAuthSite::Intl.client_id(), "4103531455503354461");
/// assert_eq!(OAuthSite::from_name("EU"), None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OAuthSite {
    /// China (`CN`): `https://oauth.aliyun.com`, client id `4038181954557748008`.
    #[default]
    Cn,
    /// International (`INTL`): `https://oauth.alibabacloud.com`, client id `4103531455503354461`.
    Intl,
}

impl OAuthSite {
    /// The site a CLI profile's `oauth_site_type` names: `CN` or `INTL`, in any case.
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("CN") {
            Some(Self::Cn)
        } else if name.eq_ignore_ascii_case("INTL") {
            Some(Self::Intl)
        } else {
            None
        }
    }

    /// The CLI's OAuth client id on this site.
    pub fn client_id(self) -> &'static str {
        match self {
            Self::Cn => "4038181954557748008",
            Self::Intl => "4103531455503354461",
        }
    }

    /// The site's OAuth service.
    pub fn endpoint(self) -> &'static str {
        match self {
            Self::Cn => "https://oauth.aliyun.com",
            Self::Intl => "https://oauth.alibabacloud.com",
        }
    }

    fn product(self) -> Product {
        match self {
            Self::Cn => Product::OAUTH_CN,
            Self::Intl => Product::OAUTH_INTL,
        }
    }
}

/// Where new tokens are written back: a CLI config and a profile in it.
#[derive(Clone, Debug)]
struct WriteBack {
    path: PathBuf,
    profile: String,
}

/// The tokens and the STS credentials of the profile, as they change.
struct Tokens {
    access_token: Option<Zeroizing<String>>,
    /// `None`: unknown, so refreshed first when a refresh token is there.
    access_token_expires: Option<SystemTime>,
    refresh_token: Option<Zeroizing<String>>,
    /// The profile's STS credentials, until the first load takes them.
    persisted: Option<Credentials>,
}

/// Exchanges an OAuth access token for STS credentials, refreshing the token as needed. See the
/// [module docs](self).
///
/// Uncached: every call but a first served from the profile's STS credentials is at least one
/// request. [`Builder::build`] wraps it in a [`RefreshCache`].
pub struct OAuthProvider {
    site: OAuthSite,
    endpoint: Endpoint,
    timeouts: Timeouts,
    write_back: Option<WriteBack>,
    tokens: tokio::sync::Mutex<Tokens>,
    ctx: Context,
}

impl fmt::Debug for OAuthProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthProvider")
            .field("site", &self.site)
            .field("endpoint", &self.endpoint)
            .field("timeouts", &self.timeouts)
            .field("write_back", &self.write_back)
            .finish_non_exhaustive()
    }
}

/// The token response; the tokens are wiped on drop.
#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
struct TokenResponse {
    access_token: Option<String>,
    refresh_token: Option<String>,
    #[zeroize(skip)]
    expires_in: Option<serde_json::Value>,
}

/// The exchange response in either spelling; the secrets are wiped on drop.
#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
struct ExchangeResponse {
    #[serde(rename = "AccessKeyId", alias = "accessKeyId")]
    access_key_id: Option<String>,
    #[serde(rename = "AccessKeySecret", alias = "accessKeySecret")]
    access_key_secret: Option<String>,
    #[serde(rename = "SecurityToken", alias = "securityToken")]
    security_token: Option<String>,
    #[serde(rename = "Expiration", alias = "expiration")]
    expiration: Option<String>,
    #[zeroize(skip)]
    error: Option<serde_json::Value>,
}

/// New tokens from `/v1/token`.
struct Refreshed {
    access_token: Zeroizing<String>,
    refresh_token: Zeroizing<String>,
    expires: SystemTime,
}

fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn text(value: &str) -> Update {
    Update::Text(Zeroizing::new(value.to_owned()))
}

/// Parses a token response received at `now`.
fn parse_token_response(body: &[u8], now: SystemTime) -> Result<Refreshed> {
    const WHAT: &str = "the OAuth token response";
    let response: TokenResponse = parse_json(body, WHAT, NAME)?;
    let present = |v: &Option<String>| v.as_deref().filter(|t| !t.is_empty()).map(str::to_owned);
    let (Some(access_token), Some(refresh_token)) = (
        present(&response.access_token),
        present(&response.refresh_token),
    ) else {
        let missing: Vec<&str> = [
            ("access_token", &response.access_token),
            ("refresh_token", &response.refresh_token),
        ]
        .into_iter()
        .filter(|(_, v)| present(v).is_none())
        .map(|(name, _)| name)
        .collect();
        return Err(CredentialsError::provider(
            NAME,
            format!("{WHAT} lacks {}", missing.join(", ")),
        ));
    };
    let (access_token, refresh_token) =
        (Zeroizing::new(access_token), Zeroizing::new(refresh_token));
    for (name, value) in [
        ("access_token", &access_token),
        ("refresh_token", &refresh_token),
    ] {
        if let Err(problem) = check_text(value) {
            return Err(CredentialsError::provider(
                NAME,
                format!("{WHAT}'s {name} {problem}"),
            ));
        }
    }
    let expires_in = match &response.expires_in {
        None | Some(serde_json::Value::Null) => DEFAULT_EXPIRES_IN,
        Some(value) => value.as_u64().filter(|s| *s > 0).ok_or_else(|| {
            CredentialsError::provider(
                NAME,
                format!("{WHAT}'s expires_in is not a positive whole number of seconds"),
            )
        })?,
    };
    Ok(Refreshed {
        access_token,
        refresh_token,
        expires: now + Duration::from_secs(expires_in.min(10 * 365 * 86_400)),
    })
}

/// Parses an exchange response: STS credentials, or the refusal its `error` names.
fn parse_exchange_response(body: &[u8], origin: &str, sent: &str) -> Result<Credentials> {
    const WHAT: &str = "the OAuth exchange response";
    let response: ExchangeResponse = parse_json(body, WHAT, NAME)?;
    if response.error.is_some() {
        return Err(ServiceError::read(body, &[sent]).into_error(
            NAME,
            &format!(
                "the OAuth service at {origin} refused the exchange of the access token for STS \
                 credentials"
            ),
            None,
        ));
    }
    sts_credentials(
        WHAT,
        [
            ("AccessKeyId", response.access_key_id.as_deref()),
            ("AccessKeySecret", response.access_key_secret.as_deref()),
            ("SecurityToken", response.security_token.as_deref()),
            ("Expiration", response.expiration.as_deref()),
        ],
        NAME,
    )
}

impl OAuthProvider {
    /// Settings for a new provider: the [`OAuthSite::Cn`] site, no token yet (an access token
    /// or a refresh token is required).
    pub fn builder() -> Builder {
        Builder::default()
    }

    async fn load(&self) -> Result<Credentials> {
        let mut tokens = self.tokens.lock().await;
        let now = self.ctx.time().now();
        if let Some(persisted) = tokens.persisted.take() {
            if persisted.expiration().is_some_and(|at| at > now) {
                tracing::debug!(
                    provider = NAME,
                    access_key_id = %persisted.masked_access_key_id(),
                    "reusing the STS credentials of the profile"
                );
                return Ok(persisted);
            }
        }
        let due = tokens.access_token.is_none()
            || tokens
                .access_token_expires
                .is_none_or(|at| at <= now + REFRESH_AHEAD);
        let mut refreshed = false;
        match &tokens.refresh_token {
            Some(refresh_token) if due => {
                let new = self.refresh(refresh_token, now).await?;
                tokens.access_token = Some(new.access_token);
                tokens.refresh_token = Some(new.refresh_token);
                tokens.access_token_expires = Some(new.expires);
                refreshed = true;
            }
            _ => {}
        }
        let Some(access_token) = tokens.access_token.clone() else {
            return Err(CredentialsError::invalid_configuration(
                NAME,
                format!("there is no OAuth access token and no refresh token: {RELOGIN}"),
            ));
        };
        if let Some(at) = tokens.access_token_expires.filter(|at| *at <= now) {
            return Err(CredentialsError::invalid_configuration(
                NAME,
                format!(
                    "the OAuth access token expired at {} and there is no refresh token: {RELOGIN}",
                    format_utc(at)
                ),
            ));
        }
        let exchanged = self.exchange(&access_token).await;
        let mut updates = Vec::new();
        if refreshed {
            updates.extend([
                (
                    "oauth_refresh_token",
                    text(tokens.refresh_token.as_ref().map_or("", |t| t.as_str())),
                ),
                ("oauth_access_token", text(&access_token)),
                (
                    "oauth_access_token_expire",
                    Update::Seconds(tokens.access_token_expires.map_or(0, unix_seconds)),
                ),
            ]);
        }
        if let Ok(creds) = &exchanged {
            updates.extend([
                ("access_key_id", text(creds.access_key_id())),
                ("access_key_secret", text(creds.access_key_secret())),
                (
                    "sts_token",
                    text(creds.security_token().unwrap_or_default()),
                ),
                (
                    "sts_expiration",
                    Update::Seconds(creds.expiration().map_or(0, unix_seconds)),
                ),
            ]);
        }
        // Still under the lock: a later load's newer tokens must not be overwritten by these.
        if !updates.is_empty() {
            self.write_back(&updates).await;
        }
        drop(tokens);
        exchanged
    }

    /// `POST /v1/token`: new tokens for `refresh_token`.
    async fn refresh(&self, refresh_token: &str, now: SystemTime) -> Result<Refreshed> {
        let timestamp = format_utc(now);
        let request = HttpRequest::post_form(
            self.endpoint.url(TOKEN_PATH),
            [
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", self.site.client_id()),
                ("Timestamp", timestamp.as_str()),
            ],
            self.timeouts,
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
                "the OAuth service at {} {} the access token refresh",
                self.endpoint.origin(),
                verb(status)
            );
            let hint = matches!(status, 400 | 401).then_some(RELOGIN);
            return Err(ServiceError::read(&body, &[refresh_token])
                .into_error(NAME, &what, hint)
                .with_status(status));
        }
        let refreshed = parse_token_response(&body, now)?;
        tracing::info!(
            provider = NAME,
            endpoint = %self.endpoint.origin(),
            expires = %format_utc(refreshed.expires),
            "refreshed the OAuth access token"
        );
        Ok(refreshed)
    }

    /// `POST /v1/exchange`: STS credentials for `access_token`.
    async fn exchange(&self, access_token: &str) -> Result<Credentials> {
        let request = HttpRequest::post_json(self.endpoint.url(EXCHANGE_PATH), "", self.timeouts)
            .header("Authorization", format!("Bearer {access_token}"));
        let response = self
            .ctx
            .http()
            .send(request)
            .await
            .map_err(|e| e.into_credentials_error(NAME))?;
        let status = response.status;
        let body = Zeroizing::new(response.body);
        let origin = self.endpoint.origin();
        if status != 200 {
            let what = format!(
                "the OAuth service at {origin} {} the exchange of the access token for STS \
                 credentials",
                verb(status)
            );
            let hint = (status == 401).then_some(RELOGIN);
            return Err(ServiceError::read(&body, &[access_token])
                .into_error(NAME, &what, hint)
                .with_status(status));
        }
        let credentials = parse_exchange_response(&body, &origin, access_token)?;
        tracing::debug!(
            provider = NAME,
            endpoint = %origin,
            access_key_id = %credentials.masked_access_key_id(),
            "exchanged the OAuth access token for STS credentials"
        );
        Ok(credentials)
    }

    /// Writes `updates` into the profile of [`Builder::write_back`], if set; a failure is logged.
    async fn write_back(&self, updates: &[(&str, Update)]) {
        let Some(target) = &self.write_back else {
            return;
        };
        let mut attempt = 1;
        let outcome = loop {
            match update_profile(
                self.ctx.fs(),
                &target.path,
                &target.profile,
                "OAuth",
                updates,
            ) {
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock && attempt < WRITE_ATTEMPTS =>
                {
                    attempt += 1;
                    self.ctx.sleep().sleep(WRITE_PAUSE).await;
                }
                outcome => break outcome,
            }
        };
        match outcome {
            Ok(()) => tracing::debug!(
                provider = NAME,
                file = %target.path.display(),
                keys = updates.len(),
                "wrote the OAuth tokens back to the CLI config"
            ),
            Err(e) => tracing::warn!(
                provider = NAME,
                file = %target.path.display(),
                error = %e,
                "could not write the OAuth tokens back to the CLI config; the next process may need a new login"
            ),
        }
    }
}

impl CredentialsProvider for OAuthProvider {
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        ProvideCredentials::boxed(self.load())
    }
}

/// Builds an [`OAuthProvider`]; see [`OAuthProvider::builder`].
#[derive(Default)]
pub struct Builder {
    site: OAuthSite,
    access_token: Option<(Zeroizing<String>, Option<SystemTime>)>,
    refresh_token: Option<Zeroizing<String>>,
    sts: Option<Credentials>,
    endpoint: EndpointSettings,
    timeouts: Option<Timeouts>,
    write_back: Option<WriteBack>,
    context: Option<Context>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("site", &self.site)
            .field("access_token", &self.access_token.as_ref().map(|_| "set"))
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "set"))
            .field(
                "sts",
                &self.sts.as_ref().map(Credentials::masked_access_key_id),
            )
            .field("endpoint", &self.endpoint)
            .field("write_back", &self.write_back)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// The account's site (default [`OAuthSite::Cn`]): the OAuth service and the client id.
    pub fn site(mut self, site: OAuthSite) -> Self {
        self.site = site;
        self
    }

    /// The access token (`oauth_access_token`) and when it expires (`oauth_access_token_expire`;
    /// `None` when unknown, so that a refresh token renews it first).
    pub fn access_token(
        mut self,
        token: impl Into<String>,
        expires_at: impl Into<Option<SystemTime>>,
    ) -> Self {
        self.access_token = Some((Zeroizing::new(token.into()), expires_at.into()));
        self
    }

    /// The refresh token (`oauth_refresh_token`).
    pub fn refresh_token(mut self, token: impl Into<String>) -> Self {
        self.refresh_token = Some(Zeroizing::new(token.into()));
        self
    }

    /// STS credentials of an earlier exchange (the profile's `access_key_id`, `access_key_secret`,
    /// `sts_token`, `sts_expiration`), served by the first load while they have not expired.
    /// Credentials without a security token or an expiration are ignored.
    pub fn sts_credentials(mut self, credentials: Credentials) -> Self {
        self.sts = Some(credentials);
        self
    }

    /// Another OAuth service, a host or `scheme://host[:port]` (default:
    /// `ALIBABA_CLOUD_OAUTH_ENDPOINT`, else the site's).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = self.endpoint.endpoint(endpoint);
        self
    }

    /// `true` permits a plain `http` endpoint to any host (default: only to loopback addresses).
    /// Tokens and credentials then cross the network unencrypted.
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.endpoint = self.endpoint.allow_http(allow);
        self
    }

    /// Connect and read budgets of each request (default [`Timeouts::OAUTH`]: 5 s and 10 s).
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = Some(timeouts);
        self
    }

    /// Writes new tokens and credentials back into the CLI config at `path`, into the profile
    /// `profile` (or the OAuth profile its `source_profile` links lead to). See the
    /// [module docs](self).
    pub fn write_back(mut self, path: impl Into<PathBuf>, profile: impl Into<String>) -> Self {
        self.write_back = Some(WriteBack {
            path: path.into(),
            profile: profile.into(),
        });
        self
    }

    /// The outside world (default [`Context::default`]).
    pub fn context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }

    /// Checks the settings and returns the provider inside a [`RefreshCache`].
    /// [`InvalidConfiguration`](crate::ErrorKind::InvalidConfiguration) when there is neither an
    /// access token nor a refresh token, for a token holding a control character, or an unusable
    /// endpoint.
    pub fn build(self) -> Result<RefreshCache<Credentials>> {
        let provider = self.build_uncached()?;
        Ok(provider.ctx.cache_builder(NAME).build_for(provider))
    }

    /// Checks the settings and returns the provider without a cache (for composition and tests).
    pub fn build_uncached(self) -> Result<OAuthProvider> {
        let ctx = self.context.unwrap_or_default();
        let invalid = |why: String| CredentialsError::invalid_configuration(NAME, why);
        let access = self.access_token.filter(|(t, _)| !t.trim().is_empty());
        let refresh_token = self.refresh_token.filter(|t| !t.trim().is_empty());
        if access.is_none() && refresh_token.is_none() {
            return Err(invalid(format!(
                "OAuth needs an access token or a refresh token: {RELOGIN}"
            )));
        }
        for (what, token) in [
            ("access token", access.as_ref().map(|(t, _)| t)),
            ("refresh token", refresh_token.as_ref()),
        ] {
            if let Some(Err(problem)) = token.map(|t| check_text(t)) {
                return Err(invalid(format!("the OAuth {what} {problem}")));
            }
        }
        let endpoint = self
            .endpoint
            .resolve(self.site.product(), NAME, ctx.env())?;
        let persisted = self
            .sts
            .filter(|c| c.security_token().is_some() && c.expiration().is_some())
            .map(|c| {
                Credentials::builder()
                    .access_key_id(c.access_key_id())
                    .access_key_secret(c.access_key_secret())
                    .security_token(c.security_token().unwrap_or_default())
                    .expiration(c.expiration().unwrap_or(UNIX_EPOCH))
                    .provider_path(NAME)
                    .build()
            })
            .transpose()?;
        let (access_token, access_token_expires) = match access {
            Some((token, at)) => (Some(token), at),
            None => (None, None),
        };
        Ok(OAuthProvider {
            site: self.site,
            endpoint,
            timeouts: self.timeouts.unwrap_or(Timeouts::OAUTH),
            write_back: self.write_back,
            tokens: tokio::sync::Mutex::new(Tokens {
                access_token,
                access_token_expires,
                refresh_token,
                persisted,
            }),
            ctx,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mse_auth::os::Env;
    use mse_auth::{vars, ErrorKind};

    fn ctx(env: &[(&str, &str)]) -> Context {
        Context::default().with_env(Env::from_pairs(env.iter().copied()))
    }

    #[test]
    fn sites_map_to_their_service_and_client_id() {
        for (name, site) in [
            ("CN", OAuthSite::Cn),
            ("cn", OAuthSite::Cn),
            (" Intl ", OAuthSite::Intl),
        ] {
            assert_eq!(OAuthSite::from_name(name), Some(site), "{name}");
        }
        assert_eq!(OAuthSite::from_name(""), None);
        assert_eq!(OAuthSite::Cn.client_id(), "4038181954557748008");
        let p = OAuthProvider::builder()
            .refresh_token("rt")
            .site(OAuthSite::Intl)
            .context(ctx(&[]))
            .build_uncached()
            .unwrap();
        assert_eq!(p.endpoint.origin(), "https://oauth.alibabacloud.com");
        let p = OAuthProvider::builder()
            .refresh_token("rt")
            .context(ctx(&[(vars::OAUTH_ENDPOINT, "http://127.0.0.1:9")]))
            .build_uncached()
            .unwrap();
        assert_eq!(
            p.endpoint.url(TOKEN_PATH).as_str(),
            "http://127.0.0.1:9/v1/token"
        );
    }

    #[test]
    fn tokens_are_required_and_checked_and_never_shown() {
        let err = OAuthProvider::builder()
            .access_token(" ", None)
            .context(ctx(&[]))
            .build_uncached()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "oauth: invalid configuration: OAuth needs an access token or a refresh token: log in \
             again with the Alibaba Cloud CLI: aliyun configure --mode OAuth"
        );
        let err = OAuthProvider::builder()
            .refresh_token("sentinel\u{1b}")
            .context(ctx(&[]))
            .build_uncached()
            .unwrap_err();
        assert_eq!(
            err.message(),
            "the OAuth refresh token holds a control character"
        );
        let err = OAuthProvider::builder()
            .refresh_token("sentinel")
            .endpoint("http://oauth.example.com")
            .context(ctx(&[]))
            .build_uncached()
            .unwrap_err();
        assert!(
            err.message().starts_with(
                "the configured OAuth endpoint: refusing plain http to http://oauth.example.com"
            ),
            "{err}"
        );
        let builder = OAuthProvider::builder()
            .refresh_token("sentinel-rt")
            .access_token("sentinel-at", None);
        let shown = format!("{builder:?}");
        let shown = format!(
            "{shown} {:?}",
            builder.context(ctx(&[])).build_uncached().unwrap()
        );
        assert!(!shown.contains("sentinel"), "{shown}");
    }

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    #[test]
    fn token_responses_are_read_with_their_default_lifetime() {
        let r = parse_token_response(
            br#"{"access_token":"at","refresh_token":"rt","token_type":"Bearer"}"#,
            now(),
        )
        .unwrap();
        assert_eq!(
            (r.access_token.as_str(), r.refresh_token.as_str()),
            ("at", "rt")
        );
        assert_eq!(r.expires, now() + Duration::from_secs(3600));
        let r = parse_token_response(
            br#"{"access_token":"at","refresh_token":"rt","expires_in":7200}"#,
            now(),
        )
        .unwrap();
        assert_eq!(r.expires, now() + Duration::from_secs(7200));
        let bad = |body: &str| {
            let err = parse_token_response(body.as_bytes(), now())
                .err()
                .expect("an error");
            assert_eq!(err.kind(), ErrorKind::Provider);
            assert!(!format!("{err:?}").contains("sentinel"), "{err:?}");
            err.message().to_owned()
        };
        assert_eq!(
            bad(r#"{"refresh_token":"sentinel","access_token":""}"#),
            "the OAuth token response lacks access_token"
        );
        assert_eq!(
            bad(r#"{"token_type":"Bearer"}"#),
            "the OAuth token response lacks access_token, refresh_token"
        );
        assert_eq!(
            bad(r#"{"access_token":"sentinel","refresh_token":"sentinel","expires_in":"1h"}"#),
            "the OAuth token response's expires_in is not a positive whole number of seconds"
        );
        assert_eq!(
            bad(r#"{"access_token":"sentinel\n","refresh_token":"sentinel"}"#),
            "the OAuth token response's access_token holds a control character"
        );
        assert_eq!(
            bad("<html>"),
            "the OAuth token response is not JSON (line 1, column 1)"
        );
        assert_eq!(
            bad(r#"{"access_token":["sentinel"]}"#),
            "the OAuth token response is not a JSON object of string fields"
        );
    }

    #[test]
    fn exchange_responses_are_read_in_either_spelling() {
        let pascal = br#"{"AccessKeyId":"STS.a","AccessKeySecret":"s","SecurityToken":"t","Expiration":"2023-11-14T22:13:20Z","RequestId":"r"}"#;
        let camel = br#"{"accessKeyId":"STS.a","accessKeySecret":"s","securityToken":"t","expiration":"2023-11-14T22:13:20Z","requestId":"r"}"#;
        for body in [&pascal[..], &camel[..]] {
            let c = parse_exchange_response(body, "https://o", "at").unwrap();
            assert_eq!((c.access_key_id(), c.access_key_secret()), ("STS.a", "s"));
            assert_eq!(c.security_token(), Some("t"));
            assert_eq!(c.expiration(), Some(now()));
            assert_eq!(c.provider_path(), "oauth");
        }
        let err = parse_exchange_response(
            br#"{"error":"invalid_token","error_description":"expired sentinel-at"}"#,
            "https://o",
            "sentinel-at",
        )
        .unwrap_err();
        assert_eq!(err.code(), Some("invalid_token"));
        assert_eq!(
            err.to_string(),
            "oauth: invalid_token: the OAuth service at https://o refused the exchange of the \
             access token for STS credentials"
        );
        let err =
            parse_exchange_response(br#"{"AccessKeyId":"STS.a"}"#, "https://o", "at").unwrap_err();
        assert_eq!(
            err.message(),
            "the OAuth exchange response lacks AccessKeySecret, SecurityToken, Expiration"
        );
    }
}
