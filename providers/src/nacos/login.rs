//! Nacos username/password login: an `accessToken` kept fresh by the same [`RefreshCache`] that serves
//! credentials. Provider name `nacos_login`.
//!
//! - `POST {ctx}/v3/auth/user/login`, falling back to `{ctx}/v1/auth/users/login` when the server answers
//!   404 or 501 (Nacos before 3.0); the user name travels in the query, the password only in the form
//!   body, never in a URL (spec §A.1–A.2).
//! - Servers are tried in order; the first that answers 2xx wins.
//! - The token is refreshed at `ttl − U[ttl/15, ttl/10)` after login (Java 2.5.1+, spec §A.6), in the
//!   background, so requests never wait for a login once the first one is done.
//! - [`NacosLogin::relogin`] is for callers whose request was refused with 403 (HTTP 403, or a gRPC
//!   `ErrorResponse` with `errorCode` 403): it logs in again, at most once per 60 s.
//! - An empty user name means no login at all ([`NacosLogin::token`] returns `None`).
//! - The password and the token never reach `Debug`, logs or error messages.
//!
//! Environment (read by [`NacosLogin::from_env`]): `NACOS_CLIENT_SERVER_ADDRESS`,
//! `NACOS_CLIENT_USERNAME`, `NACOS_CLIENT_PASSWORD`.
//!
//! ```no_run
//! use mse_auth_providers::nacos::NacosLogin;
//! # async fn demo() -> Result<(), mse_auth_providers::CredentialsError> {
//! let login = NacosLogin::builder("127.0.0.1:8848").username("nacos").password("nacos").build()?;
//! if let Some(token) = login.token().await? {
//!     println!("token valid for {:?}", token.ttl()); // the token itself is never printed
//! }
//! # Ok(()) }
//! ```

use super::server_list::{ServerList, DEFAULT_CONTEXT_PATH};
use crate::context::Context;
use crate::http::{HttpRequest, HttpResponse, Timeouts};
use mse_auth::cache::Expiring;
use mse_auth::{CredentialsError, RefreshCache, Result};
use serde::Deserialize;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use zeroize::Zeroizing;

/// Name used in errors and logs.
pub const NAME: &str = "nacos_login";
/// The Nacos 3 login path.
pub const LOGIN_V3: &str = "/v3/auth/user/login";
/// The login path of Nacos 1.x/2.x.
pub const LOGIN_V1: &str = "/v1/auth/users/login";
/// Shortest interval between two [`NacosLogin::relogin`] logins.
pub const RELOGIN_INTERVAL: Duration = Duration::from_secs(60);
/// Token lifetime assumed when the server does not say (`tokenTtl` absent).
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(18_000);

/// A Nacos access token. Cheap to clone; `Debug` hides the token; wiped from memory on drop.
#[derive(Clone)]
pub struct NacosToken(Arc<TokenInner>);

struct TokenInner {
    access_token: Zeroizing<String>,
    ttl: Duration,
    issued_at: SystemTime,
    server: String,
}

impl NacosToken {
    /// The token, for the `accessToken` identity entry. Never log it.
    pub fn access_token(&self) -> &str {
        &self.0.access_token
    }

    /// The lifetime the server gave (`tokenTtl`).
    pub fn ttl(&self) -> Duration {
        self.0.ttl
    }

    /// When the login happened (by the client's clock).
    pub fn issued_at(&self) -> SystemTime {
        self.0.issued_at
    }

    /// `scheme://host:port` of the server that issued it.
    pub fn server(&self) -> &str {
        &self.0.server
    }
}

impl fmt::Debug for NacosToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NacosToken")
            .field("access_token", &"** redacted **")
            .field("ttl", &self.0.ttl)
            .field("server", &self.0.server)
            .finish()
    }
}

impl Expiring for NacosToken {
    fn expiration(&self) -> Option<SystemTime> {
        Some(self.0.issued_at + self.0.ttl)
    }

    fn unshared_copy(&self) -> Self {
        Self(Arc::new(TokenInner {
            access_token: self.0.access_token.clone(),
            ttl: self.0.ttl,
            issued_at: self.0.issued_at,
            server: self.0.server.clone(),
        }))
    }
}

/// Logs in to Nacos and keeps the token fresh.
pub struct NacosLogin {
    cache: Option<RefreshCache<NacosToken>>,
    ctx: Context,
    last_relogin: Mutex<Option<SystemTime>>,
}

impl fmt::Debug for NacosLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NacosLogin")
            .field("enabled", &self.cache.is_some())
            .finish_non_exhaustive()
    }
}

/// Settings of a [`NacosLogin`].
pub struct Builder {
    servers: String,
    context_path: String,
    username: String,
    password: Zeroizing<String>,
    timeouts: Timeouts,
    ctx: Option<Context>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("servers", &self.servers)
            .field("context_path", &self.context_path)
            .field("username", &self.username)
            .field("password", &"** redacted **")
            .finish_non_exhaustive()
    }
}

