//! [`MseAuthPlugin`]: nacos-sdk's `AuthPlugin` on our caches. Name `nacos_sdk`.
//!
//! - **Token** (optional): the `accessToken` entry from a [`NacosLogin`], added to every request.
//! - **AccessKey signing** (optional): from any credentials provider (static AK, STS, ECS role, OIDC,
//!   RAM role ARN, KMS rotation…) kept in a [`RefreshCache`]; config requests get `Spas-AccessKey`,
//!   `Timestamp`, `Spas-Signature` signed over (namespace, group) (spec §B.4), naming requests get `ak`,
//!   `data`, `signature` over the grouped service name (spec §B.5); STS adds `Spas-SecurityToken`, a v4
//!   region ([`SpasOptions::region`]) adds `signatureVersion`.
//!
//! nacos-sdk calls `login` at start and then every 30 s; it awaits the token and warms the credentials,
//! both cheap while fresh: the caches refresh ahead of expiry by themselves (the token at
//! `ttl − U[ttl/15, ttl/10)`), so requests keep working between nacos-sdk's rounds (spec §G.4.3). A failed
//! refresh is logged in one line at `warn` (by the cache that failed) and never panics (a panic would
//! stop nacos-sdk's login task).
//!
//! `get_login_identity` is synchronous and runs on the request's thread: it reads only the cached
//! snapshots and signs (a few microseconds). When nothing valid is cached (the first login failed, the
//! server was down) it asks the caches to load in the background, at most once per 5 s, and the request
//! goes out without that identity.
//!
//! nacos-sdk 0.8 does not tell the plugin about a 403. Keep a clone of the plugin and call
//! [`MseAuthPlugin::relogin_if_forbidden`] with the error of a refused call (or [`MseAuthPlugin::relogin`]
//! yourself), and retry when it answers `true`. The refused token is taken to be the one the plugin
//! handed out last (the one nacos-sdk is sending): if it is still current, the plugin logs in again
//! at once, under [`NacosLogin::relogin`]'s rule (forced logins back off while the server keeps
//! refusing; scheduled renewals do not count), and the next identity nacos-sdk reads carries the new
//! token. Nothing here blocks a thread or holds a lock across an `.await`: it works on
//! current-thread and multi-thread runtimes alike, and from nacos-sdk's own tasks.
//!
//! nacos-sdk's `ClientProps::auth_*` settings are not read (the plugin's `AuthContext` is private to
//! nacos-sdk): configure this builder instead.

use crate::nacos::{NacosLogin, NacosToken, Relogin};
use async_trait::async_trait;
use aws_smithy_async::time::{SharedTimeSource, TimeSource};
use mse_auth::sign::spas::{config_identity, naming_identity, Identity, SpasOptions};
use mse_auth::{Credentials, CredentialsError, CredentialsProvider, RefreshCache, Result};
use nacos_sdk::api::plugin::{AuthContext, AuthPlugin, LoginIdentityContext, RequestResource};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

/// Name used in errors and logs.
pub const NAME: &str = "nacos_sdk";
/// The identity key of the Nacos token (spec §A.7).
const ACCESS_TOKEN: &str = "accessToken";
/// Shortest interval between two background loads asked for by `get_login_identity`.
const KICK_INTERVAL: Duration = Duration::from_secs(5);

/// nacos-sdk's `AuthPlugin` with a Nacos token and/or AccessKey signing; see the [module docs](crate::nacos_sdk).
/// Cheap to clone: clones share the caches, so keep one to call [`relogin`](Self::relogin).
#[derive(Clone)]
pub struct MseAuthPlugin {
    inner: Arc<Inner>,
}

