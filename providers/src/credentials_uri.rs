//! Credentials from a URI (`ALIBABA_CLOUD_CREDENTIALS_URI`): a local or remote service that answers
//! `GET <uri>` with STS credentials. Provider name `credentials_uri`.
//!
//! Reads [`vars::CREDENTIALS_URI`] (`ALIBABA_CLOUD_CREDENTIALS_URI`) in
//! [`CredentialsUriProvider::from_env`]; an unset variable is [`NotLoaded`](crate::ErrorKind::NotLoaded),
//! so a chain moves on.
//!
//! The request is a plain `GET` of the URI, query kept, no authentication headers; budgets are
//! [`Timeouts::URI`] (5 s connect, 10 s read) and the environment's proxy is honoured (spec §8). The
//! answer must be HTTP 200 with
//! `{"Code": "Success", "AccessKeyId": …, "AccessKeySecret": …, "SecurityToken": …, "Expiration": …}`;
//! `Expiration` may be `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.mmmZ`. This is the strictest of
//! the official SDKs' rules (Python's), so a service that works with any of them works here.
//!
//! Plain `http` is accepted only to loopback addresses unless [`Builder::allow_http`] or
//! `MSE_AUTH_INSECURE_ALLOW_HTTP=true` ([`vars::INSECURE_ALLOW_HTTP`]) opts in. The URI's
//! path and query often carry a secret token: errors, logs and `Debug` output show only
//! `scheme://host[:port]`.
//!
//! ```no_run
//! use mse_auth_providers::{CredentialsProvider, CredentialsUriProvider, Context};
//! # async fn demo() -> Result<(), mse_auth_providers::CredentialsError> {
//! // From ALIBABA_CLOUD_CREDENTIALS_URI, cached and refreshed before expiry:
//! let provider = CredentialsUriProvider::from_env(&Context::default())?.build()?;
//! let creds = provider.provide_credentials().await?;
//! assert_eq!(creds.provider_path(), "credentials_uri");
//!
//! // Or a URI given in code:
//! let provider = CredentialsUriProvider::builder("http://127.0.0.1:8080/credentials/s3cr3t").build()?;
//! # Ok(()) }
//! ```

use crate::context::Context;
use crate::endpoint::{insecure_allow_http, origin, parse_full_url};
use crate::http::{HttpClient, HttpRequest, HttpResponse, Timeouts, TransportError};
use crate::json_credentials::{error_code, parse_credentials};
use mse_auth::{vars, Credentials, CredentialsError, CredentialsProvider, ProvideCredentials};
use mse_auth::{RefreshCache, Result};
use reqwest::Url;
use std::fmt;
use zeroize::Zeroizing;

/// Provider name reported in credential paths.
pub const NAME: &str = "credentials_uri";

/// Fetches STS credentials with `GET <uri>`. See the [module docs](self).
pub struct CredentialsUriProvider {
    /// The full URI: may hold a secret in its path or query; never formatted.
    url: Url,
    origin: String,
    timeouts: Timeouts,
    http: HttpClient,
}

impl fmt::Debug for CredentialsUriProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsUriProvider")
            .field("origin", &self.origin)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl CredentialsUriProvider {
    /// Settings for a provider that fetches `uri`.
    pub fn builder(uri: impl Into<String>) -> Builder {
        Builder {
            uri: Zeroizing::new(uri.into()),
            allow_http: false,
            timeouts: Timeouts::URI,
            context: None,
        }
    }

    /// Settings for a provider that fetches the URI in `ALIBABA_CLOUD_CREDENTIALS_URI` of `ctx`'s
    /// environment; the builder uses `ctx`. [`NotLoaded`](crate::ErrorKind::NotLoaded) when the variable
    /// is unset or empty.
    pub fn from_env(ctx: &Context) -> Result<Builder> {
        let uri = ctx
            .env()
            .get_checked(vars::CREDENTIALS_URI)
            .map_err(|e| e.invalid_configuration(NAME))?
            .ok_or_else(|| {
                CredentialsError::not_loaded(NAME, format!("{} is not set", vars::CREDENTIALS_URI))
            })?;
        Ok(Self::builder(uri).context(ctx.clone()))
    }

    async fn load(&self) -> Result<Credentials> {
        let request = HttpRequest::get(self.url.clone(), self.timeouts);
        let response = self
            .http
            .send(request)
            .await
            .map_err(|e| self.transport_error(e))?;
        let HttpResponse { status, body } = response;
        let body = Zeroizing::new(body);
        if status != 200 {
            return Err(self.status_error(status, &body));
        }
        parse_credentials(&body, NAME)
    }

    fn transport_error(&self, err: TransportError) -> CredentialsError {
        // The transport message names only the origin.
        err.into_credentials_error(NAME)
    }

    fn status_error(&self, status: u16, body: &[u8]) -> CredentialsError {
        // The body is not shown: a service may echo the request path, which holds the secret.
        let err = CredentialsError::provider(
            NAME,
            format!(
                "the credentials URI at {} did not answer HTTP 200",
                self.origin
            ),
        )
        .with_status(status);
        match error_code(body) {
            Some(code) => err.with_code(code),
            None => err,
        }
    }
}

