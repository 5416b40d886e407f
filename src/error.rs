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

/// Why a provider could not produce credentials.
///
/// The variant tells the caller what to do: [`NotLoaded`](CredentialsError::NotLoaded) means "not
/// configured here, try something else" (a chain moves on); every other variant means the provider *is*
/// configured and something is wrong, so a chain stops and reports it.
///
/// ```
/// use mse_auth::CredentialsError;
///
/// let err = CredentialsError::not_loaded("env", "ALIBABA_CLOUD_ACCESS_KEY_ID is not set");
/// assert!(err.is_not_loaded());
/// assert_eq!(err.to_string(), "env: not loaded: ALIBABA_CLOUD_ACCESS_KEY_ID is not set");
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The provider is not configured in this environment (no env vars, no file, not on ECS …).
    NotLoaded {
        /// Provider path, e.g. `env` or `default/oidc_role_arn`.
        provider: Cow<'static, str>,
        /// Why it did not load, for humans.
        reason: String,
    },
    /// The provider is configured, but the configuration is wrong (half an AccessKey, a bad ARN, a
    /// malformed profile file …).
    InvalidConfiguration {
        /// Provider path.
        provider: Cow<'static, str>,
        /// What is wrong and how to fix it.
        message: String,
        /// The underlying cause, if any.
        source: Option<BoxError>,
    },
    /// Loading took longer than its budget.
    TimedOut {
        /// Provider path.
        provider: Cow<'static, str>,
        /// The budget that ran out.
        after: Duration,
    },
    /// The upstream service answered, and the answer was a refusal or could not be used.
    Provider {
        /// Provider path.
        provider: Cow<'static, str>,
        /// Upstream error code, e.g. `InvalidAccessKeyId.NotFound`.
        code: Option<String>,
        /// Upstream message, or what was wrong with the response.
        message: String,
        /// Upstream request id, for support tickets.
        request_id: Option<String>,
        /// HTTP status, when there was one.
        status: Option<u16>,
        /// The underlying cause, if any.
        source: Option<BoxError>,
    },
    /// Anything else: a transport failure, a bug, an unexpected state.
    Unhandled {
        /// Provider path.
        provider: Cow<'static, str>,
        /// What happened.
        message: String,
        /// The underlying cause, if any.
        source: Option<BoxError>,
    },
}

impl CredentialsError {
    /// The provider is not configured here.
    pub fn not_loaded(provider: impl Into<Cow<'static, str>>, reason: impl Into<String>) -> Self {
        Self::NotLoaded {
            provider: provider.into(),
            reason: reason.into(),
        }
    }

    /// The provider is configured wrongly.
    pub fn invalid_configuration(
        provider: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self::InvalidConfiguration {
            provider: provider.into(),
            message: message.into(),
            source: None,
        }
    }

    /// Loading ran past `after`.
    pub fn timed_out(provider: impl Into<Cow<'static, str>>, after: Duration) -> Self {
        Self::TimedOut {
            provider: provider.into(),
            after,
        }
    }

    /// The upstream refused or answered something unusable. Add details with
    /// [`with_code`](Self::with_code), [`with_request_id`](Self::with_request_id),
    /// [`with_status`](Self::with_status) and [`with_source`](Self::with_source).
    pub fn provider(provider: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::Provider {
            provider: provider.into(),
            code: None,
            message: message.into(),
            request_id: None,
            status: None,
            source: None,
        }
    }

    /// Anything else.
    pub fn unhandled(provider: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::Unhandled {
            provider: provider.into(),
            message: message.into(),
            source: None,
        }
    }

    /// Sets the upstream error code (only kept on [`Provider`](Self::Provider) errors).
    pub fn with_code(mut self, new_code: impl Into<String>) -> Self {
        if let Self::Provider { code, .. } = &mut self {
            *code = Some(new_code.into());
        }
        self
    }

