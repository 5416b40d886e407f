//! A small KMS client (OpenAPI version `2016-01-20`): `GetSecretValue` for the rotating AccessKey
//! provider, and `GenerateDataKey`, `Encrypt`, `Decrypt` for config encryption (spec
//! nacos-auth-and-encryption §C.2). Errors are reported by the name `kms`.
//!
//! # Wire (spec §2.2, §9.1, §18.3)
//! Every call is a POST signed with RPC signature v1 and `Format=JSON`: the common parameters in the
//! URL query, the action parameters (`SecretName`, `KeyId`, `Plaintext`, `CiphertextBlob` …) and the
//! signer's `SecurityToken` in the form body. The official Python KMS SDK puts plaintexts and
//! ciphertext blobs in the URL; this client never does. TLS certificates are always verified (the
//! official secret-manager clients turn verification off: spec §9.1).
//!
//! # Retries (spec §9.3)
//! Only recoverable failures are retried: transport timeouts and connection failures, the codes
//! `Rejected.Throttling`, `ServiceUnavailableTemporary`, `InternalFailure`, and any HTTP 5xx. By
//! default at most 3 attempts, with capped exponential backoff and jitter, within 20 s of the first
//! attempt ([`RetryPolicy`]); waits use the context's sleep. Every other refusal is returned at once
//! as a `Provider` error with the upstream `Code`, `RequestId` and HTTP status.
//!
//! # Endpoint
//! In this order: the endpoint set in code ([`Builder::endpoint`]), else `ALIBABA_CLOUD_KMS_ENDPOINT`
//! (a host or a `scheme://host[:port]` URL), else `kms.<region>.aliyuncs.com`
//! (`kms-vpc.<region>.aliyuncs.com` with [`Builder::vpc`]). Plain `http` only to loopback unless
//! [`Builder::allow_http`].
//!
//! # Secrets
//! Data keys, plaintexts and secret data are held in [`Zeroizing`] buffers, and no `Debug`, log line or
//! error shows them.
//!
//! ```no_run
//! use mse_auth_providers::kms::{KeySpec, KmsClient};
//! use mse_auth_providers::StaticAccessKeyProvider;
//! # async fn demo() -> Result<(), mse_auth_providers::CredentialsError> {
//! let kms = KmsClient::builder()
//!     .region("cn-hangzhou")
//!     .credentials(StaticAccessKeyProvider::new("LTAI5tExampleId", "example-secret")?)
//!     .build()?;
//! let data_key = kms.generate_data_key("alias/acs/mse", KeySpec::Aes256).await?;
//! assert_eq!(data_key.plaintext().len(), KeySpec::Aes256.key_len());
//! let again = kms.decrypt(data_key.ciphertext_blob()).await?;
//! assert_eq!(again.plaintext(), data_key.plaintext_base64().as_str());
//! let secret = kms.get_secret_value("my-ram-secret").await?;
//! println!("{secret:?}"); // the secret data is not shown
//! # Ok(()) }
//! ```

use crate::endpoint::{Endpoint, EndpointSettings, Product};
use crate::http::Timeouts;
use crate::rpc::{self, Call, Failure, Target};
use crate::Context;
use aws_smithy_async::rt::sleep::AsyncSleep;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use mse_auth::backoff::Backoff;
use mse_auth::timestamp::parse_utc;
use mse_auth::{CredentialsError, CredentialsProvider, Result, SharedCredentialsProvider};
use serde::Deserialize;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use zeroize::{Zeroize, Zeroizing};

/// Name in error paths and logs.
pub const NAME: &str = "kms";
/// The KMS API version every call names.
pub const API_VERSION: &str = "2016-01-20";
/// Connect and read budgets of one KMS call unless configured: 5 s and 10 s.
pub const TIMEOUTS: Timeouts = Timeouts::new(Duration::from_secs(5), Duration::from_secs(10));
/// Upstream codes worth another attempt (spec §9.3; HTTP 5xx and transport timeouts also are).
pub const RECOVERABLE_CODES: [&str; 3] = [
    "Rejected.Throttling",
    "ServiceUnavailableTemporary",
    "InternalFailure",
];

pub use mse_auth::cipher::KeySpec;

/// When to try a call again. See the [module docs](self#retries-spec-93).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    backoff: Backoff,
    budget: Duration,
}

impl Default for RetryPolicy {
    /// 3 attempts, waits of 0.25–0.5 s then 0.5–1 s, no retry that would start after 20 s.
    fn default() -> Self {
        Self::new(
            3,
            Backoff::new(Duration::from_millis(500), Duration::from_secs(4)),
            Duration::from_secs(20),
        )
    }
}