struct Inner {
    login: Option<NacosLogin>,
    credentials: Option<RefreshCache<Credentials>>,
    options: SpasOptions,
    time: SharedTimeSource,
    /// Set by [`MseAuthPlugin::request_relogin`]; the next `login` round logs in again.
    relogin_requested: AtomicBool,
    /// Milliseconds since the epoch of the last background load started by `get_login_identity`.
    last_kick_ms: AtomicU64,
    /// The newest token `identity` handed out: the one nacos-sdk is sending.
    handed_out: Mutex<Option<NacosToken>>,
    /// Its serial, so that the request path takes the lock only when the token changes.
    handed_out_serial: AtomicU64,
}

impl fmt::Debug for MseAuthPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("MseAuthPlugin")
            .field("login", &i.login)
            .field("credentials", &i.credentials)
            .field("region", &i.options.region_id())
            .finish_non_exhaustive()
    }
}

/// Settings of an [`MseAuthPlugin`]; from [`MseAuthPlugin::builder`].
#[derive(Default)]
pub struct Builder {
    login: Option<NacosLogin>,
    credentials: Option<RefreshCache<Credentials>>,
    options: SpasOptions,
    time: Option<SharedTimeSource>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("login", &self.login)
            .field("credentials", &self.credentials)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// Username/password login: every request carries its `accessToken`.
    pub fn login(mut self, login: NacosLogin) -> Self {
        self.login = Some(login);
        self
    }

    /// AccessKey signing with credentials from `cache` (what every provider's `build()` returns).
    pub fn credentials(mut self, cache: RefreshCache<Credentials>) -> Self {
        self.credentials = Some(cache);
        self
    }

    /// AccessKey signing with credentials from any `provider`, wrapped here in a [`RefreshCache`] (for
    /// a provider that is already one, prefer [`credentials`](Self::credentials)).
    pub fn credentials_provider(mut self, provider: impl CredentialsProvider + 'static) -> Self {
        self.credentials = Some(RefreshCache::builder().name(NAME).build_for(provider));
        self
    }

    /// Signing options: the v4 region and product code (default: v1).
    pub fn spas_options(mut self, options: SpasOptions) -> Self {
        self.options = options;
        self
    }

    /// The clock of the signatures' timestamps (default: the system clock).
    pub fn time_source(mut self, time: impl TimeSource + 'static) -> Self {
        self.time = Some(SharedTimeSource::new(time));
        self
    }

    /// The plugin; refuses a plugin with neither a login nor credentials.
    pub fn build(self) -> Result<MseAuthPlugin> {
        if self.login.is_none() && self.credentials.is_none() {
            return Err(CredentialsError::invalid_configuration(
                NAME,
                "the nacos-sdk auth plugin needs a Nacos login (.login(..)), credentials for AccessKey \
                 signing (.credentials(..)), or both",
            ));
        }
        Ok(MseAuthPlugin {
            inner: Arc::new(Inner {
                login: self.login,
                credentials: self.credentials,
                options: self.options,
                time: self.time.unwrap_or_default(),
                relogin_requested: AtomicBool::new(false),
                last_kick_ms: AtomicU64::new(0),
                handed_out: Mutex::new(None),
                handed_out_serial: AtomicU64::new(0),
            }),
        })
    }
}

impl MseAuthPlugin {
    /// Settings: a login, credentials, signing options.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The login, if one is configured (e.g. to read [`NacosLogin::current`]).
    pub fn nacos_login(&self) -> Option<&NacosLogin> {
        self.inner.login.as_ref()
    }

    /// The credentials cache, if AccessKey signing is configured.
    pub fn credentials(&self) -> Option<&RefreshCache<Credentials>> {
        self.inner.credentials.as_ref()
    }

