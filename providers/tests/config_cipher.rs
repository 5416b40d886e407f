//! The config ciphers with KMS: every scheme round-trips through the emulator's KMS, envelope data keys
//! are unwrapped once for many reads, and no plaintext, data key or blob ever travels in a URL.

use mse_auth_emulator::{Emulator, Endpoint};
use mse_auth_providers::cipher::gcm::LocalKey;
use mse_auth_providers::cipher::{CipherErrorKind, ConfigCipher};
use mse_auth_providers::kms::KmsClient;
use mse_auth_providers::kms_data_keys::KmsDataKeys;
use mse_auth_providers::StaticAccessKeyProvider;
use std::sync::Arc;

const KEY: &str = "alias/mse-auth-test";

async fn kms(emulator: &Emulator) -> Arc<KmsDataKeys> {
    emulator.add_access_key("LTAI5tKmsCipher", "kms-cipher-secret");
    emulator.kms_create_key(KEY);
    let client = KmsClient::builder()
        .endpoint(emulator.kms_endpoint())
        .credentials(StaticAccessKeyProvider::new("LTAI5tKmsCipher", "kms-cipher-secret").unwrap())
        .build()
        .unwrap();
    Arc::new(KmsDataKeys::new(client).key_id(KEY))
}

fn cipher(keys: &Arc<KmsDataKeys>) -> ConfigCipher {
    ConfigCipher::builder()
        .data_key_service(keys.clone())
        .build()
}

fn contents() -> Vec<String> {
    vec![
        String::new(),
        "x".to_string(),
        "配置🔐 password=secret&x=1".to_string(),
        "k".repeat(50 * 1024),
    ]
}

#[tokio::test]
async fn every_scheme_round_trips_through_kms() {
    let emulator = Emulator::start().await.unwrap();
    let keys = kms(&emulator).await;
    let writer = cipher(&keys);
    let reader = cipher(&keys); // another process: no data key cached
    for data_id in [
        "cipher-kms-aes-128-app",
        "cipher-kms-aes-256-app",
        "cipher-gcm-app",
        "cipher-app",
        "cipher-aes-app",
    ] {
        for content in contents() {
            let direct_too_large = data_id == "cipher-app" && content.len() > 6 * 1024;
            let sealed = match writer
                .encrypt("ns", "DEFAULT_GROUP", data_id, &content)
                .await
            {
                Ok(sealed) => sealed,
                Err(e) if direct_too_large => {
                    assert_eq!(e.kind(), CipherErrorKind::TooLarge, "{e}");
                    continue;
                }
                Err(e) => panic!("{data_id} ({} bytes): {e}", content.len()),
            };
            assert!(
                !direct_too_large,
                "direct KMS must refuse {} bytes",
                content.len()
            );
            if !content.is_empty() {
                assert_ne!(sealed.content, content, "{data_id} stored ciphertext");
            }
            let plain = reader
                .decrypt(
                    "ns",
                    "DEFAULT_GROUP",
                    data_id,
                    &sealed.content,
                    &sealed.encrypted_data_key,
                )
                .await
                .unwrap_or_else(|e| panic!("{data_id} ({} bytes): {e}", content.len()));
            assert_eq!(plain, content, "{data_id}");
        }
    }
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn reading_one_envelope_config_1000_times_calls_kms_decrypt_once() {
    let emulator = Emulator::start().await.unwrap();
    let keys = kms(&emulator).await;
    let sealed = cipher(&keys)
        .encrypt(
            "",
            "DEFAULT_GROUP",
            "cipher-kms-aes-256-db.yaml",
            "password: s3cret",
        )
        .await
        .unwrap();
    let reader = cipher(&keys);
    let before = emulator.calls(Endpoint::KmsDecrypt);
    for _ in 0..1000 {
        let plain = reader
            .decrypt(
                "",
                "DEFAULT_GROUP",
                "cipher-kms-aes-256-db.yaml",
                &sealed.content,
                &sealed.encrypted_data_key,
            )
            .await
            .unwrap();
        assert_eq!(plain, "password: s3cret");
    }
    assert_eq!(emulator.calls(Endpoint::KmsDecrypt) - before, 1);
}

#[tokio::test]
async fn a_gcm_config_moved_elsewhere_or_tampered_fails_and_local_keys_need_no_kms() {
    let emulator = Emulator::start().await.unwrap();
    let keys = kms(&emulator).await;
    let c = cipher(&keys);
    let sealed = c
        .encrypt("ns", "G", "cipher-gcm-a", "secret: 1")
        .await
        .unwrap();
    let err = c
        .decrypt("ns", "G", "cipher-gcm-b", &sealed.content, "")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), CipherErrorKind::AuthenticationFailed, "{err}");
    let mut tampered = sealed.content.clone().into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let err = c
        .decrypt(
            "ns",
            "G",
            "cipher-gcm-a",
            std::str::from_utf8(&tampered).unwrap(),
            "",
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), CipherErrorKind::AuthenticationFailed, "{err}");
    // A local key: no KMS call at all.
    let before =
        emulator.calls(Endpoint::KmsGenerateDataKey) + emulator.calls(Endpoint::KmsDecrypt);
    let local = ConfigCipher::builder()
        .local_key(LocalKey::generate("ops-key").unwrap())
        .build();
    let sealed = local
        .encrypt("", "G", "cipher-gcm-local", "k=v")
        .await
        .unwrap();
    assert_eq!(
        local
            .decrypt("", "G", "cipher-gcm-local", &sealed.content, "")
            .await
            .unwrap(),
        "k=v"
    );
    assert_eq!(
        emulator.calls(Endpoint::KmsGenerateDataKey) + emulator.calls(Endpoint::KmsDecrypt),
        before
    );
}

#[tokio::test]
async fn kms_refusals_surface_with_their_code() {
    let emulator = Emulator::start().await.unwrap();
    let keys = kms(&emulator).await;
    let err = cipher(&keys)
        .decrypt("", "G", "cipher-kms-aes-128-x", "AAAA", "bm90LWEtYmxvYg==")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), CipherErrorKind::Kms, "{err}");
    assert!(err.to_string().contains("InvalidParameter"), "{err}");
}
