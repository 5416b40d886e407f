//! The MSE/KMS envelope cipher of `cipher-kms-aes-128-…` and `cipher-kms-aes-256-…` configs: the pure
//! AES part, with the data key given.
//!
//! On publish the client asks KMS `GenerateDataKey` for a fresh data key (16 bytes for `AES_128`, 32 for
//! `AES_256`), stores the returned `CiphertextBlob` verbatim as the config's `encryptedDataKey`, and
//! replaces the content with `Base64(AES-ECB/PKCS#7(data key, UTF-8 content))`: standard Base64 with
//! padding, ECB, no IV. On read, KMS `Decrypt(encryptedDataKey)` gives the data key back. This is what
//! the Java (MSE extension), Go and Python clients write (spec §C.2, confirmed against nacos-sdk-python's
//! own filter in §G.2).
//!
//! ECB leaks which 16-byte blocks of a config are equal and nothing authenticates the ciphertext: use
//! it to share configs with MSE clients, and [`gcm`](super::gcm) for everything else.
//! [`ConfigCipher`](super::ConfigCipher) does the KMS calls and the dispatch on the dataId.
//!
//! ```
//! use mse_auth::cipher::kms_aes;
//!
//! let data_key: Vec<u8> = (0u8..32).collect();
//! let content = kms_aes::encrypt_ecb(&data_key, "password=secret&x=1")?;
//! assert_eq!(content, "70HO1pchP783fejGyqIy/8JV2Fihe1tr1VeKkYuwF6E=");
//! assert_eq!(kms_aes::decrypt_ecb(&data_key, &content)?, "password=secret&x=1");
//! # Ok::<(), mse_auth::cipher::CipherError>(())
//! ```

use super::{b64_decode, utf8, CipherError, B64};
use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyInit};
use aes::{Aes128, Aes256};
use base64::Engine as _;
use zeroize::Zeroizing;

const BLOCK: usize = 16;

/// `Base64(AES-ECB/PKCS#7(data_key, UTF-8 content))`. The data key is 16 bytes (AES-128) or 32
/// (AES-256).
pub fn encrypt_ecb(data_key: &[u8], content: &str) -> Result<String, CipherError> {
    let bytes = content.as_bytes();
    let ciphertext = match data_key.len() {
        16 => ecb::Encryptor::<Aes128>::new_from_slice(data_key)
            .map(|c| c.encrypt_padded_vec_mut::<Pkcs7>(bytes)),
        32 => ecb::Encryptor::<Aes256>::new_from_slice(data_key)
            .map(|c| c.encrypt_padded_vec_mut::<Pkcs7>(bytes)),
        n => return Err(CipherError::key_length("the data key", n, "16 or 32")),
    }
    .map_err(|_| CipherError::key_length("the data key", data_key.len(), "16 or 32"))?;
    Ok(B64.encode(ciphertext))
}

