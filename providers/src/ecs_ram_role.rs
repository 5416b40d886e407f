//! Credentials of the RAM role attached to an ECS instance, from the instance metadata service
//! (IMDS, `http://100.100.100.200`). Provider name `ecs_ram_role`.
//!
//! Environment, read when the provider is built (values set in code win):
//! - [`vars::ECS_METADATA`] (`ALIBABA_CLOUD_ECS_METADATA`): the role name; without one it is asked
//!   from the metadata service on every load.
//! - [`vars::ECS_METADATA_DISABLED`] (`ALIBABA_CLOUD_ECS_METADATA_DISABLED=true`): building fails with
//!   [`NotLoaded`](crate::ErrorKind::NotLoaded).
//! - [`vars::IMDSV1_DISABLED`] (`ALIBABA_CLOUD_IMDSV1_DISABLED=true`): no fallback to token-less
//!   requests.
//! - [`vars::ECS_METADATA_ENDPOINT`] (`ALIBABA_CLOUD_ECS_METADATA_ENDPOINT`, ours): another metadata
//!   address, a host (meaning `http://host`: the service speaks plain HTTP only) or
//!   `scheme://host[:port]` (default `http://100.100.100.200`); plain `http` to another host than a
//!   loopback address or `100.100.100.200` needs [`vars::INSECURE_ALLOW_HTTP`] (`MSE_AUTH_INSECURE_ALLOW_HTTP=true`).
//!
//! The two switches are booleans (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, any case); any
//! other value, or a variable that is not UTF-8, fails the build with
//! [`InvalidConfiguration`](crate::ErrorKind::InvalidConfiguration) naming the variable, so a chain
//! stops rather than ask a metadata service it was told not to.
//!
//! The wire follows the newest Java/Python/Node SDKs (spec §6.2–6.3): before every metadata `GET`,
//! `PUT /latest/api/token` with `X-aliyun-ecs-metadata-token-ttl-seconds: 21600`; then
//! `GET /latest/meta-data/ram/security-credentials/` for the role name (trimmed) when none is
//! configured, and `GET …/security-credentials/<role>` for the credentials, each with
//! `X-aliyun-ecs-metadata-token`. IMDSv1 fallback, unless disabled: a failed token request is followed
//! by token-less requests, and a `GET` with a token that the service refuses or breaks off is repeated
//! once without it. (A `GET` that times out is not repeated: a slow service gets no faster without a
//! token, and the repeat would double the wait.) The answer must have `Code == "Success"` and all of
//! `AccessKeyId`, `AccessKeySecret`, `SecurityToken` and `Expiration`.
//!
//! Budgets are [`Timeouts::METADATA`] (1 s connect, 1 s read) and requests never go through a proxy.
//! Off ECS, where nothing answers at the metadata address, a load fails with
//! [`NotLoaded`](crate::ErrorKind::NotLoaded) within the connect budget and without a second attempt,
//! so a chain moves on quickly. A service that answers errors is
//! [`Provider`](crate::ErrorKind::Provider); one that accepts the connection and then hangs is
//! [`TimedOut`](crate::ErrorKind::TimedOut), after the token `PUT` has used its budget and the
//! token-less `GET` its own (4 s with the default budgets), and the error states that total.
//!
//! ```no_run
//! use mse_auth_providers::{CredentialsProvider, EcsRamRoleProvider};
//! # async fn demo() -> Result<(), mse_auth_providers::CredentialsError> {
//! let provider = EcsRamRoleProvider::builder()
//!     .role_name("EcsRamRoleDocumentTesting")
//!     .disable_imdsv1(true)
//!     .build()?;
//! let creds = provider.provide_credentials().await?;
//! assert_eq!(creds.provider_path(), "ecs_ram_role");
//! # Ok(()) }
//! ```

use crate::context::Context;
use crate::endpoint::{insecure_allow_http, Endpoint};
use crate::http::{HttpClient, HttpRequest, Proxy, Timeouts, TransportError, TransportErrorKind};
use crate::json_credentials::{error_code, parse_credentials};
use mse_auth::{vars, Credentials, CredentialsError, CredentialsProvider, ProvideCredentials};
use mse_auth::{RefreshCache, Result};
use reqwest::Method;
use std::fmt;
use std::time::Duration;
use zeroize::Zeroizing;

