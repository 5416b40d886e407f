//! A local cloud on 127.0.0.1: STS, ECS instance metadata, a credentials URI, KMS, Nacos login (with
//! a token-checked config read), and the CLI's sign-in services (CloudSSO, OAuth).
//!
//! It depends on the `mse-auth` core only, so the providers crate can test against it (it is their
//! dev-dependency) and the `mse-auth` CLI can serve it (`mse-auth emulator`).
//!
//! [`Emulator::start`] binds `127.0.0.1:0` (loopback only, a free port) and serves, on one port:
//!
//! | endpoint | request | behaves like |
//! |---|---|---|
//! | [`Endpoint::AssumeRole`] | `POST /` (form body) or `GET /` (all in the query), `Action=AssumeRole` | STS: checks every common parameter, the timestamp (±15 min), nonce reuse, the AccessKeyId (long-term keys from [`Emulator::add_access_key`] or STS keys it issued, with their `SecurityToken`) and the RPC v1 signature; answers the real error JSON otherwise |
//! | [`Endpoint::AssumeRoleWithOidc`] | same, `Action=AssumeRoleWithOIDC`, anonymous | STS: the `OIDCToken` must equal [`Emulator::set_oidc_token`] |
//! | [`Endpoint::ImdsToken`] | `PUT /latest/api/token` | IMDSv2 token (TTL header 1..=21600) |
//! | [`Endpoint::ImdsRole`] | `GET /latest/meta-data/ram/security-credentials/` | the role name ([`Emulator::set_imds_role`]) |
//! | [`Endpoint::ImdsCredentials`] | `GET /latest/meta-data/ram/security-credentials/<role>` | the role's credentials, `Code: "Success"` |
//! | [`Endpoint::CredentialsUri`] | `GET /credentials/<random token>` ([`Emulator::credentials_uri`]) | a credentials URI |
//! | [`Endpoint::KmsGetSecretValue`] | `POST /`, `Action=GetSecretValue`, `Version=2016-01-20`, signed as for `AssumeRole` | KMS: secrets from [`Emulator::kms_put_ram_secret`] / [`Emulator::kms_put_secret`], rotated by [`Emulator::kms_rotate_secret`]; `Forbidden.ResourceNotFound` otherwise |
//! | [`Endpoint::KmsGenerateDataKey`], [`Endpoint::KmsEncrypt`], [`Endpoint::KmsDecrypt`] | same, signed | KMS: master keys from [`Emulator::kms_create_key`]; blobs are real AES-256-GCM under the master key and carry the key id; `Encrypt` takes at most 6 KB; tampered or foreign blobs get 400 `InvalidParameter` |
//! | [`Endpoint::NacosLogin`] | `POST` or `GET` `/nacos/v3/auth/user/login`, `/nacos/v1/auth/users/login`, `/nacos/v1/auth/login`; `username`, `password` in the query or form body | Nacos/rnacos login: users from [`Emulator::nacos_add_user`], a fresh 64-character token valid for [`Emulator::set_nacos_token_ttl`] (18,000 s by default); 403 `unknown user!` otherwise |
//! | [`Endpoint::NacosGetConfig`] | `GET /nacos/v1/cs/configs?dataId=..&group=..`, the token as `Authorization: Bearer`, an `accessToken` parameter or an `accessToken` header | the Nacos config open API: 200 with the content of [`Emulator::nacos_put_config`] (404 `config data not exist` without one) for a token it issued that has not expired (by its clock) nor been revoked ([`Emulator::nacos_revoke_tokens`]); 403 with Nacos's JSON error (`user not found!`, `token invalid!`, `Invalid signature`, `token expired!`) otherwise |
//! | [`Endpoint::CloudSsoCredentials`] | `POST /cloud-credentials` (JSON body, `Authorization: Bearer`), on the host of [`Emulator::cloud_sso_sign_in_url`] | CloudSSO: the access token, its expiry, account and access configuration from [`Emulator::cloud_sso_add_access_token`]; 401/400 `{"Code", "Message", "RequestId"}` otherwise |
//! | [`Endpoint::OAuthToken`] | `POST /v1/token` (form body) on [`Emulator::oauth_endpoint`] | OAuth refresh-token grant: the CLI's client ids ([`OAUTH_CLIENT_IDS`]), a `Timestamp`, a refresh token from [`Emulator::oauth_add_refresh_token`] or issued here, spent by its use (rotation); 400 `{"error", "error_description"}` otherwise |
//! | [`Endpoint::OAuthExchange`] | `POST /v1/exchange` (`Authorization: Bearer`, `Content-Type: application/json`) | OAuth: STS credentials for an unexpired access token issued by `/v1/token` or from [`Emulator::oauth_add_access_token`]; 401 `invalid_token` otherwise |
//!
//! Every credential response issues a fresh STS credential (`STS.…` id, secret, token) that expires
//! after [`Emulator::set_credential_lifetime`] (default: the requested `DurationSeconds` for STS,
//! 3600 s otherwise); it is recorded in [`Emulator::issued`] and accepted as a source credential by
//! `AssumeRole` until it expires. Expirations are `YYYY-MM-DDTHH:MM:SSZ`, which every official SDK parses.
//!
//! Tests can count calls ([`Emulator::calls`]), read every request as received
//! ([`Emulator::requests`], e.g. to prove no secret or token travels in a URL) and inject faults
//! ([`Emulator::inject_fault`]): error statuses, hangs, garbage, dropped connections, delays, missing
//! fields.
//!
//! The server runs on a tokio task of the current runtime; dropping the [`Emulator`] stops it, closes
//! the listener and ends every open connection.
//!
//! # Time
//! Every date the emulator checks or issues comes from one time source, the system clock unless
//! [`Builder::time_source`] sets another: the `Timestamp` window (±15 min) of signed calls, the
//! expiration of issued credentials and whether an issued STS credential is still accepted as a
//! source, IMDS token lifetimes, KMS rotation dates, the expiry of CloudSSO and OAuth tokens, and the
//! `Expiration` of a
//! [`Fault::MissingFields`] answer. Give it the manual clock the clients under test use (e.g.
//! aws-smithy-async's `ManualTimeSource`, or `TickAdvanceTime`) and a test advances time instead of
//! sleeping. Only [`Fault::Hang`] and [`Fault::Delay`] run on real (tokio) time: they hold sockets.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use aws_smithy_async::test_util::ManualTimeSource;
//! use aws_smithy_async::time::TimeSource;
//! use mse_auth_emulator::Emulator;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let time = ManualTimeSource::new(SystemTime::now());
//! let emulator = Emulator::builder().time_source(time.clone()).start().await?;
//! emulator.set_credential_lifetime(Duration::from_secs(60));
//!
//! let client = reqwest::Client::builder().no_proxy().build()?;
//! let issued_at = time.now();
//! client.get(emulator.credentials_uri()).send().await?.error_for_status()?;
//! // Expirations are whole seconds, rounded up, on the emulator's clock.
//! let expiration = emulator.issued()[0].expiration;
//! assert!(expiration >= issued_at + Duration::from_secs(60));
//! assert!(expiration <= issued_at + Duration::from_secs(61));
//!
//! // An hour passes at once: that credential is now refused as an `AssumeRole` source.
//! time.advance(Duration::from_secs(3600));
//! assert!(time.now() > expiration);
//! # Ok(()) }
//! ```
//!
//! ```
//! use mse_auth_emulator::{Emulator, Endpoint, Fault};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let emulator = Emulator::start().await?;
//! emulator.add_access_key("LTAI5tEmulatorKey", "emulator-secret");
//! emulator.set_oidc_token("eyJhbGciOi.emulator.token");
//! emulator.inject_fault(Endpoint::AssumeRole, Fault::Status(503), 1);
//!
//! // Point a provider at it:
//! let sts = emulator.sts_endpoint(); // "http://127.0.0.1:<port>"
//! let imds = emulator.ecs_metadata_endpoint();
//! let uri = emulator.credentials_uri(); // "http://127.0.0.1:<port>/credentials/<token>"
//! assert!(sts.starts_with("http://127.0.0.1:") && imds == sts && uri.starts_with(&sts));
//! assert_eq!(emulator.calls(Endpoint::AssumeRole), 0);
//! # Ok(()) }
//! ```
//!
//! The CLI's sign-in modes: a CloudSSO access token for an account's access configuration, and an
//! OAuth refresh token (spent by its first use; the tokens issued for it are in
//! [`Emulator::oauth_issued`]).
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use mse_auth_emulator::Emulator;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let emulator = Emulator::start().await?;
//! let expires = SystemTime::now() + Duration::from_secs(3600);
//! emulator.cloud_sso_add_access_token("sso-token", expires, "1234567890123456", "ac-example");
//! emulator.oauth_add_refresh_token("refresh-token");
//! // The profile's `cloud_sso_sign_in_url`, and ALIBABA_CLOUD_OAUTH_ENDPOINT:
//! assert!(emulator.cloud_sso_sign_in_url().starts_with(&emulator.base_url()));
//! assert_eq!(emulator.oauth_endpoint(), emulator.base_url());
//! assert!(emulator.oauth_issued().is_empty());
//! # Ok(()) }
//! ```

