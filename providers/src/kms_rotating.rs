//! KMS-rotated AccessKey (the seventh mode, spec §9): a RAM user's AccessKey kept in a KMS secret of
//! type `RAMCredentials` that KMS rotates on a schedule. Provider name `kms_rotating`; credentials are
//! reported as `kms_rotating/<the path of the credentials that signed the KMS call>`, e.g.
//! `kms_rotating/ecs_ram_role`.
//!
//! Each load is one `GetSecretValue` (through a [`KmsClient`], which signs with its own credentials,
//! e.g. an ECS RAM role). The secret must have `SecretType` `RAMCredentials` (any case), and its
//! `SecretData` must be JSON with non-empty `AccessKeyId` and `AccessKeySecret`.
//!
//! # When the secret is read again (spec §9.2)
//! With `interval` = the configured refresh interval (default 6 h), shortened to the secret's own
//! `RotationInterval` when that is shorter, and `jitter` = a random duration in `[0, max_jitter)`
//! (default 5 min) drawn once per provider:
//! - when `NextRotationDate` lies in `(now, now + interval)`: at `NextRotationDate + 5 min + jitter`
//!   (KMS has rotated by then);
//! - otherwise: at `now + interval + jitter`.
//!
//! [`next_refresh`] computes it; it depends only on the context's clock.
//!
//! # How the schedule becomes an expiration
//! The keys are long-term, but the [`RefreshCache`] refreshes by expiration: it reloads at a fraction
//! of a value's lifetime and stops serving it at its expiration. This provider gives each value the
//! expiration `now + (refresh_at − now) × 100` ([`encoded_expiration`]) and configures its cache to
//! reload at exactly 1 % of the lifetime with no expiry margin. So the cache reloads at `refresh_at`,
//! and if that reload (and the cache's retries, with backoff from 2 s to 2 min) keep failing, the old
//! key stays in service for 99 more waits: at least 8¼ hours after a rotation (the shortest wait is
//! the 5-minute delay), about 25 days otherwise. An old key stays valid after a rotation until KMS
//! deletes it, so serving it beats serving nothing; if it has been revoked, the upstream answers
//! `InvalidAccessKeyId` and the caller should [`force_refresh`](CachedKmsRotatingProvider::force_refresh).
//! The `expiration()` of these credentials is therefore a serve-until bound, not a key lifetime.
//!
//! # Forced refresh (spec §9.2, emergency rotation)
//! A caller whose request failed with `InvalidAccessKeyId` calls
//! [`force_refresh`](CachedKmsRotatingProvider::force_refresh): a new `GetSecretValue` now, through the
//! same cache (readers keep getting the current key meanwhile). Forced refreshes are rate-limited per
//! provider by a token bucket of 5 tokens refilled at one per 10 minutes of the context's clock; out
//! of tokens, it fails with a `Provider` error of code `ForcedRefreshThrottled` and no KMS call. A
//! forced refresh that joins a load already in flight gets that load's outcome; if it failed, the
//! error is returned (not the old key, which the cache keeps serving to readers).
//!
//! # Environment
//! `ALIBABA_CLOUD_SECRET_NAME`: the secret, when the builder's name is empty (read in `build`). The
//! KMS client reads `ALIBABA_CLOUD_KMS_ENDPOINT` ([`kms`](crate::kms)).
//!
//! ```no_run
//! use mse_auth_providers::kms::KmsClient;
//! use mse_auth_providers::kms_rotating::KmsRotatingProvider;
//! use mse_auth_providers::{CredentialsProvider, EcsRamRoleProvider};
//! # async fn demo() -> Result<(), mse_auth_providers::CredentialsError> {
//! let kms = KmsClient::builder()
//!     .region("cn-hangzhou")
//!     .credentials(EcsRamRoleProvider::builder().build()?)
//!     .build()?;
//! let provider = KmsRotatingProvider::builder("my-ram-user-ak").kms(kms).build()?;
//! let creds = provider.provide_credentials().await?;
//! assert_eq!(creds.provider_path(), "kms_rotating/ecs_ram_role");
//! // After an upstream `InvalidAccessKeyId`:
//! let fresh = provider.force_refresh().await?;
//! # let _ = fresh; Ok(()) }
//! ```

