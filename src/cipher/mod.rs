//! Config encryption: the MSE/Nacos schemes, byte for byte, and an authenticated scheme of our own.
//!
//! Which scheme a config uses is decided by its dataId ([`Scheme::for_data_id`]):
//!
//! | dataId prefix | [`Scheme`] | content | `encryptedDataKey` |
//! |---|---|---|---|
//! | `cipher-kms-aes-128-` | [`KmsAes128`](Scheme::KmsAes128) | `Base64(AES-ECB(data key, text))` ([`kms_aes`]) | KMS `CiphertextBlob` of the data key |
//! | `cipher-kms-aes-256-` | [`KmsAes256`](Scheme::KmsAes256) | same, 32-byte data key | same |
//! | `cipher-gcm-` | [`Gcm`](Scheme::Gcm) | `mseauth:v1:…` AES-256-GCM, key inside ([`gcm`]) | empty |
//! | `cipher-aes-` | [`NacosAes`](Scheme::NacosAes) | hex AES-CBC ([`nacos_aes`]) | the key itself, in clear |
//! | any other `cipher-…` | [`KmsDirect`](Scheme::KmsDirect) | KMS `Encrypt` of the text (≤ 6 KB) | empty |
//! | anything else, and exactly `cipher-` | [`None`](Scheme::None) | unchanged | empty |
//!
//! The dispatch is exact and case-sensitive, as in the Java, Go and Python clients, so `Cipher-db` is
//! stored in clear and `cipher-kms-aes256-db` under direct KMS. [`Scheme::near_miss`] names the prefix
//! such a dataId probably meant, for tools that refuse it.
//!
//! The modules [`kms_aes`], [`nacos_aes`] and [`gcm`] are pure crypto with the key given. The
//! [`ConfigCipher`] puts them together with a [`DataKeyService`] (KMS, implemented in
//! `mse-auth-providers`; a fake in `test_util`), a cache of unwrapped data keys, and the dispatch.
//!
//! **`cipher-aes-` means the nacos-plugin AES scheme here.** MSE clients (Java extension, Go, Python)
//! treat every `cipher-` dataId they do not recognise as direct KMS, `cipher-aes-` included; a Java client
//! with both the plugin and the MSE extension encrypts such a config twice (spec §C.2, "Interop
//! pitfall"). Do not share `cipher-aes-` configs with KMS-enabled clients.
//!
//! ```
//! use mse_auth::cipher::{gcm::LocalKey, ConfigCipher, Scheme};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), mse_auth::cipher::CipherError> {
//! let cipher = ConfigCipher::builder()
//!     .local_key(LocalKey::new("ops-2024", &[7u8; 32])?)
//!     .build();
//! assert_eq!(Scheme::for_data_id("cipher-gcm-db.yaml"), Scheme::Gcm);
//! let out = cipher.encrypt("prod", "DEFAULT_GROUP", "cipher-gcm-db.yaml", "password: s3cret").await?;
//! assert_eq!(out.encrypted_data_key, "");
//! let plain = cipher
//!     .decrypt("prod", "DEFAULT_GROUP", "cipher-gcm-db.yaml", &out.content, &out.encrypted_data_key)
//!     .await?;
//! assert_eq!(plain, "password: s3cret");
//! # Ok(()) }
//! ```

mod config_cipher;
mod error;
pub mod gcm;
mod key_cache;
pub mod kms_aes;
pub mod nacos_aes;
mod near_miss;

pub use config_cipher::{Builder, ConfigCipher, Encrypted};
pub use error::{CipherError, CipherErrorKind};

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use zeroize::Zeroizing;

/// Standard Base64 alphabet; writes padding, reads with or without it.
pub(crate) const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Base64-decodes `text` (surrounding ASCII whitespace ignored); `what` names it in the error.
pub(crate) fn b64_decode(what: &str, text: &str) -> Result<Vec<u8>, CipherError> {
    B64.decode(text.trim_ascii())
        .map_err(|_| CipherError::encoding(format!("{what} is not valid Base64")))
}

