//! [`Credentials`]: an AccessKey pair, an optional STS security token, an optional expiration and the
//! path of the provider that produced them.
//!
//! Cloning is an `Arc` clone. The id, secret and token are wiped from memory when the last clone is
//! dropped (`zeroize`). `Debug` and `Display` show a masked id and never the secret or the token.

use crate::error::{CredentialsError, Result};
use crate::timestamp::format_utc;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;
use zeroize::Zeroizing;

/// Alibaba Cloud credentials.
///
/// ```
/// use mse_auth::Credentials;
///
/// let creds = Credentials::builder()
///     .access_key_id("STS.NUgYrLnoC37mZZCNnAbez")
///     .access_key_secret("secret-value")
///     .security_token("token-value")
///     .provider_path("ram_role_arn/static_ak")
///     .build()?;
/// assert!(creds.is_sts());
/// let shown = format!("{creds:?} {creds}");
/// assert!(!shown.contains("secret-value") && !shown.contains("token-value"));
/// assert!(shown.contains("STS****bez"));
/// # Ok::<(), mse_auth::CredentialsError>(())
/// ```
#[derive(Clone)]
pub struct Credentials(Arc<Inner>);

#[derive(Clone)]
struct Inner {
    access_key_id: Zeroizing<String>,
    access_key_secret: Zeroizing<String>,
    security_token: Option<Zeroizing<String>>,
    expiration: Option<SystemTime>,
    provider_path: Cow<'static, str>,
}

impl Credentials {
    /// Long-term AccessKey credentials that never expire.
    ///
    /// Fails with [`ErrorKind::InvalidConfiguration`](crate::ErrorKind::InvalidConfiguration) naming `provider_path` when the id or the
    /// secret is empty.
    pub fn new(
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
        provider_path: impl Into<Cow<'static, str>>,
    ) -> Result<Self> {
        Self::builder()
            .access_key_id(access_key_id)
            .access_key_secret(access_key_secret)
            .provider_path(provider_path)
            .build()
    }

    /// A builder for credentials with a token or an expiration.
    pub fn builder() -> CredentialsBuilder {
        CredentialsBuilder::default()
    }

    /// The AccessKey id. Not secret on its own, but prefer [`masked_access_key_id`](Self::masked_access_key_id)
    /// in anything a person reads.
    pub fn access_key_id(&self) -> &str {
        &self.0.access_key_id
    }

    /// The AccessKey secret. Never log it.
    pub fn access_key_secret(&self) -> &str {
        &self.0.access_key_secret
    }

    /// The STS security token, for temporary credentials. Never log it.
    pub fn security_token(&self) -> Option<&str> {
        self.0.security_token.as_deref().map(String::as_str)
    }

    /// When these credentials stop working; `None` for long-term keys.
    pub fn expiration(&self) -> Option<SystemTime> {
        self.0.expiration
    }

    /// Which provider produced them, outermost first, e.g. `default/cli_profile/ram_role_arn/static_ak`.
    pub fn provider_path(&self) -> &str {
        &self.0.provider_path
    }

    /// `true` when a security token is present (temporary STS credentials).
    pub fn is_sts(&self) -> bool {
        self.0.security_token.is_some()
    }

    /// The id with its middle hidden (first and last `min(3, len/4)` characters kept; `****` when it is six
    /// characters or shorter).
    pub fn masked_access_key_id(&self) -> String {
        mask(&self.0.access_key_id)
    }

    /// The same credentials reported under `prefix`: `env` becomes `default/env`. Allocates a new value.
    pub fn with_provider_prefix(&self, prefix: &str) -> Self {
        let mut inner = (*self.0).clone();
        inner.provider_path = Cow::Owned(format!("{prefix}/{}", inner.provider_path));
        Self(Arc::new(inner))
    }

    /// A copy that shares no reference count with `self`: readers on different threads holding their own
    /// copy never contend on one cache line. Used by the refresh cache's per-thread slots.
    pub fn unshared_copy(&self) -> Self {
        Self(Arc::new((*self.0).clone()))
    }

    /// `true` when both values are the very same allocation (a cheap identity check).
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl PartialEq for Credentials {
    fn eq(&self, other: &Self) -> bool {
        Self::ptr_eq(self, other)
            || (self.0.access_key_id == other.0.access_key_id
                && self.0.access_key_secret == other.0.access_key_secret
                && self.0.security_token == other.0.security_token
                && self.0.expiration == other.0.expiration
                && self.0.provider_path == other.0.provider_path)
    }
}

impl Eq for Credentials {}

const REDACTED: &str = "** redacted **";

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Credentials");
        d.field("provider_path", &self.provider_path())
            .field("access_key_id", &self.masked_access_key_id())
            .field("access_key_secret", &REDACTED)
            .field("security_token", &self.is_sts().then_some(REDACTED));
        match self.expiration() {
            Some(t) => d.field("expiration", &format_utc(t)),
            None => d.field("expiration", &"never"),
        };
        d.finish()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} from {}",
            if self.is_sts() { "STS" } else { "AccessKey" },
            self.masked_access_key_id(),
            self.provider_path()
        )?;
        if let Some(t) = self.expiration() {
            write!(f, ", expires {}", format_utc(t))?;
        }
        Ok(())
    }
}

