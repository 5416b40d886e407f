//! The emulator's shared state: configuration, known keys, issued credentials, counters.
//!
//! One `std::sync::Mutex` guards everything; it is never held across an `.await`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_smithy_async::time::SharedTimeSource;

use super::faults::Fault;
use super::log::{BoundedLog, LoggedRequest};
use super::{Endpoint, IssuedCredentials, IssuedOAuthTokens};

/// Lifetime of issued credentials unless configured (and of STS credentials without `DurationSeconds`).
pub(crate) const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// Role name the metadata service reports until [`super::Emulator::set_imds_role`] is called.
pub(crate) const DEFAULT_IMDS_ROLE: &str = "EmulatorEcsRole";

/// How many requests and issued credentials are kept (oldest dropped first).
const LOG_CAPACITY: usize = 10_000;

/// Nonces older than this are forgotten: the timestamp window rejects such requests anyway.
const NONCE_MEMORY: Duration = Duration::from_secs(30 * 60);

/// An STS key the emulator issued: accepted as a source credential until it expires.
#[derive(Clone)]
pub(crate) struct StsKey {
    pub(crate) secret: String,
    pub(crate) security_token: String,
    pub(crate) expires: SystemTime,
}

/// A KMS secret (one current version).
#[derive(Clone)]
pub(crate) struct KmsSecret {
    pub(crate) secret_type: String,
    pub(crate) secret_data: String,
    /// Version number, for `VersionId` (`v1`, `v2` …).
    pub(crate) version: u32,
    pub(crate) created: SystemTime,
    pub(crate) rotation_interval: Option<Duration>,
    pub(crate) next_rotation: Option<SystemTime>,
    pub(crate) last_rotation: Option<SystemTime>,
}

/// A KMS master key: AES-256 material and its version id.
#[derive(Clone)]
pub(crate) struct KmsKey {
    pub(crate) material: [u8; 32],
    pub(crate) version_id: String,
}

/// A CloudSSO access token: until when, and for which account and access configuration.
#[derive(Clone)]
pub(crate) struct SsoGrant {
    pub(crate) expires: SystemTime,
    pub(crate) account_id: String,
    pub(crate) access_config: String,
}

/// An OAuth refresh token: the client it was issued to (`None`: either of the CLI's), and whether
/// a grant has spent it.
#[derive(Clone)]
pub(crate) struct OAuthRefresh {
    pub(crate) client_id: Option<String>,
    pub(crate) spent: bool,
}

/// The secret behind an AccessKeyId, as STS looks it up.
pub(crate) enum KnownKey {
    LongTerm { secret: String },
    Sts(StsKey),
}