    /// After the server refused a request (HTTP 403 or gRPC `errorCode` 403): replaces the token the
    /// plugin handed out last, the one nacos-sdk is sending, under [`NacosLogin::relogin`]'s rule: a
    /// newer current token is used without a login; if that token is still current, a login now
    /// (one for all concurrent callers), unless the backoff holds it back ([`Relogin::HeldBack`]).
    /// When no token was handed out yet (the refused request carried none), the current one, loaded
    /// if needed, replaces it. Without a login configured: [`Relogin::Disabled`]. A failed login
    /// returns its error, logged once at `warn` by the login's cache.
    ///
    /// Retry the request only if the result is [`replaced`](Relogin::replaced): the next identity
    /// nacos-sdk reads carries the new token.
    ///
    /// ```no_run
    /// # async fn demo(plugin: mse_auth_providers::nacos_sdk::MseAuthPlugin) {
    /// match plugin.relogin().await {
    ///     Ok(r) if r.replaced() => { /* retry the refused request */ }
    ///     Ok(r) => println!("a retry would be refused again: {r:?}"),
    ///     Err(e) => println!("login failed: {e}"),
    /// }
    /// # }
    /// ```
    pub async fn relogin(&self) -> Result<Relogin> {
        let Some(login) = &self.inner.login else {
            return Ok(Relogin::Disabled);
        };
        let refused = lock(&self.inner.handed_out).clone();
        match refused {
            Some(refused) => login.relogin(&refused).await,
            None => Ok(login
                .token()
                .await?
                .map_or(Relogin::Disabled, Relogin::Replaced)),
        }
    }

    /// [`relogin`](Self::relogin) when `err` is a 403 ([`is_forbidden`](super::is_forbidden)).
    /// Returns whether a retry can succeed: `true` only when `err` is a 403 and nacos-sdk's next
    /// request carries a token other than the refused one. `false` when `err` is not a 403, when
    /// the relogin was held back or failed (logged once at `warn`), when the server handed back the
    /// same token, or without a login.
    ///
    /// ```no_run
    /// # async fn demo(plugin: mse_auth_providers::nacos_sdk::MseAuthPlugin, config: nacos_sdk::api::config::ConfigService) -> nacos_sdk::api::error::Result<()> {
    /// let read = || config.get_config("app.yaml".into(), "DEFAULT_GROUP".into());
    /// let resp = match read().await {
    ///     Err(e) if plugin.relogin_if_forbidden(&e).await => read().await?, // once, with the new token
    ///     other => other?,
    /// };
    /// # Ok(()) }
    /// ```
    pub async fn relogin_if_forbidden(&self, err: &nacos_sdk::api::error::Error) -> bool {
        if !super::is_forbidden(err) {
            return false;
        }
        match self.relogin().await {
            Ok(relogin) => {
                if !relogin.replaced() {
                    tracing::debug!(name = NAME, ?relogin, "the refused token was not replaced");
                }
                relogin.replaced()
            }
            // The login's cache logged the failure.
            Err(_) => false,
        }
    }

    /// Synchronous variant of [`relogin`](Self::relogin) (e.g. from a listener callback): the next
    /// `login` round of nacos-sdk (within 30 s) runs [`relogin`](Self::relogin), under the same rule.
    pub fn request_relogin(&self) {
        self.inner.relogin_requested.store(true, Ordering::Relaxed);
    }

    /// The identity map entries for `resource`, as [`AuthPlugin::get_login_identity`] returns them.
    pub fn identity(&self, resource: &RequestResource) -> Vec<(&'static str, String)> {
        let i = &self.inner;
        let mut entries = Vec::with_capacity(6);
        let mut missing = false;
        if let Some(login) = &i.login {
            match login.current() {
                Some(token) => {
                    self.note_handed_out(&token);
                    entries.push((ACCESS_TOKEN, token.access_token().to_string()));
                }
                None => missing = true,
            }
        }
        if let Some(cache) = &i.credentials {
            match cache.current() {
                Some(creds) => entries.extend(self.sign(&creds, resource)),
                None => missing = true,
            }
        }
        if missing {
            self.kick();
        }
        entries
    }

    /// Remembers `token` as the one nacos-sdk is sending, unless a newer one was handed out already.
    fn note_handed_out(&self, token: &NacosToken) {
        let i = &self.inner;
        if token.serial() <= i.handed_out_serial.load(Ordering::Acquire) {
            return;
        }
        let mut handed_out = lock(&i.handed_out);
        if handed_out
            .as_ref()
            .is_none_or(|t| t.serial() < token.serial())
        {
            *handed_out = Some(token.clone());
            i.handed_out_serial.store(token.serial(), Ordering::Release);
        }
    }

