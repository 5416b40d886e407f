//! KMS as the data-key service of the config ciphers: [`KmsDataKeys`] implements
//! [`DataKeyService`] on a [`KmsClient`] and a key id, so
//! [`ConfigCipher`](mse_auth::cipher::ConfigCipher) can encrypt and decrypt `cipher-kms-aes-128-`,
//! `cipher-kms-aes-256-`, plain `cipher-` (direct KMS) and `cipher-gcm-` configs.
//!
//! The key id defaults to `alias/acs/mse`, the key MSE uses on the shared KMS gateway (spec §C.2).
//!
//! ```no_run
//! use std::sync::Arc;
//! use mse_auth_providers::cipher::ConfigCipher;
//! use mse_auth_providers::kms::KmsClient;
//! use mse_auth_providers::kms_data_keys::KmsDataKeys;
//! use mse_auth_providers::DefaultChain;
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let kms = KmsClient::builder().region("cn-hangzhou").credentials(DefaultChain::builder().build()).build()?;
//! let cipher = ConfigCipher::builder()
//!     .data_key_service(Arc::new(KmsDataKeys::new(kms).key_id("alias/my-config-key")))
//!     .build();
//! let sealed = cipher.encrypt("", "DEFAULT_GROUP", "cipher-kms-aes-256-db.yaml", "password: s3cret").await?;
//! let plain = cipher
//!     .decrypt("", "DEFAULT_GROUP", "cipher-kms-aes-256-db.yaml", &sealed.content, &sealed.encrypted_data_key)
//!     .await?;
//! assert_eq!(plain, "password: s3cret");
//! # Ok(()) }
//! ```

use crate::kms::KmsClient;
use mse_auth::cipher::{BoxFuture, CipherError, DataKey, DataKeyService, KeySpec};
use mse_auth::{CredentialsError, ErrorKind};
use std::fmt;
use zeroize::Zeroizing;

/// The KMS key MSE uses by default on the shared gateway.
pub const DEFAULT_KEY_ID: &str = "alias/acs/mse";

/// A [`KmsClient`] and the key it encrypts with.
pub struct KmsDataKeys {
    client: KmsClient,
    key_id: String,
}

impl fmt::Debug for KmsDataKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsDataKeys")
            .field("client", &self.client)
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl KmsDataKeys {
    /// Data keys from `client` under [`DEFAULT_KEY_ID`].
    pub fn new(client: KmsClient) -> Self {
        Self {
            client,
            key_id: DEFAULT_KEY_ID.to_string(),
        }
    }

    /// The key id, alias or ARN to encrypt with.
    pub fn key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = key_id.into();
        self
    }
}

/// A KMS failure as a cipher error: the upstream code, message, request id and HTTP status once each,
/// the original error as the source.
fn cipher_error(err: CredentialsError) -> CipherError {
    let message = match (err.kind(), err.status()) {
        (ErrorKind::Provider, Some(status)) => format!("HTTP {status}: {}", err.message()),
        (ErrorKind::Provider, None) => err.message().to_string(),
        // Timeouts and transport failures: their own message names what happened.
        _ => err.to_string(),
    };
    let mut out = CipherError::kms(message);
    if let Some(code) = err.code() {
        out = out.with_code(code);
    }
    if let Some(id) = err.request_id() {
        out = out.with_request_id(id);
    }
    out.with_source(err)
}

impl DataKeyService for KmsDataKeys {
    fn generate_data_key(&self, key_spec: KeySpec) -> BoxFuture<'_, Result<DataKey, CipherError>> {
        Box::pin(async move {
            let key = self
                .client
                .generate_data_key(&self.key_id, key_spec)
                .await
                .map_err(cipher_error)?;
            Ok(DataKey {
                plaintext: Zeroizing::new(key.plaintext().to_vec()),
                ciphertext_blob: key.ciphertext_blob().to_string(),
            })
        })
    }

    fn decrypt(
        &self,
        ciphertext_blob: &str,
    ) -> BoxFuture<'_, Result<Zeroizing<String>, CipherError>> {
        let blob = ciphertext_blob.to_string();
        Box::pin(async move {
            let plain = self.client.decrypt(&blob).await.map_err(cipher_error)?;
            Ok(Zeroizing::new(plain.plaintext().to_string()))
        })
    }

    fn encrypt(&self, plaintext: &str) -> BoxFuture<'_, Result<String, CipherError>> {
        let text = Zeroizing::new(plaintext.to_string());
        Box::pin(async move {
            let sealed = self
                .client
                .encrypt(&self.key_id, &text)
                .await
                .map_err(cipher_error)?;
            Ok(sealed.ciphertext_blob().to_string())
        })
    }

    fn key_id(&self) -> &str {
        &self.key_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kms_errors_keep_code_and_request_id_once() {
        let err = CredentialsError::provider("kms", "The specified key is not found.")
            .with_code("Forbidden.KeyNotFound")
            .with_request_id("R-1")
            .with_status(404);
        assert_eq!(
            cipher_error(err).to_string(),
            "KMS: Forbidden.KeyNotFound: HTTP 404: The specified key is not found. (RequestId R-1)"
        );
        let err = CredentialsError::timed_out("kms", std::time::Duration::from_secs(15));
        assert_eq!(
            cipher_error(err).to_string(),
            "KMS: kms: timed out after 15s"
        );
    }
}