pub(crate) struct Inner {
    pub(crate) access_keys: HashMap<String, String>,
    pub(crate) sts_keys: HashMap<String, StsKey>,
    pub(crate) lifetime: Option<Duration>,
    pub(crate) oidc_token: Option<String>,
    /// Every OIDC token ever configured, for [`super::Emulator::url_leaks`].
    pub(crate) oidc_tokens_seen: Vec<String>,
    /// Nacos users (name → password).
    pub(crate) nacos_users: HashMap<String, String>,
    /// Issued Nacos tokens and stored configs.
    pub(crate) nacos: super::nacos::Nacos,
    /// Lifetime of Nacos tokens (default 18,000 s).
    pub(crate) nacos_token_ttl: Option<Duration>,
    pub(crate) imds_role: String,
    pub(crate) imds_token_required: bool,
    pub(crate) imds_tokens: HashMap<String, SystemTime>,
    pub(crate) nonces: HashMap<String, SystemTime>,
    pub(crate) kms_secrets: HashMap<String, KmsSecret>,
    pub(crate) kms_keys: HashMap<String, KmsKey>,
    /// KMS values that must never travel in a URL (data keys, plaintexts, blobs), for
    /// [`super::Emulator::url_leaks`].
    pub(crate) kms_sensitive: BoundedLog<(&'static str, String)>,
    /// CloudSSO access tokens (token → grant).
    pub(crate) cloud_sso_tokens: HashMap<String, SsoGrant>,
    /// OAuth refresh tokens, spent ones included (for [`super::Emulator::url_leaks`]).
    pub(crate) oauth_refresh_tokens: HashMap<String, OAuthRefresh>,
    /// OAuth access tokens (token → expiry).
    pub(crate) oauth_access_tokens: HashMap<String, SystemTime>,
    /// Lifetime of issued OAuth access tokens (default 3600 s).
    pub(crate) oauth_token_lifetime: Option<Duration>,
    pub(crate) oauth_issued: BoundedLog<IssuedOAuthTokens>,
    pub(crate) calls: HashMap<Endpoint, usize>,
    pub(crate) faults: HashMap<Endpoint, VecDeque<(Fault, usize)>>,
    pub(crate) requests: BoundedLog<LoggedRequest>,
    pub(crate) issued: BoundedLog<IssuedCredentials>,
}

pub(crate) struct State {
    inner: Mutex<Inner>,
    /// The random path token of the credentials URI.
    pub(crate) uri_token: String,
    /// The clock behind every date the emulator checks or issues.
    time: SharedTimeSource,
}

impl State {
    pub(crate) fn new(time: SharedTimeSource) -> Self {
        State {
            inner: Mutex::new(Inner {
                access_keys: HashMap::new(),
                sts_keys: HashMap::new(),
                lifetime: None,
                oidc_token: None,
                oidc_tokens_seen: Vec::new(),
                nacos_users: HashMap::new(),
                nacos: super::nacos::Nacos::default(),
                nacos_token_ttl: None,
                imds_role: DEFAULT_IMDS_ROLE.to_owned(),
                imds_token_required: false,
                imds_tokens: HashMap::new(),
                nonces: HashMap::new(),
                kms_secrets: HashMap::new(),
                kms_keys: HashMap::new(),
                kms_sensitive: BoundedLog::new(LOG_CAPACITY),
                cloud_sso_tokens: HashMap::new(),
                oauth_refresh_tokens: HashMap::new(),
                oauth_access_tokens: HashMap::new(),
                oauth_token_lifetime: None,
                oauth_issued: BoundedLog::new(LOG_CAPACITY),
                calls: HashMap::new(),
                faults: HashMap::new(),
                requests: BoundedLog::new(LOG_CAPACITY),
                issued: BoundedLog::new(LOG_CAPACITY),
            }),
            uri_token: random_string(32),
            time,
        }
    }

    /// The emulator's current time, from its time source.
    pub(crate) fn now(&self) -> SystemTime {
        self.time.now()
    }

    /// The state, even if a panicking test thread poisoned the lock (the data stays consistent:
    /// every critical section is a handful of map operations).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a request: logs it, counts it for its endpoint and takes that endpoint's next fault.
    pub(crate) fn begin(&self, request: LoggedRequest) -> Option<Fault> {
        let mut inner = self.lock();
        let endpoint = request.endpoint;
        inner.requests.push(request);
        let endpoint = endpoint?;
        *inner.calls.entry(endpoint).or_insert(0) += 1;
        let queue = inner.faults.get_mut(&endpoint)?;
        let (fault, remaining) = queue.front_mut()?;
        let fault = fault.clone();
        *remaining -= 1;
        if *remaining == 0 {
            queue.pop_front();
        }
        Some(fault)
    }

    /// Lifetime for a credential: the configured one, else `requested`, else the default.
    pub(crate) fn lifetime(&self, requested: Option<Duration>) -> Duration {
        self.lock()
            .lifetime
            .or(requested)
            .unwrap_or(DEFAULT_LIFETIME)
    }

    /// Issues a fresh STS credential, remembers it as a valid source key and records it.
    pub(crate) fn issue(
        &self,
        endpoint: Endpoint,
        lifetime: Duration,
        role_arn: Option<&str>,
        role_session_name: Option<&str>,
        now: SystemTime,
    ) -> IssuedCredentials {
        // A huge configured lifetime must not overflow the clock: cap it at ~100 years.
        let lifetime = lifetime.min(Duration::from_secs(100 * 365 * 86_400));
        let expiration = ceil_to_second(now + lifetime);
        let issued = IssuedCredentials {
            endpoint,
            access_key_id: format!("STS.{}", random_string(24)),
            access_key_secret: random_string(44),
            security_token: format!("CAIS{}", random_string(316)),
            expiration,
            expiration_text: format_utc(expiration),
            role_arn: role_arn.map(str::to_owned),
            role_session_name: role_session_name.map(str::to_owned),
        };
        let mut inner = self.lock();
        if inner.sts_keys.len() >= LOG_CAPACITY * 10 {
            // Bounded memory: forget keys that expired long ago.
            inner
                .sts_keys
                .retain(|_, k| k.expires + Duration::from_secs(3600) > now);
        }
        inner.sts_keys.insert(
            issued.access_key_id.clone(),
            StsKey {
                secret: issued.access_key_secret.clone(),
                security_token: issued.security_token.clone(),
                expires: expiration,
            },
        );
        inner.issued.push(issued.clone());
        issued
    }

