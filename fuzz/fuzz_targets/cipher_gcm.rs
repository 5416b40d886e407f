//! `cipher-gcm-` (`cipher/gcm.rs`): `Sealed::parse` and `LocalKey::open` of any text under a fixed local
//! key; never a panic, the key never shows in an error. Sealing fuzzed content opens to it again, and a
//! sealed text with one character changed never opens to different content.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use mse_auth::cipher::gcm::{ConfigAad, LocalKey, Sealed};
use mse_auth_fuzz::assert_hidden;

const KEY: [u8; 32] = *b"fuzz-local-gcm-key-fuzz-local-gc";

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    text: &'a str,
    data_id: &'a str,
    flip_at: u16,
    flip_to: u8,
}

fuzz_target!(|input: Input<'_>| {
    let local = LocalKey::new("fuzz-key", &KEY).unwrap();
    let key_b64 = local.expose_base64();
    let aad = ConfigAad::new("tenant", "DEFAULT_GROUP", input.data_id);
    if let Ok(sealed) = Sealed::parse(input.text) {
        let _ = format!("{sealed:?}");
        let _ = sealed.wrapped_key();
        if let Ok(key) = local.unwrap_for(&sealed) {
            let _ = sealed.open(&key, &aad);
        }
    }
    match local.open(input.text, &aad) {
        Ok(_) => {}
        Err(e) => assert_hidden(&e, &key_b64, "gcm local key"),
    }
    // Round trip, then tamper with one character.
    let sealed = local
        .seal(&aad, input.text)
        .expect("sealing under a valid key");
    assert_eq!(
        local.open(&sealed, &aad).expect("own ciphertext"),
        input.text
    );
    let mut bytes = sealed.into_bytes();
    if !bytes.is_empty() {
        let at = usize::from(input.flip_at) % bytes.len();
        let to = 0x21 + input.flip_to % 0x5e; // printable ASCII
        if bytes[at] != to {
            bytes[at] = to;
            let tampered = String::from_utf8(bytes).expect("still ASCII");
            if let Ok(opened) = local.open(&tampered, &aad) {
                assert_eq!(
                    opened, input.text,
                    "a tampered ciphertext opened to other content"
                );
            }
        }
    }
});