impl RetryPolicy {
    /// At most `max_attempts` attempts (at least 1, at most 10), waiting `backoff.delay(n)` after the
    /// n-th failure, and no new attempt once `budget` has passed since the first.
    pub fn new(max_attempts: u32, backoff: Backoff, budget: Duration) -> Self {
        Self {
            max_attempts: max_attempts.clamp(1, 10),
            backoff,
            budget,
        }
    }

    /// One attempt, no retry.
    pub fn no_retry() -> Self {
        Self::new(1, Backoff::default(), Duration::ZERO)
    }

    /// The most attempts a call makes.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
}

/// A KMS client. Cheap to clone (clones share settings). Build it with [`KmsClient::builder`]; see
/// the [module docs](self).
#[derive(Clone)]
pub struct KmsClient {
    inner: Arc<Inner>,
}

struct Inner {
    endpoint: Endpoint,
    credentials: SharedCredentialsProvider,
    timeouts: Timeouts,
    retry: RetryPolicy,
    ctx: Context,
}

impl fmt::Debug for KmsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsClient")
            .field("endpoint", &self.inner.endpoint)
            .field("credentials", &self.inner.credentials)
            .field("timeouts", &self.inner.timeouts)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// Action parameters, wiped when dropped (they include plaintexts).
struct Params(Vec<(&'static str, String)>);

impl Drop for Params {
    fn drop(&mut self) {
        for (_, value) in &mut self.0 {
            value.zeroize();
        }
    }
}

/// What one attempt came to.
enum Attempt {
    /// The 2xx body, and the provider path of the credentials that signed the call.
    Done(Zeroizing<Vec<u8>>, String),
    Failed {
        error: CredentialsError,
        recoverable: bool,
    },
}

impl KmsClient {
    /// Settings for a client. Credentials and a region or endpoint are required.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The endpoint calls go to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// `GetSecretValue` of the current version (`VersionStage=ACSCurrent`) with its extended config
    /// (`FetchExtendedConfig=true`), as the secret-manager clients ask (spec §9.1).
    pub async fn get_secret_value(&self, secret_name: &str) -> Result<SecretValue> {
        const ACTION: &str = "GetSecretValue";
        let params = vec![
            ("SecretName", secret_name.to_owned()),
            ("VersionStage", "ACSCurrent".to_owned()),
            ("FetchExtendedConfig", "true".to_owned()),
        ];
        let (body, signed_by) = self.call(ACTION, params).await?;
        let mut value = SecretValue::parse(&body)?;
        value.signed_by = signed_by;
        Ok(value)
    }

    /// `GenerateDataKey(KeyId, KeySpec)`: a fresh data key, in clear and wrapped by the master key
    /// `key_id` (spec §C.2 envelope mode).
    pub async fn generate_data_key(&self, key_id: &str, spec: KeySpec) -> Result<DataKey> {
        const ACTION: &str = "GenerateDataKey";
        let params = vec![
            ("KeyId", key_id.to_owned()),
            ("KeySpec", spec.as_str().to_owned()),
        ];
        let (body, _) = self.call(ACTION, params).await?;
        DataKey::parse(&body, spec)
    }

    /// `Encrypt(KeyId, Plaintext)`. The text is sent as it is, without a Base64 layer, as the MSE
    /// clients do (spec §C.2 direct mode); KMS accepts at most 6 KB.
    pub async fn encrypt(&self, key_id: &str, plaintext: &str) -> Result<Encrypted> {
        const ACTION: &str = "Encrypt";
        let params = vec![
            ("KeyId", key_id.to_owned()),
            ("Plaintext", plaintext.to_owned()),
        ];
        let (body, _) = self.call(ACTION, params).await?;
        Encrypted::parse(&body)
    }

    /// `Decrypt(CiphertextBlob)`: the blob names its key, so no `KeyId` is sent. For a data key the
    /// plaintext is its Base64 text ([`Decrypted::plaintext_bytes_from_base64`]).
    pub async fn decrypt(&self, ciphertext_blob: &str) -> Result<Decrypted> {
        const ACTION: &str = "Decrypt";
        let params = vec![("CiphertextBlob", ciphertext_blob.to_owned())];
        let (body, _) = self.call(ACTION, params).await?;
        Decrypted::parse(&body)
    }

    /// Sends `action` with `params` in the body, retrying recoverable failures; returns the 2xx body.
    /// Sends `action`, retrying recoverable failures; the 2xx body and the provider path of the
    /// credentials that signed the successful attempt.
    async fn call(
        &self,
        action: &'static str,
        params: Vec<(&'static str, String)>,
    ) -> Result<(Zeroizing<Vec<u8>>, String)> {
        let params = Params(params);
        let retry = self.inner.retry;
        let started = self.inner.ctx.time().now();
        let mut attempt = 1;
        loop {
            let (error, recoverable) = match self.attempt(action, &params.0).await {
                Attempt::Done(body, signed_by) => return Ok((body, signed_by)),
                Attempt::Failed { error, recoverable } => (error, recoverable),
            };
            if !recoverable || attempt >= retry.max_attempts {
                return Err(error);
            }
            let delay = retry.backoff.delay(attempt, fastrand::f64());
            let elapsed = self
                .inner
                .ctx
                .time()
                .now()
                .duration_since(started)
                .unwrap_or_default();
            if elapsed + delay > retry.budget {
                return Err(error);
            }
            tracing::debug!(
                client = NAME,
                action,
                attempt,
                retry_in = ?delay,
                error = %error,
                "recoverable KMS failure; retrying"
            );
            self.inner.ctx.sleep().sleep(delay).await;
            attempt += 1;
        }
    }

    /// One signed request.
    async fn attempt(&self, action: &'static str, params: &[(&'static str, String)]) -> Attempt {
        let inner = &self.inner;
        let source = match rpc::signing_credentials(
            NAME,
            &inner.credentials,
            "credentials that sign KMS calls",
        )
        .await
        {
            Ok(source) => source,
            Err(error) => {
                return Attempt::Failed {
                    error,
                    recoverable: false,
                }
            }
        };
        let call = params.iter().fold(
            Call::for_api(API_VERSION, action, inner.ctx.time().now()),
            |call, (key, value)| call.form(key, value.as_str()),
        );
        let target = Target {
            provider: NAME,
            product: Product::KMS,
            endpoint: &inner.endpoint,
            timeouts: inner.timeouts,
        };
        match rpc::send(&inner.ctx, target, call, Some(&source)).await {
            Ok(body) => Attempt::Done(body, source.provider_path().to_owned()),
            Err(Failure { error, transient }) => Attempt::Failed {
                recoverable: transient
                    || error.code().is_some_and(|c| RECOVERABLE_CODES.contains(&c)),
                error,
            },
        }
    }
}

/// Settings of a [`KmsClient`]; from [`KmsClient::builder`].
#[derive(Default)]
pub struct Builder {
    endpoint: EndpointSettings,
    credentials: Option<SharedCredentialsProvider>,
    timeouts: Option<Timeouts>,
    retry: RetryPolicy,
    context: Option<Context>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("endpoint", &self.endpoint)
            .field("credentials", &self.credentials)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// The KMS region, e.g. `cn-hangzhou`: endpoint `kms.<region>.aliyuncs.com`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.endpoint = self.endpoint.region(region);
        self
    }

    /// `true`: the VPC endpoint `kms-vpc.<region>.aliyuncs.com`.
    pub fn vpc(mut self, vpc: bool) -> Self {
        self.endpoint = self.endpoint.vpc(vpc);
        self
    }

    /// An explicit endpoint, a host or a `scheme://host[:port]` URL; wins over the region and
    /// `ALIBABA_CLOUD_KMS_ENDPOINT`.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = self.endpoint.endpoint(endpoint);
        self
    }

    /// Permits a plain `http` endpoint that is not loopback (secrets then cross the network
    /// unencrypted).
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.endpoint = self.endpoint.allow_http(allow);
        self
    }

    /// The credentials that sign calls (required): any provider, STS tokens included.
    pub fn credentials(mut self, provider: impl CredentialsProvider + 'static) -> Self {
        self.credentials = Some(SharedCredentialsProvider::new(provider));
        self
    }

    /// Like [`credentials`](Self::credentials), for a provider already shared.
    pub fn shared_credentials(mut self, provider: SharedCredentialsProvider) -> Self {
        self.credentials = Some(provider);
        self
    }

    /// Connect and read budgets of one attempt (default [`TIMEOUTS`]).
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = Some(timeouts);
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The environment, clock, sleep and HTTP client (default: the real ones). The clock stamps
    /// signed requests, so it must be the real time for a real KMS.
    pub fn context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }

    /// Validates the settings (reading `ALIBABA_CLOUD_KMS_ENDPOINT` when no endpoint is set in code).
    /// Errors are `InvalidConfiguration`.
    pub fn build(self) -> Result<KmsClient> {
        let ctx = self.context.unwrap_or_default();
        let Some(credentials) = self.credentials else {
            return Err(CredentialsError::invalid_configuration(
                NAME,
                "no credentials: pass the provider that signs KMS calls to .credentials(..)",
            ));
        };
        let endpoint = self.endpoint.resolve(Product::KMS, NAME, ctx.env())?;
        Ok(KmsClient {
            inner: Arc::new(Inner {
                endpoint,
                credentials,
                timeouts: self.timeouts.unwrap_or(TIMEOUTS),
                retry: self.retry,
                ctx,
            }),
        })
    }
}