impl CredentialsProvider for CredentialsUriProvider {
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        ProvideCredentials::boxed(self.load())
    }
}

/// Builds a [`CredentialsUriProvider`]; see [`CredentialsUriProvider::builder`].
pub struct Builder {
    uri: Zeroizing<String>,
    allow_http: bool,
    timeouts: Timeouts,
    context: Option<Context>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown =
            Url::parse(self.uri.trim()).map_or_else(|_| "<unparsable>".into(), |u| origin(&u));
        f.debug_struct("Builder")
            .field("origin", &shown)
            .field("allow_http", &self.allow_http)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// `true` permits plain `http` to any host (default: only to loopback addresses). Credentials then
    /// cross the network unencrypted.
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Connect and read budgets (default [`Timeouts::URI`]: 5 s and 10 s).
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The outside world (default [`Context::default`]).
    pub fn context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }

    /// Validates the URI and returns the provider inside a [`RefreshCache`].
    /// [`InvalidConfiguration`](crate::ErrorKind::InvalidConfiguration) for a malformed URI or plain
    /// `http` to a non-loopback host without [`allow_http`](Self::allow_http).
    pub fn build(self) -> Result<RefreshCache<Credentials>> {
        let (ctx, provider) = self.into_parts()?;
        Ok(ctx.cache_builder(NAME).build_for(provider))
    }

    /// Validates the URI and returns the provider without a cache (for composition and tests).
    pub fn build_uncached(self) -> Result<CredentialsUriProvider> {
        self.into_parts().map(|(_, provider)| provider)
    }

    fn into_parts(self) -> Result<(Context, CredentialsUriProvider)> {
        let ctx = self.context.unwrap_or_default();
        let allow_http = self.allow_http || insecure_allow_http(ctx.env(), NAME)?;
        let url = check_uri(&self.uri, allow_http)?;
        let provider = CredentialsUriProvider {
            origin: origin(&url),
            url,
            timeouts: self.timeouts,
            http: ctx.http().clone(),
        };
        Ok((ctx, provider))
    }
}

/// Parses and checks the URI; no error message shows its path or query.
fn check_uri(uri: &str, allow_http: bool) -> Result<Url> {
    let invalid = |why: String| CredentialsError::invalid_configuration(NAME, why);
    // Parsed here first so that no error below can echo the (secret-bearing) text.
    let url = Url::parse(uri.trim())
        .map_err(|e| invalid(format!("the credentials URI is not a valid URL: {e}")))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("the credentials URI has no host".into()));
    }
    parse_full_url(url.as_str(), allow_http).map_err(|e| invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mse_auth::ErrorKind;

    #[test]
    fn uri_checks_never_echo_path_or_query() {
        let err = check_uri("http://creds.internal/sentinel?t=sentinel", false).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "credentials_uri: invalid configuration: refusing plain http to http://creds.internal: \
             credentials would cross the network unencrypted; use https, or opt in with \
             MSE_AUTH_INSECURE_ALLOW_HTTP=true (CLI: --insecure-allow-http)"
        );
        assert!(check_uri("http://creds.internal/sentinel?t=sentinel", true).is_ok());
        for bad in [
            "http://host:notaport/sentinel",
            "file:///sentinel",
            "sentinel",
            "https://user:sentinel@host/x",
            "ftp://host/sentinel",
        ] {
            let err = check_uri(bad, false).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidConfiguration, "{bad}");
            assert!(!format!("{err:?}").contains("sentinel"), "{bad}: {err:?}");
        }
        let url = check_uri(" https://creds.example.com/p/sentinel?t=1 ", false).unwrap();
        assert_eq!(url.query(), Some("t=1"));
    }

    #[test]
    fn the_opt_in_variable_permits_plain_http_to_a_remote_host() {
        let uri = "http://creds.internal/sentinel?t=sentinel";
        let ctx = |v: &str| {
            Context::default().with_env(mse_auth::os::Env::from_pairs([(
                vars::INSECURE_ALLOW_HTTP,
                v,
            )]))
        };
        let p = CredentialsUriProvider::builder(uri)
            .context(ctx("true"))
            .build_uncached()
            .unwrap();
        assert_eq!(p.origin, "http://creds.internal");
        let err = CredentialsUriProvider::builder(uri)
            .context(ctx("maybe"))
            .build_uncached()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert!(
            err.message()
                .starts_with("MSE_AUTH_INSECURE_ALLOW_HTTP must be"),
            "{err}"
        );
        assert!(!format!("{err:?}").contains("sentinel"));
    }

    #[test]
    fn debug_shows_only_the_origin() {
        let builder = CredentialsUriProvider::builder("http://127.0.0.1:9/sentinel?t=sentinel");
        let shown = format!("{builder:?}");
        assert!(
            shown.contains("http://127.0.0.1:9") && !shown.contains("sentinel"),
            "{shown}"
        );
        let provider = builder.build_uncached().unwrap();
        let shown = format!("{provider:?}");
        assert!(
            shown.contains("http://127.0.0.1:9") && !shown.contains("sentinel"),
            "{shown}"
        );
    }
}