/// The inverse of [`encrypt_ecb`]: Base64-decodes `content_b64`, decrypts it under `data_key` and
/// returns the UTF-8 text. Surrounding ASCII whitespace is ignored.
pub fn decrypt_ecb(data_key: &[u8], content_b64: &str) -> Result<String, CipherError> {
    if data_key.len() != 16 && data_key.len() != 32 {
        return Err(CipherError::key_length(
            "the data key",
            data_key.len(),
            "16 or 32",
        ));
    }
    let ciphertext = b64_decode("the envelope-encrypted content", content_b64)?;
    if ciphertext.is_empty() || ciphertext.len() % BLOCK != 0 {
        return Err(CipherError::truncated(format!(
            "the envelope-encrypted content is {} bytes after Base64 decoding; \
             AES-ECB needs a non-zero multiple of 16",
            ciphertext.len()
        )));
    }
    let plain = match data_key.len() {
        16 => ecb::Decryptor::<Aes128>::new_from_slice(data_key)
            .ok()
            .and_then(|c| c.decrypt_padded_vec_mut::<Pkcs7>(&ciphertext).ok()),
        _ => ecb::Decryptor::<Aes256>::new_from_slice(data_key)
            .ok()
            .and_then(|c| c.decrypt_padded_vec_mut::<Pkcs7>(&ciphertext).ok()),
    }
    .ok_or_else(CipherError::bad_padding)?;
    utf8(Zeroizing::new(plain))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cipher::CipherErrorKind;

    fn key(len: u8) -> Vec<u8> {
        (0..len).collect()
    }

    /// spec §C.2 "Test vector (computed)", confirmed by nacos-sdk-python 3.2.0 (§G.2.1).
    #[test]
    fn golden_vector_aes_256_from_spec() {
        let out = encrypt_ecb(&key(32), "password=secret&x=1").unwrap();
        assert_eq!(out, "70HO1pchP783fejGyqIy/8JV2Fihe1tr1VeKkYuwF6E=");
        assert_eq!(decrypt_ecb(&key(32), &out).unwrap(), "password=secret&x=1");
    }

    /// Computed independently with Python `cryptography` 50.0.2:
    /// `Cipher(algorithms.AES(bytes(range(16))), modes.ECB())` over PKCS7(128)-padded input, Base64.
    #[test]
    fn golden_vectors_aes_128_computed_with_python_cryptography() {
        assert_eq!(
            encrypt_ecb(&key(16), "password=secret&x=1").unwrap(),
            "AzbDlzwrM1u0oiSJ199s4MqUVcYeqQ/ZCKt7T4Dy98o="
        );
        assert_eq!(
            encrypt_ecb(&key(16), "配置🔐").unwrap(),
            "6NeWMZFCtgZoduSAPezsuQ=="
        );
        assert_eq!(
            decrypt_ecb(&key(16), "6NeWMZFCtgZoduSAPezsuQ==").unwrap(),
            "配置🔐"
        );
        // Empty content is one block of padding.
        assert_eq!(
            encrypt_ecb(&key(32), "").unwrap(),
            "nzt1BJJvi9NuMRjpA6TNSg=="
        );
        assert_eq!(
            decrypt_ecb(&key(32), "nzt1BJJvi9NuMRjpA6TNSg==").unwrap(),
            ""
        );
    }

    #[test]
    fn whitespace_around_the_base64_is_ignored() {
        assert_eq!(
            decrypt_ecb(&key(32), " 70HO1pchP783fejGyqIy/8JV2Fihe1tr1VeKkYuwF6E=\n").unwrap(),
            "password=secret&x=1"
        );
    }

    #[test]
    fn wrong_key_length_is_refused_both_ways() {
        for len in [0, 15, 24, 33] {
            let err = encrypt_ecb(&key(len), "x").unwrap_err();
            assert_eq!(err.kind(), CipherErrorKind::InvalidKeyLength);
            assert_eq!(
                err.to_string(),
                format!("the data key is {len} bytes long; expected 16 or 32")
            );
            let err = decrypt_ecb(&key(len), "nzt1BJJvi9NuMRjpA6TNSg==").unwrap_err();
            assert_eq!(err.kind(), CipherErrorKind::InvalidKeyLength);
        }
    }

    #[test]
    fn not_base64_is_an_encoding_error() {
        let err = decrypt_ecb(&key(32), "not base64!").unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::InvalidEncoding);
        assert_eq!(
            err.to_string(),
            "the envelope-encrypted content is not valid Base64"
        );
    }

    #[test]
    fn partial_block_is_truncated() {
        let err = decrypt_ecb(&key(32), "70HO1pchP783fejGyqIy").unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::Truncated);
        assert_eq!(
            err.to_string(),
            "the envelope-encrypted content is 15 bytes after Base64 decoding; \
             AES-ECB needs a non-zero multiple of 16"
        );
        assert_eq!(
            decrypt_ecb(&key(32), "").unwrap_err().kind(),
            CipherErrorKind::Truncated
        );
    }

    #[test]
    fn wrong_key_gives_bad_padding_or_not_utf8() {
        let out = encrypt_ecb(&key(32), "password=secret&x=1").unwrap();
        let mut other = key(32);
        other[0] ^= 1;
        let err = decrypt_ecb(&other, &out).unwrap_err();
        // A wrong key yields random bytes: the padding check fails with probability ~255/256.
        assert_eq!(err.kind(), CipherErrorKind::BadPadding, "{err}");
        assert_eq!(
            err.to_string(),
            "padding is invalid after decryption: wrong data key, or corrupted ciphertext"
        );
        assert!(!err.to_string().contains("password"));
    }
}
