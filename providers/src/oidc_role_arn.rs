//! OIDC role ARN (RRSA): temporary credentials from STS `AssumeRoleWithOIDC`, proving identity with an
//! OIDC token read from a file — on Kubernetes (ACK), the service account token projected into the pod.
//! Provider name `oidc_role_arn`.
//!
//! The call is anonymous (no AccessKey, no signature). The token file is read again at every load
//! and sent exactly as stored (no trimming), so a rotated token is picked up by the next refresh
//! (spec §7.2). The token travels in the form body of a POST, never in a URL. A token file that is
//! missing, empty or only whitespace, larger than 64 KiB ([`TOKEN_FILE_LIMIT`]) or not UTF-8 is
//! [`InvalidConfiguration`](mse_auth::ErrorKind::InvalidConfiguration) naming the file, and nothing is
//! sent.
//!
//! Environment variables:
//! - [`OidcRoleArnProvider::from_env`] needs all three of `ALIBABA_CLOUD_ROLE_ARN`,
//!   `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and `ALIBABA_CLOUD_OIDC_TOKEN_FILE` (otherwise `NotLoaded`,
//!   naming the missing ones, so a chain moves on); the same variables fill in empty builder arguments;
//! - `ALIBABA_CLOUD_ROLE_SESSION_NAME`: the session name (else `mse-auth-<unix millis>`);
//! - `ALIBABA_CLOUD_STS_ENDPOINT`, `ALIBABA_CLOUD_STS_REGION`, `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED`:
//!   where STS is ([`sts`] has the order).
//!
//! ```no_run
//! use mse_auth_providers::{Context, CredentialsProvider, OidcRoleArnProvider};
//! # async fn demo() -> Result<(), mse_auth_providers::CredentialsError> {
//! // In a pod with RRSA enabled, the three variables are already set:
//! let provider = OidcRoleArnProvider::from_env(&Context::default())?
//!     .sts_region("cn-hangzhou")
//!     .vpc(true)
//!     .build()?;
//! let creds = provider.provide_credentials().await?;
//! assert_eq!(creds.provider_path(), "oidc_role_arn");
//!
//! // Or explicitly:
//! let provider = OidcRoleArnProvider::builder(
//!     "acs:ram::123456789012:role/app",
//!     "acs:ram::123456789012:oidc-provider/ack-rrsa-c123",
//!     "/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token",
//! )
//! .session_name("my-app")
//! .build()?;
//! # Ok(()) }
//! ```

use crate::endpoint::{Endpoint, EndpointSettings, Product};
use crate::http::Timeouts;
use crate::rpc::{self, Call, Target};
use crate::sts;
use crate::Context;
use mse_auth::os::TOKEN_FILE_LIMIT;
use mse_auth::{
    vars, Credentials, CredentialsError, CredentialsProvider, ProvideCredentials, RefreshCache,
    Result,
};
use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;
use zeroize::Zeroizing;

/// Provider name reported in credential paths.
pub const NAME: &str = "oidc_role_arn";

/// The STS action this provider calls.
const ACTION: &str = "AssumeRoleWithOIDC";

/// Assumes a RAM role with an OIDC token. Build it with [`OidcRoleArnProvider::builder`] or
/// [`OidcRoleArnProvider::from_env`]; see the [module docs](self).
///
/// Uncached: every call reads the token file and makes one STS request. [`Builder::build`] wraps it
/// in a [`RefreshCache`].
pub struct OidcRoleArnProvider {
    role_arn: String,
    oidc_provider_arn: String,
    token_file: PathBuf,
    session_name: String,
    duration: Duration,
    policy: Option<String>,
    endpoint: Endpoint,
    timeouts: Timeouts,
    ctx: Context,
}