/// The decrypted bytes as text; on failure the bytes are wiped.
pub(crate) fn utf8(bytes: Zeroizing<Vec<u8>>) -> Result<String, CipherError> {
    match std::str::from_utf8(&bytes) {
        Ok(_) => {
            let mut bytes = bytes;
            Ok(String::from_utf8(std::mem::take(&mut *bytes)).unwrap_or_default())
        }
        Err(_) => Err(CipherError::not_utf8()),
    }
}

/// The dataId prefix of the MSE AES-128 envelope scheme.
pub const KMS_AES_128_PREFIX: &str = "cipher-kms-aes-128-";
/// The dataId prefix of the MSE AES-256 envelope scheme.
pub const KMS_AES_256_PREFIX: &str = "cipher-kms-aes-256-";
/// The dataId prefix of the nacos-plugin AES scheme.
pub const NACOS_AES_PREFIX: &str = "cipher-aes-";
/// The prefix every encrypted dataId starts with (and, alone, the MSE direct-KMS scheme).
pub const CIPHER_PREFIX: &str = "cipher-";
/// The largest content (UTF-8 bytes) KMS `Encrypt` takes: 6 KB.
pub const KMS_DIRECT_MAX_BYTES: usize = 6 * 1024;
/// The largest direct-KMS ciphertext (a `CiphertextBlob`, Base64, surrounding whitespace ignored)
/// [`ConfigCipher::decrypt`] sends to KMS `Decrypt`: 16 KiB.
///
/// KMS `Encrypt` takes at most [`KMS_DIRECT_MAX_BYTES`] (6 KB) of text, and its blob is the Base64 of
/// that ciphertext plus a small header: a key version id (36 bytes), an IV (12) and a tag (16) in the
/// KMS 3.0 layout of spec §C.2, the key id, nonce and tag in the emulator's. So a real blob is at most
/// about 8.3 KiB of Base64; anything over twice that is not a direct-KMS ciphertext (a config stored in
/// clear, the wrong dataId) and is refused before any KMS call.
pub const KMS_DIRECT_MAX_CIPHERTEXT_BYTES: usize = 16 * 1024;

/// How a config is encrypted, decided by its dataId.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// `cipher-kms-aes-128-`: MSE envelope, AES-128-ECB under a KMS data key.
    KmsAes128,
    /// `cipher-kms-aes-256-`: MSE envelope, AES-256-ECB under a KMS data key.
    KmsAes256,
    /// Any other `cipher-…`: the whole content through KMS `Encrypt`/`Decrypt` (≤ 6 KB).
    KmsDirect,
    /// `cipher-aes-`: the nacos-plugin AES-CBC scheme.
    NacosAes,
    /// `cipher-gcm-`: our AES-256-GCM scheme ([`gcm`]).
    Gcm,
    /// Not encrypted.
    None,
}

impl Scheme {
    /// The scheme of `data_id`, checked in the Java client's order (spec §C.2) with ours slotted in
    /// before the catch-all: `cipher-kms-aes-128-`, `cipher-kms-aes-256-`, `cipher-gcm-`,
    /// `cipher-aes-`, any other `cipher-` (but not exactly `cipher-`), else none.
    ///
    /// ```
    /// use mse_auth::cipher::Scheme;
    /// assert_eq!(Scheme::for_data_id("cipher-kms-aes-256-db"), Scheme::KmsAes256);
    /// assert_eq!(Scheme::for_data_id("cipher-app.properties"), Scheme::KmsDirect);
    /// assert_eq!(Scheme::for_data_id("cipher-"), Scheme::None);
    /// assert_eq!(Scheme::for_data_id("app.properties"), Scheme::None);
    /// ```
    pub fn for_data_id(data_id: &str) -> Scheme {
        if data_id.starts_with(KMS_AES_128_PREFIX) {
            Scheme::KmsAes128
        } else if data_id.starts_with(KMS_AES_256_PREFIX) {
            Scheme::KmsAes256
        } else if data_id.starts_with(gcm::DATA_ID_PREFIX) {
            Scheme::Gcm
        } else if data_id.starts_with(NACOS_AES_PREFIX) {
            Scheme::NacosAes
        } else if data_id.starts_with(CIPHER_PREFIX) && data_id != CIPHER_PREFIX {
            Scheme::KmsDirect
        } else {
            Scheme::None
        }
    }

