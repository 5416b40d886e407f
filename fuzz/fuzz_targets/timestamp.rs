//! The UTC timestamp parser (`timestamp.rs`): any text is a time or an error, never a panic; a parsed
//! `YYYY-MM-DDTHH:MM:SSZ` formats back to the same text, and `.mmm` millis to the same whole seconds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mse_auth::timestamp::{format_utc, parse_utc};
use std::time::UNIX_EPOCH;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(t) = parse_utc(&text) else {
        return;
    };
    let formatted = format_utc(t);
    match text.len() {
        20 => assert_eq!(formatted, text, "whole seconds round trip"),
        24 => {
            assert_eq!(formatted[..19], text[..19], "millis truncate to seconds");
            let millis: u128 = text[20..23].parse().expect("three digits were parsed");
            let since = match t.duration_since(UNIX_EPOCH) {
                Ok(d) => d.as_millis() % 1000,
                Err(e) => (1000 - e.duration().as_millis() % 1000) % 1000,
            };
            assert_eq!(since, millis, "the milliseconds are kept");
        }
        n => panic!("parsed a {n}-byte timestamp: {text:?}"),
    }
    let again = parse_utc(&formatted).expect("our own format parses");
    assert_eq!(format_utc(again), formatted);
});
