//! [`ConfigCipher`]: encrypt or decrypt a config according to its dataId.

use super::gcm::{self, ConfigAad, KeySource, LocalKey, Sealed, WrappedKey};
use super::key_cache::{CachedKey, KeyCache};
use super::{
    b64_decode, kms_aes, nacos_aes, CipherError, CipherErrorKind, DataKeyService, KeySpec, Scheme,
    KMS_DIRECT_MAX_BYTES, KMS_DIRECT_MAX_CIPHERTEXT_BYTES,
};
use aws_smithy_async::time::{SharedTimeSource, TimeSource};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// An encrypted config: the content to publish and the `encryptedDataKey` to send with it (empty when
/// the scheme has none). `Debug` shows only lengths: for `cipher-aes-` the `encryptedDataKey` *is* the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Encrypted {
    /// The content to publish.
    pub content: String,
    /// The `encryptedDataKey` to publish with it; `""` when the scheme has none.
    pub encrypted_data_key: String,
}

impl fmt::Debug for Encrypted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encrypted")
            .field("content_len", &self.content.len())
            .field("encrypted_data_key_len", &self.encrypted_data_key.len())
            .finish()
    }
}

/// Encrypts configs before publishing and decrypts them after reading, choosing the scheme by dataId
/// ([`Scheme::for_data_id`]), the way the Nacos/MSE client filters do:
/// * non-`cipher-` dataIds and blank contents pass through unchanged (`encryptedDataKey` `""`);
/// * envelope schemes get a fresh KMS data key on every publish; reading one without its
///   `encryptedDataKey` is an error;
/// * direct KMS refuses contents over 6 KB, and ciphertexts over 16 KiB
///   ([`KMS_DIRECT_MAX_CIPHERTEXT_BYTES`](super::KMS_DIRECT_MAX_CIPHERTEXT_BYTES)), before calling KMS;
/// * `cipher-gcm-` uses the local key when one is set, else a KMS `AES_256` data key.
///
/// Unwrapped KMS data keys are cached by their `CiphertextBlob` (default 1,000 entries for 1 hour), so
/// reading the same config again does not call KMS. Without a [`DataKeyService`] only `cipher-aes-` and
/// local-key `cipher-gcm-` work; the KMS schemes fail with [`CipherErrorKind::NotConfigured`].
pub struct ConfigCipher {
    kms: Option<Arc<dyn DataKeyService>>,
    local: Option<LocalKey>,
    cache: KeyCache,
    cache_settings: (usize, Duration),
}

/// Settings of a [`ConfigCipher`]; from [`ConfigCipher::builder`].
#[derive(Default)]
pub struct Builder {
    kms: Option<Arc<dyn DataKeyService>>,
    local: Option<LocalKey>,
    cache_max_entries: Option<usize>,
    cache_ttl: Option<Duration>,
    time: Option<SharedTimeSource>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Which keys are set, never the keys.
        f.debug_struct("Builder")
            .field("kms", &self.kms.is_some())
            .field("local_key", &self.local.is_some())
            .field("cache_max_entries", &self.cache_max_entries)
            .field("cache_ttl", &self.cache_ttl)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// The KMS data key service for the `cipher-kms-…`, direct `cipher-…` and KMS-wrapped GCM schemes.
    pub fn data_key_service(mut self, service: Arc<dyn DataKeyService>) -> Self {
        self.kms = Some(service);
        self
    }

    /// A local master key for `cipher-gcm-` configs; when set, GCM publishes use it instead of KMS.
    pub fn local_key(mut self, key: LocalKey) -> Self {
        self.local = Some(key);
        self
    }

    /// How many unwrapped data keys to keep (default 1,000; 0 turns the cache off).
    pub fn cache_max_entries(mut self, n: usize) -> Self {
        self.cache_max_entries = Some(n);
        self
    }

    /// How long an unwrapped data key stays cached after it was stored (default 1 hour).
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = Some(ttl);
        self
    }

    /// The clock of the cache (default: the system clock).
    pub fn time_source(mut self, time: impl TimeSource + 'static) -> Self {
        self.time = Some(SharedTimeSource::new(time));
        self
    }

    /// The cipher.
    pub fn build(self) -> ConfigCipher {
        let max = self.cache_max_entries.unwrap_or(1000);
        let ttl = self.cache_ttl.unwrap_or(Duration::from_secs(3600));
        ConfigCipher {
            kms: self.kms,
            local: self.local,
            cache: KeyCache::new(max, ttl, self.time.unwrap_or_default()),
            cache_settings: (max, ttl),
        }
    }
}

fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn passthrough(content: &str) -> Encrypted {
    Encrypted {
        content: content.to_owned(),
        encrypted_data_key: String::new(),
    }
}

fn missing_data_key() -> CipherError {
    CipherError::new(
        CipherErrorKind::MissingDataKey,
        "the config has no encryptedDataKey, which this scheme needs to decrypt it \
         (some servers, e.g. rnacos, drop it: use a cipher-gcm- dataId there)",
    )
}

