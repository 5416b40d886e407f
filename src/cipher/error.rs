//! [`CipherError`]: why a config could not be encrypted or decrypted.
//!
//! Messages say what is wrong and what usually causes it; they never carry plaintext, a data key, a
//! master key or ciphertext bytes. The dataId (not a secret) is prefixed when the error came through
//! [`ConfigCipher`](super::ConfigCipher).

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// What kind of failure a [`CipherError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CipherErrorKind {
    /// The text is not valid Base64 (or hex, for `cipher-aes-`), or it is not in the expected format.
    InvalidEncoding,
    /// The ciphertext is shorter than its format requires (cut off in transit or storage).
    Truncated,
    /// A key has the wrong length (AES needs 16 or 32 bytes; GCM data and master keys 32).
    InvalidKeyLength,
    /// The PKCS#7 padding is wrong after decryption: a wrong key, or a corrupted ciphertext.
    BadPadding,
    /// AES-GCM authentication failed: the ciphertext was tampered with, the key is wrong, or the
    /// ciphertext was moved to another config (tenant, group or dataId).
    AuthenticationFailed,
    /// A ciphertext format version (or key source) this library does not know.
    UnsupportedVersion,
    /// The decrypted bytes are not UTF-8 text.
    NotUtf8,
    /// The content is larger than the scheme allows (direct KMS encryption: 6 KB).
    TooLarge,
    /// An envelope config was read without its `encryptedDataKey`.
    MissingDataKey,
    /// A caller-supplied value is unusable (e.g. a key id longer than 255 bytes).
    InvalidInput,
    /// The scheme needs something this cipher was not given (a KMS data key service, a local key).
    NotConfigured,
    /// The key service (KMS) failed; [`code`](CipherError::code) and
    /// [`request_id`](CipherError::request_id) say what it answered, when it answered.
    Kms,
}

/// Why a config could not be encrypted or decrypted: a [`CipherErrorKind`], a message, and for KMS
/// failures the service's code and request id.
///
/// ```
/// use mse_auth::cipher::{CipherError, CipherErrorKind};
///
/// let err = CipherError::kms("The specified Key is not enabled.")
///     .with_code("Forbidden.KeyNotEnabled")
///     .with_request_id("7F3A-01");
/// assert_eq!(err.kind(), CipherErrorKind::Kms);
/// assert_eq!(
///     err.to_string(),
///     "KMS: Forbidden.KeyNotEnabled: The specified Key is not enabled. (RequestId 7F3A-01)"
/// );
/// ```
#[derive(Clone)]
pub struct CipherError(Box<Repr>);

#[derive(Clone)]
struct Repr {
    kind: CipherErrorKind,
    message: String,
    data_id: Option<String>,
    code: Option<String>,
    request_id: Option<String>,
    source: Option<Arc<dyn StdError + Send + Sync + 'static>>,
}

impl CipherError {
    /// An error of `kind`. The message must not contain plaintext or key material.
    pub fn new(kind: CipherErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(Repr {
            kind,
            message: message.into(),
            data_id: None,
            code: None,
            request_id: None,
            source: None,
        }))
    }

    /// The key service failed. Add details with [`with_code`](Self::with_code),
    /// [`with_request_id`](Self::with_request_id) and [`with_source`](Self::with_source).
    pub fn kms(message: impl Into<String>) -> Self {
        Self::new(CipherErrorKind::Kms, message)
    }

    pub(crate) fn encoding(message: impl Into<String>) -> Self {
        Self::new(CipherErrorKind::InvalidEncoding, message)
    }

    pub(crate) fn truncated(message: impl Into<String>) -> Self {
        Self::new(CipherErrorKind::Truncated, message)
    }

    pub(crate) fn key_length(what: &str, got: usize, expected: &str) -> Self {
        Self::new(
            CipherErrorKind::InvalidKeyLength,
            format!("{what} is {got} bytes long; expected {expected}"),
        )
    }

    pub(crate) fn bad_padding() -> Self {
        Self::new(
            CipherErrorKind::BadPadding,
            "padding is invalid after decryption: wrong data key, or corrupted ciphertext",
        )
    }

    pub(crate) fn authentication_failed() -> Self {
        Self::new(
            CipherErrorKind::AuthenticationFailed,
            "authentication failed: the ciphertext was tampered with, the key is wrong, \
             or it belongs to another config (tenant, group or dataId)",
        )
    }

    pub(crate) fn not_utf8() -> Self {
        Self::new(
            CipherErrorKind::NotUtf8,
            "the decrypted content is not UTF-8 text: wrong key, or the config was not text",
        )
    }

    /// Sets the key service's error code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.0.code = Some(code.into());
        self
    }

    /// Sets the key service's request id.
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.0.request_id = Some(id.into());
        self
    }

    /// Attaches the underlying cause (which must not carry secrets either).
    pub fn with_source(
        mut self,
        cause: impl Into<Box<dyn StdError + Send + Sync + 'static>>,
    ) -> Self {
        self.0.source = Some(Arc::from(cause.into()));
        self
    }

    /// The same error, naming the config it happened on.
    pub fn with_data_id(mut self, data_id: impl Into<String>) -> Self {
        self.0.data_id = Some(data_id.into());
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> CipherErrorKind {
        self.0.kind
    }

    /// The message, without the dataId, code or request id.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The dataId of the config, when known.
    pub fn data_id(&self) -> Option<&str> {
        self.0.data_id.as_deref()
    }

    /// The key service's error code, e.g. `Forbidden.KeyNotFound`.
    pub fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }

    /// The key service's request id, for support tickets.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
}

impl fmt::Display for CipherError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &*self.0;
        if let Some(data_id) = &r.data_id {
            write!(f, "config {data_id}: ")?;
        }
        if r.kind == CipherErrorKind::Kms {
            f.write_str("KMS: ")?;
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

impl fmt::Debug for CipherError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("CipherError");
        d.field("kind", &self.0.kind)
            .field("message", &self.to_string());
        if let Some(source) = &self.0.source {
            d.field("source", &source.to_string());
        }
        d.finish()
    }
}

impl StdError for CipherError {
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
    fn data_id_prefixes_the_message() {
        let err = CipherError::bad_padding().with_data_id("cipher-kms-aes-128-db");
        assert_eq!(err.kind(), CipherErrorKind::BadPadding);
        assert_eq!(
            err.to_string(),
            "config cipher-kms-aes-128-db: padding is invalid after decryption: wrong data key, or corrupted ciphertext"
        );
        assert_eq!(err.data_id(), Some("cipher-kms-aes-128-db"));
    }

    #[test]
    fn is_one_pointer_wide() {
        assert_eq!(
            std::mem::size_of::<CipherError>(),
            std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn debug_shows_kind_message_and_source() {
        let err = CipherError::kms("transport failed")
            .with_source(std::io::Error::other("connection reset"));
        let debug = format!("{err:?}");
        assert!(debug.contains("kind: Kms"), "{debug}");
        assert!(debug.contains("KMS: transport failed"), "{debug}");
        assert!(debug.contains("connection reset"), "{debug}");
        assert_eq!(
            StdError::source(&err).unwrap().to_string(),
            "connection reset"
        );
    }
}