#![warn(unreachable_pub)]

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_smithy_async::time::{SharedTimeSource, TimeSource};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

mod cloud_sso;
mod credentials_uri;
mod faults;
mod imds;
mod kms;
mod log;
pub mod loopback;
mod nacos;
mod oauth;
mod reply;
mod rpc;
mod server;
mod state;
mod sts;

pub use faults::{Fault, HANG_LIMIT};
pub use log::LoggedRequest;

use state::State;

/// `HostId` in STS error bodies.
const STS_HOST_ID: &str = "sts.aliyuncs.com";
/// `HostId` in KMS error bodies.
const KMS_HOST_ID: &str = "kms.aliyuncs.com";

/// The OAuth client ids of the Alibaba Cloud CLI, which `/v1/token` accepts: the China site's
/// (`4038181954557748008`) and the international site's (`4103531455503354461`) (spec §10).
pub const OAUTH_CLIENT_IDS: [&str; 2] = ["4038181954557748008", "4103531455503354461"];

/// The emulated endpoints, for [`Emulator::calls`] and [`Emulator::inject_fault`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// STS `AssumeRole`.
    AssumeRole,
    /// STS `AssumeRoleWithOIDC`.
    AssumeRoleWithOidc,
    /// IMDS `PUT /latest/api/token`.
    ImdsToken,
    /// IMDS `GET /latest/meta-data/ram/security-credentials/` (role name).
    ImdsRole,
    /// IMDS `GET /latest/meta-data/ram/security-credentials/<role>` (credentials).
    ImdsCredentials,
    /// The credentials URI, `GET /credentials/<token>`.
    CredentialsUri,
    /// KMS `GetSecretValue`.
    KmsGetSecretValue,
    /// KMS `GenerateDataKey`.
    KmsGenerateDataKey,
    /// KMS `Encrypt`.
    KmsEncrypt,
    /// KMS `Decrypt`.
    KmsDecrypt,
    /// Nacos username/password login (v3 or v1 path).
    NacosLogin,
    /// Nacos config read, `GET /nacos/v1/cs/configs` (token-checked).
    NacosGetConfig,
    /// CloudSSO `POST /cloud-credentials`.
    CloudSsoCredentials,
    /// OAuth `POST /v1/token` (refresh-token grant).
    OAuthToken,
    /// OAuth `POST /v1/exchange` (STS credentials for an access token).
    OAuthExchange,
}