    /// The scheme prefix `data_id` looks like a mistyped version of, when it is not the one the dataId
    /// selects: after trimming whitespace and folding ASCII case, a first word within edit distance 2
    /// of `cipher` (or `cipher` followed by `_`, `.` or a space), or a `cipher-` dataId whose
    /// remainder is within edit distance 2 of `kms-aes-128-`/`kms-aes-256-` or is `gcm-`/`aes-` in
    /// another case. The dispatch itself stays exact ([`Scheme::for_data_id`]), as in every Nacos/MSE
    /// client; this is for tools that want to refuse a dataId that would silently be stored in clear,
    /// or under direct KMS instead of an envelope.
    ///
    /// ```
    /// use mse_auth::cipher::Scheme;
    /// assert_eq!(Scheme::near_miss("ciper-db.yaml"), Some("cipher-"));
    /// assert_eq!(Scheme::near_miss("Cipher-gcm-db.yaml"), Some("cipher-gcm-"));
    /// assert_eq!(Scheme::near_miss("cipher-kms-aes256-db.yaml"), Some("cipher-kms-aes-256-"));
    /// assert_eq!(Scheme::near_miss("cipher-kms-aes-256-db.yaml"), None);
    /// assert_eq!(Scheme::near_miss("cipher-db.yaml"), None);
    /// assert_eq!(Scheme::near_miss("app.yaml"), None);
    /// ```
    pub fn near_miss(data_id: &str) -> Option<&'static str> {
        near_miss::near_miss(data_id)
    }

    /// The dataId prefix that selects this scheme (`cipher-` for direct KMS, `""` for none).
    pub fn prefix(self) -> &'static str {
        match self {
            Scheme::KmsAes128 => KMS_AES_128_PREFIX,
            Scheme::KmsAes256 => KMS_AES_256_PREFIX,
            Scheme::KmsDirect => CIPHER_PREFIX,
            Scheme::NacosAes => NACOS_AES_PREFIX,
            Scheme::Gcm => gcm::DATA_ID_PREFIX,
            Scheme::None => "",
        }
    }

    /// `true` unless [`Scheme::None`].
    pub fn is_encrypted(self) -> bool {
        self != Scheme::None
    }

    /// `true` for the schemes that need a [`DataKeyService`] (KMS).
    pub fn needs_kms(self) -> bool {
        matches!(
            self,
            Scheme::KmsAes128 | Scheme::KmsAes256 | Scheme::KmsDirect
        )
    }
}

/// The `KeySpec` of KMS `GenerateDataKey`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeySpec {
    /// `AES_128`: a 16-byte data key.
    Aes128,
    /// `AES_256`: a 32-byte data key.
    Aes256,
}

impl KeySpec {
    /// The KMS parameter value: `AES_128` or `AES_256`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeySpec::Aes128 => "AES_128",
            KeySpec::Aes256 => "AES_256",
        }
    }

    /// The data key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            KeySpec::Aes128 => 16,
            KeySpec::Aes256 => 32,
        }
    }
}

/// A boxed, `Send` future: what [`DataKeyService`] methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A data key from KMS `GenerateDataKey`.
pub struct DataKey {
    /// The raw key bytes (KMS's `Plaintext`, Base64-decoded), wiped on drop.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// KMS's `CiphertextBlob`, verbatim: what [`DataKeyService::decrypt`] takes back.
    pub ciphertext_blob: String,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field("plaintext", &"****")
            .field("ciphertext_blob_len", &self.ciphertext_blob.len())
            .finish()
    }
}