    /// Sets the upstream request id (only kept on [`Provider`](Self::Provider) errors).
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        if let Self::Provider { request_id, .. } = &mut self {
            *request_id = Some(id.into());
        }
        self
    }

    /// Sets the HTTP status (only kept on [`Provider`](Self::Provider) errors).
    pub fn with_status(mut self, new_status: u16) -> Self {
        if let Self::Provider { status, .. } = &mut self {
            *status = Some(new_status);
        }
        self
    }

    /// Attaches the underlying cause. The cause must not carry secrets either.
    pub fn with_source(
        mut self,
        cause: impl Into<Box<dyn StdError + Send + Sync + 'static>>,
    ) -> Self {
        let cause: Option<BoxError> = Some(Arc::from(cause.into()));
        match &mut self {
            Self::InvalidConfiguration { source, .. }
            | Self::Provider { source, .. }
            | Self::Unhandled { source, .. } => *source = cause,
            Self::NotLoaded { .. } | Self::TimedOut { .. } => {}
        }
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
        let path = self.path_mut();
        *path = Cow::Owned(format!("{prefix}/{path}"));
        self
    }

    /// The path of the provider that failed.
    pub fn provider_path(&self) -> &str {
        match self {
            Self::NotLoaded { provider, .. }
            | Self::InvalidConfiguration { provider, .. }
            | Self::TimedOut { provider, .. }
            | Self::Provider { provider, .. }
            | Self::Unhandled { provider, .. } => provider,
        }
    }

    fn path_mut(&mut self) -> &mut Cow<'static, str> {
        match self {
            Self::NotLoaded { provider, .. }
            | Self::InvalidConfiguration { provider, .. }
            | Self::TimedOut { provider, .. }
            | Self::Provider { provider, .. }
            | Self::Unhandled { provider, .. } => provider,
        }
    }

    /// `true` for [`NotLoaded`](Self::NotLoaded): a chain tries the next provider.
    pub fn is_not_loaded(&self) -> bool {
        matches!(self, Self::NotLoaded { .. })
    }

    /// The upstream error code of a [`Provider`](Self::Provider) error.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Provider { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The upstream request id of a [`Provider`](Self::Provider) error.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Provider { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotLoaded { provider, reason } => write!(f, "{provider}: not loaded: {reason}"),
            Self::InvalidConfiguration {
                provider, message, ..
            } => write!(f, "{provider}: invalid configuration: {message}"),
            Self::TimedOut { provider, after } => {
                write!(f, "{provider}: timed out after {after:?}")
            }
            Self::Provider {
                provider,
                code,
                message,
                request_id,
                status,
                ..
            } => {
                write!(f, "{provider}: ")?;
                if let Some(status) = status {
                    write!(f, "HTTP {status}: ")?;
                }
                if let Some(code) = code {
                    write!(f, "{code}: ")?;
                }
                f.write_str(message)?;
                if let Some(id) = request_id {
                    write!(f, " (RequestId {id})")?;
                }
                Ok(())
            }
            Self::Unhandled {
                provider, message, ..
            } => write!(f, "{provider}: {message}"),
        }
    }
}

impl fmt::Debug for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Fields hold no secrets by construction; the source is shown through its Display, the same
        // text `source()` gives, so nothing beyond what the error already says can leak here.
        let source = StdError::source(self).map(|s| s.to_string());
        let mut d = f.debug_struct(match self {
            Self::NotLoaded { .. } => "NotLoaded",
            Self::InvalidConfiguration { .. } => "InvalidConfiguration",
            Self::TimedOut { .. } => "TimedOut",
            Self::Provider { .. } => "Provider",
            Self::Unhandled { .. } => "Unhandled",
        });
        d.field("message", &self.to_string());
        if let Some(source) = source {
            d.field("source", &source);
        }
        d.finish()
    }
}

impl StdError for CredentialsError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::InvalidConfiguration { source, .. }
            | Self::Provider { source, .. }
            | Self::Unhandled { source, .. } => {
                source.as_deref().map(|s| s as &(dyn StdError + 'static))
            }
            Self::NotLoaded { .. } | Self::TimedOut { .. } => None,
        }
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
    fn details_are_ignored_on_variants_without_them() {
        let err = CredentialsError::timed_out("ecs_ram_role", Duration::from_secs(1))
            .with_code("X")
            .with_source(std::io::Error::other("boom"));
        assert_eq!(err.code(), None);
        assert!(StdError::source(&err).is_none());
        assert_eq!(err.to_string(), "ecs_ram_role: timed out after 1s");
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
        assert!(debug.starts_with("Unhandled"), "{debug}");
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