/// Provider name reported in credential paths.
pub const NAME: &str = "ecs_ram_role";

/// The metadata service of ECS.
const DEFAULT_ENDPOINT: &str = "http://100.100.100.200";
const TOKEN_PATH: &str = "/latest/api/token";
const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";
const TOKEN_TTL_HEADER: &str = "X-aliyun-ecs-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "X-aliyun-ecs-metadata-token";
/// Token lifetime asked for: 6 h, the constant every official SDK sends (spec §6.2).
const TOKEN_TTL_SECONDS: &str = "21600";
/// Longest role name accepted (RAM allows 64 characters).
const MAX_ROLE_NAME: usize = 64;

/// Fetches the instance's RAM role credentials from the metadata service. See the
/// [module docs](self).
pub struct EcsRamRoleProvider {
    endpoint: Endpoint,
    role_name: Option<String>,
    disable_imdsv1: bool,
    timeouts: Timeouts,
    http: HttpClient,
}

impl fmt::Debug for EcsRamRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcsRamRoleProvider")
            .field("endpoint", &self.endpoint)
            .field("role_name", &self.role_name)
            .field("disable_imdsv1", &self.disable_imdsv1)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

/// One metadata call, for messages.
#[derive(Clone, Copy)]
enum Call<'a> {
    Token,
    RoleName,
    Credentials(&'a str),
}

impl fmt::Display for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::Token => f.write_str("getting a metadata token"),
            Call::RoleName => f.write_str("reading the instance's RAM role name"),
            Call::Credentials(role) => write!(f, "getting the credentials of RAM role `{role}`"),
        }
    }
}

/// Why a metadata call failed.
enum Failure {
    /// Nothing usable came back.
    Transport(TransportError),
    /// The service answered with another status than 200.
    Status { status: u16, code: Option<String> },
}

impl Failure {
    /// `true` when the connection itself could not be made (refused, unreachable, connect timeout).
    fn is_connect(&self) -> bool {
        match self {
            Failure::Transport(e) => e.is_connect(),
            Failure::Status { .. } => false,
        }
    }

    /// `true` when repeating the call without a token may help: the service answered, or broke off.
    fn worth_v1_retry(&self) -> bool {
        match self {
            Failure::Transport(e) => e.kind() != TransportErrorKind::Timeout && !self.is_connect(),
            Failure::Status { .. } => true,
        }
    }

    /// The error when the first request of a load could not even connect: nothing answers at
    /// `origin`, so this is not an ECS instance (or its metadata service is unreachable).
    fn into_not_on_ecs(self, origin: &str) -> CredentialsError {
        let err = CredentialsError::not_loaded(
            NAME,
            format!("no instance metadata service at {origin}: not running on ECS?"),
        );
        match self {
            Failure::Transport(e) => err.with_source(e),
            Failure::Status { .. } => err,
        }
    }

    /// The error of `call` at `origin`; `note` is appended to messages (e.g. why there is no fallback).
    /// `waited`: what earlier requests of this call spent timing out (a timed-out token `PUT`), so a
    /// timeout states the whole wait.
    fn into_error(
        self,
        call: Call<'_>,
        origin: &str,
        note: &str,
        waited: Duration,
    ) -> CredentialsError {
        match self {
            Failure::Transport(e) if e.kind() == TransportErrorKind::Timeout => {
                CredentialsError::timed_out(NAME, waited + e.budget()).with_source(e)
            }
            Failure::Transport(e) => {
                CredentialsError::unhandled(NAME, format!("{call} failed: {e}{note}"))
                    .with_source(e)
            }
            Failure::Status { status, code } => {
                let message = match call {
                    Call::Credentials(role) if status == 404 => format!(
                        "the RAM role `{role}` is not attached to this instance (metadata service at \
                         {origin}): attach it, or configure the attached role's name{note}"
                    ),
                    _ => format!("{call} from the metadata service at {origin} failed{note}"),
                };
                let err = CredentialsError::provider(NAME, message).with_status(status);
                match code {
                    Some(code) => err.with_code(code),
                    None => err,
                }
            }
        }
    }
}