impl fmt::Debug for OidcRoleArnProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcRoleArnProvider")
            .field("role_arn", &self.role_arn)
            .field("oidc_provider_arn", &self.oidc_provider_arn)
            .field("token_file", &self.token_file)
            .field("session_name", &self.session_name)
            .field("duration", &self.duration)
            .field("policy", &self.policy.as_ref().map(|_| "set"))
            .field("endpoint", &self.endpoint)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl OidcRoleArnProvider {
    /// Settings for assuming `role_arn` with the token in `token_file`, issued by the identity
    /// provider `oidc_provider_arn` (`acs:ram::<account>:oidc-provider/<name>`). Empty arguments fall
    /// back to `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and
    /// `ALIBABA_CLOUD_OIDC_TOKEN_FILE`.
    pub fn builder(
        role_arn: impl Into<String>,
        oidc_provider_arn: impl Into<String>,
        token_file: impl Into<PathBuf>,
    ) -> Builder {
        Builder {
            role_arn: role_arn.into(),
            oidc_provider_arn: oidc_provider_arn.into(),
            token_file: token_file.into(),
            session_name: None,
            duration: sts::DEFAULT_DURATION,
            policy: None,
            endpoint: EndpointSettings::default(),
            timeouts: Timeouts::STS,
            context: None,
        }
    }

    /// Settings from `ctx`'s environment (RRSA). `NotLoaded`, naming the missing variables, unless
    /// `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and `ALIBABA_CLOUD_OIDC_TOKEN_FILE`
    /// are all set. The builder keeps `ctx`.
    pub fn from_env(ctx: &Context) -> Result<Builder> {
        let env = ctx.env();
        let names = [
            vars::ROLE_ARN,
            vars::OIDC_PROVIDER_ARN,
            vars::OIDC_TOKEN_FILE,
        ];
        let mut values = Vec::with_capacity(names.len());
        for name in names {
            values.push(
                env.get_checked(name)
                    .map_err(|e| e.invalid_configuration(NAME))?,
            );
        }
        match (values[0].take(), values[1].take(), values[2].take()) {
            (Some(role_arn), Some(provider_arn), Some(token_file)) => {
                Ok(Self::builder(role_arn, provider_arn, token_file).context(ctx.clone()))
            }
            _ => {
                let missing: Vec<&str> = names
                    .into_iter()
                    .filter(|name| env.get(name).is_none())
                    .collect();
                Err(CredentialsError::not_loaded(
                    NAME,
                    format!("{} not set", missing.join(", ")),
                ))
            }
        }
    }

    /// One `AssumeRoleWithOIDC`: read the token, then send and read the anonymous call.
    async fn load(&self) -> Result<Credentials> {
        let call = self.call(&self.read_token()?);
        let target = Target {
            provider: NAME,
            product: Product::STS,
            endpoint: &self.endpoint,
            timeouts: self.timeouts,
        };
        let body = rpc::send(&self.ctx, target, call, None).await?;
        let credentials = sts::parse_credentials(NAME, ACTION, &body, Cow::Borrowed(NAME))?;
        tracing::debug!(
            provider = NAME,
            endpoint = %self.endpoint.origin(),
            credentials = %credentials,
            "assumed role with OIDC"
        );
        Ok(credentials)
    }

    /// The token file's content, verbatim. Errors name the path, never the content.
    fn read_token(&self) -> Result<Zeroizing<String>> {
        let path = self.token_file.display();
        let token = self
            .ctx
            .fs()
            .read_to_string_limited(&self.token_file, TOKEN_FILE_LIMIT)
            .map_err(|e| {
                CredentialsError::invalid_configuration(
                    NAME,
                    format!("cannot read the OIDC token file {path}: {e}"),
                )
                .with_source(e)
            })?;
        let token = Zeroizing::new(token);
        if token.trim().is_empty() {
            let what = if token.is_empty() {
                "empty"
            } else {
                "empty (only whitespace)"
            };
            return Err(CredentialsError::invalid_configuration(
                NAME,
                format!("the OIDC token file {path} is {what}"),
            ));
        }
        Ok(token)
    }

    /// The anonymous call carrying `token`.
    fn call(&self, token: &str) -> Call {
        Call::for_api(sts::API_VERSION, ACTION, self.ctx.time().now())
            .form("RoleArn", self.role_arn.as_str())
            .form("OIDCProviderArn", self.oidc_provider_arn.as_str())
            .form("OIDCToken", token)
            .form("RoleSessionName", self.session_name.as_str())
            .form("DurationSeconds", self.duration.as_secs().to_string())
            .form_opt("Policy", self.policy.as_deref())
    }
}

