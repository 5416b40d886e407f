//! The KMS flows at TRACE level — the rotating AccessKey provider (load, rotation, forced refresh) and
//! the config ciphers over KMS (envelope, direct, GCM, a refusal) — never log, format or put in a URL a
//! secret, a data key or a config's plaintext. One test in its own binary (tracing caches call-site
//! interest process-wide).

mod support;

use mse_auth::test_util::CapturedLog;
use mse_auth_emulator::Emulator;
use mse_auth_providers::cipher::ConfigCipher;
use mse_auth_providers::kms::{KeySpec, KmsClient};
use mse_auth_providers::kms_data_keys::KmsDataKeys;
use mse_auth_providers::kms_rotating::KmsRotatingProvider;
use mse_auth_providers::{CredentialsProvider, StaticAccessKeyProvider};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const SIGNER: &str = "LTAI5tKmsSecrecySigner";
const SIGNER_SECRET: &str = "sentinel-SIGNER-SECRET-41c2";
const ROTATED_ID: &str = "LTAI5tRotatedKeyId";
const ROTATED_SECRET: &str = "sentinel-ROTATED-SECRET-9b7e";
const PLAINTEXT: &str = "db.password=sentinel-CONFIG-PLAINTEXT-77aa";
const KEY: &str = "alias/secrecy";

fn client(emulator: &Emulator) -> KmsClient {
    KmsClient::builder()
        .endpoint(emulator.kms_endpoint())
        .credentials(StaticAccessKeyProvider::new(SIGNER, SIGNER_SECRET).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn no_secret_data_key_or_plaintext_reaches_trace_logs_debug_or_urls() {
    let log = CapturedLog::default();
    let _guard = tracing::subscriber::set_default(support::trace_subscriber(&log));

    let emulator = Emulator::start().await.unwrap();
    emulator.add_access_key(SIGNER, SIGNER_SECRET);
    emulator.kms_create_key(KEY);
    emulator.kms_put_ram_secret(
        "app-ak",
        ROTATED_ID,
        ROTATED_SECRET,
        Duration::from_secs(3600),
        SystemTime::now() + Duration::from_secs(1800),
    );
    let mut shown = String::new();

    let rotating = KmsRotatingProvider::builder("app-ak")
        .kms(client(&emulator))
        .build()
        .unwrap();
    let creds = rotating.provide_credentials().await.unwrap();
    shown.push_str(&format!("{creds} {creds:?} {rotating:?}"));
    let (_, new_secret) = emulator.kms_rotate_secret("app-ak").unwrap();
    let forced = rotating.force_refresh().await.unwrap();
    assert_eq!(forced.access_key_secret(), new_secret);
    shown.push_str(&format!("{forced:?}"));

    let keys = Arc::new(KmsDataKeys::new(client(&emulator)).key_id(KEY));
    let data_key = client(&emulator)
        .generate_data_key(KEY, KeySpec::Aes256)
        .await
        .unwrap();
    let data_key_b64 = data_key.plaintext_base64().to_string();
    shown.push_str(&format!("{data_key:?} {keys:?}"));
    let cipher = ConfigCipher::builder().data_key_service(keys).build();
    for data_id in ["cipher-kms-aes-256-a", "cipher-a", "cipher-gcm-a"] {
        let sealed = cipher.encrypt("", "G", data_id, PLAINTEXT).await.unwrap();
        shown.push_str(&format!("{sealed:?}"));
        let plain = cipher
            .decrypt(
                "",
                "G",
                data_id,
                &sealed.content,
                &sealed.encrypted_data_key,
            )
            .await
            .unwrap();
        assert_eq!(plain, PLAINTEXT);
    }
    let err = cipher
        .decrypt("", "G", "cipher-kms-aes-128-b", "AAAA", "bm90LWEtYmxvYg==")
        .await
        .unwrap_err();
    shown.push_str(&format!("{err} {err:?}"));

    let text = log.text();
    for expected in [
        "read the KMS secret",
        "forced refresh of the KMS secret",
        "connecting to 127.0.0.1",
    ] {
        assert!(
            text.contains(expected),
            "`{expected}` was not logged: {text}"
        );
    }
    support::assert_none_shown(
        &text,
        &shown,
        [
            SIGNER_SECRET,
            ROTATED_SECRET,
            new_secret.as_str(),
            "sentinel-CONFIG-PLAINTEXT",
            data_key_b64.as_str(),
        ],
    );
    emulator.assert_no_url_leaks();
}