use crate::kms::{KmsClient, SecretValue};
use crate::Context;
use aws_smithy_async::time::SharedTimeSource;
use mse_auth::backoff::Backoff;
use mse_auth::{
    vars, Credentials, CredentialsError, CredentialsProvider, ProvideCredentials, RefreshCache,
    Result,
};
use serde::Deserialize;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use zeroize::Zeroizing;

/// Provider name reported in credential paths.
pub const NAME: &str = "kms_rotating";
/// How often the secret is read when no rotation is near (spec §9.2 `rotationInterval`).
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(6 * 3600);
/// How long after `NextRotationDate` the secret is read again (spec §9.2 `delayInterval`).
pub const ROTATION_DELAY: Duration = Duration::from_secs(5 * 60);
/// Upper bound of the per-provider random delay (spec §9.2 `randomDisturbance`; Java's 5 min).
pub const DEFAULT_MAX_JITTER: Duration = Duration::from_secs(5 * 60);
/// Forced refreshes allowed in a burst.
pub const FORCED_REFRESH_BURST: u32 = 5;
/// One forced refresh more per this much time.
pub const FORCED_REFRESH_PERIOD: Duration = Duration::from_secs(10 * 60);
/// The error code of a refused forced refresh.
pub const FORCED_REFRESH_THROTTLED: &str = "ForcedRefreshThrottled";
/// The cache reloads at this fraction of the encoded lifetime (see the module docs).
const REFRESH_FRACTION: f64 = 0.01;

/// When to read the secret again (spec §9.2); see the [module docs](self).
pub fn next_refresh(
    now: SystemTime,
    interval: Duration,
    next_rotation: Option<SystemTime>,
    jitter: Duration,
) -> SystemTime {
    match next_rotation {
        Some(next) if next > now && next < now + interval => next + ROTATION_DELAY + jitter,
        _ => now + interval + jitter,
    }
}

/// The expiration that makes a cache reloading at 1 % of the lifetime reload at `refresh_at`: `now +
/// (refresh_at − now) × 100`.
pub fn encoded_expiration(now: SystemTime, refresh_at: SystemTime) -> SystemTime {
    let wait = refresh_at
        .duration_since(now)
        .unwrap_or_default()
        .max(Duration::from_secs(1));
    now + wait.div_f64(REFRESH_FRACTION)
}

/// A token bucket on a given clock: `capacity` tokens, one more per `period`.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    capacity: u32,
    period: Duration,
    tokens: u32,
    refilled_at: SystemTime,
}

impl TokenBucket {
    pub(crate) fn new(capacity: u32, period: Duration, now: SystemTime) -> Self {
        Self {
            capacity,
            period,
            tokens: capacity,
            refilled_at: now,
        }
    }

    /// Takes a token, or says how long until the next one.
    pub(crate) fn try_take(&mut self, now: SystemTime) -> std::result::Result<(), Duration> {
        // A clock that went back earns nothing.
        let elapsed = now.duration_since(self.refilled_at).unwrap_or_default();
        let period = self.period.max(Duration::from_millis(1));
        let earned = (elapsed.as_nanos() / period.as_nanos()).min(u128::from(self.capacity)) as u32;
        if earned > 0 {
            self.tokens = (self.tokens + earned).min(self.capacity);
            self.refilled_at += period * earned;
        }
        if self.tokens == self.capacity {
            // A full bucket earns nothing more: the next token is one period after a take.
            self.refilled_at = now;
        }
        if self.tokens == 0 {
            let since = now.duration_since(self.refilled_at).unwrap_or_default();
            return Err(period.saturating_sub(since));
        }
        self.tokens -= 1;
        Ok(())
    }
}

/// The KMS-rotated AccessKey, cached and refreshed on the rotation schedule, with a rate-limited
/// [`force_refresh`](Self::force_refresh). From [`Builder::build`]; see the [module docs](self).
pub struct CachedKmsRotatingProvider {
    cache: RefreshCache<Credentials>,
    bucket: Mutex<TokenBucket>,
    time: SharedTimeSource,
}

