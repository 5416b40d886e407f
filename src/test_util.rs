//! Fakes for tests (feature `test-util`).
//!
//! ```
//! use mse_auth::{test_util::ScriptedProvider, Credentials, CredentialsError, CredentialsProvider};
//! # async fn demo() {
//! let p = ScriptedProvider::new("fake")
//!     .then_err(CredentialsError::unhandled("fake", "first call fails"))
//!     .then_ok(Credentials::new("id", "secret", "fake").unwrap());
//! assert!(p.provide_credentials().await.is_err());
//! assert!(p.provide_credentials().await.is_ok());
//! assert!(p.provide_credentials().await.is_ok()); // the last step repeats
//! assert_eq!(p.calls(), 3);
//! # }
//! ```

use crate::cipher::{
    gcm, BoxFuture, CipherError, DataKey, DataKeyService, KeySpec, KMS_DIRECT_MAX_BYTES,
};
use crate::credentials::Credentials;
use crate::error::{CredentialsError, Result};
use crate::provider::{CredentialsProvider, ProvideCredentials};
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

/// A provider that answers from a script and counts its calls. Clones share the script and the count.
#[derive(Clone)]
pub struct ScriptedProvider {
    name: &'static str,
    state: Arc<Mutex<Script>>,
}

#[derive(Default)]
struct Script {
    steps: VecDeque<Result<Credentials>>,
    calls: usize,
}

impl ScriptedProvider {
    /// An empty script: answers `NotLoaded` until steps are added.
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            state: Arc::default(),
        }
    }

    /// Adds a successful step.
    pub fn then_ok(self, credentials: Credentials) -> Self {
        self.push(Ok(credentials))
    }

    /// Adds a failing step.
    pub fn then_err(self, error: CredentialsError) -> Self {
        self.push(Err(error))
    }

    /// Adds a step to a script already in use.
    pub fn push(self, step: Result<Credentials>) -> Self {
        self.script().steps.push_back(step);
        self
    }

    /// How many times it was asked.
    pub fn calls(&self) -> usize {
        self.script().calls
    }

    fn script(&self) -> std::sync::MutexGuard<'_, Script> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn next(&self) -> Result<Credentials> {
        let mut script = self.script();
        script.calls += 1;
        match script.steps.len() {
            0 => Err(CredentialsError::not_loaded(
                self.name,
                "the script is empty",
            )),
            1 => script.steps[0].clone(),
            _ => script.steps.pop_front().expect("checked non-empty"),
        }
    }
}

impl fmt::Debug for ScriptedProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptedProvider")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl CredentialsProvider for ScriptedProvider {
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        ProvideCredentials::ready(self.next())
    }
}

/// A fake KMS for one key id: real AES-256-GCM under a random master key, KMS-shaped answers, call
/// counters and failure injection. `decrypt` of a data key blob returns the Base64 of the key, as KMS
/// does; blobs are Base64 text. Clones share the key, the counters and the failure switch.
///
/// ```
/// use mse_auth::cipher::{ConfigCipher, DataKeyService};
/// use mse_auth::test_util::FakeKms;
/// use std::sync::Arc;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mse_auth::cipher::CipherError> {
/// let kms = FakeKms::new("alias/acs/mse");
/// let cipher = ConfigCipher::builder().data_key_service(Arc::new(kms.clone())).build();
/// let out = cipher.encrypt("", "DEFAULT_GROUP", "cipher-kms-aes-256-db", "x=1").await?;
/// assert_eq!(kms.generate_calls(), 1);
/// let plain = cipher
///     .decrypt("", "DEFAULT_GROUP", "cipher-kms-aes-256-db", &out.content, &out.encrypted_data_key)
///     .await?;
/// assert_eq!(plain, "x=1");
/// assert_eq!(kms.decrypt_calls(), 0); // the data key was cached when it was generated
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct FakeKms {
    inner: Arc<FakeKmsInner>,
}

struct FakeKmsInner {
    key_id: String,
    master: Zeroizing<[u8; 32]>,
    generate_calls: AtomicUsize,
    decrypt_calls: AtomicUsize,
    encrypt_calls: AtomicUsize,
    failure: Mutex<Option<CipherError>>,
}

impl FakeKms {
    /// A fake KMS holding a fresh random master key for `key_id`.
    pub fn new(key_id: impl Into<String>) -> Self {
        Self {
            inner: Arc::new(FakeKmsInner {
                key_id: key_id.into(),
                master: gcm::generate_data_key(),
                generate_calls: Default::default(),
                decrypt_calls: Default::default(),
                encrypt_calls: Default::default(),
                failure: Mutex::new(None),
            }),
        }
    }

