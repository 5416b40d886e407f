//! Splits a command line into a program and its arguments the way Python's `shlex.split` does (POSIX
//! mode, no comments), for [`ExternalProcessProvider`](crate::ExternalProcessProvider): the official
//! Python client (`alibabacloud-credentials` 1.0.12, `provider/external.py`) splits a profile's
//! `process_command` with it and runs the words without a shell.
//!
//! - Words are separated by runs of space, tab, carriage return and newline; any other character,
//!   `#` included (comments are off), belongs to a word.
//! - `'…'` keeps everything up to the next `'` as it is, backslashes included.
//! - `"…"` keeps everything up to the next unescaped `"`; inside it a backslash escapes only `"` and
//!   `\` (`"\$"` stays `\$`, as in `shlex`, not `$` as in `sh`: no shell ever sees the words).
//! - Outside quotes a backslash makes the next character literal (`a\ b` is one word).
//! - Quotes join the word around them (`a'b c'd` is `ab cd`), and `''` is an empty word.
//! - A quote that is not closed, or a backslash at the very end, is an error.
//!
//! One difference from `shlex`: a backslash followed by a newline outside single quotes is a line
//! continuation, removed as POSIX `sh` and the Go client remove it, so that a command laid out over
//! several lines works. `shlex` keeps the newline (`a\⏎b` becomes `a⏎b`, and an unquoted `\⏎` between
//! words becomes a word of its own), which no program expects.
//!
//! Errors never show the text: a command line may carry a secret in an argument.

use std::fmt;

/// Why a command line cannot be split. Shows no part of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SplitError {
    /// A `'` or `"` quote is not closed (`shlex`: "No closing quotation").
    UnclosedQuote(char),
    /// A backslash ends the text (`shlex`: "No escaped character").
    LoneBackslash,
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SplitError::UnclosedQuote(quote) => write!(f, "a {quote} quote is not closed"),
            SplitError::LoneBackslash => f.write_str("it ends in a backslash that escapes nothing"),
        }
    }
}

impl std::error::Error for SplitError {}