impl Endpoint {
    /// `true` for the KMS actions.
    pub fn is_kms(self) -> bool {
        matches!(
            self,
            Endpoint::KmsGetSecretValue
                | Endpoint::KmsGenerateDataKey
                | Endpoint::KmsEncrypt
                | Endpoint::KmsDecrypt
        )
    }
}

/// A credential the emulator handed out, so tests can compare it with what a provider returned.
///
/// `Debug` masks the secret and the security token.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssuedCredentials {
    /// The endpoint that issued it.
    pub endpoint: Endpoint,
    /// `STS.` followed by random characters.
    pub access_key_id: String,
    /// The secret.
    pub access_key_secret: String,
    /// The security token.
    pub security_token: String,
    /// When it expires (whole seconds).
    pub expiration: SystemTime,
    /// `expiration` as sent: `YYYY-MM-DDTHH:MM:SSZ`.
    pub expiration_text: String,
    /// The `RoleArn` of an STS request.
    pub role_arn: Option<String>,
    /// The `RoleSessionName` of an STS request.
    pub role_session_name: Option<String>,
}

impl fmt::Debug for IssuedCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCredentials")
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"** redacted **")
            .field("security_token", &"** redacted **")
            .field("expiration_text", &self.expiration_text)
            .field("role_arn", &self.role_arn)
            .field("role_session_name", &self.role_session_name)
            .finish()
    }
}

