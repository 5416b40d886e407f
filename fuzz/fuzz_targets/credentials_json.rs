//! The ECS metadata / credentials URI JSON (`json_credentials.rs`): any body is credentials or an
//! error, never a panic; a planted `AccessKeySecret` / `SecurityToken` never shows in the error, and an
//! error `Code` is short code characters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mse_auth_fuzz::{assert_hidden, inject_json, SENTINEL};
use mse_auth_providers::fuzzing::{credentials_json, credentials_json_error_code};

fuzz_target!(|data: &[u8]| {
    let _ = credentials_json(data);
    if let Some(code) = credentials_json_error_code(data) {
        assert!(!code.is_empty() && code.len() <= 64, "{code:?}");
    }
    if data
        .windows(SENTINEL.len())
        .any(|w| w == SENTINEL.as_bytes())
    {
        return;
    }
    for field in ["AccessKeySecret", "SecurityToken"] {
        if let Some(planted) = inject_json(data, &[&[field]], SENTINEL) {
            if let Err(e) = credentials_json(&planted) {
                assert_hidden(&e, SENTINEL, "credentials_json");
            }
        }
    }
});