impl EcsRamRoleProvider {
    /// Settings for a new provider.
    pub fn builder() -> Builder {
        Builder::default()
    }

    async fn load(&self) -> Result<Credentials> {
        let (role, first) = match &self.role_name {
            Some(role) => (role.clone(), true),
            None => (self.discover_role().await?, false),
        };
        let body = self.fetch(Call::Credentials(&role), first).await?;
        parse_credentials(&body, NAME)
    }

    /// Asks the service for the attached role's name (trimmed; empty is an error).
    async fn discover_role(&self) -> Result<String> {
        let body = self.fetch(Call::RoleName, true).await?;
        let origin = self.endpoint.origin();
        let name = std::str::from_utf8(&body)
            .map(str::trim)
            .unwrap_or_default();
        if name.is_empty() {
            return Err(CredentialsError::provider(
                NAME,
                format!(
                    "the metadata service at {origin} reports no RAM role: attach a role to the \
                     instance"
                ),
            ));
        }
        check_role_name(name).map_err(|why| {
            CredentialsError::provider(
                NAME,
                format!("the metadata service at {origin} reported a role name that {why}"),
            )
        })?;
        Ok(name.to_owned())
    }

    /// A fresh token, then the `GET` of `call` (with the IMDSv1 fallbacks). `first`: this is the first
    /// request of the load, so a connection failure means there is no metadata service at all.
    async fn fetch(&self, call: Call<'_>, first: bool) -> Result<Zeroizing<Vec<u8>>> {
        let (token, waited) = self.token(first).await?;
        let url = match call {
            Call::Credentials(role) => self.endpoint.url(&format!("{CREDENTIALS_PATH}{role}")),
            _ => self.endpoint.url(CREDENTIALS_PATH),
        };
        let get = |token: Option<&str>| {
            let request = HttpRequest::get(url.clone(), self.timeouts).proxy(Proxy::Never);
            match token {
                Some(token) => request.header(TOKEN_HEADER, token),
                None => request,
            }
        };
        let origin = self.endpoint.origin();
        let failure = match self.send(get(token.as_ref().map(|t| t.as_str()))).await {
            Ok(body) => return Ok(body),
            Err(failure) => failure,
        };
        if token.is_none() || self.disable_imdsv1 || !failure.worth_v1_retry() {
            return Err(failure.into_error(call, &origin, "", waited));
        }
        tracing::debug!(provider = NAME, %call, "metadata GET with a token failed; retrying without (IMDSv1)");
        match self.send(get(None)).await {
            Ok(body) => Ok(body),
            // The failure on the preferred (token) path is the one worth reporting.
            Err(_) => Err(failure.into_error(call, &origin, " (also without a token)", waited)),
        }
    }

    /// `PUT /latest/api/token`. `None` means: continue without a token (IMDSv1); the duration is the
    /// budget a timed-out `PUT` used up (zero otherwise), for the error of a `GET` that times out too.
    async fn token(&self, first: bool) -> Result<(Option<Zeroizing<String>>, Duration)> {
        let request = HttpRequest::new(Method::PUT, self.endpoint.url(TOKEN_PATH), self.timeouts)
            .header(TOKEN_TTL_HEADER, TOKEN_TTL_SECONDS)
            .proxy(Proxy::Never);
        let origin = self.endpoint.origin();
        let failure = match self.send(request).await {
            Ok(body) => match std::str::from_utf8(&body).map(str::trim) {
                Ok(token) if !token.is_empty() => {
                    return Ok((Some(Zeroizing::new(token.to_owned())), Duration::ZERO))
                }
                _ => None,
            },
            Err(failure) if first && failure.is_connect() => {
                return Err(failure.into_not_on_ecs(&origin))
            }
            Err(failure) => Some(failure),
        };
        if !self.disable_imdsv1 {
            tracing::debug!(
                provider = NAME,
                "no metadata token; continuing without (IMDSv1)"
            );
            let waited = match &failure {
                Some(Failure::Transport(e)) if e.kind() == TransportErrorKind::Timeout => {
                    e.budget()
                }
                _ => Duration::ZERO,
            };
            return Ok((None, waited));
        }
        let note = format!(
            ", and the IMDSv1 fallback is disabled (disable_imdsv1 or {})",
            vars::IMDSV1_DISABLED
        );
        Err(match failure {
            Some(failure) => failure.into_error(Call::Token, &origin, &note, Duration::ZERO),
            None => CredentialsError::provider(
                NAME,
                format!("the metadata service at {origin} returned an empty token{note}"),
            ),
        })
    }