/// OAuth tokens the emulator's `/v1/token` handed out, so tests can compare them with what a client
/// kept or wrote back.
///
/// `Debug` masks both tokens.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssuedOAuthTokens {
    /// The new access token.
    pub access_token: String,
    /// The new refresh token (the one used is spent).
    pub refresh_token: String,
    /// `expires_in`, in seconds.
    pub expires_in: u64,
    /// When the access token expires, on the emulator's clock.
    pub expiration: SystemTime,
    /// The `client_id` of the grant.
    pub client_id: String,
}

impl fmt::Debug for IssuedOAuthTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedOAuthTokens")
            .field("access_token", &"** redacted **")
            .field("refresh_token", &"** redacted **")
            .field("expires_in", &self.expires_in)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Settings of an [`Emulator`]; from [`Emulator::builder`].
#[derive(Clone, Debug, Default)]
pub struct Builder {
    time: SharedTimeSource,
}

impl Builder {
    /// The clock of every date the emulator checks or issues (default: the system clock): the
    /// `Timestamp` window of signed calls, the expiration of issued credentials and whether an STS
    /// credential is still accepted as a source, IMDS token lifetimes, KMS rotation dates, and the
    /// `Expiration` of [`Fault::MissingFields`] answers. Share a manual one with the clients under
    /// test so that tests advance time instead of sleeping. [`Fault::Hang`] and [`Fault::Delay`]
    /// stay on real (tokio) time: they hold sockets.
    pub fn time_source(mut self, time: impl TimeSource + 'static) -> Self {
        self.time = SharedTimeSource::new(time);
        self
    }

    /// Binds `127.0.0.1:0` and starts serving on a task of the current tokio runtime.
    ///
    /// # Panics
    /// When called outside a tokio runtime.
    pub async fn start(self) -> std::io::Result<Emulator> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::new(self.time));
        let server = tokio::spawn(server::serve(listener, Arc::clone(&state)));
        Ok(Emulator {
            addr,
            state,
            server,
        })
    }
}

