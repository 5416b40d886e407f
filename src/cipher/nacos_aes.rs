//! The nacos-plugin AES cipher of `cipher-aes-…` configs (spec §C.1).
//!
//! The Nacos encryption plugin generates a random AES key per publish and stores it **in clear** as the
//! config's `encryptedDataKey`, in the form `Base64(UTF-8(lowercase hex(raw key)))`. The content becomes
//! the lowercase hex of `AES-CBC/PKCS#7(key, UTF-8 content)` with the IV taken from the first 16
//! characters of that hex string, as ASCII bytes. Keys are 16 bytes (JDK ≤ 18) or 32 (JDK 19+).
//!
//! Anyone who can read the config can read its key, so this scheme only hides configs from people who
//! see the content without the `encryptedDataKey` (logs, some consoles). It exists for compatibility with
//! Java clients that install the plugin. Where the Java plugin logs failures and hands back the input
//! unchanged, these functions return an error.
//!
//! ```
//! use mse_auth::cipher::nacos_aes;
//!
//! let key = nacos_aes::generate_key();
//! let content = nacos_aes::encrypt(key.expose(), "nacos")?;
//! assert_eq!(nacos_aes::decrypt(key.expose(), &content)?, "nacos");
//!
//! // spec §C.1 test vector: raw key 00 01 … 0f
//! let key = "MDAwMTAyMDMwNDA1MDYwNzA4MDkwYTBiMGMwZDBlMGY=";
//! assert_eq!(nacos_aes::encrypt(key, "nacos")?, "b505e9e0b38746bf27fabbe4f1b0ae8b");
//! # Ok::<(), mse_auth::cipher::CipherError>(())
//! ```

use super::{b64_decode, utf8, CipherError, CipherErrorKind, B64};
use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use aes::{Aes128, Aes256};
use aes_gcm::aead::{rand_core::RngCore, OsRng};
use base64::Engine as _;
use std::fmt;
use zeroize::Zeroizing;

/// A `cipher-aes-` key in its stored form (`Base64(hex(raw key))`), wiped from memory on drop.
/// `Debug` does not show it.
#[derive(Clone)]
pub struct SecretKey(Zeroizing<String>);

impl SecretKey {
    /// The stored form of `raw` (16 or 32 bytes).
    pub fn from_raw(raw: &[u8]) -> Result<Self, CipherError> {
        if raw.len() != 16 && raw.len() != 32 {
            return Err(CipherError::key_length(
                "the AES key",
                raw.len(),
                "16 or 32",
            ));
        }
        let hex = Zeroizing::new(hex::encode(raw));
        Ok(Self(Zeroizing::new(B64.encode(hex.as_bytes()))))
    }

    /// The stored form: what goes into `encryptedDataKey`.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(****)")
    }
}

/// A fresh random 16-byte key from the operating system's generator, as the Java plugin makes on JDK ≤ 18.
pub fn generate_key() -> SecretKey {
    let mut raw = Zeroizing::new([0u8; 16]);
    OsRng.fill_bytes(raw.as_mut());
    SecretKey::from_raw(raw.as_ref()).expect("16 bytes is a valid key length")
}

/// The raw key and the IV (first 16 hex characters, as ASCII) of a stored key.
struct Parsed {
    key: Zeroizing<Vec<u8>>,
    iv: [u8; 16],
}

fn parse_key(secret_key_b64: &str) -> Result<Parsed, CipherError> {
    let hex_text = Zeroizing::new(b64_decode(
        "the cipher-aes key (encryptedDataKey)",
        secret_key_b64,
    )?);
    if hex_text.len() != 32 && hex_text.len() != 64 {
        return Err(CipherError::key_length(
            "the cipher-aes key (encryptedDataKey) after Base64 decoding",
            hex_text.len(),
            "32 or 64 hex characters",
        ));
    }
    let key = Zeroizing::new(hex::decode(hex_text.as_slice()).map_err(|_| {
        CipherError::encoding("the cipher-aes key (encryptedDataKey) is not Base64 of a hex string")
    })?);
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&hex_text[..16]);
    Ok(Parsed { key, iv })
}

/// Encrypts `content` under a stored key (`Base64(hex(raw key))`): lowercase hex of AES-CBC/PKCS#7.
pub fn encrypt(secret_key_b64: &str, content: &str) -> Result<String, CipherError> {
    let Parsed { key, iv } = parse_key(secret_key_b64)?;
    let bytes = content.as_bytes();
    let ciphertext = match key.len() {
        16 => cbc::Encryptor::<Aes128>::new_from_slices(&key, &iv)
            .map(|c| c.encrypt_padded_vec_mut::<Pkcs7>(bytes)),
        _ => cbc::Encryptor::<Aes256>::new_from_slices(&key, &iv)
            .map(|c| c.encrypt_padded_vec_mut::<Pkcs7>(bytes)),
    }
    .map_err(|_| CipherError::key_length("the AES key", key.len(), "16 or 32"))?;
    Ok(hex::encode(ciphertext))
}