/// Masks an identifier for display, the way the official Java SDK does.
fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= 6 {
        return "****".into();
    }
    let keep = (chars.len() / 4).min(3);
    let head: String = chars[..keep].iter().collect();
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("{head}****{tail}")
}

/// Checks an AccessKey id, secret or security token, whatever its source: `Err` with what is wrong
/// (`"is empty"`, `"is only whitespace"`, `"holds a control character"`) when it is empty, only
/// whitespace, or holds any [control character](char::is_control) — a tab, a newline, NUL, ESC …,
/// which no credential has and which would reach headers, shells and terminals raw. Providers call
/// it to say where a bad value came from (variable, file and line, upstream field); the builder
/// calls it on every credential.
///
/// ```
/// use mse_auth::credentials::check_text;
/// assert_eq!(check_text("LTAI5tExampleId"), Ok(()));
/// assert_eq!(check_text("id\u{1b}[31m"), Err("holds a control character"));
/// assert_eq!(check_text("   "), Err("is only whitespace"));
/// ```
pub fn check_text(value: &str) -> std::result::Result<(), &'static str> {
    if value.is_empty() {
        Err("is empty")
    } else if value.chars().any(char::is_control) {
        Err("holds a control character")
    } else if value.trim().is_empty() {
        Err("is only whitespace")
    } else {
        Ok(())
    }
}

/// Builds [`Credentials`]; see [`Credentials::builder`].
#[derive(Default)]
pub struct CredentialsBuilder {
    access_key_id: Option<Zeroizing<String>>,
    access_key_secret: Option<Zeroizing<String>>,
    security_token: Option<Zeroizing<String>>,
    expiration: Option<SystemTime>,
    provider_path: Option<Cow<'static, str>>,
}

impl fmt::Debug for CredentialsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsBuilder")
            .field("provider_path", &self.provider_path)
            .finish_non_exhaustive()
    }
}

impl CredentialsBuilder {
    /// The AccessKey id (required, non-empty).
    pub fn access_key_id(mut self, id: impl Into<String>) -> Self {
        self.access_key_id = Some(Zeroizing::new(id.into()));
        self
    }

    /// The AccessKey secret (required, non-empty).
    pub fn access_key_secret(mut self, secret: impl Into<String>) -> Self {
        self.access_key_secret = Some(Zeroizing::new(secret.into()));
        self
    }

    /// The STS security token (optional; if given, non-empty).
    pub fn security_token(mut self, token: impl Into<String>) -> Self {
        self.security_token = Some(Zeroizing::new(token.into()));
        self
    }

    /// When the credentials expire (optional).
    pub fn expiration(mut self, at: SystemTime) -> Self {
        self.expiration = Some(at);
        self
    }

    /// The provider path, e.g. `ram_role_arn/static_ak` (defaults to `static_ak`, or `static_sts` with a
    /// token).
    pub fn provider_path(mut self, path: impl Into<Cow<'static, str>>) -> Self {
        self.provider_path = Some(path.into());
        self
    }