impl ConfigCipher {
    /// Settings: a data key service, a local key, the cache.
    pub fn builder() -> Builder {
        Builder::default()
    }

    fn kms(&self, scheme: Scheme) -> Result<&Arc<dyn DataKeyService>, CipherError> {
        self.kms.as_ref().ok_or_else(|| {
            CipherError::new(
                CipherErrorKind::NotConfigured,
                format!(
                    "{}… configs need a KMS data key service, and none is configured",
                    scheme.prefix()
                ),
            )
        })
    }

    /// Encrypts `content` for publishing to `data_id` in `group` of namespace `tenant`.
    pub async fn encrypt(
        &self,
        tenant: &str,
        group: &str,
        data_id: &str,
        content: &str,
    ) -> Result<Encrypted, CipherError> {
        let scheme = Scheme::for_data_id(data_id);
        if scheme == Scheme::None || is_blank(content) {
            return Ok(passthrough(content));
        }
        let aad = ConfigAad::new(tenant, group, data_id);
        self.encrypt_with(scheme, &aad, content)
            .await
            .map_err(|e| e.with_data_id(data_id))
    }

    async fn encrypt_with(
        &self,
        scheme: Scheme,
        aad: &ConfigAad<'_>,
        content: &str,
    ) -> Result<Encrypted, CipherError> {
        match scheme {
            Scheme::KmsAes128 | Scheme::KmsAes256 => {
                let spec = if scheme == Scheme::KmsAes128 {
                    KeySpec::Aes128
                } else {
                    KeySpec::Aes256
                };
                let key = self.kms(scheme)?.generate_data_key(spec).await?;
                check_generated(spec, key.plaintext.len())?;
                let content = kms_aes::encrypt_ecb(&key.plaintext, content)?;
                self.cache
                    .insert(&key.ciphertext_blob, Arc::new(key.plaintext));
                Ok(Encrypted {
                    content,
                    encrypted_data_key: key.ciphertext_blob,
                })
            }
            Scheme::KmsDirect => {
                if content.len() > KMS_DIRECT_MAX_BYTES {
                    return Err(CipherError::new(
                        CipherErrorKind::TooLarge,
                        format!(
                            "the content is {} bytes; direct KMS encryption (a cipher- dataId without \
                             kms-aes-128/256) takes at most {KMS_DIRECT_MAX_BYTES}: use a \
                             cipher-kms-aes-256- or cipher-gcm- dataId",
                            content.len()
                        ),
                    ));
                }
                let blob = self.kms(scheme)?.encrypt(content).await?;
                Ok(Encrypted {
                    content: blob,
                    encrypted_data_key: String::new(),
                })
            }
            Scheme::NacosAes => {
                let key = nacos_aes::generate_key();
                let content = nacos_aes::encrypt(key.expose(), content)?;
                Ok(Encrypted {
                    content,
                    encrypted_data_key: key.expose().to_owned(),
                })
            }
            Scheme::Gcm => {
                let content = if let Some(local) = &self.local {
                    local.seal(aad, content)?
                } else if let Some(kms) = &self.kms {
                    let key = kms.generate_data_key(KeySpec::Aes256).await?;
                    check_generated(KeySpec::Aes256, key.plaintext.len())?;
                    let data_key = as_array(&key.plaintext)?;
                    let sealed = gcm::seal(
                        &data_key,
                        &WrappedKey {
                            source: KeySource::Kms,
                            key_id: kms.key_id(),
                            wrapped: key.ciphertext_blob.as_bytes(),
                        },
                        aad,
                        content,
                    )?;
                    self.cache
                        .insert(&key.ciphertext_blob, Arc::new(key.plaintext));
                    sealed
                } else {
                    return Err(CipherError::new(
                        CipherErrorKind::NotConfigured,
                        "cipher-gcm- configs need a local key or a KMS data key service, and neither is configured",
                    ));
                };
                Ok(Encrypted {
                    content,
                    encrypted_data_key: String::new(),
                })
            }
            Scheme::None => Ok(passthrough(content)),
        }
    }

    /// Decrypts `content` read from `data_id` in `group` of namespace `tenant`, with the
    /// `encrypted_data_key` the server returned next to it (`""` when none).
    pub async fn decrypt(
        &self,
        tenant: &str,
        group: &str,
        data_id: &str,
        content: &str,
        encrypted_data_key: &str,
    ) -> Result<String, CipherError> {
        let scheme = Scheme::for_data_id(data_id);
        if scheme == Scheme::None || is_blank(content) {
            return Ok(content.to_owned());
        }
        let aad = ConfigAad::new(tenant, group, data_id);
        self.decrypt_with(scheme, &aad, content, encrypted_data_key.trim_ascii())
            .await
            .map_err(|e| e.with_data_id(data_id))
    }

