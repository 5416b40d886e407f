//! RAM role ARN: temporary credentials from STS `AssumeRole`, signed with source credentials from any
//! other provider (so roles chain). Provider name `ram_role_arn`; results are reported as
//! `ram_role_arn/<source path>`, e.g. `ram_role_arn/static_ak` or `ram_role_arn/ram_role_arn/env`.
//!
//! The source provider is asked for credentials at every load, so a chained role refreshes its
//! parent lazily. The call is a POST with the signature parameters in the URL and the role, session,
//! policy, external id and the source's security token in the form body (spec §5.3): no token or
//! policy ever travels in a URL.
//!
//! Environment variables (each only when the builder leaves the value unset):
//! - `ALIBABA_CLOUD_ROLE_ARN`: the role, when the builder's role ARN is empty;
//! - `ALIBABA_CLOUD_ROLE_SESSION_NAME`: the session name (else `mse-auth-<unix millis>`);
//! - `ALIBABA_CLOUD_STS_ENDPOINT`, `ALIBABA_CLOUD_STS_REGION`, `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED`:
//!   where STS is ([`sts`] has the order).
//!
//! They are read once, in [`build`](Builder::build).
//!
//! ```no_run
//! use std::time::Duration;
//! use mse_auth_providers::{CredentialsProvider, RamRoleArnProvider, StaticAccessKeyProvider};
//! # async fn demo() -> Result<(), mse_auth_providers::CredentialsError> {
//! let provider = RamRoleArnProvider::builder("acs:ram::123456789012:role/reader")
//!     .source(StaticAccessKeyProvider::new("LTAI5tExampleId", "example-secret")?)
//!     .session_name("reporting-job")
//!     .duration(Duration::from_secs(3600))
//!     .sts_region("cn-hangzhou")
//!     .build()?; // a RefreshCache: loads on first use, then refreshes ahead of expiry
//! let creds = provider.provide_credentials().await?;
//! assert_eq!(creds.provider_path(), "ram_role_arn/static_ak");
//! # Ok(()) }
//! ```

use crate::endpoint::{Endpoint, EndpointSettings, Product};
use crate::http::Timeouts;
use crate::rpc::{self, Call, Target};
use crate::sts::{self, PROVIDER_HEADER};
use crate::Context;
use mse_auth::{
    vars, Credentials, CredentialsError, CredentialsProvider, ProvideCredentials, RefreshCache,
    Result, SharedCredentialsProvider,
};
use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

/// Provider name reported in credential paths.
pub const NAME: &str = "ram_role_arn";

/// The STS action this provider calls.
const ACTION: &str = "AssumeRole";

/// Assumes a RAM role with STS `AssumeRole`. Build it with [`RamRoleArnProvider::builder`]; see the
/// [module docs](self).
///
/// Uncached: every call is one STS request. [`Builder::build`] wraps it in a [`RefreshCache`].
pub struct RamRoleArnProvider {
    source: SharedCredentialsProvider,
    role_arn: String,
    session_name: String,
    duration: Duration,
    policy: Option<String>,
    external_id: Option<String>,
    endpoint: Endpoint,
    timeouts: Timeouts,
    ctx: Context,
}

impl fmt::Debug for RamRoleArnProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RamRoleArnProvider")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("duration", &self.duration)
            .field("policy", &self.policy.as_ref().map(|_| "set"))
            .field("external_id", &self.external_id.as_ref().map(|_| "set"))
            .field("endpoint", &self.endpoint)
            .field("timeouts", &self.timeouts)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl RamRoleArnProvider {
    /// Settings for assuming `role_arn` (`acs:ram::<account>:role/<name>`). An empty value falls back
    /// to `ALIBABA_CLOUD_ROLE_ARN`. The source credentials are required: [`Builder::source`].
    pub fn builder(role_arn: impl Into<String>) -> Builder {
        Builder {
            role_arn: role_arn.into(),
            source: None,
            session_name: None,
            duration: sts::DEFAULT_DURATION,
            policy: None,
            external_id: None,
            endpoint: EndpointSettings::default(),
            timeouts: Timeouts::STS,
            context: None,
        }
    }

    /// One `AssumeRole`: fetch the source credentials, then sign, send and read the call.
    async fn load(&self) -> Result<Credentials> {
        let source = rpc::signing_credentials(NAME, &self.source, "source credentials").await?;
        let call = self.call().header(PROVIDER_HEADER, source.provider_path());
        let body = rpc::send(&self.ctx, self.target(), call, Some(&source)).await?;
        let path = Cow::Owned(format!("{NAME}/{}", source.provider_path()));
        let credentials = sts::parse_credentials(NAME, ACTION, &body, path)?;
        tracing::debug!(
            provider = NAME,
            endpoint = %self.endpoint.origin(),
            credentials = %credentials,
            "assumed role"
        );
        Ok(credentials)
    }

    fn target(&self) -> Target<'_> {
        Target {
            provider: NAME,
            product: Product::STS,
            endpoint: &self.endpoint,
            timeouts: self.timeouts,
        }
    }

    /// The unsigned call.
    fn call(&self) -> Call {
        Call::for_api(sts::API_VERSION, ACTION, self.ctx.time().now())
            .form("RoleArn", self.role_arn.as_str())
            .form("RoleSessionName", self.session_name.as_str())
            .form("DurationSeconds", self.duration.as_secs().to_string())
            .form_opt("Policy", self.policy.as_deref())
            .form_opt("ExternalId", self.external_id.as_deref())
    }
}

