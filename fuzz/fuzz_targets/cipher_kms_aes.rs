//! `cipher-kms-aes-128/256-` envelope (`cipher/kms_aes.rs`): `decrypt_ecb` under fixed 16- and 32-byte
//! data keys and under a key of any length; never a panic, the key never shows in an error, and whatever
//! decrypts re-encrypts and decrypts to the same text.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use mse_auth::cipher::kms_aes::{decrypt_ecb, encrypt_ecb};
use mse_auth_fuzz::assert_hidden;

const KEY_128: [u8; 16] = *b"fuzz-kms-aes-128";
const KEY_256: [u8; 32] = *b"fuzz-kms-aes-256-fuzz-kms-aes-25";

fn check(key: &[u8], content: &str) {
    match decrypt_ecb(key, content) {
        Ok(plain) => {
            let again = encrypt_ecb(key, &plain).expect("a key that decrypts encrypts");
            assert_eq!(decrypt_ecb(key, &again).expect("own ciphertext"), plain);
        }
        Err(e) => {
            assert_hidden(
                &e,
                &base64::engine::general_purpose::STANDARD.encode(key),
                "kms_aes key",
            );
            assert_hidden(&e, &String::from_utf8_lossy(key), "kms_aes key");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let content = String::from_utf8_lossy(data);
    check(&KEY_128, &content);
    check(&KEY_256, &content);
    // First byte: a key length; then the key; then the content.
    if let Some((&len, rest)) = data.split_first() {
        let len = usize::from(len % 40).min(rest.len());
        let (key, content) = rest.split_at(len);
        let content = String::from_utf8_lossy(content);
        match decrypt_ecb(key, &content) {
            Ok(plain) => assert_eq!(
                decrypt_ecb(key, &encrypt_ecb(key, &plain).unwrap()).unwrap(),
                plain
            ),
            Err(_) => {}
        }
        if let Ok(enc) = encrypt_ecb(key, &content) {
            assert_eq!(decrypt_ecb(key, &enc).expect("own ciphertext"), content);
        }
    }
});
