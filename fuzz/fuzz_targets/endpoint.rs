//! Endpoint parsing (`endpoint/mod.rs`): `Endpoint::parse` and `parse_full_url` of any text, with and
//! without `allow_http`. Never a panic; an endpoint is `http(s)://host[:port]/` and https unless allowed
//! or local; a secret planted in user info or the query never shows in an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mse_auth_fuzz::{assert_hidden, SENTINEL};
use mse_auth_providers::endpoint::{parse_full_url, Endpoint};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for allow_http in [false, true] {
        if let Ok(endpoint) = Endpoint::parse(&text, allow_http) {
            let url = endpoint.url("/");
            assert_eq!(url.path(), "/");
            assert!(url.query().is_none() && url.username().is_empty() && url.password().is_none());
            assert!(matches!(url.scheme(), "https" | "http"), "{url}");
            let _ = (
                endpoint.origin(),
                format!("{endpoint:?}"),
                endpoint.url("/x?y"),
            );
        }
        if let Ok(url) = parse_full_url(&text, allow_http) {
            assert!(matches!(url.scheme(), "https" | "http"), "{url}");
            assert!(url.username().is_empty() && url.password().is_none());
        }
    }
    if text.contains(SENTINEL) {
        return;
    }
    let planted = [
        format!("https://fuzz:{SENTINEL}@{text}"),
        format!("http://fuzz:{SENTINEL}@{text}"),
        format!("{text}?token={SENTINEL}"),
        format!("https://{text}?token={SENTINEL}"),
        format!("https://{text}/{SENTINEL}"),
    ];
    for value in &planted {
        for allow_http in [false, true] {
            match Endpoint::parse(value, allow_http) {
                Ok(endpoint) => {
                    assert!(!format!("{endpoint:?}").contains(SENTINEL), "{endpoint:?}");
                    assert!(!endpoint.url("/").as_str().contains(SENTINEL), "{value}");
                }
                Err(e) => assert_hidden(&e, SENTINEL, "Endpoint::parse"),
            }
            if let Err(e) = parse_full_url(value, allow_http) {
                assert_hidden(&e, SENTINEL, "parse_full_url");
            }
        }
    }
});
