//! RPC signature v1 cost: a full AssumeRole parameter set, string to sign plus HMAC.
//!
//! Run: `cargo bench --bench sign`.

use criterion::{criterion_group, criterion_main, Criterion};
use mse_auth::sign::rpc_v1;
use std::hint::black_box;

fn assume_role(c: &mut Criterion) {
    let params = [
        ("Action", "AssumeRole"),
        ("Version", "2015-04-01"),
        ("Format", "JSON"),
        ("Timestamp", "2024-01-01T00:00:00Z"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", "0123456789abcdef0123456789abcdef"),
        ("AccessKeyId", "LTAI5tExampleAccessKeyId"),
        ("RoleArn", "acs:ram::123456789012:role/test"),
        ("RoleSessionName", "session-1"),
        ("DurationSeconds", "3600"),
        (
            "Policy",
            r#"{"Statement": [{"Action": ["*"],"Effect": "Allow","Resource": ["*"]}],"Version":"1"}"#,
        ),
    ];
    c.bench_function("rpc_v1_signature_assume_role", |b| {
        b.iter(|| rpc_v1::signature(black_box("POST"), black_box(&params), black_box("secret")))
    });
    c.bench_function("rpc_v1_string_to_sign_assume_role", |b| {
        b.iter(|| rpc_v1::string_to_sign(black_box("POST"), black_box(&params)))
    });
}

criterion_group!(benches, assume_role);
criterion_main!(benches);