/// The KMS operations the config ciphers need, for one key id. `mse-auth-providers` implements it over
/// the KMS API; `test_util::FakeKms` fakes it. Failures are [`CipherError`]s of kind
/// [`Kms`](CipherErrorKind::Kms) carrying KMS's code and request id.
///
/// The wire rules stay here, in the pure layer, so every implementation is the same thin mapping:
/// `decrypt` returns KMS's `Plaintext` field **verbatim**. For an envelope data key that is the Base64
/// of the key (the cipher decodes it); for a direct-mode config it is the config text itself.
pub trait DataKeyService: Send + Sync + fmt::Debug {
    /// KMS `GenerateDataKey(KeyId, KeySpec)`: the raw key bytes (the response's `Plaintext`,
    /// Base64-decoded) and the `CiphertextBlob`.
    fn generate_data_key(&self, key_spec: KeySpec) -> BoxFuture<'_, Result<DataKey, CipherError>>;

    /// KMS `Decrypt(CiphertextBlob)`: the response's `Plaintext`, verbatim (not Base64-decoded).
    fn decrypt(
        &self,
        ciphertext_blob: &str,
    ) -> BoxFuture<'_, Result<Zeroizing<String>, CipherError>>;

    /// KMS `Encrypt(KeyId, Plaintext = the text as is, no Base64)`: the `CiphertextBlob` (direct mode).
    fn encrypt(&self, plaintext: &str) -> BoxFuture<'_, Result<String, CipherError>>;

    /// The KMS key id, alias or ARN this service encrypts with (recorded in GCM ciphertexts).
    fn key_id(&self) -> &str;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatch_follows_the_java_order_with_gcm_before_the_catch_all() {
        let cases = [
            ("cipher-kms-aes-128-db", Scheme::KmsAes128),
            ("cipher-kms-aes-256-db", Scheme::KmsAes256),
            ("cipher-kms-aes-128-", Scheme::KmsAes128),
            ("cipher-kms-aes-512-db", Scheme::KmsDirect),
            ("cipher-kms-aes-128", Scheme::KmsDirect),
            ("cipher-gcm-db", Scheme::Gcm),
            ("cipher-gcm-", Scheme::Gcm),
            ("cipher-aes-db", Scheme::NacosAes),
            ("cipher-db", Scheme::KmsDirect),
            ("cipher-x", Scheme::KmsDirect),
            ("cipher-", Scheme::None),
            ("cipher", Scheme::None),
            ("Cipher-db", Scheme::None),
            ("app.yaml", Scheme::None),
            ("", Scheme::None),
        ];
        for (data_id, scheme) in cases {
            assert_eq!(Scheme::for_data_id(data_id), scheme, "{data_id}");
        }
        assert_eq!(Scheme::Gcm.prefix(), "cipher-gcm-");
        assert_eq!(Scheme::KmsDirect.prefix(), "cipher-");
        assert!(Scheme::KmsDirect.needs_kms());
        assert!(!Scheme::Gcm.needs_kms());
        assert!(!Scheme::None.is_encrypted());
    }

    #[test]
    fn key_spec_names_and_lengths() {
        assert_eq!(KeySpec::Aes128.as_str(), "AES_128");
        assert_eq!(KeySpec::Aes256.as_str(), "AES_256");
        assert_eq!(KeySpec::Aes128.key_len(), 16);
        assert_eq!(KeySpec::Aes256.key_len(), 32);
    }

    #[test]
    fn data_key_debug_hides_the_key() {
        let key = DataKey {
            plaintext: Zeroizing::new(vec![0x5a; 32]),
            ciphertext_blob: "blob".into(),
        };
        assert_eq!(
            format!("{key:?}"),
            "DataKey { plaintext: \"****\", ciphertext_blob_len: 4 }"
        );
    }
}
