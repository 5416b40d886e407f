//! `cipher-aes-` (`cipher/nacos_aes.rs`, AES-CBC): `decrypt` under a fixed stored key and under a fuzzed
//! key string; never a panic, the fixed key never shows in an error, and whatever decrypts re-encrypts
//! and decrypts to the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mse_auth::cipher::nacos_aes::{decrypt, encrypt, SecretKey};
use mse_auth_fuzz::assert_hidden;

fuzz_target!(|data: &[u8]| {
    let key128 = SecretKey::from_raw(b"fuzz-nacos-aes-1").unwrap();
    let key256 = SecretKey::from_raw(b"fuzz-nacos-aes-256-fuzz-nacos-ae").unwrap();
    let text = String::from_utf8_lossy(data);
    for key in [key128.expose(), key256.expose()] {
        match decrypt(key, &text) {
            Ok(plain) => assert_eq!(decrypt(key, &encrypt(key, &plain).unwrap()).unwrap(), plain),
            Err(e) => assert_hidden(&e, key, "nacos_aes key"),
        }
    }
    // A fuzzed key: `key\ncontent`.
    let (key, content) = text.split_once('\n').unwrap_or((&text, ""));
    match decrypt(key, content) {
        Ok(plain) => assert_eq!(decrypt(key, &encrypt(key, &plain).unwrap()).unwrap(), plain),
        Err(_) => {}
    }
    if let Ok(enc) = encrypt(key, content) {
        assert_eq!(decrypt(key, &enc).expect("own ciphertext"), content);
    }
});
