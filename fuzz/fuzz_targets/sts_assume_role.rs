//! STS `AssumeRole` (`sts.rs::parse_credentials`) and POP error bodies (`rpc.rs::upstream_error`): never
//! a panic; a planted `Credentials.AccessKeySecret` / `SecurityToken` never shows in the error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mse_auth_fuzz::{assert_hidden, inject_json, SENTINEL};
use mse_auth_providers::fuzzing::{sts_assume_role, upstream_error};

fuzz_target!(|data: &[u8]| {
    let _ = sts_assume_role(data);
    let status = data.first().map_or(400, |b| 400 + u16::from(*b));
    let err = upstream_error(status, data, Some("POST&%2F&AccessKeyId%3Dfuzz"));
    let _ = (err.to_string(), format!("{err:?}"));
    if data
        .windows(SENTINEL.len())
        .any(|w| w == SENTINEL.as_bytes())
    {
        return;
    }
    for field in ["AccessKeySecret", "SecurityToken"] {
        if let Some(planted) = inject_json(data, &[&["Credentials", field]], SENTINEL) {
            if let Err(e) = sts_assume_role(&planted) {
                assert_hidden(&e, SENTINEL, "sts_assume_role");
            }
        }
    }
});