impl fmt::Debug for CachedKmsRotatingProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedKmsRotatingProvider")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl CachedKmsRotatingProvider {
    /// Reads the secret now, e.g. after the upstream answered `InvalidAccessKeyId`, sharing a read
    /// already in flight. Rate-limited (5 at once, one more per 10 minutes): out of tokens it fails
    /// with code [`FORCED_REFRESH_THROTTLED`] without calling KMS. On failure the cached key stays in
    /// service.
    pub async fn force_refresh(&self) -> Result<Credentials> {
        let now = self.time.now();
        let allowed = self
            .bucket
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .try_take(now);
        if let Err(wait) = allowed {
            return Err(CredentialsError::provider(
                NAME,
                format!(
                    "forced refresh refused: {FORCED_REFRESH_BURST} forced refreshes are allowed at once and \
                     one more every {} min; the next is allowed in {} s (the cached AccessKey stays in service)",
                    FORCED_REFRESH_PERIOD.as_secs() / 60,
                    wait.as_secs().max(1)
                ),
            )
            .with_code(FORCED_REFRESH_THROTTLED));
        }
        tracing::info!(provider = NAME, "forced refresh of the KMS secret");
        // The outcome of this read, or of the read in flight it joins: its error, not the old key.
        self.cache.refresh().await
    }

    /// The cached credentials if any, without loading (for synchronous callers).
    pub fn current(&self) -> Option<Credentials> {
        self.cache.current()
    }

    /// The refresh cache behind this provider.
    pub fn cache(&self) -> &RefreshCache<Credentials> {
        &self.cache
    }
}

impl CredentialsProvider for CachedKmsRotatingProvider {
    #[inline]
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        self.cache.provide_credentials()
    }
}

/// Reads the KMS-rotated AccessKey: one `GetSecretValue` per `provide_credentials`, with the schedule
/// encoded in the expiration. Build it with [`KmsRotatingProvider::builder`]: [`Builder::build`] returns
/// it cached ([`CachedKmsRotatingProvider`]), [`Builder::build_uncached`] bare, for composition and
/// tests — as every network provider of this crate.
pub struct KmsRotatingProvider {
    kms: KmsClient,
    secret_name: String,
    refresh_interval: Duration,
    jitter: Duration,
    ctx: Context,
}

impl fmt::Debug for KmsRotatingProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsRotatingProvider")
            .field("secret_name", &self.secret_name)
            .field("refresh_interval", &self.refresh_interval)
            .field("jitter", &self.jitter)
            .field("kms", &self.kms)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SecretData {
    access_key_id: Option<String>,
    access_key_secret: Option<String>,
}

impl KmsRotatingProvider {
    /// Settings for reading the secret `secret_name` (an empty name falls back to
    /// `ALIBABA_CLOUD_SECRET_NAME`). A [`KmsClient`] is required: [`Builder::kms`].
    pub fn builder(secret_name: impl Into<String>) -> Builder {
        Builder {
            secret_name: secret_name.into(),
            kms: None,
            refresh_interval: DEFAULT_REFRESH_INTERVAL,
            max_jitter: DEFAULT_MAX_JITTER,
            context: None,
        }
    }

    /// Settings with the secret name from `ALIBABA_CLOUD_SECRET_NAME` of `ctx` (read in `build`) and
    /// `ctx` as the context.
    pub fn from_env(ctx: &Context) -> Builder {
        Self::builder("").context(ctx.clone())
    }

    async fn load(&self) -> Result<Credentials> {
        let value = self
            .kms
            .get_secret_value(&self.secret_name)
            .await
            .map_err(|e| e.in_provider(NAME))?;
        let now = self.ctx.time().now();
        let credentials = self.credentials(&value, now)?;
        tracing::debug!(
            provider = NAME,
            secret = %self.secret_name,
            version = value.version_id().unwrap_or("?"),
            credentials = %credentials,
            "read the KMS secret"
        );
        Ok(credentials)
    }