// ---- responses ---------------------------------------------------------------------------------

/// A field that must be there, else a `Provider` error naming it (and the request id).
fn field(
    value: Option<String>,
    action: &str,
    name: &str,
    request_id: Option<&str>,
) -> Result<String> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(malformed(
            format!("the {action} response lacks {name}"),
            request_id,
        )),
    }
}

fn malformed(message: String, request_id: Option<&str>) -> CredentialsError {
    let err = CredentialsError::provider(NAME, message);
    match request_id {
        Some(id) => err.with_request_id(id),
        None => err,
    }
}

/// Parses a 2xx JSON body; the message quotes no body (it holds secrets).
fn from_json<'a, T: Deserialize<'a>>(body: &'a [u8], action: &str) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        CredentialsError::provider(
            NAME,
            format!(
                "the {action} response is not the expected JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })
}

/// An optional `YYYY-MM-DDTHH:MM:SSZ` field; empty is none, anything else unreadable is an error.
fn optional_time(
    value: Option<&str>,
    name: &str,
    request_id: Option<&str>,
) -> Result<Option<SystemTime>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => parse_utc(text).map(Some).map_err(|e| {
            malformed(
                format!("the GetSecretValue response has an unreadable {name}: {e}"),
                request_id,
            )
        }),
    }
}