/// A running emulator. Dropping it stops the server.
///
/// See the [module documentation](self) for what it serves.
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<State>,
    server: JoinHandle<()>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Binds `127.0.0.1:0` and starts serving on a task of the current tokio runtime, on the system
    /// clock. [`Emulator::builder`] sets another time source.
    ///
    /// # Panics
    /// When called outside a tokio runtime.
    pub async fn start() -> std::io::Result<Emulator> {
        Emulator::builder().start().await
    }

    /// Settings for an emulator: its time source. See [`Builder`].
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The socket address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The STS endpoint (requests go to `/`), a full URL: `http://127.0.0.1:<port>`.
    pub fn sts_endpoint(&self) -> String {
        self.base_url()
    }

    /// The KMS endpoint (requests go to `/`), a full URL: `http://127.0.0.1:<port>`.
    pub fn kms_endpoint(&self) -> String {
        self.base_url()
    }

    /// The ECS metadata endpoint, in place of `http://100.100.100.200`.
    pub fn ecs_metadata_endpoint(&self) -> String {
        self.base_url()
    }

    /// The credentials URI, with a random path token: `http://127.0.0.1:<port>/credentials/<token>`.
    pub fn credentials_uri(&self) -> String {
        format!("{}/credentials/{}", self.base_url(), self.state.uri_token)
    }

    /// The CloudSSO sign-in URL to give a client (the CLI's `cloud_sso_sign_in_url`):
    /// `http://127.0.0.1:<port>/d-emulator/login`. Clients keep only its origin and `POST
    /// /cloud-credentials` there.
    pub fn cloud_sso_sign_in_url(&self) -> String {
        format!("{}/d-emulator/login", self.base_url())
    }

    /// Lets `/cloud-credentials` take the bearer `token` until `expires_at` (by the emulator's clock),
    /// for the account `account_id` and its access configuration `access_configuration_id`
    /// (replacing an earlier grant of the same token).
    pub fn cloud_sso_add_access_token(
        &self,
        token: &str,
        expires_at: SystemTime,
        account_id: &str,
        access_configuration_id: &str,
    ) {
        self.state.lock().cloud_sso_tokens.insert(
            token.to_owned(),
            state::SsoGrant {
                expires: expires_at,
                account_id: account_id.to_owned(),
                access_config: access_configuration_id.to_owned(),
            },
        );
    }

    /// The OAuth endpoint, in place of `https://oauth.aliyun.com` (e.g. as
    /// `ALIBABA_CLOUD_OAUTH_ENDPOINT`): `http://127.0.0.1:<port>`.
    pub fn oauth_endpoint(&self) -> String {
        self.base_url()
    }

    /// Adds a refresh token that `/v1/token` accepts once, from either of the CLI's client ids.
    pub fn oauth_add_refresh_token(&self, token: &str) {
        self.state.lock().oauth_refresh_tokens.insert(
            token.to_owned(),
            state::OAuthRefresh {
                client_id: None,
                spent: false,
            },
        );
    }

    /// Adds an access token that `/v1/exchange` accepts until `expires_at` (by the emulator's clock).
    pub fn oauth_add_access_token(&self, token: &str, expires_at: SystemTime) {
        self.state
            .lock()
            .oauth_access_tokens
            .insert(token.to_owned(), expires_at);
    }

    /// The lifetime (`expires_in`) of the access tokens `/v1/token` issues from now on (default
    /// 3600 s, at least 1 s).
    pub fn set_oauth_token_lifetime(&self, lifetime: Duration) {
        self.state.lock().oauth_token_lifetime = Some(lifetime.max(Duration::from_secs(1)));
    }

    /// Every pair of OAuth tokens `/v1/token` issued, oldest first (the last 10,000).
    pub fn oauth_issued(&self) -> Vec<IssuedOAuthTokens> {
        self.state.lock().oauth_issued.to_vec()
    }

    /// Adds a long-term AccessKey that `AssumeRole` accepts as the source credential.
    pub fn add_access_key(&self, id: &str, secret: &str) {
        self.state
            .lock()
            .access_keys
            .insert(id.to_owned(), secret.to_owned());
    }

    /// Sets the lifetime of every credential issued from now on (STS, IMDS, credentials URI,
    /// CloudSSO, OAuth exchange), overriding `DurationSeconds`. Values under one second are raised to one second.
    pub fn set_credential_lifetime(&self, lifetime: Duration) {
        self.state.lock().lifetime = Some(lifetime.max(Duration::from_secs(1)));
    }

    /// Sets the `OIDCToken` that `AssumeRoleWithOIDC` accepts (until set, every token is refused).
    pub fn set_oidc_token(&self, token: &str) {
        let mut state = self.state.lock();
        state.oidc_token = Some(token.to_owned());
        state.oidc_tokens_seen.push(token.to_owned());
    }

    /// Sets the role name the metadata service reports and serves credentials for.
    pub fn set_imds_role(&self, name: &str) {
        self.state.lock().imds_role = name.to_owned();
    }

    /// `true`: metadata GETs without a token get 401 (IMDSv1 disabled, IMDSv2 enforced).
    /// `false` (the default): the token is optional, but a presented token must be valid.
    pub fn set_imds_token_required(&self, required: bool) {
        self.state.lock().imds_token_required = required;
    }

    /// Stores a KMS secret of type `RAMCredentials` holding this AccessKey (version `v1`), with
    /// `RotationInterval` and `NextRotationDate` as given and `LastRotationDate` now (by the
    /// emulator's clock, as every date below). The AccessKey
    /// also becomes a long-term key the emulator accepts (as [`add_access_key`](Self::add_access_key)).
    pub fn kms_put_ram_secret(
        &self,
        name: &str,
        access_key_id: &str,
        access_key_secret: &str,
        rotation_interval: Duration,
        next_rotation: SystemTime,
    ) {
        let secret = kms::ram_secret(
            access_key_id,
            access_key_secret,
            rotation_interval,
            next_rotation,
            self.state.now(),
        );
        let mut state = self.state.lock();
        state
            .access_keys
            .insert(access_key_id.to_owned(), access_key_secret.to_owned());
        state.kms_secrets.insert(name.to_owned(), secret);
    }

    /// Stores a KMS secret with any `SecretType` and `SecretData`, no rotation (e.g. a `Generic`
    /// secret, or RAM-credential data that lacks a field).
    pub fn kms_put_secret(&self, name: &str, secret_type: &str, secret_data: &str) {
        let now = self.state.now();
        self.state.lock().kms_secrets.insert(
            name.to_owned(),
            state::KmsSecret {
                secret_type: secret_type.to_owned(),
                secret_data: secret_data.to_owned(),
                version: 1,
                created: now,
                rotation_interval: None,
                next_rotation: None,
                last_rotation: None,
            },
        );
    }

    /// Rotates a RAM-credential secret now: a new AccessKey pair (also accepted from now on; the old
    /// one stays accepted, as KMS keeps the previous version's key for a while), the next version,
    /// `LastRotationDate` now and `NextRotationDate` one `RotationInterval` later. Returns the new
    /// `(AccessKeyId, AccessKeySecret)`, or `None` when no such secret has a rotation interval.
    pub fn kms_rotate_secret(&self, name: &str) -> Option<(String, String)> {
        let now = self.state.now();
        let id = format!("LTAI5t{}", state::random_string(18));
        let secret = state::random_string(30);
        let mut state = self.state.lock();
        let entry = state.kms_secrets.get_mut(name)?;
        let interval = entry.rotation_interval?;
        entry.secret_data = kms::ram_secret_data(&id, &secret, now);
        entry.version += 1;
        entry.last_rotation = Some(now);
        entry.next_rotation = Some(now + interval);
        state.access_keys.insert(id.clone(), secret.clone());
        Some((id, secret))
    }

    /// Creates a KMS master key (AES-256, random) named `key_id` (at most 255 bytes; longer ids are
    /// ignored), replacing one of the same id.
    pub fn kms_create_key(&self, key_id: &str) {
        if key_id.is_empty() || key_id.len() > 255 {
            return;
        }
        self.state
            .lock()
            .kms_keys
            .insert(key_id.to_owned(), kms::new_key());
    }

    /// How many requests reached `endpoint` (including faulty and rejected ones).
    pub fn calls(&self, endpoint: Endpoint) -> usize {
        self.state.lock().calls.get(&endpoint).copied().unwrap_or(0)
    }

    /// The next `times` requests to `endpoint` get `fault` (after faults injected earlier are used up).
    pub fn inject_fault(&self, endpoint: Endpoint, fault: Fault, times: usize) {
        if times == 0 {
            return;
        }
        self.state
            .lock()
            .faults
            .entry(endpoint)
            .or_default()
            .push_back((fault, times));
    }

    /// Every request received, oldest first (the last 10,000).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state.lock().requests.to_vec()
    }

    /// Adds a Nacos user that can log in (`/nacos/v3/auth/user/login`, `/nacos/v1/auth/users/login`).
    pub fn nacos_add_user(&self, name: &str, password: &str) {
        self.state
            .lock()
            .nacos_users
            .insert(name.to_owned(), password.to_owned());
    }

    /// Lifetime of the Nacos tokens issued from now on (default 18,000 s, at least 1 s).
    pub fn set_nacos_token_ttl(&self, ttl: Duration) {
        self.state.lock().nacos_token_ttl = Some(ttl.max(Duration::from_secs(1)));
    }

    /// Refuses every Nacos token issued so far, as a server does after its token secret changed
    /// (spec §A.9): config reads with them get 403 `Invalid signature`. Tokens issued afterwards are
    /// accepted.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let emulator = mse_auth_emulator::Emulator::start().await?;
    /// emulator.nacos_add_user("nacos", "example-password");
    /// emulator.nacos_put_config("app.yaml", "DEFAULT_GROUP", "k: v");
    /// let client = reqwest::Client::builder().no_proxy().build()?;
    /// let base = emulator.base_url();
    /// let login = client
    ///     .post(format!("{base}/nacos/v3/auth/user/login"))
    ///     .form(&[("username", "nacos"), ("password", "example-password")])
    ///     .send()
    ///     .await?
    ///     .json::<serde_json::Value>()
    ///     .await?;
    /// let token = login["accessToken"].as_str().unwrap_or_default().to_owned();
    /// let read = || {
    ///     client
    ///         .get(format!("{base}/nacos/v1/cs/configs?dataId=app.yaml&group=DEFAULT_GROUP"))
    ///         .header("accessToken", &token)
    ///         .send()
    /// };
    /// assert_eq!(read().await?.text().await?, "k: v");
    /// emulator.nacos_revoke_tokens();
    /// assert_eq!(read().await?.status(), 403);
    /// # Ok(()) }
    /// ```
    pub fn nacos_revoke_tokens(&self) {
        self.state.lock().nacos.revoke_all();
    }

    /// Stores the content a config read (`GET /nacos/v1/cs/configs`) of `data_id` in `group`
    /// answers, whatever its `tenant`; replaces an earlier one.
    pub fn nacos_put_config(&self, data_id: &str, group: &str, content: &str) {
        self.state.lock().nacos.put_config(data_id, group, content);
    }

    /// The Nacos server address to give a client: `127.0.0.1:<port>` (context path `/nacos`).
    pub fn nacos_server_addr(&self) -> String {
        self.local_addr().to_string()
    }

    /// Every credential issued, oldest first (the last 10,000).
    pub fn issued(&self) -> Vec<IssuedCredentials> {
        self.state.lock().issued.to_vec()
    }

    /// Requests whose URL (path or query, raw or percent-decoded) carried a secret the emulator knows:
    /// an AccessKey secret, an issued secret or security token, an OIDC token, a Nacos token, a
    /// CloudSSO access token, an OAuth refresh or access token, or a KMS data key,
    /// `Encrypt` plaintext (8 characters or more) or `CiphertextBlob`. Each entry names the
    /// request and what leaked, never the secret itself. Empty when every client kept secrets out of
    /// URLs.
    pub fn url_leaks(&self) -> Vec<String> {
        let state = self.state.lock();
        let mut secrets: Vec<(&str, &str)> = Vec::new();
        secrets.extend(
            state
                .access_keys
                .values()
                .map(|s| ("an AccessKey secret", s.as_str())),
        );
        secrets.extend(
            state
                .oidc_tokens_seen
                .iter()
                .map(|t| ("an OIDC token", t.as_str())),
        );
        secrets.extend(state.nacos.tokens().map(|t| ("a Nacos token", t)));
        for key in state.sts_keys.values() {
            secrets.push(("an issued secret", &key.secret));
            secrets.push(("an issued security token", &key.security_token));
        }
        for issued in state.issued.iter() {
            secrets.push(("an issued secret", &issued.access_key_secret));
            secrets.push(("an issued security token", &issued.security_token));
        }
        secrets.extend(
            state
                .kms_sensitive
                .iter()
                .map(|(what, value)| (*what, value.as_str())),
        );
        secrets.extend(
            state
                .cloud_sso_tokens
                .keys()
                .map(|t| ("a CloudSSO access token", t.as_str())),
        );
        secrets.extend(
            state
                .oauth_refresh_tokens
                .keys()
                .map(|t| ("an OAuth refresh token", t.as_str())),
        );
        secrets.extend(
            state
                .oauth_access_tokens
                .keys()
                .map(|t| ("an OAuth access token", t.as_str())),
        );
        let mut leaks = Vec::new();
        for request in state.requests.iter() {
            let raw = &request.path_and_query;
            let decoded: String = form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| format!("{k}={v}&"))
                .collect();
            for (what, secret) in &secrets {
                if !secret.is_empty() && (raw.contains(secret) || decoded.contains(secret)) {
                    let path = raw.split('?').next().unwrap_or_default();
                    leaks.push(format!(
                        "{} {path} carried {what} in its URL",
                        request.method
                    ));
                }
            }
        }
        leaks
    }

    /// Panics, listing [`url_leaks`](Self::url_leaks), unless no request carried a secret in its URL.
    /// Tests end with it.
    #[track_caller]
    pub fn assert_no_url_leaks(&self) {
        let leaks = self.url_leaks();
        assert!(leaks.is_empty(), "secrets travelled in URLs: {leaks:?}");
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Dropping the server task drops the listener and the JoinSet of connection tasks.
        self.server.abort();
    }
}
