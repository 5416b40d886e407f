//! KMS response parsers (`kms.rs`): `GetSecretValue`, `GenerateDataKey` (AES_128 and AES_256),
//! `Encrypt`, `Decrypt`. Every body goes to all of them: never a panic; a planted `SecretData` or
//! `Plaintext` never shows in the error.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use mse_auth_fuzz::{assert_hidden, inject_json, SENTINEL};
use mse_auth_providers::fuzzing::{
    kms_decrypt, kms_encrypt, kms_generate_data_key, kms_get_secret_value,
};
use mse_auth_providers::kms::KeySpec;

fuzz_target!(|data: &[u8]| {
    let _ = kms_get_secret_value(data);
    let _ = kms_generate_data_key(data, KeySpec::Aes128);
    let _ = kms_generate_data_key(data, KeySpec::Aes256);
    let _ = kms_encrypt(data);
    let _ = kms_decrypt(data);
    if data
        .windows(SENTINEL.len())
        .any(|w| w == SENTINEL.as_bytes())
    {
        return;
    }
    if let Some(planted) = inject_json(data, &[&["SecretData"]], SENTINEL) {
        if let Err(e) = kms_get_secret_value(&planted) {
            assert_hidden(&e, SENTINEL, "GetSecretValue");
        }
    }
    // A Plaintext that is not Base64, and one that is Base64 of a key of the wrong length.
    let encoded = base64::engine::general_purpose::STANDARD.encode(SENTINEL);
    for secret in [SENTINEL, encoded.as_str()] {
        // Values the response itself carries (a RequestId, a KeyId) may be shown: plant only fresh ones.
        if data.windows(secret.len()).any(|w| w == secret.as_bytes()) {
            continue;
        }
        if let Some(planted) = inject_json(data, &[&["Plaintext"]], secret) {
            for spec in [KeySpec::Aes128, KeySpec::Aes256] {
                if let Err(e) = kms_generate_data_key(&planted, spec) {
                    assert_hidden(&e, secret, "GenerateDataKey");
                }
            }
            if let Err(e) = kms_decrypt(&planted) {
                assert_hidden(&e, secret, "Decrypt");
            }
        }
    }
});
