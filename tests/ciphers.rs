//! Config ciphers end to end on a fake KMS: every scheme round-trips, the dispatch and pass-through
//! rules hold, GCM refuses tampered and moved ciphertexts, unwrapped data keys are cached, nothing
//! panics on mangled input, and no key or plaintext shows in an error or `Debug`.

use aws_smithy_async::test_util::ManualTimeSource;
use mse_auth::cipher::gcm::{self, ConfigAad, KeySource, LocalKey, Sealed, WrappedKey};
use mse_auth::cipher::{
    kms_aes, nacos_aes, CipherError, CipherErrorKind, ConfigCipher, DataKeyService, Encrypted,
    KMS_DIRECT_MAX_CIPHERTEXT_BYTES,
};
use mse_auth::test_util::FakeKms;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const TENANT: &str = "prod";
const GROUP: &str = "DEFAULT_GROUP";
const SENTINEL: &str = "SENTINEL-PLAINTEXT-8c1f";

fn kms_cipher(kms: &FakeKms) -> ConfigCipher {
    ConfigCipher::builder()
        .data_key_service(Arc::new(kms.clone()))
        .build()
}

fn local_cipher() -> ConfigCipher {
    ConfigCipher::builder()
        .local_key(LocalKey::new("ops-2024", &[9; 32]).unwrap())
        .build()
}

fn contents() -> Vec<String> {
    vec![
        "x".into(),
        "配置🔐".into(),
        "password=secret&x=1\n中文 ✓".into(),
        "k=v\n".repeat(50 * 1024 / 4),
    ]
}

async fn round_trip(cipher: &ConfigCipher, data_id: &str, content: &str) -> Encrypted {
    let out = cipher
        .encrypt(TENANT, GROUP, data_id, content)
        .await
        .unwrap();
    assert_ne!(out.content, content, "{data_id} was not encrypted");
    let back = cipher
        .decrypt(
            TENANT,
            GROUP,
            data_id,
            &out.content,
            &out.encrypted_data_key,
        )
        .await
        .unwrap();
    assert_eq!(back, content, "{data_id}");
    out
}

#[tokio::test]
async fn every_scheme_round_trips_1_byte_multibyte_and_50_kb() {
    let kms = FakeKms::new("alias/acs/mse");
    let cipher = kms_cipher(&kms);
    for content in contents() {
        for data_id in [
            "cipher-kms-aes-128-db.yaml",
            "cipher-kms-aes-256-db.yaml",
            "cipher-gcm-db.yaml",
            "cipher-aes-db.yaml",
        ] {
            round_trip(&cipher, data_id, &content).await;
        }
        round_trip(&local_cipher(), "cipher-gcm-db.yaml", &content).await;
        if content.len() <= 6 * 1024 {
            let out = round_trip(&cipher, "cipher-db.yaml", &content).await;
            assert_eq!(out.encrypted_data_key, "");
        }
    }
}