    /// Sends a request; any status but 200 is a failure. The body is wiped when dropped.
    async fn send(&self, request: HttpRequest) -> Result<Zeroizing<Vec<u8>>, Failure> {
        let response = self.http.send(request).await.map_err(Failure::Transport)?;
        let body = Zeroizing::new(response.body);
        if response.status != 200 {
            return Err(Failure::Status {
                status: response.status,
                code: error_code(&body),
            });
        }
        Ok(body)
    }
}

impl CredentialsProvider for EcsRamRoleProvider {
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        ProvideCredentials::boxed(self.load())
    }
}

/// `Ok` for a name that is safe to put in the credentials path; else what is wrong with it.
fn check_role_name(name: &str) -> Result<(), &'static str> {
    if name.len() > MAX_ROLE_NAME {
        return Err("is longer than 64 characters");
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@');
    if !name.chars().all(allowed) {
        return Err("has characters other than letters, digits, `.`, `-`, `_` and `@`");
    }
    Ok(())
}

/// Builds an [`EcsRamRoleProvider`]; see [`EcsRamRoleProvider::builder`].
#[derive(Debug, Default)]
pub struct Builder {
    role_name: Option<String>,
    disable_imdsv1: Option<bool>,
    metadata_endpoint: Option<String>,
    timeouts: Option<Timeouts>,
    context: Option<Context>,
}

impl Builder {
    /// The RAM role attached to the instance (default: `ALIBABA_CLOUD_ECS_METADATA`, else asked from
    /// the metadata service on each load, which costs two extra requests).
    pub fn role_name(mut self, name: impl Into<String>) -> Self {
        self.role_name = Some(name.into());
        self
    }

    /// `true`: only IMDSv2, no token-less fallback (default: `ALIBABA_CLOUD_IMDSV1_DISABLED`, else
    /// `false`).
    pub fn disable_imdsv1(mut self, disable: bool) -> Self {
        self.disable_imdsv1 = Some(disable);
        self
    }

