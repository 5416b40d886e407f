//! Config cipher throughput, pure crypto with the data key given: the MSE envelope (AES-ECB + Base64)
//! and our AES-256-GCM scheme (seal and open, header and Base64 included), on 4 KB and 1 MB contents.
//!
//! Run: `cargo bench --bench ciphers`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mse_auth::cipher::gcm::{self, ConfigAad, KeySource, WrappedKey};
use mse_auth::cipher::kms_aes;
use std::hint::black_box;

fn content(len: usize) -> String {
    // Config-like ASCII text.
    "db.password=s3cret&pool.size=32\n"
        .chars()
        .cycle()
        .take(len)
        .collect()
}

fn ciphers(c: &mut Criterion) {
    let data_key = [0x42u8; 32];
    let blob = "a".repeat(180); // about the size of a KMS CiphertextBlob
    let wrapped = WrappedKey {
        source: KeySource::Kms,
        key_id: "alias/acs/mse",
        wrapped: blob.as_bytes(),
    };
    let aad = ConfigAad::new("prod", "DEFAULT_GROUP", "cipher-gcm-bench.yaml");

    let mut group = c.benchmark_group("ciphers");
    for (label, len) in [("4KB", 4 * 1024), ("1MB", 1024 * 1024)] {
        let text = content(len);
        group.throughput(Throughput::Bytes(len as u64));

        group.bench_function(
            BenchmarkId::new("ecb_envelope_encrypt_decrypt", label),
            |b| {
                b.iter(|| {
                    let ct = kms_aes::encrypt_ecb(black_box(&data_key), black_box(&text)).unwrap();
                    kms_aes::decrypt_ecb(&data_key, &ct).unwrap()
                })
            },
        );
        group.bench_function(BenchmarkId::new("gcm_seal_open", label), |b| {
            b.iter(|| {
                let ct = gcm::seal(black_box(&data_key), &wrapped, &aad, black_box(&text)).unwrap();
                gcm::Sealed::parse(&ct)
                    .unwrap()
                    .open(&data_key, &aad)
                    .unwrap()
            })
        });

        let ecb_ct = kms_aes::encrypt_ecb(&data_key, &text).unwrap();
        group.bench_function(BenchmarkId::new("ecb_envelope_decrypt", label), |b| {
            b.iter(|| kms_aes::decrypt_ecb(&data_key, black_box(&ecb_ct)).unwrap())
        });
        let gcm_ct = gcm::seal(&data_key, &wrapped, &aad, &text).unwrap();
        group.bench_function(BenchmarkId::new("gcm_open", label), |b| {
            b.iter(|| {
                gcm::Sealed::parse(black_box(&gcm_ct))
                    .unwrap()
                    .open(&data_key, &aad)
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, ciphers);
criterion_main!(benches);