#[tokio::test]
async fn envelope_writes_what_mse_clients_read() {
    // The content is Base64(AES-ECB(data key)), the encryptedDataKey is the KMS CiphertextBlob, and
    // KMS Decrypt of it gives the Base64 data key (spec §C.2): read it back the way Java/Go/Python do.
    let kms = FakeKms::new("alias/acs/mse");
    let cipher = kms_cipher(&kms);
    for (data_id, key_len) in [("cipher-kms-aes-128-db", 16), ("cipher-kms-aes-256-db", 32)] {
        let out = cipher.encrypt("", GROUP, data_id, "a=1").await.unwrap();
        let plaintext = kms.decrypt(&out.encrypted_data_key).await.unwrap();
        let key = base64_decode(&plaintext);
        assert_eq!(key.len(), key_len);
        assert_eq!(kms_aes::decrypt_ecb(&key, &out.content).unwrap(), "a=1");
    }
    assert_eq!(kms.generate_calls(), 2);

    // A fresh data key on every publish.
    let a = cipher
        .encrypt("", GROUP, "cipher-kms-aes-256-db", "a")
        .await
        .unwrap();
    let b = cipher
        .encrypt("", GROUP, "cipher-kms-aes-256-db", "a")
        .await
        .unwrap();
    assert_ne!(a.encrypted_data_key, b.encrypted_data_key);
    assert_ne!(a.content, b.content);
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[tokio::test]
async fn nacos_aes_keeps_its_key_in_the_encrypted_data_key() {
    let cipher = ConfigCipher::builder().build(); // no KMS needed
    let out = cipher
        .encrypt(TENANT, GROUP, "cipher-aes-db", "nacos")
        .await
        .unwrap();
    assert_eq!(
        nacos_aes::decrypt(&out.encrypted_data_key, &out.content).unwrap(),
        "nacos"
    );
    assert!(out.content.bytes().all(|b| b.is_ascii_hexdigit()));
    // Debug shows lengths only: here the encryptedDataKey is the key itself.
    let debug = format!("{out:?}");
    assert_eq!(
        debug,
        format!(
            "Encrypted {{ content_len: 32, encrypted_data_key_len: {} }}",
            out.encrypted_data_key.len()
        )
    );
}

#[tokio::test]
async fn plain_data_ids_and_blank_contents_pass_through_without_kms_calls() {
    let kms = FakeKms::new("alias/acs/mse");
    let cipher = kms_cipher(&kms);
    for (data_id, content) in [
        ("app.yaml", "password=secret"),
        ("cipher-", "password=secret"),
        ("Cipher-db", "password=secret"),
        ("cipher-kms-aes-256-db", ""),
        ("cipher-kms-aes-256-db", " \n\t"),
        ("cipher-db", ""),
        ("cipher-gcm-db", "  "),
        ("cipher-aes-db", ""),
    ] {
        let out = cipher
            .encrypt(TENANT, GROUP, data_id, content)
            .await
            .unwrap();
        assert_eq!(out.content, content, "{data_id}");
        assert_eq!(out.encrypted_data_key, "", "{data_id}");
        let back = cipher
            .decrypt(TENANT, GROUP, data_id, content, "")
            .await
            .unwrap();
        assert_eq!(back, content, "{data_id}");
    }
    assert_eq!(
        (
            kms.generate_calls(),
            kms.encrypt_calls(),
            kms.decrypt_calls()
        ),
        (0, 0, 0)
    );
}

#[tokio::test]
async fn direct_kms_refuses_over_6_kb_before_calling_kms() {
    let kms = FakeKms::new("alias/acs/mse");
    let cipher = kms_cipher(&kms);
    let at_limit = "配".repeat(2048); // 6,144 UTF-8 bytes
    round_trip(&cipher, "cipher-db", &at_limit).await;
    assert_eq!(kms.encrypt_calls(), 1);

    for content in [format!("{at_limit}x"), "k=v\n".repeat(50 * 1024 / 4)] {
        let err = cipher
            .encrypt(TENANT, GROUP, "cipher-db", &content)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::TooLarge);
        assert_eq!(
            err.to_string(),
            format!(
                "config cipher-db: the content is {} bytes; direct KMS encryption (a cipher- dataId \
                 without kms-aes-128/256) takes at most 6144: use a cipher-kms-aes-256- or \
                 cipher-gcm- dataId",
                content.len()
            )
        );
    }
    assert_eq!(kms.encrypt_calls(), 1, "no KMS call for oversized content");
}

