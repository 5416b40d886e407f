//! Helpers shared by the fuzz targets: the planted secret, the leak check, JSON injection and a
//! minimal executor for futures that never wait.

use std::fmt;
use std::future::Future;
use std::task::{Context, Poll, Waker};

/// A secret planted in inputs: it must never appear in an error's `Display` or `Debug`.
pub const SENTINEL: &str = "FUZZ-SENTINEL-7f3a9c0d";

/// Panics when `secret` shows in `err`'s `Display` or `Debug`.
pub fn assert_hidden<E: fmt::Display + fmt::Debug>(err: &E, secret: &str, what: &str) {
    let shown = format!("{err}");
    let debug = format!("{err:?}");
    assert!(
        !shown.contains(secret) && !debug.contains(secret),
        "{what}: the planted secret leaked into the error:\nDisplay: {shown}\nDebug: {debug}"
    );
}

/// `input` with `value` set at each `path` (keys of nested objects; `*` is every element of an array),
/// or `None` when `input` is not JSON or none of the paths exists as an object to set the key in.
pub fn inject_json(input: &[u8], paths: &[&[&str]], value: &str) -> Option<Vec<u8>> {
    let mut json: serde_json::Value = serde_json::from_slice(input).ok()?;
    let mut any = false;
    for path in paths {
        any |= set(&mut json, path, value);
    }
    any.then(|| serde_json::to_vec(&json).expect("a Value serialises"))
}

fn set(json: &mut serde_json::Value, path: &[&str], value: &str) -> bool {
    match path {
        [] => false,
        ["*", rest @ ..] => match json.as_array_mut() {
            Some(items) => items
                .iter_mut()
                .fold(false, |any, item| set(item, rest, value) | any),
            None => false,
        },
        [key] => match json.as_object_mut() {
            Some(object) => {
                object.insert((*key).to_string(), value.into());
                true
            }
            None => false,
        },
        [key, rest @ ..] => match json.get_mut(*key) {
            Some(inner) => set(inner, rest, value),
            None => false,
        },
    }
}

/// Drives a future that never waits (every fake here answers at once) to completion.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1_000 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
    panic!("the future kept waiting: a fake must answer at once");
}