/// `RotationInterval` as KMS writes it: whole seconds followed by `s`, e.g. `"21600s"`.
pub fn parse_rotation_interval(text: &str) -> Option<Duration> {
    let digits = text.trim().strip_suffix('s')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok().map(Duration::from_secs)
}

/// `VersionStages`: a list, or the POP JSON wrapping `{"VersionStage": [...]}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Stages {
    List(Vec<String>),
    Wrapped {
        #[serde(rename = "VersionStage", default)]
        version_stage: Vec<String>,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SecretValueWire {
    request_id: Option<String>,
    secret_name: Option<String>,
    version_id: Option<String>,
    create_time: Option<String>,
    secret_data: Option<String>,
    secret_data_type: Option<String>,
    version_stages: Option<Stages>,
    secret_type: Option<String>,
    automatic_rotation: Option<String>,
    rotation_interval: Option<String>,
    next_rotation_date: Option<String>,
    last_rotation_date: Option<String>,
    extended_config: Option<String>,
}

/// A secret's current version, from [`KmsClient::get_secret_value`]. `Debug` hides the secret data.
#[derive(Clone)]
pub struct SecretValue {
    request_id: Option<String>,
    secret_name: String,
    version_id: Option<String>,
    create_time: Option<SystemTime>,
    secret_data: Zeroizing<String>,
    secret_data_type: Option<String>,
    version_stages: Vec<String>,
    secret_type: Option<String>,
    automatic_rotation: Option<String>,
    rotation_interval: Option<Duration>,
    next_rotation_date: Option<SystemTime>,
    last_rotation_date: Option<SystemTime>,
    extended_config: Option<String>,
    signed_by: String,
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretValue")
            .field("secret_name", &self.secret_name)
            .field("version_id", &self.version_id)
            .field("secret_data", &"** redacted **")
            .field("secret_type", &self.secret_type)
            .field("version_stages", &self.version_stages)
            .field("rotation_interval", &self.rotation_interval)
            .field(
                "next_rotation_date",
                &self.next_rotation_date.map(mse_auth::timestamp::format_utc),
            )
            .field("request_id", &self.request_id)
            .field("signed_by", &self.signed_by)
            .finish_non_exhaustive()
    }
}