    async fn decrypt_with(
        &self,
        scheme: Scheme,
        aad: &ConfigAad<'_>,
        content: &str,
        encrypted_data_key: &str,
    ) -> Result<String, CipherError> {
        match scheme {
            Scheme::KmsAes128 | Scheme::KmsAes256 => {
                if encrypted_data_key.is_empty() {
                    return Err(missing_data_key());
                }
                let key = self.unwrap_kms(scheme, encrypted_data_key).await?;
                kms_aes::decrypt_ecb(&key, content)
            }
            Scheme::KmsDirect => {
                let blob = content.trim_ascii();
                if blob.len() > KMS_DIRECT_MAX_CIPHERTEXT_BYTES {
                    return Err(CipherError::new(
                        CipherErrorKind::TooLarge,
                        format!(
                            "the content is {} bytes; a direct KMS ciphertext (a cipher- dataId \
                             without kms-aes-128/256) is at most {KMS_DIRECT_MAX_CIPHERTEXT_BYTES} \
                             bytes of Base64, what KMS Encrypt makes of {KMS_DIRECT_MAX_BYTES} bytes \
                             of text: is it the config in clear, or the wrong dataId?",
                            blob.len()
                        ),
                    ));
                }
                let mut plain = self.kms(scheme)?.decrypt(blob).await?;
                Ok(std::mem::take(&mut *plain))
            }
            Scheme::NacosAes => {
                if encrypted_data_key.is_empty() {
                    return Err(missing_data_key());
                }
                nacos_aes::decrypt(encrypted_data_key, content)
            }
            Scheme::Gcm => {
                let sealed = Sealed::parse(content)?;
                let wrapped = sealed.wrapped_key();
                match wrapped.source {
                    KeySource::Local => {
                        let local = self.local.as_ref().ok_or_else(|| {
                            CipherError::new(
                                CipherErrorKind::NotConfigured,
                                format!(
                                    "the data key was wrapped with local key {:?}, and this cipher has no local key",
                                    wrapped.key_id
                                ),
                            )
                        })?;
                        let data_key = local.unwrap_for(&sealed)?;
                        sealed.open(&data_key, aad)
                    }
                    KeySource::Kms => {
                        let blob = std::str::from_utf8(wrapped.wrapped).map_err(|_| {
                            CipherError::encoding(
                                "the mseauth:v1 header is malformed: the KMS-wrapped data key is not text",
                            )
                        })?;
                        let key = self.unwrap_kms(scheme, blob).await?;
                        sealed.open(&*as_array(&key)?, aad)
                    }
                }
            }
            Scheme::None => Ok(content.to_owned()),
        }
    }

    /// The data key wrapped in `blob`: from the cache, or KMS `Decrypt` (then cached).
    async fn unwrap_kms(&self, scheme: Scheme, blob: &str) -> Result<CachedKey, CipherError> {
        if let Some(key) = self.cache.get(blob) {
            return Ok(key);
        }
        let plaintext = self.kms(scheme)?.decrypt(blob).await?;
        let key: CachedKey = Arc::new(Zeroizing::new(b64_decode(
            "the data key from KMS Decrypt",
            &plaintext,
        )?));
        self.cache.insert(blob, key.clone());
        Ok(key)
    }
}

fn check_generated(spec: KeySpec, len: usize) -> Result<(), CipherError> {
    if len == spec.key_len() {
        Ok(())
    } else {
        Err(CipherError::key_length(
            &format!("the data key from KMS GenerateDataKey({})", spec.as_str()),
            len,
            &spec.key_len().to_string(),
        ))
    }
}

fn as_array(key: &[u8]) -> Result<Zeroizing<[u8; 32]>, CipherError> {
    if key.len() != 32 {
        return Err(CipherError::key_length("the GCM data key", key.len(), "32"));
    }
    let mut array = Zeroizing::new([0u8; 32]);
    array.copy_from_slice(key);
    Ok(array)
}

impl fmt::Debug for ConfigCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigCipher")
            .field("data_key_service", &self.kms)
            .field("local_key", &self.local)
            .field("cache_max_entries", &self.cache_settings.0)
            .field("cache_ttl", &self.cache_settings.1)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}
    fn assert_send_sync<T: Send + Sync + 'static>() {}

    /// Filters such as nacos-sdk's `ConfigFilter` need `Send` futures and a shareable cipher.
    #[test]
    fn cipher_is_shareable_and_its_futures_are_send() {
        assert_send_sync::<ConfigCipher>();
        let cipher = ConfigCipher::builder().build();
        assert_send(&cipher.encrypt("", "", "cipher-gcm-x", "v"));
        assert_send(&cipher.decrypt("", "", "cipher-gcm-x", "v", ""));
    }

    #[test]
    fn debug_names_the_settings_only() {
        let cipher = ConfigCipher::builder()
            .local_key(LocalKey::new("ops", &[0x41; 32]).unwrap())
            .cache_max_entries(10)
            .cache_ttl(Duration::from_secs(60))
            .build();
        assert_eq!(
            format!("{cipher:?}"),
            "ConfigCipher { data_key_service: None, local_key: Some(LocalKey { name: \"ops\", .. }), \
             cache_max_entries: 10, cache_ttl: 60s }"
        );
    }
}