#[tokio::test]
async fn direct_kms_refuses_ciphertexts_over_16_kib_before_calling_kms() {
    let kms = FakeKms::new("alias/acs/mse");
    let cipher = kms_cipher(&kms);
    // The largest plaintext's ciphertext is well under the bound.
    let at_limit = "配".repeat(2048);
    let out = round_trip(&cipher, "cipher-db", &at_limit).await;
    assert!(out.content.len() < KMS_DIRECT_MAX_CIPHERTEXT_BYTES / 2 + 1024);
    let decrypts = kms.decrypt_calls();

    let over = format!("\n{}\n", "A".repeat(KMS_DIRECT_MAX_CIPHERTEXT_BYTES + 1));
    let err = cipher
        .decrypt(TENANT, GROUP, "cipher-db", &over, "")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), CipherErrorKind::TooLarge);
    assert_eq!(
        err.to_string(),
        "config cipher-db: the content is 16385 bytes; a direct KMS ciphertext (a cipher- dataId \
         without kms-aes-128/256) is at most 16384 bytes of Base64, what KMS Encrypt makes of 6144 \
         bytes of text: is it the config in clear, or the wrong dataId?"
    );
    assert_eq!(
        kms.decrypt_calls(),
        decrypts,
        "no KMS call for an oversized blob"
    );

    // At the bound (surrounding whitespace ignored), KMS is asked.
    let at_bound = format!(" {} ", "A".repeat(KMS_DIRECT_MAX_CIPHERTEXT_BYTES));
    let _ = cipher
        .decrypt(TENANT, GROUP, "cipher-db", &at_bound, "")
        .await;
    assert_eq!(kms.decrypt_calls(), decrypts + 1);
}

#[tokio::test]
async fn envelope_and_nacos_aes_reads_without_encrypted_data_key_fail() {
    let kms = FakeKms::new("alias/acs/mse");
    let cipher = kms_cipher(&kms);
    for data_id in [
        "cipher-kms-aes-128-db",
        "cipher-kms-aes-256-db",
        "cipher-aes-db",
    ] {
        let out = cipher.encrypt(TENANT, GROUP, data_id, "a=1").await.unwrap();
        for edk in ["", "  "] {
            let err = cipher
                .decrypt(TENANT, GROUP, data_id, &out.content, edk)
                .await
                .unwrap_err();
            assert_eq!(err.kind(), CipherErrorKind::MissingDataKey);
            assert_eq!(
                err.to_string(),
                format!(
                    "config {data_id}: the config has no encryptedDataKey, which this scheme needs \
                     to decrypt it (some servers, e.g. rnacos, drop it: use a cipher-gcm- dataId there)"
                )
            );
        }
    }
}

#[tokio::test]
async fn gcm_survives_a_server_that_drops_the_encrypted_data_key() {
    let kms = FakeKms::new("alias/acs/mse");
    let writer = kms_cipher(&kms);
    let out = writer
        .encrypt(TENANT, GROUP, "cipher-gcm-db", "a=1")
        .await
        .unwrap();
    assert_eq!(out.encrypted_data_key, "");
    let sealed = Sealed::parse(&out.content).unwrap();
    assert_eq!(sealed.wrapped_key().source, KeySource::Kms);
    assert_eq!(sealed.wrapped_key().key_id, "alias/acs/mse");
    // A second client (empty cache), same KMS, no encryptedDataKey from the server.
    let reader = kms_cipher(&kms);
    let back = reader
        .decrypt(TENANT, GROUP, "cipher-gcm-db", &out.content, "")
        .await
        .unwrap();
    assert_eq!(back, "a=1");
    assert_eq!(kms.decrypt_calls(), 1);
}

#[tokio::test]
async fn gcm_moved_to_another_config_fails_authentication() {
    let kms = FakeKms::new("alias/acs/mse");
    for cipher in [kms_cipher(&kms), local_cipher()] {
        let out = cipher
            .encrypt(TENANT, GROUP, "cipher-gcm-db", SENTINEL)
            .await
            .unwrap();
        for (tenant, group, data_id) in [
            ("dev", GROUP, "cipher-gcm-db"),
            (TENANT, "OTHER_GROUP", "cipher-gcm-db"),
            (TENANT, GROUP, "cipher-gcm-db2"),
        ] {
            let err = cipher
                .decrypt(tenant, group, data_id, &out.content, "")
                .await
                .unwrap_err();
            assert_eq!(err.kind(), CipherErrorKind::AuthenticationFailed);
            assert_eq!(
                err.to_string(),
                format!(
                    "config {data_id}: authentication failed: the ciphertext was tampered with, the \
                     key is wrong, or it belongs to another config (tenant, group or dataId)"
                )
            );
        }
    }
}

