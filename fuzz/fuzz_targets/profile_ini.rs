//! The ini credentials file (`profile.rs`): any text parses to a provider or an error, never a panic;
//! an `access_key_secret` planted in the `[default]` section never shows in the error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mse_auth_fuzz::{assert_hidden, SENTINEL};
use mse_auth_providers::fuzzing::profile_ini;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = profile_ini(&text, None);
    let _ = profile_ini(&text, Some("fuzz"));
    if text.contains(SENTINEL) {
        return;
    }
    // The fuzzed text continues a section that already holds the secret.
    let planted = format!("[default]\naccess_key_secret = {SENTINEL}\n{text}");
    if let Err(e) = profile_ini(&planted, None) {
        assert_hidden(&e, SENTINEL, "profile_ini");
    }
});