    /// Every call fails with `error` until [`heal`](Self::heal).
    pub fn fail_with(&self, error: CipherError) {
        *self.inner.failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(error);
    }

    /// Calls succeed again.
    pub fn heal(&self) {
        *self.inner.failure.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// How many `GenerateDataKey` calls were made.
    pub fn generate_calls(&self) -> usize {
        self.inner.generate_calls.load(Ordering::SeqCst)
    }

    /// How many `Decrypt` calls were made.
    pub fn decrypt_calls(&self) -> usize {
        self.inner.decrypt_calls.load(Ordering::SeqCst)
    }

    /// How many `Encrypt` calls were made.
    pub fn encrypt_calls(&self) -> usize {
        self.inner.encrypt_calls.load(Ordering::SeqCst)
    }

    fn check(&self, counter: &AtomicUsize) -> Result<(), CipherError> {
        counter.fetch_add(1, Ordering::SeqCst);
        match &*self.inner.failure.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(err) => Err(err.clone()),
            None => Ok(()),
        }
    }

    fn seal(&self, plaintext: &[u8]) -> String {
        use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
        use base64::Engine as _;
        let nonce = aes_gcm::Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = aes_gcm::Aes256Gcm::new(self.inner.master.as_ref().into())
            .encrypt(&nonce, plaintext)
            .expect("AES-GCM encrypts small inputs");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&sealed);
        base64::engine::general_purpose::STANDARD.encode(blob)
    }

    fn open(&self, blob: &str) -> Result<Zeroizing<String>, CipherError> {
        use aes_gcm::aead::{Aead, KeyInit};
        use base64::Engine as _;
        let invalid = || {
            CipherError::kms("the ciphertext blob is invalid (fake KMS)")
                .with_code("InvalidCiphertext")
                .with_request_id("fake-request")
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(blob)
            .map_err(|_| invalid())?;
        if bytes.len() < 12 + 16 {
            return Err(invalid());
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = aes_gcm::Aes256Gcm::new(self.inner.master.as_ref().into())
            .decrypt(aes_gcm::Nonce::from_slice(nonce), sealed)
            .map_err(|_| invalid())?;
        String::from_utf8(plain)
            .map(Zeroizing::new)
            .map_err(|_| invalid())
    }
}

impl fmt::Debug for FakeKms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeKms")
            .field("key_id", &self.inner.key_id)
            .finish_non_exhaustive()
    }
}

impl DataKeyService for FakeKms {
    fn generate_data_key(&self, key_spec: KeySpec) -> BoxFuture<'_, Result<DataKey, CipherError>> {
        use base64::Engine as _;
        let result = self.check(&self.inner.generate_calls).map(|()| {
            let full = gcm::generate_data_key();
            let plaintext = Zeroizing::new(full[..key_spec.key_len()].to_vec());
            let b64 = Zeroizing::new(
                base64::engine::general_purpose::STANDARD.encode(plaintext.as_slice()),
            );
            DataKey {
                ciphertext_blob: self.seal(b64.as_bytes()),
                plaintext,
            }
        });
        Box::pin(std::future::ready(result))
    }

    fn decrypt(
        &self,
        ciphertext_blob: &str,
    ) -> BoxFuture<'_, Result<Zeroizing<String>, CipherError>> {
        let result = self
            .check(&self.inner.decrypt_calls)
            .and_then(|()| self.open(ciphertext_blob));
        Box::pin(std::future::ready(result))
    }

    fn encrypt(&self, plaintext: &str) -> BoxFuture<'_, Result<String, CipherError>> {
        let result = self.check(&self.inner.encrypt_calls).and_then(|()| {
            if plaintext.len() > KMS_DIRECT_MAX_BYTES {
                Err(CipherError::kms("the plaintext exceeds 6 KB (fake KMS)")
                    .with_code("InvalidParameter")
                    .with_request_id("fake-request"))
            } else {
                Ok(self.seal(plaintext.as_bytes()))
            }
        });
        Box::pin(std::future::ready(result))
    }

    fn key_id(&self) -> &str {
        &self.inner.key_id
    }
}

/// An in-memory log sink for tests that capture `tracing` output (hand `move || sink.clone()` to a
/// `tracing_subscriber` writer) and then search it, e.g. for secrets that must not be there. Clones
/// share the buffer.
///
/// ```
/// use std::io::Write;
/// use mse_auth::test_util::CapturedLog;
///
/// let log = CapturedLog::default();
/// log.clone().write_all(b"loaded a new value").unwrap();
/// assert_eq!(log.text(), "loaded a new value");
/// ```
#[derive(Clone, Default)]
pub struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl CapturedLog {
    /// Everything written so far, as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

impl fmt::Debug for CapturedLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CapturedLog")
    }
}

impl std::io::Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