    /// The metadata service, a host (meaning `http://host`) or `scheme://host[:port]` (default:
    /// `ALIBABA_CLOUD_ECS_METADATA_ENDPOINT`, else `http://100.100.100.200`). Plain `http` is accepted
    /// for loopback addresses and `100.100.100.200` only, unless opted in.
    pub fn metadata_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.metadata_endpoint = Some(endpoint.into());
        self
    }

    /// Connect and read budgets of each request (default [`Timeouts::METADATA`]: 1 s and 1 s).
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = Some(timeouts);
        self
    }

    /// The outside world (default [`Context::default`]).
    pub fn context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }

    /// Reads the environment, validates, and returns the provider inside a [`RefreshCache`].
    /// [`NotLoaded`](crate::ErrorKind::NotLoaded) when disabled by `ALIBABA_CLOUD_ECS_METADATA_DISABLED`;
    /// [`InvalidConfiguration`](crate::ErrorKind::InvalidConfiguration) for a bad role name or endpoint.
    pub fn build(self) -> Result<RefreshCache<Credentials>> {
        let (ctx, provider) = self.into_parts()?;
        Ok(ctx.cache_builder(NAME).build_for(provider))
    }

    /// As [`build`](Self::build), without the cache (for composition and tests).
    pub fn build_uncached(self) -> Result<EcsRamRoleProvider> {
        self.into_parts().map(|(_, provider)| provider)
    }

    fn into_parts(self) -> Result<(Context, EcsRamRoleProvider)> {
        let ctx = self.context.unwrap_or_default();
        let env = ctx.env();
        let invalid = |e: mse_auth::os::EnvError| e.invalid_configuration(NAME);
        if env.get_bool(vars::ECS_METADATA_DISABLED).map_err(invalid)? == Some(true) {
            return Err(CredentialsError::not_loaded(
                NAME,
                format!("disabled by {}", vars::ECS_METADATA_DISABLED),
            ));
        }
        let (role_name, role_source) = match self.role_name {
            Some(name) => (Some(name), "role_name"),
            None => (
                env.get_checked(vars::ECS_METADATA).map_err(invalid)?,
                vars::ECS_METADATA,
            ),
        };
        let role_name = role_name
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty());
        if let Some(name) = &role_name {
            check_role_name(name).map_err(|why| {
                CredentialsError::invalid_configuration(
                    NAME,
                    format!("the role name in {role_source} {why}"),
                )
            })?;
        }
        let (endpoint, endpoint_source) = match self.metadata_endpoint {
            Some(endpoint) => (endpoint, "metadata_endpoint"),
            None => match env
                .get_checked(vars::ECS_METADATA_ENDPOINT)
                .map_err(invalid)?
            {
                Some(endpoint) => (endpoint, vars::ECS_METADATA_ENDPOINT),
                None => (DEFAULT_ENDPOINT.to_owned(), "the default"),
            },
        };
        let allow_http = insecure_allow_http(env, NAME)?;
        // The metadata service speaks plain HTTP only: a bare host means `http://`.
        let endpoint =
            Endpoint::parse_with_default_scheme(&endpoint, "http", allow_http).map_err(|e| {
                CredentialsError::invalid_configuration(NAME, format!("{endpoint_source}: {e}"))
            })?;
        let disable_imdsv1 = match self.disable_imdsv1 {
            Some(disable) => disable,
            None => env
                .get_bool(vars::IMDSV1_DISABLED)
                .map_err(invalid)?
                .unwrap_or(false),
        };
        let provider = EcsRamRoleProvider {
            endpoint,
            role_name,
            disable_imdsv1,
            timeouts: self.timeouts.unwrap_or(Timeouts::METADATA),
            http: ctx.http().clone(),
        };
        Ok((ctx, provider))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mse_auth::os::Env;
    use mse_auth::ErrorKind;

    fn builder(env: &[(&str, &str)]) -> Builder {
        EcsRamRoleProvider::builder()
            .context(Context::default().with_env(Env::from_pairs(env.iter().copied())))
    }

    #[test]
    fn metadata_responses_parse_into_credentials_named_ecs_ram_role() {
        let body =
            br#"{"AccessKeyId":"STS.id","AccessKeySecret":"s","Expiration":"2017-11-01T05:20:01Z",
            "SecurityToken":"t","LastUpdated":"2017-10-31T23:20:01Z","Code":"Success"}"#;
        let creds = parse_credentials(body, NAME).unwrap();
        assert_eq!(creds.provider_path(), "ecs_ram_role");
        assert_eq!(creds.security_token(), Some("t"));
        let err = parse_credentials(br#"{"Code":"Failed"}"#, NAME).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Provider);
        assert_eq!(err.provider_path(), "ecs_ram_role");
    }

    #[test]
    fn disabled_by_env_is_not_loaded() {
        let err = builder(&[(vars::ECS_METADATA_DISABLED, "TRUE")])
            .role_name("Role")
            .build_uncached()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotLoaded);
        assert_eq!(
            err.to_string(),
            "ecs_ram_role: not loaded: disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED"
        );
        assert!(builder(&[(vars::ECS_METADATA_DISABLED, "false")])
            .build_uncached()
            .is_ok());
    }

    #[test]
    fn switches_take_the_boolean_words_and_refuse_the_rest_naming_the_variable() {
        for on in ["1", "yes", "ON", " true", "True "] {
            let err = builder(&[(vars::ECS_METADATA_DISABLED, on)])
                .build_uncached()
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotLoaded, "{on:?}");
        }
        for off in ["0", "no", "off", "FALSE"] {
            assert!(builder(&[(vars::ECS_METADATA_DISABLED, off)])
                .build_uncached()
                .is_ok());
        }
        for (name, value) in [
            (vars::ECS_METADATA_DISABLED, "disabled"),
            (vars::IMDSV1_DISABLED, "2"),
        ] {
            let err = builder(&[(name, value)]).build_uncached().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
            assert_eq!(
                err.to_string(),
                format!(
                    "ecs_ram_role: invalid configuration: {name} must be true or false (also 1/0, \
                     yes/no, on/off, in any case), not `{value}`"
                )
            );
        }
        let p = builder(&[(vars::IMDSV1_DISABLED, "yes")])
            .build_uncached()
            .unwrap();
        assert!(p.disable_imdsv1);
        // Set in code, the variable is not read.
        let p = builder(&[(vars::IMDSV1_DISABLED, "2")])
            .disable_imdsv1(false)
            .build_uncached()
            .unwrap();
        assert!(!p.disable_imdsv1);
    }

    #[test]
    fn plain_http_elsewhere_needs_the_opt_in_variable() {
        let env = [
            (vars::ECS_METADATA_ENDPOINT, "http://10.0.0.8"),
            (vars::INSECURE_ALLOW_HTTP, "true"),
        ];
        let p = builder(&env).build_uncached().unwrap();
        assert_eq!(p.endpoint.origin(), "http://10.0.0.8");
        let err = builder(&env[..1]).build_uncached().unwrap_err();
        assert_eq!(
            err.message(),
            "ALIBABA_CLOUD_ECS_METADATA_ENDPOINT: refusing plain http to http://10.0.0.8: credentials \
             would cross the network unencrypted; use https, or opt in with \
             MSE_AUTH_INSECURE_ALLOW_HTTP=true (CLI: --insecure-allow-http)"
        );
    }

    #[test]
    fn settings_in_code_win_over_the_environment() {
        let env = [
            (vars::ECS_METADATA, " EnvRole\n"),
            (vars::IMDSV1_DISABLED, "true"),
            (vars::ECS_METADATA_ENDPOINT, "http://127.0.0.1:1"),
        ];
        let p = builder(&env).build_uncached().unwrap();
        assert_eq!(p.role_name.as_deref(), Some("EnvRole"));
        assert!(p.disable_imdsv1);
        assert_eq!(p.endpoint.origin(), "http://127.0.0.1:1");
        let p = builder(&env)
            .role_name("CodeRole")
            .disable_imdsv1(false)
            .metadata_endpoint("http://127.0.0.1:2")
            .build_uncached()
            .unwrap();
        assert_eq!(p.role_name.as_deref(), Some("CodeRole"));
        assert!(!p.disable_imdsv1);
        assert_eq!(p.endpoint.origin(), "http://127.0.0.1:2");
    }

    #[test]
    fn defaults_are_the_metadata_address_and_one_second_budgets() {
        let p = builder(&[]).build_uncached().unwrap();
        assert_eq!(p.endpoint.origin(), "http://100.100.100.200");
        assert_eq!(p.role_name, None);
        assert!(!p.disable_imdsv1);
        assert_eq!(p.timeouts, Timeouts::METADATA);
    }

    #[test]
    fn bad_role_names_and_endpoints_are_invalid_configuration() {
        let err = builder(&[(vars::ECS_METADATA, "../../admin?x=1")])
            .build_uncached()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.message(),
            "the role name in ALIBABA_CLOUD_ECS_METADATA has characters other than letters, digits, \
             `.`, `-`, `_` and `@`"
        );
        let err = builder(&[])
            .role_name("r".repeat(65))
            .build_uncached()
            .unwrap_err();
        assert_eq!(
            err.message(),
            "the role name in role_name is longer than 64 characters"
        );
        let err = builder(&[(vars::ECS_METADATA_ENDPOINT, "http://10.0.0.8")])
            .build_uncached()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert!(
            err.message().starts_with(
                "ALIBABA_CLOUD_ECS_METADATA_ENDPOINT: refusing plain http to http://10.0.0.8"
            ),
            "{err}"
        );
    }

    #[test]
    fn role_names_allow_what_ram_allows() {
        assert!(check_role_name("EcsRamRole-Test_1.a@b").is_ok());
        assert!(check_role_name("a/b").is_err());
        assert!(check_role_name("a b").is_err());
    }
}