/// The words of `text`, as `shlex.split(text)` gives them (see the [module docs](self) for the one
/// difference, line continuations).
pub(crate) fn split(text: &str) -> Result<Vec<String>, SplitError> {
    // Every word gets room for the whole text, so growing it never leaves a copy of a secret behind
    // in freed memory (the caller wipes the words it keeps).
    let new_word = || String::with_capacity(text.len());
    let mut words = Vec::new();
    // `Some` once a word has begun, even an empty one (`''`).
    let mut word: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => words.extend(word.take()),
            '\'' => {
                let word = word.get_or_insert_with(new_word);
                loop {
                    match chars.next() {
                        None => return Err(SplitError::UnclosedQuote('\'')),
                        Some('\'') => break,
                        Some(c) => word.push(c),
                    }
                }
            }
            '"' => {
                let word = word.get_or_insert_with(new_word);
                loop {
                    match chars.next() {
                        None => return Err(SplitError::UnclosedQuote('"')),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            None => return Err(SplitError::LoneBackslash),
                            Some('\n') => {} // a line continuation
                            Some(c @ ('"' | '\\')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        Some(c) => word.push(c),
                    }
                }
            }
            '\\' => match chars.next() {
                None => return Err(SplitError::LoneBackslash),
                Some('\n') => {} // a line continuation: begins no word
                Some(c) => word.get_or_insert_with(new_word).push(c),
            },
            c => word.get_or_insert_with(new_word).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::SplitError::{LoneBackslash, UnclosedQuote};
    use super::*;

    type Case = (&'static str, Result<&'static [&'static str], SplitError>);

    fn check(cases: &[Case]) {
        for (input, expected) in cases {
            let got = split(input);
            let expected = expected.map(|words| words.iter().map(|w| w.to_string()).collect());
            assert_eq!(got, expected, "split({input:?})");
        }
    }

    /// Every row is what `shlex.split` (CPython 3.11.7) answered for its input, checked by running it;
    /// for the errors, `UnclosedQuote` is its "No closing quotation" and `LoneBackslash` its "No
    /// escaped character".
    #[test]
    fn splits_as_python_shlex_does() {
        check(&[
            ("", Ok(&[])),
            ("   ", Ok(&[])),
            (" \t\r\n ", Ok(&[])),
            ("a", Ok(&["a"])),
            ("a b", Ok(&["a", "b"])),
            ("  a   b  ", Ok(&["a", "b"])),
            ("a\tb\nc\rd", Ok(&["a", "b", "c", "d"])),
            ("'a b'", Ok(&["a b"])),
            ("\"a b\"", Ok(&["a b"])),
            ("a'b c'd", Ok(&["ab cd"])),
            ("a\"b c\"d", Ok(&["ab cd"])),
            ("''", Ok(&[""])),
            ("\"\"", Ok(&[""])),
            ("'' ''", Ok(&["", ""])),
            ("a''", Ok(&["a"])),
            ("''a", Ok(&["a"])),
            ("\"\"\"\"", Ok(&[""])),
            ("'a\\b'", Ok(&["a\\b"])),
            ("'a\"b'", Ok(&["a\"b"])),
            ("\"a'b\"", Ok(&["a'b"])),
            ("\"a\\\"b\"", Ok(&["a\"b"])),
            ("\"a\\\\b\"", Ok(&["a\\b"])),
            ("\"a\\$b\"", Ok(&["a\\$b"])),
            ("\"a\\`b\"", Ok(&["a\\`b"])),
            ("\"a\\nb\"", Ok(&["a\\nb"])),
            ("\"\\x\"", Ok(&["\\x"])),
            ("a\\ b", Ok(&["a b"])),
            ("a\\'b", Ok(&["a'b"])),
            ("a\\\"b", Ok(&["a\"b"])),
            ("a\\\\b", Ok(&["a\\b"])),
            ("\\a", Ok(&["a"])),
            ("a\\", Err(LoneBackslash)),
            ("\\", Err(LoneBackslash)),
            ("\"a\\", Err(LoneBackslash)),
            ("'a", Err(UnclosedQuote('\''))),
            ("\"a", Err(UnclosedQuote('"'))),
            ("a'b", Err(UnclosedQuote('\''))),
            ("a\"b", Err(UnclosedQuote('"'))),
            ("'a'\"", Err(UnclosedQuote('"'))),
            ("a#b", Ok(&["a#b"])),
            ("#a b", Ok(&["#a", "b"])),
            ("a #b", Ok(&["a", "#b"])),
            ("$HOME", Ok(&["$HOME"])),
            ("`x`", Ok(&["`x`"])),
            ("a|b", Ok(&["a|b"])),
            ("a;b", Ok(&["a;b"])),
            ("a&&b", Ok(&["a&&b"])),
            ("a>b", Ok(&["a>b"])),
            ("(a)", Ok(&["(a)"])),
            ("~/x", Ok(&["~/x"])),
            ("*", Ok(&["*"])),
            ("'a\\\nb'", Ok(&["a\\\nb"])),
            ("a\\\r\nb", Ok(&["a\r", "b"])),
            ("é ü", Ok(&["é", "ü"])),
            ("密钥 值", Ok(&["密钥", "值"])),
            ("a\u{a0}b", Ok(&["a\u{a0}b"])),
            ("a\u{b}b", Ok(&["a\u{b}b"])),
            ("a\u{c}b", Ok(&["a\u{c}b"])),
            (
                "aliyun-helper --profile 'prod env' --token=\"s3cr3t \\\"x\\\"\"",
                Ok(&[
                    "aliyun-helper",
                    "--profile",
                    "prod env",
                    "--token=s3cr3t \"x\"",
                ]),
            ),
            (
                "sh -c 'echo \"{\\\"mode\\\": \\\"AK\\\"}\"'",
                Ok(&["sh", "-c", "echo \"{\\\"mode\\\": \\\"AK\\\"}\""]),
            ),
            (
                "/usr/bin/env X=1 helper",
                Ok(&["/usr/bin/env", "X=1", "helper"]),
            ),
        ]);
    }

    /// Our one difference: backslash-newline outside single quotes is removed. `shlex.split` answers
    /// `["a\nb"]`, `["a", "\n", "b"]`, `["\n"]` and `["a\\\nb"]` for these.
    #[test]
    fn backslash_newline_is_a_line_continuation() {
        check(&[
            ("a\\\nb", Ok(&["ab"])),
            ("a \\\n b", Ok(&["a", "b"])),
            ("\\\n", Ok(&[])),
            ("\"a\\\nb\"", Ok(&["ab"])),
            (
                "helper \\\n  --profile prod \\\n  --region cn-hangzhou",
                Ok(&["helper", "--profile", "prod", "--region", "cn-hangzhou"]),
            ),
            // Single quotes keep everything, as in sh.
            ("'a\\\nb'", Ok(&["a\\\nb"])),
        ]);
    }

    #[test]
    fn errors_name_the_problem_but_never_the_text() {
        for (input, shown) in [
            ("helper --token 'sentinel", "a ' quote is not closed"),
            ("helper --token \"sentinel", "a \" quote is not closed"),
            (
                "helper --token sentinel\\",
                "it ends in a backslash that escapes nothing",
            ),
        ] {
            let err = split(input).unwrap_err();
            assert_eq!(err.to_string(), shown);
            assert!(!format!("{err:?}").contains("sentinel"));
        }
    }
}
