//! [`CredentialsError`]: what can go wrong when credentials are loaded.
//!
//! Every message names the provider (its path, e.g. `default/ram_role_arn`) and the cause. No message,
//! `Debug` output or source ever carries a secret, a token, a signature or a full signed URL: providers
//! redact before they build an error.
//!
//! Text from outside — an upstream's `Code`, `Message` and `RequestId`, a profile name, a value quoted
//! from a file — never reaches a terminal raw: providers pass it through [`escape_untrusted`] (bounded
//! and escaped), [`with_code`](CredentialsError::with_code) and
//! [`with_request_id`](CredentialsError::with_request_id) escape on entry, and every message is
//! escaped once more when the error is made, so an escape sequence, a bell or a carriage return can
//! neither recolour nor rewrite what a person reads.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A cause kept behind an error (`source()`), shared so the error stays cheap to clone.
pub type BoxError = Arc<dyn StdError + Send + Sync + 'static>;

/// Longest upstream code or request id kept, in characters (longer ones are cut, ending in `…`).
pub const MAX_UPSTREAM_FIELD: usize = 128;

/// `text` made safe to show: at most `max_chars` characters of it (then `…`), with every control
/// character escaped — `\n`, `\r`, `\t`, `\x1b` for the other C0 controls and DEL, `\u{9b}` for C1
/// controls — and so are the invisible direction marks and overrides (U+061C, U+200E, U+200F,
/// U+202A–U+202E, U+2066–U+2069), which can make text read in another order than it is.
/// Backslashes are kept as they are (paths stay readable), so `\x1b` in the output may also have been
/// those four characters in the input.
///
/// ```
/// use mse_auth::error::escape_untrusted;
///
/// assert_eq!(escape_untrusted("\u{1b}[31mred\u{7}\r", 100), "\\x1b[31mred\\x07\\r");
/// assert_eq!(escape_untrusted("abcdef", 3), "abc…");
/// assert_eq!(escape_untrusted("InvalidAccessKeyId.NotFound", 64), "InvalidAccessKeyId.NotFound");
/// ```
pub fn escape_untrusted(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
    for (index, c) in text.chars().enumerate() {
        if index == max_chars {
            out.push('…');
            break;
        }
        push_escaped(&mut out, c);
    }
    out
}

/// `true` for the characters [`escape_untrusted`] escapes.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write as _;
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if c.is_ascii_control() => {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
        c => out.push(c),
    }
}

/// `text` with its control characters escaped as [`escape_untrusted`] does, at any length; returned
/// as it is when there is nothing to escape.
fn escape_all(text: String) -> String {
    if !text.chars().any(needs_escape) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    out
}

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
            // Providers escape what they quote; this catches anything that slipped through.
            message: escape_all(message),
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

    /// Sets the upstream error code, escaped and cut to [`MAX_UPSTREAM_FIELD`] characters
    /// ([`escape_untrusted`]): it comes from outside.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.0.code = Some(escape_untrusted(&code.into(), MAX_UPSTREAM_FIELD));
        self
    }

    /// Sets the upstream request id, escaped and cut to [`MAX_UPSTREAM_FIELD`] characters.
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.0.request_id = Some(escape_untrusted(&id.into(), MAX_UPSTREAM_FIELD));
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
    fn escape_untrusted_escapes_controls_and_bounds_the_length() {
        assert_eq!(
            escape_untrusted("\u{1b}[31mred\u{1b}[0m\u{7}\rover\n\t\u{7f}\u{9b}", 100),
            "\\x1b[31mred\\x1b[0m\\x07\\rover\\n\\t\\x7f\\u{9b}"
        );
        assert_eq!(
            escape_untrusted("a\u{202e}b\u{2066}c", 100),
            "a\\u{202e}b\\u{2066}c"
        );
        let long = "x".repeat(10_000);
        let shown = escape_untrusted(&long, 50);
        assert_eq!(shown, format!("{}…", "x".repeat(50)));
        // Escapes count as one character of the bound: 50 ESC bytes show as 50 escapes.
        let shown = escape_untrusted(&"\u{1b}".repeat(10_000), 50);
        assert_eq!(shown, format!("{}…", "\\x1b".repeat(50)));
        assert_eq!(escape_untrusted("密钥 C:\\Users", 100), "密钥 C:\\Users");
        assert_eq!(escape_untrusted("", 0), "");
        assert_eq!(escape_untrusted("a", 0), "…");
    }

    #[test]
    fn codes_request_ids_and_messages_are_escaped_on_entry() {
        let err = CredentialsError::provider("p", "refused: \u{1b}]0;pwned\u{7}\r")
            .with_code(format!("Bad\u{1b}[31m{}", "C".repeat(500)))
            .with_request_id("R\u{7}1\n");
        assert_eq!(err.message(), "refused: \\x1b]0;pwned\\x07\\r");
        // 128 characters kept: `Bad`, ESC, `[31m` and 120 `C`.
        assert_eq!(
            err.code(),
            Some(format!("Bad\\x1b[31m{}…", "C".repeat(120)).as_str())
        );
        assert_eq!(err.request_id(), Some("R\\x071\\n"));
        let shown = format!("{err} {err:?}");
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
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
