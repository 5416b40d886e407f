//! [`CredentialsError`]: what can go wrong when credentials are loaded.
//!
//! Every message names the provider (its path, e.g. `default/ram_role_arn`) and the cause. No message,
//! `Debug` output or source ever carries a secret, a token, a signature or a full signed URL: providers
//! redact before they build an error.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A cause kept behind an error (`source()`), shared so the error stays cheap to clone.
pub type BoxError = Arc<dyn StdError + Send + Sync + 'static>;

/// Result alias used across the crate.
pub type Result<T, E = CredentialsError> = std::result::Result<T, E>;

/// What kind of failure a [`CredentialsError`] is.
///
/// [`NotLoaded`](ErrorKind::NotLoaded) means "not configured here, try something else" (a chain moves
/// on); every other kind means the provider *is* configured and something is wrong, so a chain stops and
/// reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The provider is not configured in this environment (no env vars, no file, not on ECS …).
    NotLoaded,
    /// The provider is configured, but wrongly (half an AccessKey, a bad ARN, a malformed profile file …).
    InvalidConfiguration,
    /// Loading took longer than its budget.
    TimedOut,
    /// The upstream service answered, and the answer was a refusal or could not be used.
    Provider,
    /// Anything else: a transport failure, a bug, an unexpected state.
    Unhandled,
}

/// Why a provider could not produce credentials: an [`ErrorKind`], the provider's path, a message, and
/// for upstream failures the upstream code, request id and HTTP status.
///
/// One pointer wide, so `Result<Credentials, CredentialsError>` stays two words on the hot path.
///
/// ```
/// use mse_auth::{CredentialsError, ErrorKind};
///
/// let err = CredentialsError::not_loaded("env", "ALIBABA_CLOUD_ACCESS_KEY_ID is not set");
/// assert_eq!(err.kind(), ErrorKind::NotLoaded);
/// assert_eq!(err.to_string(), "env: not loaded: ALIBABA_CLOUD_ACCESS_KEY_ID is not set");
///
/// let err = CredentialsError::provider("ram_role_arn", "Specified signature is not matched")
///     .with_code("SignatureDoesNotMatch")
///     .with_request_id("5D7C-11")
///     .with_status(400);
/// assert_eq!(err.code(), Some("SignatureDoesNotMatch"));
/// ```
#[derive(Clone)]
pub struct CredentialsError(Box<Repr>);

#[derive(Clone)]
struct Repr {
    kind: ErrorKind,
    provider: Cow<'static, str>,
    message: String,
    code: Option<String>,
    request_id: Option<String>,
    status: Option<u16>,
    timeout: Option<Duration>,
    source: Option<BoxError>,
}

impl CredentialsError {
    fn new(kind: ErrorKind, provider: Cow<'static, str>, message: String) -> Self {
        Self(Box::new(Repr {
            kind,
            provider,
            message,
            code: None,
            request_id: None,
            status: None,
            timeout: None,
            source: None,
        }))
    }

    /// The provider is not configured here.
    pub fn not_loaded(provider: impl Into<Cow<'static, str>>, reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotLoaded, provider.into(), reason.into())
    }

    /// The provider is configured wrongly.
    pub fn invalid_configuration(
        provider: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(
            ErrorKind::InvalidConfiguration,
            provider.into(),
            message.into(),
        )
    }

    /// Loading ran past `after`.
    pub fn timed_out(provider: impl Into<Cow<'static, str>>, after: Duration) -> Self {
        let mut err = Self::new(ErrorKind::TimedOut, provider.into(), String::new());
        err.0.timeout = Some(after);
        err
    }

    /// Loading ran past `after` while waiting for `what` (an upstream, never a URL with a secret):
    /// `nacos_login: timed out after 3s: http://10.0.0.7:8848: no connection`.
    pub fn timed_out_waiting(
        provider: impl Into<Cow<'static, str>>,
        after: Duration,
        what: impl Into<String>,
    ) -> Self {
        let mut err = Self::new(ErrorKind::TimedOut, provider.into(), what.into());
        err.0.timeout = Some(after);
        err
    }

