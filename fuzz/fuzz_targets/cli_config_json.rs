//! The CLI `config.json` (`cli_profile.rs`): any text is a provider or an error, never a panic; with
//! every profile's `access_key_secret` and `sts_token` set to a planted secret, no error shows it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mse_auth_fuzz::{assert_hidden, inject_json, SENTINEL};
use mse_auth_providers::fuzzing::cli_config_json;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = cli_config_json(&text, None);
    let _ = cli_config_json(&text, Some("fuzz"));
    if text.contains(SENTINEL) {
        return;
    }
    let paths: [&[&str]; 2] = [
        &["profiles", "*", "access_key_secret"],
        &["profiles", "*", "sts_token"],
    ];
    if let Some(planted) = inject_json(text.as_bytes(), &paths, SENTINEL) {
        let planted = String::from_utf8(planted).expect("serde_json writes UTF-8");
        if let Err(e) = cli_config_json(&planted, None) {
            assert_hidden(&e, SENTINEL, "cli_config_json");
        }
    }
});