impl CredentialsProvider for OidcRoleArnProvider {
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        ProvideCredentials::boxed(self.load())
    }
}

/// Settings of an [`OidcRoleArnProvider`]; from [`OidcRoleArnProvider::builder`] or
/// [`OidcRoleArnProvider::from_env`].
#[derive(Debug)]
pub struct Builder {
    role_arn: String,
    oidc_provider_arn: String,
    token_file: PathBuf,
    session_name: Option<String>,
    duration: Duration,
    policy: Option<PolicyText>,
    endpoint: EndpointSettings,
    timeouts: Timeouts,
    context: Option<Context>,
}

/// A session policy whose `Debug` says only that it is there.
struct PolicyText(String);

impl fmt::Debug for PolicyText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("set")
    }
}

impl Builder {
    /// The role session name: 2–32 characters of `A-Z a-z 0-9 . @ _ -`. Default:
    /// `ALIBABA_CLOUD_ROLE_SESSION_NAME`, else `mse-auth-<unix millis>`.
    pub fn session_name(mut self, name: impl Into<String>) -> Self {
        self.session_name = Some(name.into());
        self
    }

    /// How long the credentials live (default 3600 s; at least 900 s; at most the role's
    /// MaxSessionDuration, which STS enforces). Whole seconds are sent.
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = duration;
        self
    }

    /// A session policy (JSON) that narrows the role's permissions. Empty means none.
    pub fn policy(mut self, policy: impl Into<String>) -> Self {
        self.policy = Some(PolicyText(policy.into()));
        self
    }

    /// The STS endpoint: a host or a `scheme://host[:port]` URL. Overrides region and VPC.
    pub fn sts_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = self.endpoint.endpoint(endpoint);
        self
    }

    /// The STS region: endpoint `sts.<region>.aliyuncs.com`.
    pub fn sts_region(mut self, region: impl Into<String>) -> Self {
        self.endpoint = self.endpoint.region(region);
        self
    }

    /// `true`: the VPC endpoint `sts-vpc.<region>.aliyuncs.com` (needs a region).
    pub fn vpc(mut self, vpc: bool) -> Self {
        self.endpoint = self.endpoint.vpc(vpc);
        self
    }

    /// Permits a plain `http` endpoint that is not loopback (the token then crosses the network
    /// unencrypted).
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.endpoint = self.endpoint.allow_http(allow);
        self
    }

    /// Connect and read budgets of the STS call (default [`Timeouts::STS`]: 5 s and 10 s).
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The environment, file system, clock and HTTP client to use (default: the real ones).
    pub fn context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }

    /// Validates the settings and returns the provider inside a [`RefreshCache`] (named
    /// `oidc_role_arn`, on the context's clock). Errors are `InvalidConfiguration`. The token file is
    /// not read here but at every load.
    pub fn build(self) -> Result<RefreshCache<Credentials>> {
        let provider = self.build_uncached()?;
        Ok(provider.ctx.cache_builder(NAME).build_for(provider))
    }

    /// Validates the settings and returns the bare provider: one token read and one STS call per
    /// `provide_credentials`. For composition and tests.
    pub fn build_uncached(self) -> Result<OidcRoleArnProvider> {
        let ctx = self.context.unwrap_or_default();
        let env = ctx.env();
        let role_arn = sts::required(NAME, self.role_arn, env, vars::ROLE_ARN, "role ARN")?;
        let oidc_provider_arn = sts::required(
            NAME,
            self.oidc_provider_arn,
            env,
            vars::OIDC_PROVIDER_ARN,
            "OIDC provider ARN",
        )?;
        let token_file = match self.token_file.as_os_str().is_empty() {
            false => self.token_file,
            true => PathBuf::from(sts::required(
                NAME,
                String::new(),
                env,
                vars::OIDC_TOKEN_FILE,
                "OIDC token file path",
            )?),
        };
        sts::check_duration(NAME, self.duration)?;
        let session_name = sts::session_name(NAME, self.session_name, env, ctx.time().now())?;
        let endpoint = self.endpoint.resolve(Product::STS, NAME, env)?;
        Ok(OidcRoleArnProvider {
            role_arn,
            oidc_provider_arn,
            token_file,
            session_name,
            duration: self.duration,
            policy: self.policy.map(|p| p.0).filter(|p| !p.is_empty()),
            endpoint,
            timeouts: self.timeouts,
            ctx,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mse_auth::os::{Env, Fs};
    use mse_auth::ErrorKind;

    const ROLE: &str = "acs:ram::123456789012:role/app";
    const IDP: &str = "acs:ram::123456789012:oidc-provider/rrsa";
    const TOKEN_FILE: &str = "/var/run/secrets/rrsa/token";
    const TOKEN: &str = "sentinel.oidc.token\n";

    fn ctx(env: &[(&str, &str)], files: &[(&str, &str)]) -> Context {
        Context::default()
            .with_env(Env::from_pairs(env.iter().copied()))
            .with_fs(Fs::from_pairs(files.iter().copied()))
    }

    fn all_vars() -> [(&'static str, &'static str); 3] {
        [
            (vars::ROLE_ARN, ROLE),
            (vars::OIDC_PROVIDER_ARN, IDP),
            (vars::OIDC_TOKEN_FILE, TOKEN_FILE),
        ]
    }

    #[test]
    fn from_env_needs_all_three_variables_and_names_the_missing_ones() {
        let err = OidcRoleArnProvider::from_env(&ctx(&[(vars::ROLE_ARN, ROLE)], &[])).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotLoaded);
        assert_eq!(
            err.to_string(),
            "oidc_role_arn: not loaded: ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE not set"
        );
        let mut env = all_vars().to_vec();
        env.push((vars::ROLE_SESSION_NAME, "pod-session"));
        let p = OidcRoleArnProvider::from_env(&ctx(&env, &[]))
            .unwrap()
            .build_uncached()
            .unwrap();
        assert_eq!(
            (
                p.role_arn.as_str(),
                p.oidc_provider_arn.as_str(),
                p.session_name.as_str()
            ),
            (ROLE, IDP, "pod-session")
        );
        assert_eq!(p.token_file, PathBuf::from(TOKEN_FILE));
    }

    #[test]
    fn empty_builder_arguments_fall_back_to_env_or_fail_naming_the_variable() {
        let p = OidcRoleArnProvider::builder("", "", "")
            .context(ctx(&all_vars(), &[]))
            .build_uncached()
            .unwrap();
        assert_eq!(p.token_file, PathBuf::from(TOKEN_FILE));
        let err = OidcRoleArnProvider::builder(ROLE, "", TOKEN_FILE)
            .context(ctx(&[], &[]))
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "oidc_role_arn: invalid configuration: the OIDC provider ARN is empty: pass it to the builder \
             or set ALIBABA_CLOUD_OIDC_PROVIDER_ARN"
        );
        let err = OidcRoleArnProvider::builder(ROLE, IDP, TOKEN_FILE)
            .duration(Duration::from_secs(600))
            .context(ctx(&[], &[]))
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    }

    #[test]
    fn the_token_is_read_verbatim_into_the_body() {
        let p = OidcRoleArnProvider::builder(ROLE, IDP, TOKEN_FILE)
            .session_name("s1")
            .policy("")
            .context(ctx(&[], &[(TOKEN_FILE, TOKEN)]))
            .build_uncached()
            .unwrap();
        let token = p.read_token().unwrap();
        assert_eq!(token.as_str(), TOKEN);
        let call = p.call(&token);
        let keys: Vec<&str> = call.form.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            [
                "RoleArn",
                "OIDCProviderArn",
                "OIDCToken",
                "RoleSessionName",
                "DurationSeconds"
            ]
        );
        assert!(call.form.contains(&("OIDCToken", TOKEN.to_owned())));
        assert_eq!(call.query.len(), 4, "{call:?}");
    }

    #[tokio::test]
    async fn missing_or_empty_token_files_are_invalid_configuration_naming_the_path() {
        for files in [&[][..], &[(TOKEN_FILE, "")][..]] {
            let p = OidcRoleArnProvider::builder(ROLE, IDP, TOKEN_FILE)
                .context(ctx(&[], files))
                .build_uncached()
                .unwrap();
            let err = p.provide_credentials().await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
            assert!(err.message().contains(TOKEN_FILE), "{err}");
        }
    }

    #[tokio::test]
    async fn whitespace_large_and_non_utf8_token_files_are_refused_naming_the_file() {
        let big = "t".repeat(TOKEN_FILE_LIMIT as usize + 1);
        let cases: [(&[u8], &str); 5] = [
            (b"", "the OIDC token file /var/run/secrets/rrsa/token is empty"),
            (b" \n\t\r\n", "the OIDC token file /var/run/secrets/rrsa/token is empty (only whitespace)"),
            (b"\n", "the OIDC token file /var/run/secrets/rrsa/token is empty (only whitespace)"),
            (big.as_bytes(), "cannot read the OIDC token file /var/run/secrets/rrsa/token: it is larger than 64 KiB"),
            (b"sentinel\n\xff", "cannot read the OIDC token file /var/run/secrets/rrsa/token: it is not UTF-8 text (line 2)"),
        ];
        for (content, message) in cases {
            let ctx = Context::default()
                .with_env(Env::from_pairs::<&str, &str>([]))
                .with_fs(Fs::from_pairs([(TOKEN_FILE, content.to_vec())]));
            let p = OidcRoleArnProvider::builder(ROLE, IDP, TOKEN_FILE)
                .context(ctx)
                .build_uncached()
                .unwrap();
            let err = p.provide_credentials().await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
            assert_eq!(
                err.to_string(),
                format!("oidc_role_arn: invalid configuration: {message}")
            );
            assert!(!format!("{err:?}").contains("sentinel"));
        }
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_variables_are_errors_not_unset() {
        use std::os::unix::ffi::OsStringExt;
        let env = Env::from_os_pairs([
            (vars::ROLE_ARN, std::ffi::OsString::from(ROLE)),
            (vars::OIDC_PROVIDER_ARN, std::ffi::OsString::from(IDP)),
            (
                vars::OIDC_TOKEN_FILE,
                std::ffi::OsString::from_vec(b"/t\xff".to_vec()),
            ),
        ]);
        let err = OidcRoleArnProvider::from_env(&Context::default().with_env(env)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "oidc_role_arn: invalid configuration: ALIBABA_CLOUD_OIDC_TOKEN_FILE is not valid UTF-8: \
             set it to text, or unset it"
        );
    }

    #[test]
    fn debug_of_builder_and_provider_shows_no_token_or_policy() {
        let b = OidcRoleArnProvider::builder(ROLE, IDP, TOKEN_FILE)
            .policy(r#"{"sentinel-policy":1}"#)
            .context(ctx(&[], &[(TOKEN_FILE, TOKEN)]));
        let shown = format!("{b:?}");
        let p = b.build_uncached().unwrap();
        let shown = format!("{shown} {p:?}");
        assert!(!shown.contains("sentinel"), "{shown}");
        assert!(shown.contains(TOKEN_FILE), "{shown}");
    }
}