    /// The AccessKey of `value`, expiring per the schedule from `now`.
    fn credentials(&self, value: &SecretValue, now: SystemTime) -> Result<Credentials> {
        let name = &self.secret_name;
        let secret_type = value.secret_type().unwrap_or("");
        if !secret_type.eq_ignore_ascii_case("RAMCredentials") {
            let shown = mse_auth::error::escape_untrusted(secret_type, 40);
            return Err(self.error(format!(
                "the secret `{name}` has SecretType `{shown}`, not RAMCredentials: it does not hold a \
                 RAM user's AccessKey"
            ), value));
        }
        let data: SecretData = serde_json::from_str(value.secret_data()).map_err(|_| {
            self.error(
                format!("the SecretData of `{name}` is not a JSON object"),
                value,
            )
        })?;
        let id = Zeroizing::new(data.access_key_id.unwrap_or_default());
        let secret = Zeroizing::new(data.access_key_secret.unwrap_or_default());
        for (field, text) in [("AccessKeyId", &id), ("AccessKeySecret", &secret)] {
            if text.trim().is_empty() {
                return Err(self.error(format!("the SecretData of `{name}` lacks {field}"), value));
            }
            if let Err(problem) = mse_auth::credentials::check_text(text.trim()) {
                return Err(self.error(
                    format!("the {field} in the SecretData of `{name}` {problem}"),
                    value,
                ));
            }
        }
        let interval = match value.rotation_interval() {
            Some(own) if !own.is_zero() => own.min(self.refresh_interval),
            _ => self.refresh_interval,
        };
        let refresh_at = next_refresh(now, interval, value.next_rotation_date(), self.jitter);
        let path = match value.signed_by() {
            "" => NAME.to_owned(),
            signer => format!("{NAME}/{signer}"),
        };
        Credentials::builder()
            .access_key_id(id.trim())
            .access_key_secret(secret.trim())
            .expiration(encoded_expiration(now, refresh_at))
            .provider_path(path)
            .build()
            .map_err(|e| e.in_provider(NAME))
    }

    fn error(&self, message: String, value: &SecretValue) -> CredentialsError {
        let err = CredentialsError::provider(NAME, message);
        match value.request_id() {
            Some(id) => err.with_request_id(id),
            None => err,
        }
    }
}

impl CredentialsProvider for KmsRotatingProvider {
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        ProvideCredentials::boxed(self.load())
    }
}

/// The cache settings that turn this provider's expirations into its schedule (see the module docs):
/// reload at exactly 1 % of the lifetime, no expiry margin, retries from 2 s to 2 min, 60 s per load.
/// Any cache that serves these credentials directly (the default chain's, for one) needs them.
pub(crate) fn schedule(cache: mse_auth::cache::Builder) -> mse_auth::cache::Builder {
    cache
        .refresh_window(REFRESH_FRACTION, REFRESH_FRACTION)
        .expiry_margin(Duration::ZERO, 0.0)
        .backoff(Backoff::new(
            Duration::from_secs(2),
            Duration::from_secs(120),
        ))
        .load_timeout(Duration::from_secs(60))
}

/// Settings of a [`KmsRotatingProvider`]; from [`KmsRotatingProvider::builder`].
pub struct Builder {
    secret_name: String,
    kms: Option<KmsClient>,
    refresh_interval: Duration,
    max_jitter: Duration,
    context: Option<Context>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("secret_name", &self.secret_name)
            .field("kms", &self.kms)
            .field("refresh_interval", &self.refresh_interval)
            .field("max_jitter", &self.max_jitter)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// The KMS client that reads the secret (required). Its context stamps and sends the requests;
    /// this builder's context drives the schedule.
    pub fn kms(mut self, kms: KmsClient) -> Self {
        self.kms = Some(kms);
        self
    }

    /// How often the secret is read when no rotation is near (default 6 h, at least 1 s); the
    /// secret's own `RotationInterval` shortens it.
    pub fn refresh_interval(mut self, interval: Duration) -> Self {
        self.refresh_interval = interval;
        self
    }