impl SecretValue {
    pub(crate) fn parse(body: &[u8]) -> Result<Self> {
        const ACTION: &str = "GetSecretValue";
        let wire: SecretValueWire = from_json(body, ACTION)?;
        let request_id = wire.request_id;
        let id = request_id.as_deref();
        // Move the secret into its wiping buffer before anything else can fail.
        let secret_data = Zeroizing::new(wire.secret_data.unwrap_or_default());
        if secret_data.is_empty() {
            return Err(malformed(
                format!("the {ACTION} response lacks SecretData"),
                id,
            ));
        }
        let secret_name = field(wire.secret_name, ACTION, "SecretName", id)?;
        let rotation_interval = match wire.rotation_interval.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(parse_rotation_interval(text).ok_or_else(|| {
                let shown = mse_auth::error::escape_untrusted(text, 20);
                malformed(
                    format!(
                        "the {ACTION} response has an unreadable RotationInterval `{shown}` \
                         (expected whole seconds and `s`, e.g. 21600s)"
                    ),
                    id,
                )
            })?),
        };
        Ok(Self {
            next_rotation_date: optional_time(
                wire.next_rotation_date.as_deref(),
                "NextRotationDate",
                id,
            )?,
            last_rotation_date: optional_time(
                wire.last_rotation_date.as_deref(),
                "LastRotationDate",
                id,
            )?,
            create_time: optional_time(wire.create_time.as_deref(), "CreateTime", id)?,
            version_stages: match wire.version_stages {
                Some(Stages::List(list)) => list,
                Some(Stages::Wrapped { version_stage }) => version_stage,
                None => Vec::new(),
            },
            request_id,
            secret_name,
            version_id: wire.version_id,
            secret_data,
            secret_data_type: wire.secret_data_type,
            secret_type: wire.secret_type,
            automatic_rotation: wire.automatic_rotation,
            rotation_interval,
            extended_config: wire.extended_config,
            signed_by: String::new(),
        })
    }

    /// The provider path of the credentials that signed the `GetSecretValue` call, e.g.
    /// `ecs_ram_role` (empty for a value not read through a [`KmsClient`]).
    pub fn signed_by(&self) -> &str {
        &self.signed_by
    }

    /// The KMS request id.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
    /// `SecretName`.
    pub fn secret_name(&self) -> &str {
        &self.secret_name
    }
    /// `VersionId`.
    pub fn version_id(&self) -> Option<&str> {
        self.version_id.as_deref()
    }
    /// `CreateTime`.
    pub fn create_time(&self) -> Option<SystemTime> {
        self.create_time
    }
    /// `SecretData`: the secret itself. Never log it.
    pub fn secret_data(&self) -> &str {
        &self.secret_data
    }
    /// `SecretDataType`: `text` or `binary`.
    pub fn secret_data_type(&self) -> Option<&str> {
        self.secret_data_type.as_deref()
    }
    /// `VersionStages`, e.g. `["ACSCurrent"]`.
    pub fn version_stages(&self) -> &[String] {
        &self.version_stages
    }
    /// `SecretType`: `Generic`, `Rds`, `RAMCredentials`, `ECS` …
    pub fn secret_type(&self) -> Option<&str> {
        self.secret_type.as_deref()
    }
    /// `AutomaticRotation`: `Enabled` or `Disabled`.
    pub fn automatic_rotation(&self) -> Option<&str> {
        self.automatic_rotation.as_deref()
    }
    /// `RotationInterval`, parsed from `"<seconds>s"`.
    pub fn rotation_interval(&self) -> Option<Duration> {
        self.rotation_interval
    }
    /// `NextRotationDate`.
    pub fn next_rotation_date(&self) -> Option<SystemTime> {
        self.next_rotation_date
    }
    /// `LastRotationDate`.
    pub fn last_rotation_date(&self) -> Option<SystemTime> {
        self.last_rotation_date
    }
    /// `ExtendedConfig`, a JSON string (`{"SecretSubType":"RamUserAccessKey", …}` for RAM secrets).
    pub fn extended_config(&self) -> Option<&str> {
        self.extended_config.as_deref()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyWire {
    request_id: Option<String>,
    key_id: Option<String>,
    key_version_id: Option<String>,
    plaintext: Option<String>,
    ciphertext_blob: Option<String>,
}

/// A fresh data key from [`KmsClient::generate_data_key`]. `Debug` hides the key.
#[derive(Clone)]
pub struct DataKey {
    request_id: Option<String>,
    key_id: String,
    key_version_id: Option<String>,
    plaintext: Zeroizing<Vec<u8>>,
    ciphertext_blob: String,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field("key_id", &self.key_id)
            .field("key_version_id", &self.key_version_id)
            .field(
                "plaintext",
                &format_args!("** {} bytes **", self.plaintext.len()),
            )
            .field("ciphertext_blob", &self.ciphertext_blob)
            .field("request_id", &self.request_id)
            .finish()
    }
}