    fn sign(&self, creds: &Credentials, resource: &RequestResource) -> Identity {
        let i = &self.inner;
        let now = i.time.now();
        let group = resource.group.as_deref().unwrap_or("");
        if resource.request_type.eq_ignore_ascii_case("config") {
            let namespace = resource.namespace.as_deref().unwrap_or("");
            config_identity(creds, &i.options, namespace, group, now)
        } else if resource.request_type.eq_ignore_ascii_case("naming") {
            let service = resource.resource.as_deref().unwrap_or("");
            naming_identity(creds, &i.options, service, group, now)
        } else {
            Identity::default()
        }
    }

    /// Starts loading what is missing in the background (on the caller's Tokio runtime, if any), at most
    /// once per [`KICK_INTERVAL`].
    fn kick(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let now_ms = self
            .inner
            .time
            .now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let last = self.inner.last_kick_ms.load(Ordering::Relaxed);
        let interval = u64::try_from(KICK_INTERVAL.as_millis()).unwrap_or(u64::MAX);
        if now_ms.saturating_sub(last) < interval
            || self
                .inner
                .last_kick_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let plugin = self.clone();
        runtime.spawn(async move { plugin.refresh(false).await });
    }

    /// Loads or refreshes what is due. A failure is logged at `warn` once, by the cache that failed.
    async fn refresh(&self, relogin: bool) {
        let i = &self.inner;
        if let Some(login) = &i.login {
            let result = if relogin {
                self.relogin().await.map(drop)
            } else {
                login.token().await.map(drop)
            };
            if let Err(e) = result {
                tracing::debug!(name = NAME, error = %e, "no Nacos token: requests go without one until a login succeeds");
            }
        }
        if let Some(cache) = &i.credentials {
            if let Err(e) = cache.provide_credentials().await {
                tracing::debug!(name = NAME, error = %e, "no credentials: requests go unsigned until a load succeeds");
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait]
impl AuthPlugin for MseAuthPlugin {
    async fn login(&self, _server_list: Arc<Vec<String>>, _auth_context: Arc<AuthContext>) {
        let relogin = self.inner.relogin_requested.swap(false, Ordering::Relaxed);
        self.refresh(relogin).await;
    }

    fn get_login_identity(&self, resource: RequestResource) -> LoginIdentityContext {
        self.identity(&resource)
            .into_iter()
            .fold(LoginIdentityContext::default(), |ctx, (k, v)| {
                ctx.add_context(k, v)
            })
    }
}

#[cfg(test)]
mod tests {
    //! Vectors: spec §B.7 (SK `testSecretKey`, timestamp 1700000000000) and §G.1.
    use super::*;
    use aws_smithy_async::test_util::ManualTimeSource;
    use mse_auth::sign::spas::names;
    use mse_auth::StaticAccessKeyProvider;
    use std::time::SystemTime;

    const SK: &str = "testSecretKey";
    const TS: u64 = 1_700_000_000_000;

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    fn resource(
        kind: &str,
        ns: Option<&str>,
        group: Option<&str>,
        res: Option<&str>,
    ) -> RequestResource {
        RequestResource {
            request_type: kind.to_string(),
            namespace: ns.map(str::to_string),
            group: group.map(str::to_string),
            resource: res.map(str::to_string),
        }
    }

    async fn plugin(creds: Credentials, options: SpasOptions, now: SystemTime) -> MseAuthPlugin {
        let p = MseAuthPlugin::builder()
            .credentials_provider(StaticCreds(creds))
            .spas_options(options)
            .time_source(ManualTimeSource::new(now))
            .build()
            .unwrap();
        p.login(Arc::new(vec![]), Arc::new(AuthContext::default()))
            .await;
        p
    }

    #[derive(Debug)]
    struct StaticCreds(Credentials);
    impl CredentialsProvider for StaticCreds {
        fn provide_credentials(&self) -> mse_auth::ProvideCredentials<'_> {
            mse_auth::ProvideCredentials::ready(Ok(self.0.clone()))
        }
    }

    fn ak(token: Option<&str>) -> Credentials {
        let b = Credentials::builder()
            .access_key_id("LTAI5tNacos")
            .access_key_secret(SK);
        match token {
            Some(t) => b.security_token(t),
            None => b,
        }
        .build()
        .unwrap()
    }

    fn get<'a>(entries: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
        entries
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[tokio::test]
    async fn config_requests_are_signed_over_namespace_and_group() {
        let p = plugin(ak(None), SpasOptions::default(), at(TS)).await;
        // nacos-sdk's config requests: request_type "Config", resource = dataId (not signed).
        let id = p.identity(&resource(
            "Config",
            Some("public-ns"),
            Some("DEFAULT_GROUP"),
            Some("app.yaml"),
        ));
        assert_eq!(
            get(&id, names::SIGNATURE),
            Some("M94BteNZnXlyatO/bgdd4tIe7xg=")
        );
        assert_eq!(get(&id, names::ACCESS_KEY), Some("LTAI5tNacos"));
        assert_eq!(get(&id, names::TIMESTAMP), Some("1700000000000"));
        assert_eq!(get(&id, names::SECURITY_TOKEN), None);
        assert_eq!(get(&id, names::SIGNATURE_VERSION), None);
        assert_eq!(get(&id, ACCESS_TOKEN), None);
        let id = p.identity(&resource(
            "Config",
            Some(""),
            Some("DEFAULT_GROUP"),
            Some("app.yaml"),
        ));
        assert_eq!(
            get(&id, names::SIGNATURE),
            Some("9hagMjeuVp9Xgs7ynJWed1ATjjU=")
        );
        // A batch listen request carries no resource: the bare timestamp is signed.
        let id = p.identity(&resource("Config", None, None, None));
        assert_eq!(
            get(&id, names::SIGNATURE),
            Some("h+T9jQUl+nAlNWnixWaJ8pS6n5o=")
        );
        assert_eq!(
            id.len(),
            3,
            "{:?}",
            id.iter().map(|(n, _)| n).collect::<Vec<_>>()
        );
    }

    #[tokio::test]
    async fn naming_requests_are_signed_over_the_grouped_service() {
        let p = plugin(ak(None), SpasOptions::default(), at(TS)).await;
        let id = p.identity(&resource(
            "Naming",
            Some("public-ns"),
            Some("DEFAULT_GROUP"),
            Some("svc"),
        ));
        assert_eq!(
            get(&id, names::NAMING_SIGNATURE),
            Some("FOs8upgdj/4BGiqjBfSo+lJZnis=")
        );
        assert_eq!(
            get(&id, names::NAMING_DATA),
            Some("1700000000000@@DEFAULT_GROUP@@svc")
        );
        assert_eq!(get(&id, names::NAMING_ACCESS_KEY), Some("LTAI5tNacos"));
        assert_eq!(
            get(&id, names::SIGNATURE),
            None,
            "no config entries on naming"
        );
        let id = p.identity(&resource("Naming", None, None, Some("svc")));
        assert_eq!(
            get(&id, names::NAMING_SIGNATURE),
            Some("5+Z8mEz0+6c75PLErfm2F3pEurQ=")
        );
        // Other modules (none today in nacos-sdk) get no signature.
        assert!(p.identity(&resource("Lock", None, None, None)).is_empty());
    }

    #[tokio::test]
    async fn sts_adds_the_security_token_and_v4_the_signature_version() {
        // 2024-01-01T12:00:00Z: the v4 key of that date is the spec's kLvW8f… (§B.7).
        let noon = 1_704_110_400_000;
        let p = plugin(
            ak(Some("sentinel-sts-token")),
            SpasOptions::default().region("cn-hangzhou"),
            at(noon),
        )
        .await;
        let id = p.identity(&resource(
            "Config",
            Some("public-ns"),
            Some("DEFAULT_GROUP"),
            None,
        ));
        let names_sent: Vec<&str> = id.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names_sent,
            [
                "Spas-SecurityToken",
                "signatureVersion",
                "Spas-AccessKey",
                "Timestamp",
                "Spas-Signature"
            ]
        );
        assert_eq!(get(&id, names::SECURITY_TOKEN), Some("sentinel-sts-token"));
        assert_eq!(get(&id, names::SIGNATURE_VERSION), Some("v4"));
        let v4 = mse_auth::sign::spas::SigningKey::v4(SK, "20240101", "cn-hangzhou", "mse-nacos");
        assert_eq!(
            get(&id, names::SIGNATURE),
            Some(v4.sign("public-ns+DEFAULT_GROUP+1704110400000").as_str())
        );
        let id = p.identity(&resource("Naming", None, Some("G"), Some("svc")));
        let names_sent: Vec<&str> = id.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names_sent,
            [
                "Spas-SecurityToken",
                "signatureVersion",
                "signature",
                "data",
                "ak"
            ]
        );
    }