/// Flips bits in every byte of a GCM ciphertext, data key given: the nonce, ciphertext, tag, wrapped key
/// and key id fail authentication; the bytes that steer parsing (version, key source, lengths) fail
/// authentication or parsing.
#[test]
fn gcm_every_flipped_byte_is_refused() {
    let data_key = [0x33u8; 32];
    let key_id = "alias/acs/mse";
    let blob = "S01TQ2lwaGVydGV4dEJsb2I=";
    let aad = ConfigAad::new(TENANT, GROUP, "cipher-gcm-db");
    let text = gcm::seal(
        &data_key,
        &WrappedKey {
            source: KeySource::Kms,
            key_id,
            wrapped: blob.as_bytes(),
        },
        &aad,
        "flip me, every byte",
    )
    .unwrap();
    let bytes = base64_decode(text.strip_prefix("mseauth:v1:").unwrap());
    let key_id_end = 3 + key_id.len();
    let header_end = key_id_end + 2 + blob.len();
    use base64::Engine as _;
    for pos in 0..bytes.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut mangled = bytes.clone();
            mangled[pos] ^= mask;
            let text = format!(
                "mseauth:v1:{}",
                base64::engine::general_purpose::STANDARD.encode(&mangled)
            );
            let err = match Sealed::parse(&text) {
                Ok(sealed) => sealed.open(&data_key, &aad).unwrap_err(),
                Err(err) => err,
            };
            use CipherErrorKind::*;
            let allowed: &[CipherErrorKind] = match pos {
                0 => &[UnsupportedVersion],
                1 => &[UnsupportedVersion, AuthenticationFailed],
                2 => &[Truncated, InvalidEncoding, AuthenticationFailed],
                p if p < key_id_end => &[AuthenticationFailed, InvalidEncoding],
                p if p < key_id_end + 2 => &[Truncated, InvalidEncoding, AuthenticationFailed],
                p if p < header_end => &[AuthenticationFailed],
                _ => &[AuthenticationFailed], // nonce, ciphertext, tag
            };
            assert!(
                allowed.contains(&err.kind()),
                "byte {pos} ^ {mask:#x}: {err}"
            );
        }
    }
}

#[tokio::test]
async fn decrypted_data_keys_are_cached_1000_reads_1_kms_call() {
    let kms = FakeKms::new("alias/acs/mse");
    let writer = kms_cipher(&kms);
    let envelope = writer
        .encrypt(TENANT, GROUP, "cipher-kms-aes-256-db", "a=1")
        .await
        .unwrap();
    let sealed = writer
        .encrypt(TENANT, GROUP, "cipher-gcm-db", "b=2")
        .await
        .unwrap();

    let time = ManualTimeSource::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let reader = ConfigCipher::builder()
        .data_key_service(Arc::new(kms.clone()))
        .time_source(time.clone())
        .build();
    for _ in 0..1000 {
        let plain = reader
            .decrypt(
                TENANT,
                GROUP,
                "cipher-kms-aes-256-db",
                &envelope.content,
                &envelope.encrypted_data_key,
            )
            .await
            .unwrap();
        assert_eq!(plain, "a=1");
    }
    assert_eq!(kms.decrypt_calls(), 1);
    for _ in 0..1000 {
        let plain = reader
            .decrypt(TENANT, GROUP, "cipher-gcm-db", &sealed.content, "")
            .await
            .unwrap();
        assert_eq!(plain, "b=2");
    }
    assert_eq!(kms.decrypt_calls(), 2);

    // After the TTL (1 h) the key is fetched again, once.
    time.advance(Duration::from_secs(3600));
    for _ in 0..10 {
        reader
            .decrypt(
                TENANT,
                GROUP,
                "cipher-kms-aes-256-db",
                &envelope.content,
                &envelope.encrypted_data_key,
            )
            .await
            .unwrap();
    }
    assert_eq!(kms.decrypt_calls(), 3);
}

