//! `ConfigCipher::decrypt` (`cipher/config_cipher.rs`): dispatch by dataId to every scheme, with a local
//! GCM key and a fake KMS that answers at once. Never a panic; the local key and the fake KMS data keys
//! never show in an error; what `encrypt` gives, `decrypt` turns back into the same content.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use mse_auth::cipher::gcm::LocalKey;
use mse_auth::cipher::{BoxFuture, CipherError, ConfigCipher, DataKey, DataKeyService, KeySpec};
use mse_auth_fuzz::{assert_hidden, block_on};
use std::sync::Arc;
use zeroize::Zeroizing;

const LOCAL: [u8; 32] = *b"fuzz-config-cipher-local-key-32b";
const KMS_128: [u8; 16] = *b"fuzz-kms-key-128";
const KMS_256: [u8; 32] = *b"fuzz-kms-key-256-fuzz-kms-key-25";
const PREFIXES: [&str; 7] = [
    "cipher-kms-aes-128-",
    "cipher-kms-aes-256-",
    "cipher-aes-",
    "cipher-gcm-",
    "cipher-",
    "",
    "cipher-kms-aes-",
];

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `blob-128` / `blob-256` unwrap to the fixed keys, `direct-<hex>` to its text, anything else to itself.
#[derive(Debug)]
struct FakeKms;

impl DataKeyService for FakeKms {
    fn generate_data_key(&self, spec: KeySpec) -> BoxFuture<'_, Result<DataKey, CipherError>> {
        let (key, blob): (&[u8], &str) = match spec {
            KeySpec::Aes128 => (&KMS_128, "blob-128"),
            _ => (&KMS_256, "blob-256"),
        };
        Box::pin(async move {
            Ok(DataKey {
                plaintext: Zeroizing::new(key.to_vec()),
                ciphertext_blob: blob.to_string(),
            })
        })
    }

    fn decrypt(&self, blob: &str) -> BoxFuture<'_, Result<Zeroizing<String>, CipherError>> {
        let plain = match blob {
            "blob-128" => b64(&KMS_128),
            "blob-256" => b64(&KMS_256),
            _ => match blob.strip_prefix("direct-").and_then(|h| hex_decode(h)) {
                Some(text) => text,
                None => blob.to_string(),
            },
        };
        Box::pin(async move { Ok(Zeroizing::new(plain)) })
    }

    fn encrypt(&self, plaintext: &str) -> BoxFuture<'_, Result<String, CipherError>> {
        let blob = format!("direct-{}", hex_encode(plaintext.as_bytes()));
        Box::pin(async move { Ok(blob) })
    }

    fn key_id(&self) -> &str {
        "alias/fuzz"
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(text: &str) -> Option<String> {
    if text.len() % 2 != 0 || !text.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    prefix: u8,
    data_id: &'a str,
    tenant: &'a str,
    group: &'a str,
    content: &'a str,
    encrypted_data_key: &'a str,
    local_only: bool,
}

fuzz_target!(|input: Input<'_>| {
    let mut builder =
        ConfigCipher::builder().local_key(LocalKey::new("fuzz-local", &LOCAL).unwrap());
    if !input.local_only {
        builder = builder.data_key_service(Arc::new(FakeKms));
    }
    let cipher = builder.build();
    let prefix = PREFIXES[usize::from(input.prefix) % PREFIXES.len()];
    let data_id = format!("{prefix}{}", input.data_id);
    let (tenant, group) = (input.tenant, input.group);
    // The dataId (and so the input) is shown in errors: check only keys the input does not carry.
    let inputs = [
        data_id.as_str(),
        tenant,
        group,
        input.content,
        input.encrypted_data_key,
    ];
    let secrets: Vec<String> = [b64(&LOCAL), b64(&KMS_128), b64(&KMS_256)]
        .into_iter()
        .filter(|s| !inputs.iter().any(|i| i.contains(s.as_str())))
        .collect();
    match block_on(cipher.decrypt(
        tenant,
        group,
        &data_id,
        input.content,
        input.encrypted_data_key,
    )) {
        Ok(_) => {}
        Err(e) => {
            for secret in &secrets {
                assert_hidden(&e, secret, "config_cipher decrypt");
            }
        }
    }
    match block_on(cipher.encrypt(tenant, group, &data_id, input.content)) {
        Ok(enc) => {
            let back = block_on(cipher.decrypt(
                tenant,
                group,
                &data_id,
                &enc.content,
                &enc.encrypted_data_key,
            ))
            .unwrap_or_else(|e| panic!("decrypting our own {data_id:?} ciphertext: {e}"));
            assert_eq!(back, input.content, "round trip of {data_id:?}");
        }
        Err(e) => {
            for secret in &secrets {
                assert_hidden(&e, secret, "config_cipher encrypt");
            }
        }
    }
});