    /// Looks up the secret for an AccessKeyId (long-term keys first, then issued STS keys).
    pub(crate) fn known_key(&self, access_key_id: &str) -> Option<KnownKey> {
        let inner = self.lock();
        if let Some(secret) = inner.access_keys.get(access_key_id) {
            return Some(KnownKey::LongTerm {
                secret: secret.clone(),
            });
        }
        inner
            .sts_keys
            .get(access_key_id)
            .cloned()
            .map(KnownKey::Sts)
    }

    /// Remembers a nonce; false when it was already used within the replay window.
    pub(crate) fn use_nonce(&self, nonce: &str, now: SystemTime) -> bool {
        let mut inner = self.lock();
        if inner.nonces.contains_key(nonce) {
            return false;
        }
        if inner.nonces.len() >= LOG_CAPACITY {
            inner.nonces.retain(|_, seen| *seen + NONCE_MEMORY > now);
        }
        inner.nonces.insert(nonce.to_owned(), now);
        true
    }
}

/// Rounds up to a whole second, so the `…SSZ` text never promises more than the real expiry.
fn ceil_to_second(t: SystemTime) -> SystemTime {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) if d.subsec_nanos() > 0 => UNIX_EPOCH + Duration::from_secs(d.as_secs() + 1),
        _ => t,
    }
}

pub(crate) use mse_auth::timestamp::format_utc;

/// Parses `YYYY-MM-DDTHH:MM:SSZ` (UTC) only, as the real service does for `Timestamp`.
pub(crate) fn parse_utc(s: &str) -> Option<SystemTime> {
    (s.len() == 20)
        .then(|| mse_auth::timestamp::parse_utc(s).ok())
        .flatten()
}

/// Random `[A-Za-z0-9]` string.
pub(crate) fn random_string(len: usize) -> String {
    std::iter::repeat_with(fastrand::alphanumeric)
        .take(len)
        .collect()
}

/// A request id shaped like the real ones: upper-case hex `8-4-4-4-12`.
pub(crate) fn request_id() -> String {
    let hex = |n: usize| -> String {
        std::iter::repeat_with(|| char::from(b"0123456789ABCDEF"[fastrand::usize(..16)]))
            .take(n)
            .collect()
    };
    format!("{}-{}-{}-{}-{}", hex(8), hex(4), hex(4), hex(4), hex(12))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_format_round_trips_whole_seconds() {
        let t = UNIX_EPOCH + Duration::from_secs(1_704_067_200); // 2024-01-01T00:00:00Z
        assert_eq!(format_utc(t), "2024-01-01T00:00:00Z");
        assert_eq!(parse_utc("2024-01-01T00:00:00Z"), Some(t));
        assert_eq!(parse_utc("2024-01-01T00:00:00.000Z"), None);
        assert_eq!(parse_utc("2024-01-01 00:00:00Z"), None);
        assert_eq!(parse_utc("garbage"), None);
    }

    #[test]
    fn expiration_is_rounded_up() {
        let t = UNIX_EPOCH + Duration::from_millis(1_500);
        assert_eq!(ceil_to_second(t), UNIX_EPOCH + Duration::from_secs(2));
    }

    #[test]
    fn fault_is_used_exactly_times_requests() {
        let state = State::new(SharedTimeSource::default());
        state.lock().faults.insert(
            Endpoint::CredentialsUri,
            VecDeque::from([(Fault::Garbage, 2)]),
        );
        let req = || LoggedRequest::for_test(Some(Endpoint::CredentialsUri));
        assert_eq!(state.begin(req()), Some(Fault::Garbage));
        assert_eq!(state.begin(req()), Some(Fault::Garbage));
        assert_eq!(state.begin(req()), None);
        assert_eq!(state.lock().calls[&Endpoint::CredentialsUri], 3);
    }

    #[test]
    fn nonce_is_single_use() {
        let state = State::new(SharedTimeSource::default());
        let now = SystemTime::now();
        assert!(state.use_nonce("n1", now));
        assert!(!state.use_nonce("n1", now));
        assert!(state.use_nonce("n2", now));
    }
}