#[tokio::test]
async fn kms_failures_keep_their_code_and_request_id() {
    let kms = FakeKms::new("alias/acs/mse");
    let cipher = kms_cipher(&kms);
    let out = cipher
        .encrypt(TENANT, GROUP, "cipher-db", "a=1")
        .await
        .unwrap();
    kms.fail_with(
        CipherError::kms("The specified Key is not enabled.")
            .with_code("Forbidden.KeyNotEnabled")
            .with_request_id("7F3A-01"),
    );
    let err = cipher
        .decrypt(TENANT, GROUP, "cipher-db", &out.content, "")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), CipherErrorKind::Kms);
    assert_eq!(err.code(), Some("Forbidden.KeyNotEnabled"));
    assert_eq!(err.request_id(), Some("7F3A-01"));
    assert_eq!(
        err.to_string(),
        "config cipher-db: KMS: Forbidden.KeyNotEnabled: The specified Key is not enabled. (RequestId 7F3A-01)"
    );
    kms.heal();

    // A direct-KMS reader given something that is not a KMS blob: KMS's refusal surfaces.
    let err = cipher
        .decrypt(TENANT, GROUP, "cipher-db", "mseauth:v1:AAAA", "")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), CipherErrorKind::Kms);
    assert_eq!(err.code(), Some("InvalidCiphertext"));
}

#[tokio::test]
async fn missing_key_sources_are_named() {
    let none = ConfigCipher::builder().build();
    for (data_id, message) in [
        (
            "cipher-kms-aes-256-db",
            "config cipher-kms-aes-256-db: cipher-kms-aes-256-… configs need a KMS data key service, \
             and none is configured",
        ),
        (
            "cipher-db",
            "config cipher-db: cipher-… configs need a KMS data key service, and none is configured",
        ),
        (
            "cipher-gcm-db",
            "config cipher-gcm-db: cipher-gcm- configs need a local key or a KMS data key service, \
             and neither is configured",
        ),
    ] {
        let err = none.encrypt(TENANT, GROUP, data_id, "a").await.unwrap_err();
        assert_eq!(err.kind(), CipherErrorKind::NotConfigured);
        assert_eq!(err.to_string(), message);
    }

    let kms = FakeKms::new("alias/acs/mse");
    let kms_sealed = kms_cipher(&kms)
        .encrypt(TENANT, GROUP, "cipher-gcm-db", "a")
        .await
        .unwrap();
    let err = local_cipher()
        .decrypt(TENANT, GROUP, "cipher-gcm-db", &kms_sealed.content, "")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), CipherErrorKind::NotConfigured);
    assert_eq!(
        err.to_string(),
        "config cipher-gcm-db: cipher-gcm-… configs need a KMS data key service, and none is configured"
    );

    let local_sealed = local_cipher()
        .encrypt(TENANT, GROUP, "cipher-gcm-db", "a")
        .await
        .unwrap();
    let err = kms_cipher(&kms)
        .decrypt(TENANT, GROUP, "cipher-gcm-db", &local_sealed.content, "")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), CipherErrorKind::NotConfigured);
    assert_eq!(
        err.to_string(),
        "config cipher-gcm-db: the data key was wrapped with local key \"ops-2024\", and this cipher \
         has no local key"
    );
}