impl DataKey {
    pub(crate) fn parse(body: &[u8], spec: KeySpec) -> Result<Self> {
        const ACTION: &str = "GenerateDataKey";
        let wire: KeyWire = from_json(body, ACTION)?;
        let id = wire.request_id.as_deref();
        let encoded = Zeroizing::new(wire.plaintext.unwrap_or_default());
        if encoded.is_empty() {
            return Err(malformed(
                format!("the {ACTION} response lacks Plaintext"),
                id,
            ));
        }
        let plaintext = Zeroizing::new(BASE64.decode(encoded.as_bytes()).map_err(|_| {
            malformed(
                format!("the {ACTION} response has a Plaintext that is not Base64"),
                id,
            )
        })?);
        if plaintext.len() != spec.key_len() {
            return Err(malformed(
                format!(
                    "the {ACTION} response has a {}-byte data key where {} asked for {}",
                    plaintext.len(),
                    spec.as_str(),
                    spec.key_len()
                ),
                id,
            ));
        }
        Ok(Self {
            key_id: field(wire.key_id, ACTION, "KeyId", id)?,
            ciphertext_blob: field(wire.ciphertext_blob, ACTION, "CiphertextBlob", id)?,
            key_version_id: wire.key_version_id,
            request_id: wire.request_id,
            plaintext,
        })
    }

    /// The KMS request id.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
    /// The master key's id (`KeyId`).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
    /// The master key version (`KeyVersionId`).
    pub fn key_version_id(&self) -> Option<&str> {
        self.key_version_id.as_deref()
    }
    /// The raw data key (16 or 32 bytes). Never log it.
    pub fn plaintext(&self) -> &[u8] {
        &self.plaintext
    }
    /// The data key as KMS sent it: standard Base64.
    pub fn plaintext_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE64.encode(&*self.plaintext))
    }
    /// The wrapped data key (`CiphertextBlob`): what `encryptedDataKey` stores, and what
    /// [`KmsClient::decrypt`] unwraps.
    pub fn ciphertext_blob(&self) -> &str {
        &self.ciphertext_blob
    }
}

/// The result of [`KmsClient::encrypt`].
#[derive(Clone, Debug)]
pub struct Encrypted {
    request_id: Option<String>,
    key_id: String,
    key_version_id: Option<String>,
    ciphertext_blob: String,
}

impl Encrypted {
    pub(crate) fn parse(body: &[u8]) -> Result<Self> {
        const ACTION: &str = "Encrypt";
        let wire: KeyWire = from_json(body, ACTION)?;
        let id = wire.request_id.as_deref();
        Ok(Self {
            key_id: field(wire.key_id, ACTION, "KeyId", id)?,
            ciphertext_blob: field(wire.ciphertext_blob, ACTION, "CiphertextBlob", id)?,
            key_version_id: wire.key_version_id,
            request_id: wire.request_id,
        })
    }

    /// The KMS request id.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
    /// The master key's id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
    /// The master key version.
    pub fn key_version_id(&self) -> Option<&str> {
        self.key_version_id.as_deref()
    }
    /// The ciphertext (`CiphertextBlob`, Base64).
    pub fn ciphertext_blob(&self) -> &str {
        &self.ciphertext_blob
    }
}

/// The result of [`KmsClient::decrypt`]. `Debug` hides the plaintext.
#[derive(Clone)]
pub struct Decrypted {
    request_id: Option<String>,
    key_id: String,
    key_version_id: Option<String>,
    plaintext: Zeroizing<String>,
}

impl fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decrypted")
            .field("key_id", &self.key_id)
            .field("key_version_id", &self.key_version_id)
            .field("plaintext", &"** redacted **")
            .field("request_id", &self.request_id)
            .finish()
    }
}

impl Decrypted {
    pub(crate) fn parse(body: &[u8]) -> Result<Self> {
        const ACTION: &str = "Decrypt";
        let wire: KeyWire = from_json(body, ACTION)?;
        let id = wire.request_id.as_deref();
        let plaintext = Zeroizing::new(wire.plaintext.unwrap_or_default());
        if plaintext.is_empty() {
            return Err(malformed(
                format!("the {ACTION} response lacks Plaintext"),
                id,
            ));
        }
        Ok(Self {
            key_id: field(wire.key_id, ACTION, "KeyId", id)?,
            key_version_id: wire.key_version_id,
            request_id: wire.request_id,
            plaintext,
        })
    }

