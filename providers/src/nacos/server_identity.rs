//! The Nacos server identity (spec §D): the header that Nacos servers and tools acting as one send on
//! server-to-server calls, named by the server setting `nacos.core.auth.server.identity.key` and carrying
//! `nacos.core.auth.server.identity.value`. A request with the matching header skips user
//! authentication, so the value is a secret: `Debug` hides it and it is wiped on drop.
//!
//! Ordinary clients never send it (use a login or AccessKey signing instead). Since Nacos 2.2.1 there is
//! no default: a server with auth on and the pair unset refuses every secured request with 403, so an
//! empty key or value is refused here.
//!
//! ```
//! use mse_auth_providers::nacos::ServerIdentity;
//! let identity = ServerIdentity::new("serverIdentity", "a-long-shared-secret")?;
//! let (name, value) = identity.header();
//! assert_eq!(name, "serverIdentity");
//! # let _ = value;
//! assert!(!format!("{identity:?}").contains("a-long-shared-secret"));
//! # Ok::<(), mse_auth_providers::CredentialsError>(())
//! ```

use mse_auth::{CredentialsError, Result};
use std::fmt;
use zeroize::Zeroizing;

/// Name used in errors.
pub const NAME: &str = "nacos_server_identity";
/// The server setting naming the header.
pub const KEY_PROPERTY: &str = "nacos.core.auth.server.identity.key";
/// The server setting holding the header's value.
pub const VALUE_PROPERTY: &str = "nacos.core.auth.server.identity.value";

/// A server identity header: a name and a secret value.
#[derive(Clone)]
pub struct ServerIdentity {
    key: String,
    value: Zeroizing<String>,
}

impl fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerIdentity")
            .field("key", &self.key)
            .field("value", &"** redacted **")
            .finish()
    }
}

impl ServerIdentity {
    /// The identity configured on the servers as `key` / `value`. Refuses a blank key or value, and a
    /// key that cannot be a header name (spaces, control characters, `:`).
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Result<Self> {
        let key = key.into();
        let value = Zeroizing::new(value.into());
        if key.trim().is_empty() {
            return Err(CredentialsError::invalid_configuration(
                NAME,
                format!("{KEY_PROPERTY} is empty: set it to the header name the Nacos servers use"),
            ));
        }
        if !key.bytes().all(is_token_byte) {
            return Err(CredentialsError::invalid_configuration(
                NAME,
                format!("{KEY_PROPERTY} {key:?} is not a valid header name"),
            ));
        }
        if value.trim().is_empty() {
            return Err(CredentialsError::invalid_configuration(
                NAME,
                format!("{VALUE_PROPERTY} is empty: set it to the value the Nacos servers use"),
            ));
        }
        if value.bytes().any(|b| b.is_ascii_control()) {
            return Err(CredentialsError::invalid_configuration(
                NAME,
                format!(
                    "{VALUE_PROPERTY} contains control characters, which a header cannot carry"
                ),
            ));
        }
        Ok(Self { key, value })
    }

    /// Reads the two server settings from `properties` (e.g. a parsed `application.properties`).
    pub fn from_properties<'a>(
        properties: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self> {
        let (mut key, mut value) = (None, None);
        for (name, v) in properties {
            match name.trim() {
                KEY_PROPERTY => key = Some(v.trim()),
                VALUE_PROPERTY => value = Some(v.trim()),
                _ => {}
            }
        }
        Self::new(key.unwrap_or(""), value.unwrap_or(""))
    }

    /// The header name.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The header value. Never log it.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// (name, value), for an HTTP header or a gRPC request header map entry.
    pub fn header(&self) -> (&str, &str) {
        (&self.key, &self.value)
    }
}

/// RFC 9110 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mse_auth::ErrorKind;

    #[test]
    fn the_configured_pair_becomes_the_header() {
        let id = ServerIdentity::new("serverIdentity", "sentinel-identity-value").unwrap();
        assert_eq!(id.header(), ("serverIdentity", "sentinel-identity-value"));
        assert_eq!((id.key(), id.value()), id.header());
        let shown = format!("{id:?}");
        assert!(!shown.contains("sentinel-identity-value"), "{shown}");
        assert!(shown.contains("serverIdentity"), "{shown}");
    }

    #[test]
    fn empty_or_unusable_settings_are_refused_without_echoing_the_value() {
        for (key, value, says) in [
            ("", "v", KEY_PROPERTY),
            ("  ", "v", KEY_PROPERTY),
            ("server identity", "v", "not a valid header name"),
            ("k:v", "v", "not a valid header name"),
            ("serverIdentity", "", VALUE_PROPERTY),
            ("serverIdentity", " \t", VALUE_PROPERTY),
            ("serverIdentity", "sentinel\r\nX: y", "control characters"),
        ] {
            let err = ServerIdentity::new(key, value).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidConfiguration, "{key:?}");
            let text = err.to_string();
            assert!(text.contains(says), "{text}");
            assert!(!text.contains("sentinel"), "{text}");
        }
    }

    #[test]
    fn properties_are_read_by_their_server_names() {
        let id = ServerIdentity::from_properties([
            ("nacos.core.auth.enabled", "true"),
            (KEY_PROPERTY, " serverIdentity "),
            (VALUE_PROPERTY, "s3cret"),
        ])
        .unwrap();
        assert_eq!(id.header(), ("serverIdentity", "s3cret"));
        let err = ServerIdentity::from_properties([(KEY_PROPERTY, "serverIdentity")]).unwrap_err();
        assert!(err.to_string().contains(VALUE_PROPERTY), "{err}");
    }
}