#[tokio::test]
async fn gcm_refuses_a_direct_kms_ciphertext_instead_of_falling_back() {
    // What an MSE client publishing to a cipher-gcm- dataId would store: a KMS blob.
    let kms = FakeKms::new("alias/acs/mse");
    let cipher = kms_cipher(&kms);
    let blob = kms.encrypt("a=1").await.unwrap();
    let err = cipher
        .decrypt(TENANT, GROUP, "cipher-gcm-db", &blob, "")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), CipherErrorKind::InvalidEncoding);
    assert_eq!(
        err.to_string(),
        "config cipher-gcm-db: not an mseauth ciphertext: a cipher-gcm- config must start with \
         `mseauth:v1:` (was it written by another client, or stored in clear?)"
    );
    assert_eq!(kms.decrypt_calls(), 0);
}

#[tokio::test]
async fn truncated_and_non_base64_inputs_give_clear_errors() {
    let kms = FakeKms::new("alias/acs/mse");
    let cipher = kms_cipher(&kms);
    let env = cipher
        .encrypt(
            TENANT,
            GROUP,
            "cipher-kms-aes-256-db",
            "password=secret&x=1",
        )
        .await
        .unwrap();
    let cases = [
        (
            "cipher-kms-aes-256-db",
            "%%not base64%%".to_string(),
            CipherErrorKind::InvalidEncoding,
            "config cipher-kms-aes-256-db: the envelope-encrypted content is not valid Base64",
        ),
        (
            "cipher-kms-aes-256-db",
            env.content[..20].to_string(),
            CipherErrorKind::Truncated,
            "config cipher-kms-aes-256-db: the envelope-encrypted content is 15 bytes after Base64 \
             decoding; AES-ECB needs a non-zero multiple of 16",
        ),
        (
            "cipher-gcm-db",
            "mseauth:v1:AQ==".to_string(),
            CipherErrorKind::Truncated,
            "config cipher-gcm-db: the mseauth:v1 ciphertext is truncated",
        ),
        (
            "cipher-gcm-db",
            "mseauth:v1:not base64".to_string(),
            CipherErrorKind::InvalidEncoding,
            "config cipher-gcm-db: the mseauth:v1 ciphertext is not valid Base64",
        ),
    ];
    for (data_id, content, kind, message) in cases {
        let err = cipher
            .decrypt(TENANT, GROUP, data_id, &content, &env.encrypted_data_key)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{content}");
        assert_eq!(err.to_string(), message);
    }

    let err = cipher
        .decrypt(
            TENANT,
            GROUP,
            "cipher-kms-aes-256-db",
            &env.content,
            "garbage",
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), CipherErrorKind::Kms);
    assert_eq!(
        err.to_string(),
        "config cipher-kms-aes-256-db: KMS: InvalidCiphertext: the ciphertext blob is invalid \
         (fake KMS) (RequestId fake-request)"
    );
}