    /// Validates and builds. Errors are [`ErrorKind::InvalidConfiguration`](crate::ErrorKind::InvalidConfiguration) naming the provider
    /// and the part that is missing, only whitespace, or holds a control character ([`check_text`]);
    /// never the value.
    pub fn build(self) -> Result<Credentials> {
        let provider_path =
            self.provider_path
                .unwrap_or(Cow::Borrowed(if self.security_token.is_some() {
                    "static_sts"
                } else {
                    "static_ak"
                }));
        let require = |value: Option<Zeroizing<String>>, what: &str| {
            let checked = value.as_deref().map_or(Err("is empty"), |v| check_text(v));
            match (value, checked) {
                (Some(v), Ok(())) => Ok(v),
                (_, checked) => Err(CredentialsError::invalid_configuration(
                    provider_path.clone(),
                    format!("the {what} {}", checked.err().unwrap_or("is empty")),
                )),
            }
        };
        let access_key_id = require(self.access_key_id, "access key id")?;
        let access_key_secret = require(self.access_key_secret, "access key secret")?;
        let security_token = match self.security_token {
            Some(token) => Some(require(Some(token), "security token")?),
            None => None,
        };
        Ok(Credentials(Arc::new(Inner {
            access_key_id,
            access_key_secret,
            security_token,
            expiration: self.expiration,
            provider_path,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const SECRET: &str = "sentinel-SECRET-4f1d";
    const TOKEN: &str = "sentinel-TOKEN-9a2b";

    fn sts() -> Credentials {
        Credentials::builder()
            .access_key_id("STS.NUgYrLnoC37mZZCNnAbez")
            .access_key_secret(SECRET)
            .security_token(TOKEN)
            .expiration(SystemTime::UNIX_EPOCH + Duration::from_secs(1_428_580_339))
            .provider_path("ram_role_arn/static_ak")
            .build()
            .unwrap()
    }

    #[test]
    fn debug_and_display_never_show_secret_or_token() {
        let c = sts();
        for shown in [format!("{c:?}"), format!("{c:#?}"), c.to_string()] {
            assert!(!shown.contains(SECRET), "{shown}");
            assert!(!shown.contains(TOKEN), "{shown}");
            assert!(!shown.contains("NUgYrLnoC37mZZCNnAbez"), "{shown}");
            assert!(shown.contains("STS****bez"), "{shown}");
        }
        assert_eq!(
            c.to_string(),
            "STS STS****bez from ram_role_arn/static_ak, expires 2015-04-09T11:52:19Z"
        );
    }

    #[test]
    fn accessors_return_the_values() {
        let c = sts();
        assert_eq!(c.access_key_secret(), SECRET);
        assert_eq!(c.security_token(), Some(TOKEN));
        assert!(c.is_sts());
    }

    #[test]
    fn mask_follows_the_java_rule() {
        assert_eq!(mask(""), "****");
        assert_eq!(mask("abcdef"), "****");
        assert_eq!(mask("abcdefg"), "a****g");
        assert_eq!(mask("LTAI5tABCDEFGHIJ"), "LTA****HIJ");
        assert_eq!(mask("密钥密钥密钥密钥"), "密钥****密钥");
    }

    #[test]
    fn empty_parts_are_rejected_naming_the_part_and_provider() {
        let err = Credentials::new("", "s", "env").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "env: invalid configuration: the access key id is empty"
        );
        let err = Credentials::new("id", "", "env").unwrap_err();
        assert_eq!(
            err.to_string(),
            "env: invalid configuration: the access key secret is empty"
        );
        let err = Credentials::builder()
            .access_key_id("id")
            .access_key_secret("s")
            .security_token("")
            .build()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "static_sts: invalid configuration: the security token is empty"
        );
    }

    #[test]
    fn control_characters_and_blank_parts_are_rejected_without_echoing_them() {
        for (id, secret, token, message) in [
            (
                "id\u{0}",
                SECRET,
                None,
                "the access key id holds a control character",
            ),
            (
                "id",
                "sentinel\u{1b}[31m",
                None,
                "the access key secret holds a control character",
            ),
            (
                "id",
                "sentinel\tx",
                None,
                "the access key secret holds a control character",
            ),
            (
                "id",
                SECRET,
                Some("sentinel\n"),
                "the security token holds a control character",
            ),
            (
                "id",
                SECRET,
                Some("sentinel\u{7f}"),
                "the security token holds a control character",
            ),
            (
                "id",
                SECRET,
                Some("sentinel\u{9b}"),
                "the security token holds a control character",
            ),
            ("   ", SECRET, None, "the access key id is only whitespace"),
            (
                "id",
                SECRET,
                Some(" "),
                "the security token is only whitespace",
            ),
        ] {
            let b = Credentials::builder()
                .access_key_id(id)
                .access_key_secret(secret)
                .provider_path("p");
            let b = match token {
                Some(t) => b.security_token(t),
                None => b,
            };
            let err = b.build().unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidConfiguration);
            assert_eq!(
                err.to_string(),
                format!("p: invalid configuration: {message}")
            );
            assert!(!format!("{err:?}").contains("sentinel"), "{err:?}");
        }
        // Inner spaces and any printable Unicode are fine.
        assert!(Credentials::new("id with space", "密钥", "p").is_ok());
    }

    #[test]
    fn prefix_and_unshared_copy_keep_values() {
        let c = sts();
        let p = c.with_provider_prefix("default");
        assert_eq!(p.provider_path(), "default/ram_role_arn/static_ak");
        let copy = c.unshared_copy();
        assert!(!Credentials::ptr_eq(&c, &copy));
        assert_eq!(c, copy);
        assert_ne!(c, p);
    }

    #[test]
    fn default_path_depends_on_token() {
        assert_eq!(
            Credentials::new("id", "s", "static_ak")
                .unwrap()
                .provider_path(),
            "static_ak"
        );
        let c = Credentials::builder()
            .access_key_id("id")
            .access_key_secret("s")
            .security_token("t")
            .build()
            .unwrap();
        assert_eq!(c.provider_path(), "static_sts");
    }
}