impl NacosLogin {
    /// Settings for the comma-separated `servers` (`host[:port]` or `http(s)://host[:port]`).
    pub fn builder(servers: impl Into<String>) -> Builder {
        Builder {
            servers: servers.into(),
            context_path: DEFAULT_CONTEXT_PATH.to_string(),
            username: String::new(),
            password: Zeroizing::new(String::new()),
            timeouts: Timeouts::new(Duration::from_secs(3), Duration::from_secs(5)),
            ctx: None,
        }
    }

    /// Settings from `NACOS_CLIENT_SERVER_ADDRESS`, `NACOS_CLIENT_USERNAME` and `NACOS_CLIENT_PASSWORD`.
    pub fn from_env(ctx: &Context) -> Result<Builder> {
        let env = ctx.env();
        let servers = env.get(super::SERVER_ADDRESS).ok_or_else(|| {
            CredentialsError::not_loaded(NAME, format!("{} is not set", super::SERVER_ADDRESS))
        })?;
        let mut builder = Self::builder(servers).context(ctx.clone());
        if let Some(user) = env.get(super::USERNAME) {
            builder = builder.username(user);
        }
        if let Some(password) = env.get(super::PASSWORD) {
            builder = builder.password(password);
        }
        Ok(builder)
    }

    /// The current token, logging in first if needed; `None` when no user name is configured.
    pub async fn token(&self) -> Result<Option<NacosToken>> {
        match &self.cache {
            None => Ok(None),
            Some(cache) => cache.get().await.map(Some),
        }
    }

    /// The cached token without waiting (for synchronous callers such as `AuthPlugin::get_login_identity`).
    pub fn current(&self) -> Option<NacosToken> {
        self.cache.as_ref().and_then(RefreshCache::current)
    }

    /// Logs in again after the server refused a token (HTTP 403, or gRPC `errorCode` 403), unless the
    /// last login was less than 60 s ago: then the current token is returned, since a fresh one would not
    /// help and a storm of logins would.
    pub async fn relogin(&self) -> Result<Option<NacosToken>> {
        let Some(cache) = &self.cache else {
            return Ok(None);
        };
        let now = self.ctx.time().now();
        let recent = |at: SystemTime| now.duration_since(at).unwrap_or_default() < RELOGIN_INTERVAL;
        {
            let mut last = self.last_relogin.lock().unwrap_or_else(|p| p.into_inner());
            let newest_login = cache.current().map(|t| t.issued_at());
            if last.is_some_and(recent) || newest_login.is_some_and(recent) {
                tracing::debug!(
                    name = NAME,
                    "relogin skipped: the last login is less than 60 s old"
                );
                return Ok(cache.current());
            }
            *last = Some(now);
        }
        cache.refresh().await.map(Some)
    }
}

impl Builder {
    /// The context path (default `/nacos`; blank or `/` for none).
    pub fn context_path(mut self, path: impl Into<String>) -> Self {
        self.context_path = path.into();
        self
    }

    /// The user name; empty (the default) means no login.
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = username.into();
        self
    }

    /// The password. Kept in memory that is wiped on drop; sent only in a form body.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Zeroizing::new(password.into());
        self
    }

    /// Connect and read budgets of one login request (default 3 s / 5 s).
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The context (clock, sleep, HTTP).
    pub fn context(mut self, ctx: Context) -> Self {
        self.ctx = Some(ctx);
        self
    }

    /// Validates the server list; nothing is sent until the first [`NacosLogin::token`].
    pub fn build(self) -> Result<NacosLogin> {
        let ctx = self.ctx.unwrap_or_default();
        let servers = ServerList::parse(&self.servers, &self.context_path)
            .map_err(|e| CredentialsError::invalid_configuration(NAME, e))?;
        let cache = (!self.username.trim().is_empty()).then(|| {
            let login = Arc::new(Login {
                ctx: ctx.clone(),
                servers,
                username: self.username,
                password: self.password,
                timeouts: self.timeouts,
            });
            ctx.cache_builder(NAME)
                // Refresh at ttl − U[ttl/15, ttl/10): 90–93.3 % of the lifetime, so the token must
                // stay in service past that: until min(60 s, 5 %) before it expires.
                .refresh_window(1.0 - 1.0 / 10.0, 1.0 - 1.0 / 15.0)
                .expiry_margin(Duration::from_secs(60), 0.05)
                .build_with(move || {
                    let login = login.clone();
                    async move { login.login().await }
                })
        });
        Ok(NacosLogin {
            cache,
            ctx,
            last_relogin: Mutex::new(None),
        })
    }
}

/// What one login needs.
struct Login {
    ctx: Context,
    servers: ServerList,
    username: String,
    password: Zeroizing<String>,
    timeouts: Timeouts,
}

#[derive(Deserialize)]
struct LoginResponse {
    #[serde(rename = "accessToken")]
    access_token: Option<String>,
    #[serde(rename = "tokenTtl")]
    token_ttl: Option<u64>,
}

