//! Nacos username/password login: an `accessToken` kept fresh by the same [`RefreshCache`] that serves
//! credentials. Provider name `nacos_login`.
//!
//! - `POST {ctx}/v3/auth/user/login`, falling back to `{ctx}/v1/auth/users/login` when the server answers
//!   404 or 501 (Nacos before 3.0); the user name travels in the query, the password only in the form
//!   body, never in a URL (spec §A.1–A.2).
//! - Servers are tried in order; the first that answers 2xx wins. When all fail, the error names every
//!   server with its own reason: `login failed on 2 servers: http://10.0.0.7:8848: timed out after
//!   3s (no connection); http://10.0.0.8:8848: HTTP 403: login refused: wrong user name or password?`.
//! - The token is refreshed at `ttl − U[ttl/15, ttl/10)` after login (Java 2.5.1+, spec §A.6), in the
//!   background, so requests never wait for a login once the first one is done.
//! - [`NacosLogin::relogin`] is for callers whose request was refused with 403 (HTTP 403, or a gRPC
//!   `ErrorResponse` with `errorCode` 403): given the refused token, it logs in again at once if that
//!   token is still current, returns the newer one if not, and says whether a retry can succeed
//!   ([`Relogin`]). Its forced logins are rate-limited on their own (scheduled renewals do not count):
//!   see [the relogin rule](#the-relogin-rule).
//! - An empty user name means no login at all ([`NacosLogin::token`] returns `None`); a user name
//!   with an empty password is an `InvalidConfiguration` error of [`Builder::build`].
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
//!
//! # The relogin rule
//! [`NacosLogin::relogin`]`(refused)`, where `refused` is the token the server refused (compared by
//! value):
//! 1. If the current token is another one, it is returned ([`Relogin::Replaced`]), without a login:
//!    a scheduled renewal, or a concurrent caller's relogin, has already replaced `refused`.
//! 2. If no valid token is cached, one is loaded as [`NacosLogin::token`] does.
//! 3. Otherwise `refused` is current, and a *forced* login replaces it now, unless the backoff
//!    holds it back ([`Relogin::HeldBack`], with the time the next one is allowed; no login is made).
//!    Concurrent callers refused with the same token cause one login: the others wait for it and then
//!    get its token, as in 1 (or, if it failed, [`Relogin::HeldBack`]: the failure counts against the
//!    next forced login).
//!
//! The backoff counts only forced logins. A forced login may start `gap(s)` after the previous forced
//! login ended, where `gap(s) = min(`[`RELOGIN_MIN_GAP`]` × 2^(s−1), `[`RELOGIN_MAX_GAP`]`)` for
//! `s ≥ 1`, and [`RELOGIN_MIN_GAP`] for `s = 0`: 1 s, 1 s, 2 s, 4 s … 32 s, then 60 s. `s` counts the
//! signs, in a row, that the server keeps refusing:
//! - `s + 1` for each forced login that fails (its error is returned, with the server's message);
//! - `s + 1` when a token a forced login produced is refused less than [`RELOGIN_MAX_GAP`] after it
//!   was issued (counted once per token).
//!
//! `s` goes back to 0 when a token a forced login produced is refused [`RELOGIN_MAX_GAP`] or more
//! after it was issued (it was accepted in between), and when a login that was not forced (a
//! scheduled renewal, or a load by [`NacosLogin::token`]) has succeeded since the last forced login.
//! So a server that refuses every token right away sees forced logins at 0, 1, 3, 7, 15, 31, 63, 123,
//! 183 … s (by the login's clock, [`Builder::context`]), while after a token secret rotation every
//! client logs in once, at once. There is no jitter: each client's forced logins follow its own
//! refusals, not a shared schedule.

use super::server_list::{ServerList, DEFAULT_CONTEXT_PATH};
use crate::context::Context;
use crate::http::{HttpRequest, HttpResponse, Timeouts, TransportError, TransportErrorKind};
use mse_auth::cache::Expiring;
use mse_auth::error::escape_untrusted;
use mse_auth::{CredentialsError, ErrorKind, RefreshCache, Result};
use serde::Deserialize;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use zeroize::Zeroizing;

