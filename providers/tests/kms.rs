//! KmsClient against the emulator's KMS: every call, signature and key refusals, which failures are
//! retried and which are not, garbage, STS credentials as the signer, and no plaintext, data key or
//! blob in any URL. Every fault of `GetSecretValue` (timeouts and their retries too): `faults.rs`.

mod support;

use std::time::Duration;

use mse_auth_emulator::{Emulator, Endpoint, Fault};
use mse_auth_providers::backoff::Backoff;
use mse_auth_providers::kms::{KeySpec, KmsClient, RetryPolicy};
use mse_auth_providers::os::Env;
use mse_auth_providers::{kms, ErrorKind, RamRoleArnProvider, StaticAccessKeyProvider};

const AK: &str = "LTAI5tKmsClientTest";
const SECRET: &str = "kms-client-test-secret-91ab";
const KEY_ID: &str = "key-0d4c-test";
const TEXT: &str = "password=sentinel-plaintext&x=1";

async fn emulator() -> Emulator {
    let emulator = Emulator::start().await.expect("start the emulator");
    emulator.add_access_key(AK, SECRET);
    emulator.kms_create_key(KEY_ID);
    emulator
}

/// Quick retries, so tests stay fast.
fn fast_retry() -> RetryPolicy {
    RetryPolicy::new(
        3,
        Backoff::new(Duration::from_millis(20), Duration::from_millis(50)),
        Duration::from_secs(5),
    )
}

fn client_with(emulator: &Emulator, id: &str, secret: &str) -> KmsClient {
    KmsClient::builder()
        .endpoint(emulator.kms_endpoint())
        .credentials(StaticAccessKeyProvider::new(id, secret).expect("static source"))
        .retry(fast_retry())
        .context(support::context())
        .build()
        .expect("build")
}

fn client(emulator: &Emulator) -> KmsClient {
    client_with(emulator, AK, SECRET)
}