    /// The upstream refused or answered something unusable. Add details with
    /// [`with_code`](Self::with_code), [`with_request_id`](Self::with_request_id),
    /// [`with_status`](Self::with_status) and [`with_source`](Self::with_source).
    pub fn provider(provider: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Provider, provider.into(), message.into())
    }

    /// Anything else.
    pub fn unhandled(provider: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unhandled, provider.into(), message.into())
    }

    /// Sets the upstream error code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.0.code = Some(code.into());
        self
    }

    /// Sets the upstream request id.
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.0.request_id = Some(id.into());
        self
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.0.status = Some(status);
        self
    }

    /// Attaches the underlying cause. The cause must not carry secrets either.
    pub fn with_source(
        mut self,
        cause: impl Into<Box<dyn StdError + Send + Sync + 'static>>,
    ) -> Self {
        self.0.source = Some(Arc::from(cause.into()));
        self
    }

    /// The same error reported by a provider nested under `prefix`: `env` becomes `default/env`.
    ///
    /// ```
    /// use mse_auth::CredentialsError;
    /// let err = CredentialsError::invalid_configuration("env", "half set").in_provider("default");
    /// assert_eq!(err.provider_path(), "default/env");
    /// ```
    pub fn in_provider(mut self, prefix: &str) -> Self {
        self.0.provider = Cow::Owned(format!("{prefix}/{}", self.0.provider));
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// `true` for [`ErrorKind::NotLoaded`]: a chain tries the next provider.
    pub fn is_not_loaded(&self) -> bool {
        self.0.kind == ErrorKind::NotLoaded
    }

    /// The path of the provider that failed.
    pub fn provider_path(&self) -> &str {
        &self.0.provider
    }

    /// The message (the reason, for `NotLoaded`), without the provider path.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The upstream error code, e.g. `InvalidAccessKeyId.NotFound`.
    pub fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }

    /// The upstream request id, for support tickets.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// The HTTP status, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// The budget that ran out, for [`ErrorKind::TimedOut`].
    pub fn timeout(&self) -> Option<Duration> {
        self.0.timeout
    }
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &*self.0;
        write!(f, "{}: ", r.provider)?;
        match r.kind {
            ErrorKind::NotLoaded => f.write_str("not loaded: ")?,
            ErrorKind::InvalidConfiguration => f.write_str("invalid configuration: ")?,
            ErrorKind::TimedOut => {
                write!(f, "timed out after {:?}", r.timeout.unwrap_or_default())?;
                if !r.message.is_empty() {
                    f.write_str(": ")?;
                }
            }
            ErrorKind::Provider | ErrorKind::Unhandled => {}
        }
        if let Some(status) = r.status {
            write!(f, "HTTP {status}: ")?;
        }
        if let Some(code) = &r.code {
            write!(f, "{code}: ")?;
        }
        f.write_str(&r.message)?;
        if let Some(id) = &r.request_id {
            write!(f, " (RequestId {id})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Fields hold no secrets by construction; the source is shown through its Display, the same
        // text `source()` gives, so nothing beyond what the error already says can leak here.
        let mut d = f.debug_struct("CredentialsError");
        d.field("kind", &self.0.kind)
            .field("message", &self.to_string());
        if let Some(source) = &self.0.source {
            d.field("source", &source.to_string());
        }
        d.finish()
    }
}

impl StdError for CredentialsError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_error_display_carries_status_code_and_request_id() {
        let err = CredentialsError::provider("ram_role_arn", "Specified signature is not matched")
            .with_status(400)
            .with_code("SignatureDoesNotMatch")
            .with_request_id("5D7C-11");
        assert_eq!(
            err.to_string(),
            "ram_role_arn: HTTP 400: SignatureDoesNotMatch: Specified signature is not matched (RequestId 5D7C-11)"
        );
        assert_eq!(err.code(), Some("SignatureDoesNotMatch"));
        assert_eq!(err.request_id(), Some("5D7C-11"));
    }

    #[test]
    fn timed_out_names_the_budget() {
        let err = CredentialsError::timed_out("ecs_ram_role", Duration::from_secs(1));
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert_eq!(err.timeout(), Some(Duration::from_secs(1)));
        assert_eq!(err.to_string(), "ecs_ram_role: timed out after 1s");
        let err = CredentialsError::timed_out_waiting(
            "nacos_login",
            Duration::from_millis(300),
            "http://127.0.0.1:8848: no answer",
        );
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert_eq!(err.timeout(), Some(Duration::from_millis(300)));
        assert_eq!(
            err.to_string(),
            "nacos_login: timed out after 300ms: http://127.0.0.1:8848: no answer"
        );
    }

    #[test]
    fn is_one_pointer_wide() {
        assert_eq!(
            std::mem::size_of::<CredentialsError>(),
            std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn source_is_kept_and_shown_in_debug() {
        let err = CredentialsError::unhandled("credentials_uri", "transport failed")
            .with_source(std::io::Error::other("connection reset"));
        assert_eq!(
            StdError::source(&err).unwrap().to_string(),
            "connection reset"
        );
        let debug = format!("{err:?}");
        assert!(debug.contains("kind: Unhandled"), "{debug}");
        assert!(debug.contains("connection reset"), "{debug}");
    }

    #[test]
    fn in_provider_prefixes_the_path() {
        let err = CredentialsError::not_loaded("env", "unset")
            .in_provider("cli_profile")
            .in_provider("default");
        assert_eq!(err.provider_path(), "default/cli_profile/env");
        assert_eq!(
            err.to_string(),
            "default/cli_profile/env: not loaded: unset"
        );
    }
}