/// Name used in errors and logs.
pub const NAME: &str = "nacos_login";
/// The Nacos 3 login path.
pub const LOGIN_V3: &str = "/v3/auth/user/login";
/// The login path of Nacos 1.x/2.x.
pub const LOGIN_V1: &str = "/v1/auth/users/login";
/// Shortest gap between two forced logins of [`NacosLogin::relogin`] (from the end of one to the
/// start of the next), and the first step of their backoff. See [the relogin rule](self#the-relogin-rule).
///
/// ```
/// use std::time::Duration;
/// use mse_auth_providers::nacos::login::{RELOGIN_MAX_GAP, RELOGIN_MIN_GAP};
/// // While the server keeps refusing, the gaps double from the minimum up to the maximum.
/// assert_eq!((RELOGIN_MIN_GAP, RELOGIN_MAX_GAP), (Duration::from_secs(1), Duration::from_secs(60)));
/// ```
pub const RELOGIN_MIN_GAP: Duration = Duration::from_secs(1);
/// Longest gap between two forced logins of [`NacosLogin::relogin`] (the backoff's cap); also how
/// long a forced token must have been in use before its refusal no longer counts against the next
/// forced login. See [the relogin rule](self#the-relogin-rule).
pub const RELOGIN_MAX_GAP: Duration = Duration::from_secs(60);
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
    /// Which login of its [`NacosLogin`] produced it, counted from 1 (0: not from a login).
    serial: u64,
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

    /// Which login of its [`NacosLogin`] produced it: later logins have greater serials.
    pub(crate) fn serial(&self) -> u64 {
        self.0.serial
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
            serial: self.0.serial,
        }))
    }
}

/// What [`NacosLogin::relogin`] did, and whether a retry of the refused request can succeed: only
/// after [`Replaced`](Relogin::Replaced). See [the relogin rule](self#the-relogin-rule).
///
/// ```no_run
/// use mse_auth_providers::nacos::{NacosLogin, Relogin};
/// # async fn demo(login: &NacosLogin) -> Result<(), mse_auth_providers::CredentialsError> {
/// let Some(token) = login.token().await? else { return Ok(()) };
/// // ... the server answered 403 to a request carrying `token` ...
/// match login.relogin(&token).await? {
///     Relogin::Replaced(fresh) => { /* retry the request with `fresh` */ }
///     Relogin::HeldBack { until } => println!("the server keeps refusing; next login at {until:?}"),
///     other => println!("a retry would be refused again: {other:?}"),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Relogin {
    /// The current token is not the refused one: retry with it. It is either the token of a login made
    /// after the refused one (a scheduled renewal, a concurrent relogin), returned without a login,
    /// or the token of this call's forced login.
    Replaced(NacosToken),
    /// The refused token is still current and the backoff allows no forced login before `until` (by
    /// the login's clock): no login was made, and a retry now would be refused again.
    HeldBack {
        /// When the next forced login is allowed.
        until: SystemTime,
    },
    /// The forced login succeeded, but the server handed back the refused token (a server-side token
    /// cache, spec §A.5): a retry would be refused again.
    Unchanged(NacosToken),
    /// No user name is configured: there is no token to replace.
    Disabled,
}

impl Relogin {
    /// `true` when the caller now has a token other than the refused one ([`Relogin::Replaced`]): only
    /// then can a retry succeed.
    pub fn replaced(&self) -> bool {
        matches!(self, Relogin::Replaced(_))
    }

    /// The token to retry with, for [`Relogin::Replaced`].
    pub fn token(&self) -> Option<&NacosToken> {
        match self {
            Relogin::Replaced(token) => Some(token),
            _ => None,
        }
    }
}

/// The gap a forced login keeps after the previous one with `strikes` signs of refusal in a row.
fn relogin_gap(strikes: u32) -> Duration {
    let doublings = strikes.saturating_sub(1).min(31);
    RELOGIN_MIN_GAP
        .saturating_mul(1 << doublings)
        .min(RELOGIN_MAX_GAP)
}

/// The bookkeeping of forced logins; its lock is held across a forced login (single flight).
#[derive(Default)]
struct Forced {
    /// When the last forced login ended (or began, while it runs).
    ended: Option<SystemTime>,
    /// Signs in a row that the server keeps refusing.
    strikes: u32,
    /// Serial of the token the last forced login produced (0 after a failure).
    token: u64,
    /// Serial of the newest token when the last forced login ended: newer ones came from loads that
    /// were not forced.
    watermark: u64,
    /// Serial of the forced token whose refusal has been counted.
    counted: u64,
}