/// 2,000 random mutations (bit flips, truncations, inserted characters, replaced keys) of ciphertexts of
/// every scheme, fixed seed: decryption never panics, and GCM and direct KMS (both authenticated) never
/// return anything but the original text.
#[tokio::test]
async fn random_mutations_never_panic() {
    let kms = FakeKms::new("alias/acs/mse");
    let cipher = ConfigCipher::builder()
        .data_key_service(Arc::new(kms.clone()))
        .build();
    let local = local_cipher();
    let original = "password=secret&x=1 配置🔐";
    let mut samples = Vec::new();
    for data_id in [
        "cipher-kms-aes-128-db",
        "cipher-kms-aes-256-db",
        "cipher-gcm-db",
        "cipher-aes-db",
        "cipher-db",
    ] {
        let out = cipher
            .encrypt(TENANT, GROUP, data_id, original)
            .await
            .unwrap();
        samples.push((data_id, out, &cipher));
    }
    let out = local
        .encrypt(TENANT, GROUP, "cipher-gcm-db", original)
        .await
        .unwrap();
    samples.push(("cipher-gcm-db", out, &local));

    let mut rng = fastrand::Rng::with_seed(0x5eed_c1f3);
    let mut refused = 0;
    for case in 0..2000 {
        let (data_id, out, cipher) = &samples[case % samples.len()];
        let mut content = out.content.clone().into_bytes();
        let mut edk = out.encrypted_data_key.clone().into_bytes();
        let target = if !edk.is_empty() && rng.u8(..) < 64 {
            &mut edk
        } else {
            &mut content
        };
        match rng.u8(..4) {
            0 if !target.is_empty() => {
                let i = rng.usize(..target.len());
                target[i] ^= 1 << rng.u8(..8);
            }
            1 => {
                let n = rng.usize(..=target.len());
                target.truncate(n);
            }
            2 => {
                let i = rng.usize(..=target.len());
                target.insert(i, rng.u8(..));
            }
            _ => {
                for _ in 0..rng.usize(1..4) {
                    if !target.is_empty() {
                        let i = rng.usize(..target.len());
                        target[i] = rng.alphanumeric() as u8;
                    }
                }
            }
        }
        let content = String::from_utf8_lossy(&content);
        let edk = String::from_utf8_lossy(&edk);
        match cipher.decrypt(TENANT, GROUP, data_id, &content, &edk).await {
            Ok(plain) => {
                // Blank content passes through unchanged, by the Java rule.
                if (*data_id == "cipher-gcm-db" || *data_id == "cipher-db")
                    && !content.trim().is_empty()
                {
                    assert_eq!(plain, original, "case {case}");
                }
            }
            Err(err) => {
                refused += 1;
                assert!(!err.to_string().contains("password=secret"), "{err}");
            }
        }
    }
    assert!(refused > 1500, "only {refused} of 2000 mutations refused");
}

#[tokio::test]
async fn no_key_or_plaintext_in_errors_or_debug() {
    let kms = FakeKms::new("alias/acs/mse");
    let local = LocalKey::new("ops", &[0x5a; 32]).unwrap();
    let local_b64 = local.expose_base64().to_string();
    let cipher = ConfigCipher::builder()
        .data_key_service(Arc::new(kms.clone()))
        .local_key(local)
        .build();
    let debug = format!("{cipher:?}");
    assert!(!debug.contains(&local_b64), "{debug}");
    assert!(debug.contains("ops"), "{debug}");

    let mut texts = vec![debug];
    for data_id in [
        "cipher-kms-aes-128-db",
        "cipher-kms-aes-256-db",
        "cipher-gcm-db",
        "cipher-aes-db",
        "cipher-db",
    ] {
        let out = cipher
            .encrypt(TENANT, GROUP, data_id, SENTINEL)
            .await
            .unwrap();
        texts.push(format!("{out:?}"));
        // Wrong config, wrong key, truncated: every error and its Debug.
        let mut errors = vec![];
        errors.push(
            cipher
                .decrypt(
                    "other",
                    GROUP,
                    "cipher-gcm-db",
                    &out.content,
                    &out.encrypted_data_key,
                )
                .await,
        );
        let cut = &out.content[..out.content.len() / 2];
        errors.push(
            cipher
                .decrypt(TENANT, GROUP, data_id, cut, &out.encrypted_data_key)
                .await,
        );
        let other_key = nacos_aes::generate_key();
        errors.push(
            cipher
                .decrypt(
                    TENANT,
                    GROUP,
                    "cipher-aes-db",
                    &out.content,
                    other_key.expose(),
                )
                .await,
        );
        for result in errors {
            if let Err(err) = result {
                texts.push(err.to_string());
                texts.push(format!("{err:?}"));
                if data_id == "cipher-aes-db" {
                    texts.push(format!("{other_key:?}"));
                    assert!(!err.to_string().contains(other_key.expose()));
                    assert!(!err.to_string().contains(&out.encrypted_data_key));
                }
            }
        }
    }
    for text in &texts {
        assert!(!text.contains(SENTINEL), "{text}");
        assert!(!text.contains(&local_b64), "{text}");
    }
    assert!(texts.len() > 15);
}