    #[tokio::test]
    async fn debug_shows_no_secret() {
        let p = plugin(
            ak(Some("sentinel-sts-token")),
            SpasOptions::default(),
            at(TS),
        )
        .await;
        let shown = format!(
            "{p:?} {:?}",
            MseAuthPlugin::builder().credentials_provider(StaticCreds(ak(None)))
        );
        assert!(!shown.contains(SK), "{shown}");
        assert!(!shown.contains("sentinel-sts-token"), "{shown}");
        assert!(shown.contains("MseAuthPlugin"), "{shown}");
    }

    #[tokio::test]
    async fn without_credentials_loaded_requests_go_unsigned() {
        // Nothing has loaded yet (no login round): no entries, no panic, no waiting.
        let p = MseAuthPlugin::builder()
            .credentials_provider(StaticAccessKeyProvider::new("LTAI5tNacos", SK).unwrap())
            .build()
            .unwrap();
        assert!(p
            .identity(&resource("Config", None, Some("G"), None))
            .is_empty());
        // The identity asked for a background load; it lands without a login round.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while p
            .identity(&resource("Config", None, Some("G"), None))
            .is_empty()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the background load never landed"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[test]
    fn the_newest_token_handed_out_is_the_refused_one() {
        let login = NacosLogin::builder("127.0.0.1:1")
            .username("u")
            .password("sentinel-password")
            .build()
            .unwrap();
        let p = MseAuthPlugin::builder().login(login).build().unwrap();
        let token = |serial: u64| {
            let body = format!(r#"{{"accessToken":"token-{serial}"}}"#);
            let response = crate::http::HttpResponse {
                status: 200,
                body: body.into_bytes(),
            };
            crate::nacos::login::parse_login(&response, "o", at(TS), serial).unwrap()
        };
        let handed_out = || {
            lock(&p.inner.handed_out)
                .as_ref()
                .map(|t| t.access_token().to_string())
        };
        assert_eq!(handed_out(), None);
        p.note_handed_out(&token(2));
        // A request that read the identity before the newer token was published, noted late.
        p.note_handed_out(&token(1));
        assert_eq!(handed_out().as_deref(), Some("token-2"));
        p.note_handed_out(&token(3));
        assert_eq!(handed_out().as_deref(), Some("token-3"));
        assert!(!format!("{p:?}").contains("token-3"));
    }

    #[test]
    fn a_plugin_with_nothing_to_send_is_refused() {
        let err = MseAuthPlugin::builder().build().unwrap_err();
        assert_eq!(err.kind(), mse_auth::ErrorKind::InvalidConfiguration);
        assert!(err.to_string().contains(".login(..)"), "{err}");
    }
}