    /// The KMS request id.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
    /// The master key's id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
    /// The master key version.
    pub fn key_version_id(&self) -> Option<&str> {
        self.key_version_id.as_deref()
    }
    /// The plaintext as KMS returned it: the text given to `Encrypt`, or the Base64 of a data key.
    pub fn plaintext(&self) -> &str {
        &self.plaintext
    }
    /// The plaintext Base64-decoded: the raw data key of a `GenerateDataKey` blob. Not Base64 is a
    /// `Provider` error.
    pub fn plaintext_bytes_from_base64(&self) -> Result<Zeroizing<Vec<u8>>> {
        BASE64
            .decode(self.plaintext.as_bytes())
            .map(Zeroizing::new)
            .map_err(|_| {
                malformed(
                    "the Decrypt plaintext is not Base64, so it is not a data key".to_owned(),
                    self.request_id.as_deref(),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mse_auth::os::Env;
    use mse_auth::StaticAccessKeyProvider;
    use mse_auth::{vars, ErrorKind};

    fn ctx(env: &[(&str, &str)]) -> Context {
        Context::default().with_env(Env::from_pairs(env.iter().copied()))
    }

    fn builder(env: &[(&str, &str)]) -> Builder {
        KmsClient::builder()
            .credentials(StaticAccessKeyProvider::new("LTAI5tId", "secret").unwrap())
            .context(ctx(env))
    }

    #[test]
    fn endpoint_comes_from_code_then_env_then_region() {
        let origin = |b: Builder| b.build().map(|c| c.endpoint().origin());
        assert_eq!(
            origin(builder(&[]).region("cn-hangzhou")).unwrap(),
            "https://kms.cn-hangzhou.aliyuncs.com"
        );
        assert_eq!(
            origin(builder(&[]).region("cn-hangzhou").vpc(true)).unwrap(),
            "https://kms-vpc.cn-hangzhou.aliyuncs.com"
        );
        assert_eq!(
            origin(builder(&[(vars::KMS_ENDPOINT, "kms.example.internal")]).region("cn-hangzhou"))
                .unwrap(),
            "https://kms.example.internal"
        );
        assert_eq!(
            origin(
                builder(&[(vars::KMS_ENDPOINT, "kms.example.internal")])
                    .endpoint("http://127.0.0.1:9")
            )
            .unwrap(),
            "http://127.0.0.1:9"
        );
        assert_eq!(
            origin(builder(&[(vars::KMS_REGION, "cn-beijing")])).unwrap(),
            "https://kms.cn-beijing.aliyuncs.com"
        );
        assert_eq!(
            origin(builder(&[(vars::KMS_REGION, "cn-beijing")]).region("cn-hangzhou")).unwrap(),
            "https://kms.cn-hangzhou.aliyuncs.com",
            "a region set in code wins"
        );
    }

    #[test]
    fn missing_or_bad_settings_are_invalid_configuration() {
        let err = builder(&[]).build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "kms: invalid configuration: no KMS endpoint: set a region (.region(\"cn-hangzhou\")), an \
             endpoint, or ALIBABA_CLOUD_KMS_ENDPOINT or ALIBABA_CLOUD_KMS_REGION"
        );
        let err = KmsClient::builder()
            .region("cn-hangzhou")
            .context(ctx(&[]))
            .build()
            .unwrap_err();
        assert_eq!(
            err.message(),
            "no credentials: pass the provider that signs KMS calls to .credentials(..)"
        );
        let err = builder(&[(vars::KMS_ENDPOINT, "http://10.0.0.1")])
            .build()
            .unwrap_err();
        assert!(
            err.message()
                .starts_with("ALIBABA_CLOUD_KMS_ENDPOINT: refusing plain http to http://10.0.0.1"),
            "{err}"
        );
        let err = builder(&[]).region("cn hangzhou").build().unwrap_err();
        assert!(err.message().contains("is not a region id"), "{err}");
    }

    #[test]
    fn rotation_intervals_are_seconds_with_an_s() {
        assert_eq!(
            parse_rotation_interval("21600s"),
            Some(Duration::from_secs(21600))
        );
        assert_eq!(
            parse_rotation_interval(" 60s "),
            Some(Duration::from_secs(60))
        );
        for bad in [
            "",
            "s",
            "60",
            "6h",
            "-1s",
            "1.5s",
            "99999999999999999999999s",
        ] {
            assert_eq!(parse_rotation_interval(bad), None, "{bad}");
        }
    }

    const SECRET_BODY: &str = r#"{"RequestId":"R1","SecretName":"ak","VersionId":"v2",
        "CreateTime":"2024-01-01T00:00:00Z","SecretData":"{\"AccessKeyId\":\"LTAI\",\"AccessKeySecret\":\"sentinel\"}",
        "SecretDataType":"text","VersionStages":{"VersionStage":["ACSCurrent"]},"SecretType":"RAMCredentials",
        "AutomaticRotation":"Enabled","RotationInterval":"3600s","NextRotationDate":"2024-01-01T01:00:00Z",
        "LastRotationDate":"2024-01-01T00:00:00Z","ExtendedConfig":"{\"SecretSubType\":\"RamUserAccessKey\"}"}"#;

    #[test]
    fn a_secret_value_is_read_and_its_data_never_shown() {
        let v = SecretValue::parse(SECRET_BODY.as_bytes()).unwrap();
        assert_eq!(v.secret_name(), "ak");
        assert_eq!(v.version_id(), Some("v2"));
        assert_eq!(v.version_stages(), ["ACSCurrent"]);
        assert_eq!(v.rotation_interval(), Some(Duration::from_secs(3600)));
        assert_eq!(
            v.next_rotation_date(),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_070_800))
        );
        assert!(v.secret_data().contains("sentinel"));
        assert!(!format!("{v:?}").contains("sentinel"));
        // The plain list form is read too.
        let body = SECRET_BODY.replace(r#"{"VersionStage":["ACSCurrent"]}"#, r#"["ACSCurrent"]"#);
        let v = SecretValue::parse(body.as_bytes()).unwrap();
        assert_eq!(v.version_stages(), ["ACSCurrent"]);
    }

    #[test]
    fn bad_secret_values_are_provider_errors_that_quote_no_data() {
        let cases = [
            ("<html>sentinel".to_owned(), "the GetSecretValue response is not the expected JSON (line 1, column 1)"),
            (SECRET_BODY.replace("\"SecretData\"", "\"X\""), "the GetSecretValue response lacks SecretData"),
            (SECRET_BODY.replace("\"SecretName\"", "\"X\""), "the GetSecretValue response lacks SecretName"),
            (
                SECRET_BODY.replace("3600s", "1h"),
                "the GetSecretValue response has an unreadable RotationInterval `1h` (expected whole seconds and `s`, e.g. 21600s)",
            ),
            (
                SECRET_BODY.replace("2024-01-01T01:00:00Z", "soon"),
                "the GetSecretValue response has an unreadable NextRotationDate: `soon` is not a UTC timestamp \
                 of the form YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DDTHH:MM:SS.mmmZ",
            ),
        ];
        for (body, message) in cases {
            let err = SecretValue::parse(body.as_bytes()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Provider);
            assert_eq!(err.message(), message);
            assert!(!format!("{err} {err:?}").contains("sentinel"));
        }
    }

    #[test]
    fn data_keys_are_decoded_checked_and_hidden() {
        let body = r#"{"RequestId":"R","KeyId":"k1","KeyVersionId":"kv","CiphertextBlob":"blob",
            "Plaintext":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}"#;
        let key = DataKey::parse(body.as_bytes(), KeySpec::Aes256).unwrap();
        assert_eq!(key.plaintext(), (0u8..32).collect::<Vec<_>>());
        assert_eq!(
            key.plaintext_base64().as_str(),
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
        );
        assert!(!format!("{key:?}").contains("AAEC"));
        let err = DataKey::parse(body.as_bytes(), KeySpec::Aes128).unwrap_err();
        assert_eq!(
            err.message(),
            "the GenerateDataKey response has a 32-byte data key where AES_128 asked for 16"
        );
        let err = DataKey::parse(
            br#"{"KeyId":"k","CiphertextBlob":"b","Plaintext":"%%"}"#,
            KeySpec::Aes128,
        )
        .unwrap_err();
        assert_eq!(
            err.message(),
            "the GenerateDataKey response has a Plaintext that is not Base64"
        );
        let err = Encrypted::parse(br#"{"RequestId":"R7","KeyId":"k"}"#).unwrap_err();
        assert_eq!(err.message(), "the Encrypt response lacks CiphertextBlob");
        assert_eq!(err.request_id(), Some("R7"));
        let d = Decrypted::parse(br#"{"KeyId":"k","Plaintext":"sentinel text"}"#).unwrap();
        assert_eq!(d.plaintext(), "sentinel text");
        assert!(!format!("{d:?}").contains("sentinel"));
        assert_eq!(
            d.plaintext_bytes_from_base64().unwrap_err().message(),
            "the Decrypt plaintext is not Base64, so it is not a data key"
        );
    }

    #[test]
    fn retry_policy_bounds_attempts() {
        assert_eq!(RetryPolicy::default().max_attempts(), 3);
        assert_eq!(RetryPolicy::no_retry().max_attempts(), 1);
        let b = Backoff::default();
        assert_eq!(RetryPolicy::new(0, b, Duration::ZERO).max_attempts(), 1);
        assert_eq!(RetryPolicy::new(99, b, Duration::ZERO).max_attempts(), 10);
    }
}