impl Login {
    /// Tries every server in order; the first 2xx wins.
    async fn login(&self) -> Result<NacosToken> {
        let mut failures = Vec::new();
        for index in 0..self.servers.len() {
            match self.login_to(index).await {
                Ok(token) => return Ok(token),
                Err(err) => {
                    tracing::warn!(name = NAME, server = %self.servers.origin(index), error = %err, "login failed");
                    failures.push(err);
                }
            }
        }
        let last = failures.pop().expect("at least one server");
        if failures.is_empty() {
            return Err(last);
        }
        let others: Vec<String> = failures.iter().map(|e| e.message().to_string()).collect();
        Err(match last.status() {
            Some(status) => CredentialsError::provider(
                NAME,
                format!("{} (other servers: {})", last.message(), others.join("; ")),
            )
            .with_status(status),
            None => CredentialsError::unhandled(
                NAME,
                format!("{} (other servers: {})", last.message(), others.join("; ")),
            ),
        })
    }

    async fn login_to(&self, index: usize) -> Result<NacosToken> {
        let response = self.post(index, LOGIN_V3).await?;
        let response = if matches!(response.status, 404 | 501) {
            self.post(index, LOGIN_V1).await?
        } else {
            response
        };
        let origin = self.servers.origin(index);
        if !response.is_success() {
            let said = self.scrub(&response.body_excerpt(200));
            let reason = if response.status == 403 {
                "login refused: wrong user name or password?"
            } else {
                "login failed"
            };
            return Err(CredentialsError::provider(
                NAME,
                format!("{origin}: {reason} (server said: {})", said.trim()),
            )
            .with_status(response.status));
        }
        parse_login(&response, &origin, self.ctx.time().now())
    }

    async fn post(&self, index: usize, path: &str) -> Result<HttpResponse> {
        let mut url = self.servers.url(index, path);
        url.query_pairs_mut()
            .append_pair("username", &self.username);
        let request =
            HttpRequest::post_form(url, [("password", self.password.as_str())], self.timeouts);
        self.ctx
            .http()
            .send(request)
            .await
            .map_err(|e| e.into_credentials_error(NAME))
    }

    /// Removes the password from a server message, should a server ever echo it.
    fn scrub(&self, text: &str) -> String {
        if self.password.is_empty() {
            text.to_string()
        } else {
            text.replace(self.password.as_str(), "** redacted **")
        }
    }
}

/// Reads `accessToken` and `tokenTtl` (spec §A.3).
pub(crate) fn parse_login(
    response: &HttpResponse,
    origin: &str,
    now: SystemTime,
) -> Result<NacosToken> {
    let parsed: LoginResponse = serde_json::from_slice(&response.body).map_err(|e| {
        CredentialsError::provider(
            NAME,
            format!("{origin}: the login response is not JSON: {e}"),
        )
        .with_status(response.status)
    })?;
    let token = parsed
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            CredentialsError::provider(
                NAME,
                format!("{origin}: the login response has no accessToken"),
            )
            .with_status(response.status)
        })?;
    let ttl = parsed
        .token_ttl
        .filter(|t| *t > 0)
        .map_or(DEFAULT_TOKEN_TTL, Duration::from_secs);
    Ok(NacosToken(Arc::new(TokenInner {
        access_token: Zeroizing::new(token),
        ttl,
        issued_at: now,
        server: origin.to_string(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mse_auth::ErrorKind;

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn login_responses_parse_into_tokens() {
        let now = SystemTime::UNIX_EPOCH;
        let t = parse_login(
            &response(
                200,
                r#"{"accessToken":"sentinel-token","tokenTtl":5,"globalAdmin":true}"#,
            ),
            "http://h:8848",
            now,
        )
        .unwrap();
        assert_eq!(t.access_token(), "sentinel-token");
        assert_eq!(t.ttl(), Duration::from_secs(5));
        assert_eq!(t.expiration(), Some(now + Duration::from_secs(5)));
        assert!(!format!("{t:?}").contains("sentinel-token"));
        let t = parse_login(&response(200, r#"{"accessToken":"x"}"#), "o", now).unwrap();
        assert_eq!(t.ttl(), DEFAULT_TOKEN_TTL);
    }

    #[test]
    fn bad_login_responses_are_provider_errors() {
        let now = SystemTime::UNIX_EPOCH;
        let err = parse_login(&response(200, "AUTH_DISABLED"), "http://h:8848", now).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Provider);
        assert!(
            err.to_string().starts_with(
                "nacos_login: HTTP 200: http://h:8848: the login response is not JSON"
            ),
            "{err}"
        );
        let err = parse_login(&response(200, r#"{"tokenTtl":5}"#), "o", now).unwrap_err();
        assert_eq!(
            err.to_string(),
            "nacos_login: HTTP 200: o: the login response has no accessToken"
        );
    }

    #[test]
    fn empty_username_means_no_login_and_bad_servers_are_rejected() {
        let login = NacosLogin::builder("127.0.0.1")
            .password("sentinel-password")
            .build()
            .unwrap();
        assert!(login.current().is_none());
        let err = NacosLogin::builder(",").username("u").build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        let b = NacosLogin::builder("h")
            .username("u")
            .password("sentinel-password");
        assert!(!format!("{b:?}").contains("sentinel-password"));
    }
}