/// Logs in to Nacos and keeps the token fresh.
pub struct NacosLogin {
    cache: Option<RefreshCache<NacosToken>>,
    ctx: Context,
    /// The serial of the last token a login produced.
    serials: Arc<AtomicU64>,
    forced: tokio::sync::Mutex<Forced>,
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
        let var = |name: &str| {
            env.get_checked(name)
                .map_err(|e| e.invalid_configuration(NAME))
        };
        let servers = var(super::SERVER_ADDRESS)?.ok_or_else(|| {
            CredentialsError::not_loaded(NAME, format!("{} is not set", super::SERVER_ADDRESS))
        })?;
        let mut builder = Self::builder(servers).context(ctx.clone());
        if let Some(user) = var(super::USERNAME)? {
            builder = builder.username(user);
        }
        if let Some(password) = var(super::PASSWORD)? {
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

    /// After the server refused `refused` (HTTP 403, or gRPC `errorCode` 403): replaces it, by a login
    /// now if it is still the current token, and says whether a retry can succeed. See
    /// [the relogin rule](self#the-relogin-rule): a newer current token is returned without a login,
    /// concurrent callers refused with the same token cause one login, and forced logins back off
    /// ([`Relogin::HeldBack`]) while the server keeps refusing. A failed login returns its error.
    ///
    /// ```no_run
    /// # use mse_auth_providers::nacos::NacosLogin;
    /// # async fn demo(login: &NacosLogin) -> Result<(), mse_auth_providers::CredentialsError> {
    /// let token = login.token().await?.expect("a user name is configured");
    /// // ... the request with `token` was answered 403 ...
    /// if let Some(fresh) = login.relogin(&token).await?.token() {
    ///     assert_ne!(fresh.access_token(), token.access_token()); // retry with `fresh`
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn relogin(&self, refused: &NacosToken) -> Result<Relogin> {
        let Some(cache) = &self.cache else {
            return Ok(Relogin::Disabled);
        };
        let classify = |token: NacosToken| {
            if token.access_token() == refused.access_token() {
                Relogin::Unchanged(token)
            } else {
                Relogin::Replaced(token)
            }
        };
        let mut forced = self.forced.lock().await;
        let Some(current) = cache.current() else {
            // Nothing valid is cached: an ordinary load, shared with concurrent callers.
            drop(forced);
            return cache.get().await.map(classify);
        };
        if current.access_token() != refused.access_token() {
            return Ok(Relogin::Replaced(current));
        }
        let now = self.ctx.time().now();
        if current.serial() > forced.watermark {
            // A login that was not forced succeeded since the last forced one.
            forced.strikes = 0;
        } else if current.serial() == forced.token && forced.counted != current.serial() {
            forced.counted = current.serial();
            let age = now.duration_since(current.issued_at()).unwrap_or_default();
            if age < RELOGIN_MAX_GAP {
                forced.strikes = forced.strikes.saturating_add(1);
            } else {
                forced.strikes = 0;
            }
        }
        if let Some(ended) = forced.ended {
            let until = ended + relogin_gap(forced.strikes);
            if now < until {
                tracing::debug!(
                    name = NAME,
                    strikes = forced.strikes,
                    "relogin held back: the server keeps refusing the tokens of forced logins"
                );
                return Ok(Relogin::HeldBack { until });
            }
        }
        tracing::debug!(
            name = NAME,
            strikes = forced.strikes,
            "the current token was refused: logging in again"
        );
        // A cancelled login still counts, from its start.
        forced.ended = Some(now);
        let result = cache.refresh().await;
        forced.ended = Some(self.ctx.time().now());
        match result {
            Ok(token) => {
                forced.token = token.serial();
                forced.watermark = token.serial();
                Ok(classify(token))
            }
            Err(err) => {
                // Logged by the cache, once.
                forced.token = 0;
                forced.watermark = self.serials.load(Ordering::Acquire);
                forced.strikes = forced.strikes.saturating_add(1);
                Err(err)
            }
        }
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

    /// The password; required with a user name (an empty one fails [`build`](Self::build)). Kept in
    /// memory that is wiped on drop; sent only in a form body.
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

    /// Validates the server list, and that a user name comes with a password; nothing is sent until
    /// the first [`NacosLogin::token`].
    pub fn build(self) -> Result<NacosLogin> {
        let ctx = self.ctx.unwrap_or_default();
        let servers = ServerList::parse(&self.servers, &self.context_path)
            .map_err(|e| CredentialsError::invalid_configuration(NAME, e))?;
        if !self.username.trim().is_empty() && self.password.is_empty() {
            return Err(CredentialsError::invalid_configuration(
                NAME,
                format!(
                    "user {:?} has no password: set it with .password(…) or {} (Nacos refuses \
                     a login with an empty password; an empty user name turns login off)",
                    self.username,
                    super::PASSWORD
                ),
            ));
        }
        let serials = Arc::new(AtomicU64::new(0));
        let cache = (!self.username.trim().is_empty()).then(|| {
            let login = Arc::new(Login {
                ctx: ctx.clone(),
                servers,
                username: self.username,
                password: self.password,
                timeouts: self.timeouts,
                serials: serials.clone(),
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
            serials,
            forced: tokio::sync::Mutex::new(Forced::default()),
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
    /// The serial of the last token produced, shared with [`NacosLogin`].
    serials: Arc<AtomicU64>,
}

#[derive(Deserialize)]
struct LoginResponse {
    #[serde(rename = "accessToken")]
    access_token: Option<String>,
    #[serde(rename = "tokenTtl")]
    token_ttl: Option<u64>,
}

impl Login {
    /// Tries every server in order; the first 2xx wins. When every server fails, the error lists each
    /// with its own reason (the cache logs it, once, at `warn`); when a later server succeeds, the
    /// earlier failures are logged here, in one line at `warn`.
    async fn login(&self) -> Result<NacosToken> {
        let mut failures: Vec<Failure> = Vec::new();
        for index in 0..self.servers.len() {
            match self.login_to(index).await {
                Ok(token) => {
                    if !failures.is_empty() {
                        let failed: Vec<&str> =
                            failures.iter().map(|f| f.reason.as_str()).collect();
                        tracing::warn!(
                            name = NAME,
                            server = %token.server(),
                            failed = %failed.join("; "),
                            "logged in after other servers failed"
                        );
                    }
                    return Ok(token);
                }
                Err(failure) => {
                    tracing::debug!(name = NAME, error = %failure.error, "login failed on one server");
                    failures.push(failure);
                }
            }
        }
        Err(all_failed(failures))
    }

    async fn login_to(&self, index: usize) -> Result<NacosToken, Failure> {
        let origin = self.servers.origin(index);
        let response = self.post(index, &origin, LOGIN_V3).await?;
        let response = if matches!(response.status, 404 | 501) {
            self.post(index, &origin, LOGIN_V1).await?
        } else {
            response
        };
        if !response.is_success() {
            // Line breaks read as spaces; every other control character is escaped.
            let said = self
                .scrub(&response.body_excerpt(200))
                .replace(['\n', '\r', '\t'], " ");
            let said = escape_untrusted(said.trim(), 200);
            let reason = if response.status == 403 {
                "login refused: wrong user name or password?"
            } else {
                "login failed"
            };
            return Err(Failure {
                reason: format!(
                    "{origin}: HTTP {}: {reason} (server said: {said})",
                    response.status
                ),
                error: CredentialsError::provider(
                    NAME,
                    format!("{origin}: {reason} (server said: {said})"),
                )
                .with_status(response.status),
            });
        }
        let serial = self.serials.fetch_add(1, Ordering::AcqRel) + 1;
        parse_login(&response, &origin, self.ctx.time().now(), serial).map_err(|error| Failure {
            reason: error.message().to_string(),
            error,
        })
    }

    async fn post(&self, index: usize, origin: &str, path: &str) -> Result<HttpResponse, Failure> {
        let mut url = self.servers.url(index, path);
        url.query_pairs_mut()
            .append_pair("username", &self.username);
        let request =
            HttpRequest::post_form(url, [("password", self.password.as_str())], self.timeouts);
        self.ctx
            .http()
            .send(request)
            .await
            .map_err(|e| transport_failure(origin, self.timeouts, e))
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

/// Why one server's login failed: the error had it been the only server, and one line naming the
/// server and its reason for the list of all of them.
struct Failure {
    error: CredentialsError,
    reason: String,
}

/// A transport failure at `origin`: refused, unreachable, no connection or no answer in time.
fn transport_failure(origin: &str, timeouts: Timeouts, err: TransportError) -> Failure {
    if err.kind() == TransportErrorKind::Timeout {
        let (after, what) = if err.is_connect() {
            (timeouts.connect, "no connection")
        } else {
            (err.budget(), "no answer")
        };
        return Failure {
            reason: format!("{origin}: timed out after {after:?} ({what})"),
            error: CredentialsError::timed_out_waiting(NAME, after, format!("{origin}: {what}"))
                .with_source(err),
        };
    }
    // The transport message is `POST <origin>: <what>`; the origin is named once, here.
    let what = err.to_string();
    let what = what.split_once(": ").map_or(what.as_str(), |(_, w)| w);
    let reason = match io_cause(&err) {
        Some(cause) => format!("{origin}: {what} ({cause})"),
        None => format!("{origin}: {what}"),
    };
    Failure {
        error: CredentialsError::unhandled(NAME, reason.clone()).with_source(err),
        reason,
    }
}

/// The socket error under a transport failure, in words (`connection refused`), when there is one.
fn io_cause(err: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    use std::io::ErrorKind as Io;
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                Io::ConnectionRefused => Some("connection refused"),
                Io::ConnectionReset => Some("connection reset"),
                Io::ConnectionAborted => Some("connection aborted"),
                Io::AddrNotAvailable => Some("address not available"),
                Io::TimedOut => Some("timed out"),
                Io::UnexpectedEof => Some("connection closed"),
                _ => None,
            };
        }
        next = e.source();
    }
    None
}

/// The error when every server failed: the only one's own error, or for several
/// `login failed on N servers: <origin>: <reason>; …`, every server named once, in order. Its kind is
/// the servers' common kind (`TimedOut` after the sum of the budgets, `Provider` with the status they
/// all answered), `Unhandled` when they differ.
fn all_failed(mut failures: Vec<Failure>) -> CredentialsError {
    if failures.len() <= 1 {
        return failures.pop().map_or_else(
            || CredentialsError::invalid_configuration(NAME, "no Nacos server to log in to"),
            |f| f.error,
        );
    }
    let reasons: Vec<&str> = failures.iter().map(|f| f.reason.as_str()).collect();
    let message = format!(
        "login failed on {} servers: {}",
        failures.len(),
        reasons.join("; ")
    );
    let kind = failures[0].error.kind();
    let same_kind = failures.iter().all(|f| f.error.kind() == kind);
    let status = failures[0].error.status();
    let same_status = failures.iter().all(|f| f.error.status() == status);
    let error = match kind {
        ErrorKind::TimedOut if same_kind => {
            let waited = failures
                .iter()
                .filter_map(|f| f.error.timeout())
                .sum::<Duration>();
            CredentialsError::timed_out_waiting(NAME, waited, message)
        }
        ErrorKind::Provider if same_kind => {
            let error = CredentialsError::provider(NAME, message);
            match status {
                Some(status) if same_status => error.with_status(status),
                _ => error,
            }
        }
        _ => CredentialsError::unhandled(NAME, message),
    };
    let last = failures.pop().map(|f| f.error);
    match last {
        Some(last) => error.with_source(last),
        None => error,
    }
}

/// Reads `accessToken` and `tokenTtl` (spec §A.3); `serial` numbers the login.
pub(crate) fn parse_login(
    response: &HttpResponse,
    origin: &str,
    now: SystemTime,
    serial: u64,
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
        serial,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

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
            1,
        )
        .unwrap();
        assert_eq!(t.access_token(), "sentinel-token");
        assert_eq!(t.ttl(), Duration::from_secs(5));
        assert_eq!(t.expiration(), Some(now + Duration::from_secs(5)));
        assert!(!format!("{t:?}").contains("sentinel-token"));
        let t = parse_login(&response(200, r#"{"accessToken":"x"}"#), "o", now, 1).unwrap();
        assert_eq!(t.ttl(), DEFAULT_TOKEN_TTL);
    }

    #[test]
    fn bad_login_responses_are_provider_errors() {
        let now = SystemTime::UNIX_EPOCH;
        let err =
            parse_login(&response(200, "AUTH_DISABLED"), "http://h:8848", now, 1).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Provider);
        assert!(
            err.to_string().starts_with(
                "nacos_login: HTTP 200: http://h:8848: the login response is not JSON"
            ),
            "{err}"
        );
        let err = parse_login(&response(200, r#"{"tokenTtl":5}"#), "o", now, 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "nacos_login: HTTP 200: o: the login response has no accessToken"
        );
    }

    #[test]
    fn relogin_gaps_double_from_the_minimum_to_the_maximum() {
        let secs: Vec<u64> = (0..10).map(|s| relogin_gap(s).as_secs()).collect();
        assert_eq!(secs, [1, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(relogin_gap(u32::MAX), RELOGIN_MAX_GAP);
    }

    #[test]
    fn relogin_outcomes_say_whether_a_retry_can_succeed() {
        let token = parse_login(
            &response(200, r#"{"accessToken":"sentinel-token"}"#),
            "o",
            SystemTime::UNIX_EPOCH,
            1,
        )
        .unwrap();
        let replaced = Relogin::Replaced(token.clone());
        assert!(replaced.replaced());
        assert_eq!(replaced.token().map(NacosToken::serial), Some(1));
        for other in [
            Relogin::Unchanged(token),
            Relogin::HeldBack {
                until: SystemTime::UNIX_EPOCH,
            },
            Relogin::Disabled,
        ] {
            assert!(!other.replaced() && other.token().is_none(), "{other:?}");
            assert!(!format!("{other:?}").contains("sentinel-token"));
        }
        assert!(!format!("{replaced:?}").contains("sentinel-token"));
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