#[tokio::test]
async fn data_keys_encrypt_and_decrypt_round_trip_with_action_params_in_the_body() {
    let emulator = emulator().await;
    let kms = client(&emulator);

    for spec in [KeySpec::Aes128, KeySpec::Aes256] {
        let key = kms.generate_data_key(KEY_ID, spec).await.expect("data key");
        assert_eq!(key.key_id(), KEY_ID);
        assert_eq!(key.plaintext().len(), spec.key_len());
        assert!(key.key_version_id().is_some());
        let opened = kms.decrypt(key.ciphertext_blob()).await.expect("decrypt");
        assert_eq!(opened.key_id(), KEY_ID);
        assert_eq!(opened.plaintext(), key.plaintext_base64().as_str());
        assert_eq!(
            opened
                .plaintext_bytes_from_base64()
                .expect("base64")
                .as_slice(),
            key.plaintext()
        );
    }

    let sealed = kms.encrypt(KEY_ID, TEXT).await.expect("encrypt");
    assert_eq!(sealed.key_id(), KEY_ID);
    let opened = kms
        .decrypt(sealed.ciphertext_blob())
        .await
        .expect("decrypt");
    assert_eq!(opened.plaintext(), TEXT);

    let request = emulator
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Some(Endpoint::KmsEncrypt))
        .expect("an Encrypt request");
    assert_eq!(request.method, "POST");
    let query: Vec<String> = request.query_pairs().into_iter().map(|(k, _)| k).collect();
    assert_eq!(query, support::SIGNED_QUERY);
    assert_eq!(
        request.query_param("Version").as_deref(),
        Some("2016-01-20")
    );
    assert!(request.body.contains("Plaintext="), "{}", request.body);
    assert_eq!(emulator.calls(Endpoint::KmsDecrypt), 3);
    assert_eq!(emulator.calls(Endpoint::KmsGenerateDataKey), 2);
    assert_eq!(emulator.calls(Endpoint::KmsEncrypt), 1);
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn get_secret_value_reads_the_ram_secret() {
    let emulator = emulator().await;
    let next = std::time::SystemTime::now() + Duration::from_secs(3600);
    emulator.kms_put_ram_secret(
        "ak-secret",
        "LTAI5tRotated1",
        "sentinel-ak-secret",
        Duration::from_secs(7200),
        next,
    );
    let value = client(&emulator)
        .get_secret_value("ak-secret")
        .await
        .expect("secret");
    assert_eq!(value.secret_name(), "ak-secret");
    assert_eq!(value.secret_type(), Some("RAMCredentials"));
    assert_eq!(value.version_id(), Some("v1"));
    assert_eq!(value.version_stages(), ["ACSCurrent"]);
    assert_eq!(value.rotation_interval(), Some(Duration::from_secs(7200)));
    assert!(value.next_rotation_date().is_some());
    assert_eq!(
        value.extended_config(),
        Some(r#"{"SecretSubType":"RamUserAccessKey"}"#)
    );
    let data: serde_json::Value = serde_json::from_str(value.secret_data()).expect("json");
    assert_eq!(data["AccessKeySecret"], "sentinel-ak-secret");
    assert!(!format!("{value:?}").contains("sentinel"));
    let request = emulator.requests().pop().expect("a request");
    assert!(
        request.body.contains("SecretName=ak-secret"),
        "{}",
        request.body
    );
    assert!(request.body.contains("VersionStage=ACSCurrent"));
    assert!(request.body.contains("FetchExtendedConfig=true"));
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn refusals_carry_code_request_id_and_status_and_are_not_retried() {
    let emulator = emulator().await;

    let err = client_with(&emulator, AK, "wrong-secret")
        .encrypt(KEY_ID, TEXT)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"));
    assert_eq!(err.status(), Some(400));
    assert!(err.request_id().is_some());
    assert!(
        err.message().ends_with(
            "(KMS signed the same string as we did, so the source AccessKey secret is wrong)"
        ),
        "{err}"
    );
    assert!(!format!("{err} {err:?}").contains("sentinel"), "{err:?}");
    assert_eq!(emulator.calls(Endpoint::KmsEncrypt), 1);

    let kms = client(&emulator);
    let err = kms
        .generate_data_key("no-such-key", KeySpec::Aes256)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("Forbidden.KeyNotFound"));
    assert_eq!(err.status(), Some(404));
    assert_eq!(
        err.to_string().split(" (RequestId").next(),
        Some("kms: HTTP 404: Forbidden.KeyNotFound: GenerateDataKey was refused: The specified Key is not found.")
    );
    let err = kms.get_secret_value("missing").await.unwrap_err();
    assert_eq!(err.code(), Some("Forbidden.ResourceNotFound"));
    assert_eq!(emulator.calls(Endpoint::KmsGetSecretValue), 1);

    let err = client_with(&emulator, "LTAI5tUnknown", SECRET)
        .decrypt("AAAA")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidAccessKeyId.NotFound"));

    // Tampered and foreign blobs.
    let sealed = kms.encrypt(KEY_ID, TEXT).await.expect("encrypt");
    let mut blob = sealed.ciphertext_blob().to_owned();
    // A character in the middle carries 6 bits of the blob (one near the end may be only padding
    // bits, and changing it to itself would change nothing): always a different blob.
    let mid = blob.len() / 2;
    let other = if &blob[mid..=mid] == "A" { "B" } else { "A" };
    blob.replace_range(mid..=mid, other);
    let err = kms.decrypt(&blob).await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameter"), "{err}");
    assert_eq!(err.status(), Some(400));
    let other = Emulator::start().await.expect("start");
    other.add_access_key(AK, SECRET);
    other.kms_create_key(KEY_ID);
    let err = client(&other)
        .decrypt(sealed.ciphertext_blob())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameter"));

    // Over 6 KB.
    let err = kms
        .encrypt(KEY_ID, &"x".repeat(6 * 1024 + 1))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameter"));
    assert_eq!(emulator.calls(Endpoint::KmsDecrypt), 2);
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn recoverable_failures_are_retried_until_success() {
    let emulator = emulator().await;
    let kms = client(&emulator);
    emulator.inject_fault(Endpoint::KmsGenerateDataKey, Fault::Status(503), 2);
    kms.generate_data_key(KEY_ID, KeySpec::Aes128)
        .await
        .expect("third attempt");
    assert_eq!(emulator.calls(Endpoint::KmsGenerateDataKey), 3);

    emulator.inject_fault(Endpoint::KmsEncrypt, Fault::Status(429), 1);
    emulator.inject_fault(Endpoint::KmsEncrypt, Fault::Status(500), 1);
    kms.encrypt(KEY_ID, TEXT).await.expect("third attempt");
    assert_eq!(emulator.calls(Endpoint::KmsEncrypt), 3);

    // A connection dropped mid-exchange is neither a timeout nor a connect failure: not retried.
    emulator.inject_fault(Endpoint::KmsDecrypt, Fault::Close, 1);
    let sealed = kms.encrypt(KEY_ID, TEXT).await.expect("encrypt");
    let err = kms.decrypt(sealed.ciphertext_blob()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unhandled, "{err}");
    assert_eq!(emulator.calls(Endpoint::KmsDecrypt), 1);
}

#[tokio::test]
async fn retries_stop_after_three_attempts_with_the_last_error() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::KmsGetSecretValue, Fault::Status(429), 10);
    let err = client(&emulator).get_secret_value("any").await.unwrap_err();
    assert_eq!(err.code(), Some("Rejected.Throttling"));
    assert_eq!(err.status(), Some(429));
    assert_eq!(emulator.calls(Endpoint::KmsGetSecretValue), 3);

    // Non-recoverable: one call.
    emulator.inject_fault(Endpoint::KmsEncrypt, Fault::Status(403), 10);
    let err = client(&emulator).encrypt(KEY_ID, TEXT).await.unwrap_err();
    assert_eq!(err.code(), Some("NoPermission"));
    assert_eq!(emulator.calls(Endpoint::KmsEncrypt), 1);
}

