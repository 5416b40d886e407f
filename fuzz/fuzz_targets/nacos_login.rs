//! The Nacos login answer (`nacos/login.rs`): any status and body is a token or an error, never a
//! panic; a planted `accessToken` never shows in the error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mse_auth_fuzz::{assert_hidden, inject_json, SENTINEL};
use mse_auth_providers::fuzzing::nacos_login;

fuzz_target!(|data: &[u8]| {
    let status = data.first().map_or(200, |b| 150 + u16::from(*b));
    let _ = nacos_login(status, data, "http://127.0.0.1:8848");
    if data
        .windows(SENTINEL.len())
        .any(|w| w == SENTINEL.as_bytes())
    {
        return;
    }
    if let Some(planted) = inject_json(data, &[&["accessToken"]], SENTINEL) {
        if let Err(e) = nacos_login(200, &planted, "http://127.0.0.1:8848") {
            assert_hidden(&e, SENTINEL, "nacos_login");
        }
    }
});