    /// Upper bound of the random delay added to each scheduled read (default 5 min; zero for none).
    /// The delay is drawn once, in `build`.
    pub fn max_jitter(mut self, max: Duration) -> Self {
        self.max_jitter = max;
        self
    }

    /// The environment, clock and sleep of the schedule and the rate limit (default: the real ones).
    pub fn context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }

    /// Validates the settings and returns the cached provider (a [`RefreshCache`] named
    /// `kms_rotating` on the context's clock, plus the forced-refresh rate limit). Errors are
    /// `InvalidConfiguration`.
    pub fn build(self) -> Result<CachedKmsRotatingProvider> {
        let provider = Arc::new(self.build_uncached()?);
        let ctx = provider.ctx.clone();
        let cache = schedule(ctx.cache_builder(NAME)).build_with(move || {
            let provider = provider.clone();
            async move { provider.load().await }
        });
        Ok(CachedKmsRotatingProvider {
            cache,
            bucket: Mutex::new(TokenBucket::new(
                FORCED_REFRESH_BURST,
                FORCED_REFRESH_PERIOD,
                ctx.time().now(),
            )),
            time: ctx.time().clone(),
        })
    }

    /// Validates the settings and returns the bare provider: one KMS call per
    /// `provide_credentials`.
    pub fn build_uncached(self) -> Result<KmsRotatingProvider> {
        let ctx = self.context.unwrap_or_default();
        let secret_name = match self.secret_name.trim() {
            "" => ctx
                .env()
                .get_checked(vars::SECRET_NAME)
                .map_err(|e| e.invalid_configuration(NAME))?
                .unwrap_or_default(),
            name => name.to_owned(),
        };
        if secret_name.trim().is_empty() {
            return Err(CredentialsError::invalid_configuration(
                NAME,
                format!(
                    "the secret name is empty: pass it to the builder or set {}",
                    vars::SECRET_NAME
                ),
            ));
        }
        let Some(kms) = self.kms else {
            return Err(CredentialsError::invalid_configuration(
                NAME,
                "no KMS client: pass one to .kms(KmsClient::builder()..build()?)",
            ));
        };
        if self.refresh_interval < Duration::from_secs(1) {
            return Err(CredentialsError::invalid_configuration(
                NAME,
                "the refresh interval must be at least 1 s",
            ));
        }
        let jitter = self.max_jitter.mul_f64(fastrand::f64());
        Ok(KmsRotatingProvider {
            kms,
            secret_name: secret_name.trim().to_owned(),
            refresh_interval: self.refresh_interval,
            jitter,
            ctx,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mse_auth::os::Env;
    use mse_auth::{ErrorKind, StaticAccessKeyProvider};

    const T0: u64 = 1_704_067_200; // 2024-01-01T00:00:00Z
    const MIN: Duration = Duration::from_secs(60);
    const HOUR: Duration = Duration::from_secs(3600);

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn schedule_waits_for_a_near_rotation_and_polls_otherwise() {
        let now = at(T0);
        let j = Duration::from_secs(17);
        // A rotation within the interval: 5 min after it, plus jitter.
        assert_eq!(
            next_refresh(now, 6 * HOUR, Some(now + HOUR), j),
            now + HOUR + 5 * MIN + j
        );
        // Far away, past, now, exactly at the horizon or unknown: the interval, plus jitter.
        for next in [
            Some(now + 7 * HOUR),
            Some(now - MIN),
            Some(now),
            Some(now + 6 * HOUR),
            None,
        ] {
            assert_eq!(
                next_refresh(now, 6 * HOUR, next, j),
                now + 6 * HOUR + j,
                "{next:?}"
            );
        }
        assert_eq!(
            next_refresh(
                now,
                6 * HOUR,
                Some(now + Duration::from_secs(1)),
                Duration::ZERO
            ),
            now + Duration::from_secs(301)
        );
    }

    #[test]
    fn the_encoded_expiration_puts_the_cache_refresh_at_the_scheduled_time() {
        let now = at(T0);
        for wait in [
            Duration::from_secs(1),
            5 * MIN,
            6 * HOUR + 299 * Duration::from_secs(1),
        ] {
            let expiration = encoded_expiration(now, now + wait);
            let lifetime = expiration.duration_since(now).unwrap();
            assert_eq!(lifetime, wait * 100);
            // What the cache computes with refresh_window(0.01, 0.01):
            let refresh = now + lifetime.mul_f64(REFRESH_FRACTION);
            let error = refresh
                .duration_since(now + wait)
                .or_else(|e| Ok::<_, ()>(e.duration()))
                .unwrap();
            assert!(error < Duration::from_millis(1), "{wait:?}: {error:?}");
        }
        // A schedule in the past still gives a future expiration.
        assert_eq!(
            encoded_expiration(now, now - MIN),
            now + Duration::from_secs(100)
        );
    }

    #[test]
    fn token_bucket_allows_five_then_one_per_ten_minutes() {
        let t = at(T0);
        let mut bucket = TokenBucket::new(5, 10 * MIN, t);
        for _ in 0..5 {
            assert_eq!(bucket.try_take(t), Ok(()));
        }
        assert_eq!(bucket.try_take(t), Err(10 * MIN));
        assert_eq!(bucket.try_take(t + 4 * MIN), Err(6 * MIN));
        assert_eq!(bucket.try_take(t + 10 * MIN), Ok(()));
        assert_eq!(bucket.try_take(t + 10 * MIN), Err(10 * MIN));
        // Long idle refills to five, never more.
        let later = t + 24 * HOUR;
        for _ in 0..5 {
            assert_eq!(bucket.try_take(later), Ok(()));
        }
        assert!(bucket.try_take(later).is_err());
        // A clock that goes back earns nothing.
        assert!(bucket.try_take(t).is_err());
    }

    #[test]
    fn a_full_bucket_starts_its_period_at_the_first_take() {
        let t = at(T0);
        let mut bucket = TokenBucket::new(5, 10 * MIN, t);
        let later = t + 3 * HOUR;
        for _ in 0..5 {
            assert_eq!(bucket.try_take(later), Ok(()));
        }
        assert_eq!(bucket.try_take(later + 9 * MIN), Err(MIN));
        assert_eq!(bucket.try_take(later + 10 * MIN), Ok(()));
    }

    fn kms() -> KmsClient {
        KmsClient::builder()
            .endpoint("https://kms.example.com")
            .credentials(StaticAccessKeyProvider::new("LTAI5tId", "secret").unwrap())
            .context(Context::default().with_env(Env::from_pairs::<&str, &str>([])))
            .build()
            .unwrap()
    }

    #[test]
    fn build_needs_a_secret_name_and_a_client() {
        let ctx = |pairs: &[(&str, &str)]| {
            Context::default().with_env(Env::from_pairs(pairs.iter().copied()))
        };
        let err = KmsRotatingProvider::builder("")
            .kms(kms())
            .context(ctx(&[]))
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "kms_rotating: invalid configuration: the secret name is empty: pass it to the builder or \
             set ALIBABA_CLOUD_SECRET_NAME"
        );
        let p = KmsRotatingProvider::from_env(&ctx(&[(vars::SECRET_NAME, "from-env")]))
            .kms(kms())
            .build_uncached()
            .unwrap();
        assert_eq!(p.secret_name, "from-env");
        let err = KmsRotatingProvider::builder("s")
            .context(ctx(&[]))
            .build()
            .unwrap_err();
        assert_eq!(
            err.message(),
            "no KMS client: pass one to .kms(KmsClient::builder()..build()?)"
        );
        let err = KmsRotatingProvider::builder("s")
            .kms(kms())
            .refresh_interval(Duration::ZERO)
            .context(ctx(&[]))
            .build()
            .unwrap_err();
        assert_eq!(err.message(), "the refresh interval must be at least 1 s");
        let p = KmsRotatingProvider::builder("s")
            .kms(kms())
            .max_jitter(Duration::ZERO)
            .context(ctx(&[]))
            .build_uncached()
            .unwrap();
        assert_eq!(p.jitter, Duration::ZERO);
    }
}