#[tokio::test]
async fn garbage_and_missing_fields_name_the_action() {
    // Every fault of GetSecretValue, the retries of timeouts included: `faults.rs`.
    let emulator = emulator().await;
    let kms = client(&emulator);
    emulator.inject_fault(Endpoint::KmsDecrypt, Fault::Garbage, 1);
    let err = kms.decrypt("AAAA").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(
        err.message(),
        "the Decrypt response is not the expected JSON (line 1, column 1)"
    );
    emulator.inject_fault(Endpoint::KmsGenerateDataKey, Fault::MissingFields, 1);
    let err = kms
        .generate_data_key(KEY_ID, KeySpec::Aes256)
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        "the GenerateDataKey response lacks Plaintext"
    );
    assert!(err.request_id().is_some());
    assert_eq!(emulator.calls(Endpoint::KmsDecrypt), 1);
    assert_eq!(emulator.calls(Endpoint::KmsGenerateDataKey), 1);
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    let port = support::closed_port();
    let kms = KmsClient::builder()
        .endpoint(format!("http://127.0.0.1:{port}"))
        .credentials(StaticAccessKeyProvider::new(AK, SECRET).expect("static"))
        .retry(fast_retry())
        .context(support::context())
        .build()
        .expect("build");
    let err = kms.decrypt("AAAA").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unhandled);
    assert_eq!(
        err.to_string(),
        format!("kms: POST http://127.0.0.1:{port}: could not connect")
    );
}

#[tokio::test]
async fn sts_credentials_from_assume_role_sign_kms_calls_with_the_token_in_the_body() {
    let emulator = emulator().await;
    let role = RamRoleArnProvider::builder("acs:ram::123456789012:role/kms-user")
        .source(StaticAccessKeyProvider::new(AK, SECRET).expect("static"))
        .sts_endpoint(emulator.sts_endpoint())
        .context(support::context())
        .build()
        .expect("role");
    let kms = KmsClient::builder()
        .endpoint(emulator.kms_endpoint())
        .credentials(role)
        .context(support::context())
        .build()
        .expect("build");
    let key = kms
        .generate_data_key(KEY_ID, KeySpec::Aes256)
        .await
        .expect("data key");
    kms.decrypt(key.ciphertext_blob()).await.expect("decrypt");
    let issued = emulator.issued();
    assert_eq!(issued.len(), 1);
    let request = emulator
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.endpoint == Some(Endpoint::KmsDecrypt))
        .expect("a Decrypt request");
    assert_eq!(
        request.query_param("AccessKeyId").as_deref(),
        Some(issued[0].access_key_id.as_str())
    );
    assert!(request.query_param("SecurityToken").is_none());
    assert!(request.body.contains("SecurityToken="));
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn an_unconfigured_signer_is_a_configuration_error() {
    let emulator = emulator().await;
    let kms = KmsClient::builder()
        .endpoint(emulator.kms_endpoint())
        .credentials(mse_auth_providers::EnvironmentProvider::with_env(
            Env::from_pairs::<&str, &str>([]),
        ))
        .context(support::context())
        .build()
        .expect("build");
    let err = kms.decrypt("AAAA").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    assert!(
        err.message()
            .starts_with("the credentials that sign KMS calls are not available"),
        "{err}"
    );
    assert_eq!(emulator.calls(Endpoint::KmsDecrypt), 0);
    let _ = kms::NAME;
}
