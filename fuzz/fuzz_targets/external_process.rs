//! The External provider's pure parts (`command_line.rs`, `external_process.rs`): any text splits
//! into words or fails with a fixed message, never a panic, and the words quoted back split into the
//! same words; any stdout is credentials or an error, and a planted secret in any field of it, or in
//! an argument of the command, never shows in the error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mse_auth_fuzz::{assert_hidden, inject_json, SENTINEL};
use mse_auth_providers::fuzzing::{external_command, external_command_words, external_output};

/// `word` in single quotes, each `'` in it written as `'\''`: one word for `shlex.split`.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

const SPLIT_ERRORS: [&str; 3] = [
    "a ' quote is not closed",
    "a \" quote is not closed",
    "it ends in a backslash that escapes nothing",
];

fuzz_target!(|data: &[u8]| {
    // The command line.
    let text = String::from_utf8_lossy(data);
    match external_command_words(&text) {
        Ok(words) => {
            let quoted: Vec<String> = words.iter().map(|w| quote(w)).collect();
            let again = external_command_words(&quoted.join(" ")).expect("quoted words split");
            assert_eq!(again, words, "quoting round trip of {text:?}");
        }
        Err(message) => assert!(SPLIT_ERRORS.contains(&message.as_str()), "{message}"),
    }
    let _ = external_command(&text);
    if !text.contains(SENTINEL) {
        // A secret argument before the text: whatever the text does to the split, it is not shown.
        if let Err(e) = external_command(&format!("helper --token {SENTINEL} {text}")) {
            assert_hidden(&e, SENTINEL, "external_command");
        }
    }

    // The command's stdout.
    let _ = external_output(data);
    if data
        .windows(SENTINEL.len())
        .any(|w| w == SENTINEL.as_bytes())
    {
        return;
    }
    for field in [
        "mode",
        "access_key_id",
        "access_key_secret",
        "sts_token",
        "expiration",
    ] {
        if let Some(planted) = inject_json(data, &[&[field]], SENTINEL) {
            if let Err(e) = external_output(&planted) {
                assert_hidden(&e, SENTINEL, "external_output");
            }
        }
    }
});