/// Decrypts the hex `content` under a stored key. Upper- or lowercase hex is accepted; surrounding ASCII
/// whitespace is ignored.
pub fn decrypt(secret_key_b64: &str, content_hex: &str) -> Result<String, CipherError> {
    let Parsed { key, iv } = parse_key(secret_key_b64)?;
    let ciphertext = hex::decode(content_hex.trim_ascii()).map_err(|e| match e {
        hex::FromHexError::OddLength => CipherError::truncated(
            "the cipher-aes content has an odd number of hex digits (cut off?)",
        ),
        _ => CipherError::encoding("the cipher-aes content is not hex"),
    })?;
    if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
        return Err(CipherError::new(
            CipherErrorKind::Truncated,
            format!(
                "the cipher-aes content is {} bytes after hex decoding; AES-CBC needs a non-zero multiple of 16",
                ciphertext.len()
            ),
        ));
    }
    let plain = match key.len() {
        16 => cbc::Decryptor::<Aes128>::new_from_slices(&key, &iv)
            .ok()
            .and_then(|c| c.decrypt_padded_vec_mut::<Pkcs7>(&ciphertext).ok()),
        _ => cbc::Decryptor::<Aes256>::new_from_slices(&key, &iv)
            .ok()
            .and_then(|c| c.decrypt_padded_vec_mut::<Pkcs7>(&ciphertext).ok()),
    }
    .ok_or_else(CipherError::bad_padding)?;
    utf8(Zeroizing::new(plain))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY16: &str = "MDAwMTAyMDMwNDA1MDYwNzA4MDkwYTBiMGMwZDBlMGY=";
    const KEY32: &str =
        "MDAwMTAyMDMwNDA1MDYwNzA4MDkwYTBiMGMwZDBlMGYxMDExMTIxMzE0MTUxNjE3MTgxOTFhMWIxYzFkMWUxZg==";

    /// spec §C.1 "Test vector (computed)".
    #[test]
    fn golden_vector_from_spec() {
        let raw: Vec<u8> = (0u8..16).collect();
        assert_eq!(SecretKey::from_raw(&raw).unwrap().expose(), KEY16);
        assert_eq!(
            encrypt(KEY16, "nacos").unwrap(),
            "b505e9e0b38746bf27fabbe4f1b0ae8b"
        );
        assert_eq!(
            decrypt(KEY16, "b505e9e0b38746bf27fabbe4f1b0ae8b").unwrap(),
            "nacos"
        );
    }

    /// Computed independently with Python `cryptography` 50.0.2: AES-CBC, IV = the first 16 hex
    /// characters of the key as ASCII, PKCS7(128), output hex.
    #[test]
    fn golden_vectors_computed_with_python_cryptography() {
        let raw: Vec<u8> = (0u8..32).collect();
        assert_eq!(SecretKey::from_raw(&raw).unwrap().expose(), KEY32);
        assert_eq!(
            encrypt(KEY32, "nacos").unwrap(),
            "c8a4ecb95e06f844c4f108c716b09a69"
        );
        assert_eq!(
            encrypt(KEY16, "配置🔐").unwrap(),
            "5d232a6df41b8b2d873020f17477a88f"
        );
        assert_eq!(
            decrypt(KEY16, "5D232A6DF41B8B2D873020F17477A88F").unwrap(),
            "配置🔐"
        );
    }

    #[test]
    fn generated_keys_are_fresh_16_byte_keys() {
        let a = generate_key();
        let b = generate_key();
        assert_ne!(a.expose(), b.expose());
        assert_eq!(B64.decode(a.expose()).unwrap().len(), 32);
        assert_eq!(format!("{a:?}"), "SecretKey(****)");
    }

    #[test]
    fn bad_keys_are_refused_with_clear_errors() {
        let err = encrypt("%%%", "x").unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::InvalidEncoding);
        assert_eq!(
            err.to_string(),
            "the cipher-aes key (encryptedDataKey) is not valid Base64"
        );

        let err = encrypt(&B64.encode("abcd"), "x").unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::InvalidKeyLength);
        assert_eq!(
            err.to_string(),
            "the cipher-aes key (encryptedDataKey) after Base64 decoding is 4 bytes long; \
             expected 32 or 64 hex characters"
        );

        let err = decrypt(&B64.encode("z".repeat(32)), "00").unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::InvalidEncoding);
        assert_eq!(
            err.to_string(),
            "the cipher-aes key (encryptedDataKey) is not Base64 of a hex string"
        );

        let err = SecretKey::from_raw(&[0; 24]).unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::InvalidKeyLength);
    }

    #[test]
    fn bad_content_is_refused_with_clear_errors() {
        let err = decrypt(KEY16, "b505e9e0b38746bf27fabbe4f1b0ae8").unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::Truncated);
        assert_eq!(
            err.to_string(),
            "the cipher-aes content has an odd number of hex digits (cut off?)"
        );

        let err = decrypt(KEY16, "b505e9e0b38746bf").unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::Truncated);
        assert_eq!(
            err.to_string(),
            "the cipher-aes content is 8 bytes after hex decoding; AES-CBC needs a non-zero multiple of 16"
        );

        let err = decrypt(KEY16, "not hex at all!!").unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::InvalidEncoding);
        assert_eq!(err.to_string(), "the cipher-aes content is not hex");

        let err = decrypt(KEY32, "b505e9e0b38746bf27fabbe4f1b0ae8b").unwrap_err();
        assert!(
            matches!(
                err.kind(),
                CipherErrorKind::BadPadding | CipherErrorKind::NotUtf8
            ),
            "{err}"
        );
    }
}
