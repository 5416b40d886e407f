//! [`Crypto`]: `MseConfigFilter` run by the commands themselves on nacos-sdk's `ConfigReq` and
//! `ConfigResp`, so that a failure stops the command with its reason instead of reaching the server
//! (publish) or the caller as an empty content (read).

use super::store::Stored;
use mse_auth_providers::cipher::gcm::{KeySource, Sealed};
use mse_auth_providers::cipher::{CipherError, ConfigCipher, Encrypted, Scheme};
use mse_auth_providers::nacos_sdk::MseConfigFilter;
use nacos_sdk::api::plugin::{ConfigReq, ConfigResp};
use std::sync::Arc;
use zeroize::Zeroizing;

/// Encrypts and decrypts the configs of one namespace with a cipher.
#[derive(Debug, Clone)]
pub struct Crypto {
    filter: MseConfigFilter,
    namespace: String,
}

impl Crypto {
    /// `cipher` for configs of `namespace`.
    pub fn new(cipher: ConfigCipher, namespace: &str) -> Self {
        Self {
            filter: MseConfigFilter::new(Arc::new(cipher)),
            namespace: namespace.to_string(),
        }
    }

    /// The plaintext of `stored` (its content, for a dataId without a scheme).
    pub async fn decrypt(
        &self,
        data_id: &str,
        group: &str,
        stored: &Stored,
    ) -> Result<Zeroizing<String>, CipherError> {
        let mut resp = ConfigResp::new(
            data_id.to_string(),
            group.to_string(),
            self.namespace.clone(),
            stored.content.to_string(),
            stored.encrypted_data_key.to_string(),
        );
        let result = self.filter.try_decrypt(&mut resp).await;
        let content = Zeroizing::new(std::mem::take(&mut resp.content));
        drop(Zeroizing::new(std::mem::take(&mut resp.encrypted_data_key)));
        result.map(|()| content)
    }

    /// `plain` encrypted for `data_id` (passed through for a dataId without a scheme).
    pub async fn encrypt(
        &self,
        data_id: &str,
        group: &str,
        plain: &str,
    ) -> Result<Encrypted, CipherError> {
        let mut req = ConfigReq::new(
            data_id.to_string(),
            group.to_string(),
            self.namespace.clone(),
            plain.to_string(),
            String::new(),
        );
        let result = self.filter.try_encrypt(&mut req).await;
        let sealed = Encrypted {
            content: std::mem::take(&mut req.content),
            encrypted_data_key: std::mem::take(&mut req.encrypted_data_key),
        };
        match result {
            Ok(()) => Ok(sealed),
            Err(e) => {
                // On failure the request still holds the plaintext.
                drop(Zeroizing::new(sealed.content));
                Err(e)
            }
        }
    }
}

/// Where the data key of a stored config is, for `list` and for `reencrypt`'s "already under that
/// key" check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyState {
    /// Not encrypted.
    None,
    /// The `encryptedDataKey` is there (envelope and `cipher-aes-` schemes).
    Present,
    /// The `encryptedDataKey` the scheme needs is missing: the config cannot be decrypted.
    Missing,
    /// Inside the `cipher-gcm-` ciphertext, wrapped by KMS key `key_id` or local key `key_id`.
    Embedded {
        /// KMS or a local key.
        source: KeySource,
        /// The KMS key id or the local key's name.
        key_id: String,
    },
    /// The `cipher-gcm-` content is not an `mseauth:v1:` ciphertext.
    Unreadable(String),
    /// Direct KMS: the KMS key is named inside the (opaque) ciphertext; no data key.
    NotNeeded,
}

impl KeyState {
    /// The state of `stored` as `data_id`.
    pub fn of(data_id: &str, stored: &Stored) -> KeyState {
        let has_key = !stored.encrypted_data_key.trim().is_empty();
        match Scheme::for_data_id(data_id) {
            Scheme::KmsAes128 | Scheme::KmsAes256 | Scheme::NacosAes if has_key => {
                KeyState::Present
            }
            Scheme::KmsAes128 | Scheme::KmsAes256 | Scheme::NacosAes => KeyState::Missing,
            Scheme::Gcm => match Sealed::parse(&stored.content) {
                Ok(sealed) => {
                    let key = sealed.wrapped_key();
                    KeyState::Embedded {
                        source: key.source,
                        key_id: key.key_id.to_string(),
                    }
                }
                Err(e) => KeyState::Unreadable(e.message().to_string()),
            },
            Scheme::KmsDirect => KeyState::NotNeeded,
            _ => KeyState::None,
        }
    }

    /// For people: `present`, `missing`, `in the ciphertext (kms alias/x)`…
    pub fn describe(&self) -> String {
        match self {
            KeyState::None => "-".into(),
            KeyState::Present => "present".into(),
            KeyState::Missing => "MISSING (encryptedDataKey empty: cannot be decrypted)".into(),
            KeyState::Embedded { source, key_id } => {
                format!("in the ciphertext ({} {key_id})", source_name(*source))
            }
            KeyState::Unreadable(why) => format!("UNREADABLE ({why})"),
            KeyState::NotNeeded => "not needed (KMS ciphertext)".into(),
        }
    }

    /// For programs: `none`, `present`, `missing`, `embedded`, `unreadable`, `not-needed`.
    pub fn code(&self) -> &'static str {
        match self {
            KeyState::None => "none",
            KeyState::Present => "present",
            KeyState::Missing => "missing",
            KeyState::Embedded { .. } => "embedded",
            KeyState::Unreadable(_) => "unreadable",
            KeyState::NotNeeded => "not-needed",
        }
    }
}

/// `kms` or `local`.
pub fn source_name(source: KeySource) -> &'static str {
    match source {
        KeySource::Kms => "kms",
        _ => "local",
    }
}