impl CredentialsProvider for RamRoleArnProvider {
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        ProvideCredentials::boxed(self.load())
    }
}

/// Settings of a [`RamRoleArnProvider`]; from [`RamRoleArnProvider::builder`].
pub struct Builder {
    role_arn: String,
    source: Option<SharedCredentialsProvider>,
    session_name: Option<String>,
    duration: Duration,
    policy: Option<String>,
    external_id: Option<String>,
    endpoint: EndpointSettings,
    timeouts: Timeouts,
    context: Option<Context>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("role_arn", &self.role_arn)
            .field("source", &self.source)
            .field("session_name", &self.session_name)
            .field("duration", &self.duration)
            .field("policy", &self.policy.as_ref().map(|_| "set"))
            .field("external_id", &self.external_id.as_ref().map(|_| "set"))
            .field("endpoint", &self.endpoint)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// The source credentials that sign `AssumeRole` (required): any provider — a static AccessKey,
    /// the environment, ECS RAM role, or another role (a cached provider is best there).
    pub fn source(mut self, provider: impl CredentialsProvider + 'static) -> Self {
        self.source = Some(SharedCredentialsProvider::new(provider));
        self
    }

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
        self.policy = Some(policy.into());
        self
    }

    /// The external id the role's trust policy demands. Empty means none.
    pub fn external_id(mut self, external_id: impl Into<String>) -> Self {
        self.external_id = Some(external_id.into());
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

    /// Permits a plain `http` endpoint that is not loopback (credentials then cross the network
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
    /// `ram_role_arn`, on the context's clock). Errors are `InvalidConfiguration`.
    pub fn build(self) -> Result<RefreshCache<Credentials>> {
        let provider = self.build_uncached()?;
        Ok(provider.ctx.cache_builder(NAME).build_for(provider))
    }

    /// Validates the settings and returns the bare provider: one STS call per
    /// `provide_credentials`. For composition and tests.
    pub fn build_uncached(self) -> Result<RamRoleArnProvider> {
        let ctx = self.context.unwrap_or_default();
        let env = ctx.env();
        let Some(source) = self.source else {
            return Err(CredentialsError::invalid_configuration(
                NAME,
                "no source credentials: pass the provider that signs AssumeRole to .source(..)",
            ));
        };
        let role_arn = sts::required(NAME, self.role_arn, env, vars::ROLE_ARN, "role ARN")?;
        sts::check_duration(NAME, self.duration)?;
        let session_name = sts::session_name(NAME, self.session_name, env, ctx.time().now())?;
        let endpoint = self.endpoint.resolve(Product::STS, NAME, env)?;
        Ok(RamRoleArnProvider {
            source,
            role_arn,
            session_name,
            duration: self.duration,
            policy: self.policy.filter(|p| !p.is_empty()),
            external_id: self.external_id.filter(|e| !e.is_empty()),
            endpoint,
            timeouts: self.timeouts,
            ctx,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mse_auth::os::Env;
    use mse_auth::ErrorKind;
    use mse_auth::StaticAccessKeyProvider;

    const SECRET: &str = "sentinel-secret-7c1e";
    const EXTERNAL_ID: &str = "sentinel-external-id";

    fn ctx(env: &[(&str, &str)]) -> Context {
        Context::default().with_env(Env::from_pairs(env.iter().copied()))
    }

    fn source() -> StaticAccessKeyProvider {
        StaticAccessKeyProvider::new("LTAI5tExampleId", SECRET).unwrap()
    }

    fn builder() -> Builder {
        RamRoleArnProvider::builder("acs:ram::123456789012:role/test")
            .source(source())
            .context(ctx(&[]))
    }

    #[test]
    fn defaults_and_env_fallbacks() {
        let p = RamRoleArnProvider::builder("")
            .source(source())
            .context(ctx(&[
                (vars::ROLE_ARN, "acs:ram::1:role/from-env"),
                (vars::ROLE_SESSION_NAME, "env-session"),
                (vars::STS_REGION, "cn-shanghai"),
            ]))
            .build_uncached()
            .unwrap();
        assert_eq!(p.role_arn, "acs:ram::1:role/from-env");
        assert_eq!(p.session_name, "env-session");
        assert_eq!(p.duration, Duration::from_secs(3600));
        assert_eq!(p.endpoint.origin(), "https://sts.cn-shanghai.aliyuncs.com");
        assert_eq!(p.timeouts, Timeouts::STS);
        let p = builder().build_uncached().unwrap();
        assert!(
            p.session_name.starts_with("mse-auth-"),
            "{}",
            p.session_name
        );
        assert_eq!(p.endpoint.origin(), "https://sts.aliyuncs.com");
    }

    #[test]
    fn missing_role_or_source_is_invalid_configuration() {
        let err = RamRoleArnProvider::builder("")
            .source(source())
            .context(ctx(&[]))
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "ram_role_arn: invalid configuration: the role ARN is empty: pass it to the builder or set \
             ALIBABA_CLOUD_ROLE_ARN"
        );
        let err = RamRoleArnProvider::builder("acs:ram::1:role/r")
            .context(ctx(&[]))
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert!(err.message().starts_with("no source credentials"), "{err}");
    }

    #[test]
    fn short_durations_bad_session_names_and_plain_http_are_refused_at_build() {
        let err = builder()
            .duration(Duration::from_secs(899))
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert!(err.message().contains("899s is too short"), "{err}");
        let err = builder()
            .session_name("no spaces please")
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert!(err.message().contains("2 to 32 characters"), "{err}");
        let err = builder()
            .sts_endpoint("http://sts.example.com")
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert!(err.message().contains("refusing plain http"), "{err}");
        assert!(builder()
            .sts_endpoint("http://sts.example.com")
            .allow_http(true)
            .build()
            .is_ok());
    }

    #[test]
    fn the_call_carries_action_params_and_omits_empty_options() {
        let p = builder()
            .session_name("s1")
            .duration(Duration::from_secs(900))
            .policy("")
            .external_id(EXTERNAL_ID)
            .build_uncached()
            .unwrap();
        let call = p.call();
        let keys: Vec<&str> = call.form.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            [
                "RoleArn",
                "RoleSessionName",
                "DurationSeconds",
                "ExternalId"
            ]
        );
        assert!(call.form.contains(&("DurationSeconds", "900".to_owned())));
        assert_eq!(call.query[0], ("Action", "AssumeRole".to_owned()));
    }

    #[test]
    fn debug_of_builder_and_provider_shows_no_secret() {
        let b = builder()
            .policy(r#"{"sentinel-policy":1}"#)
            .external_id(EXTERNAL_ID);
        let shown = format!("{b:?}");
        let p = b.build_uncached().unwrap();
        let shown = format!("{shown} {p:?} {p:#?}");
        for secret in [SECRET, EXTERNAL_ID, "sentinel-policy"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("acs:ram::123456789012:role/test"), "{shown}");
    }

    #[tokio::test]
    async fn a_source_that_is_not_loaded_is_a_configuration_error_of_this_provider() {
        let p = RamRoleArnProvider::builder("acs:ram::1:role/r")
            .source(mse_auth::EnvironmentProvider::with_env(Env::from_pairs::<
                &str,
                &str,
            >([])))
            .context(ctx(&[]))
            .build_uncached()
            .unwrap();
        let err = p.provide_credentials().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(err.provider_path(), "ram_role_arn/env");
        assert!(
            err.message()
                .starts_with("the source credentials are not available: "),
            "{err}"
        );
    }
}
