//! The KMS-rotated AccessKey provider against the emulator's KMS, on the manual clock the emulator shares (the
//! schedule, the rate limit and the KMS client's timestamps). Faults of the scheduled read: `faults.rs`.

mod support;

use std::time::Duration;

use mse_auth_emulator::{Endpoint, Fault};
use mse_auth_providers::backoff::Backoff;
use mse_auth_providers::kms::{KmsClient, RetryPolicy};
use mse_auth_providers::kms_rotating::{self, CachedKmsRotatingProvider, KmsRotatingProvider};
use mse_auth_providers::{CredentialsProvider, ErrorKind, StaticAccessKeyProvider};
use support::Cloud;

const SIGNER_AK: &str = "LTAI5tKmsSigner";
const SIGNER_SECRET: &str = "kms-signer-secret-77";
const SECRET_NAME: &str = "ram-user-ak";
const AK1: &str = "LTAI5tFirstKey0001";
const AK1_SECRET: &str = "first-key-secret-sentinel";
const HOUR: Duration = Duration::from_secs(3600);
const MIN: Duration = Duration::from_secs(60);

/// A cloud with the signer's key and, unless `None`, the secret holding AK1, rotating every
/// `rotation` (next at one `rotation` from now).
async fn cloud(rotation: Option<Duration>) -> Cloud {
    let cloud = support::cloud().await;
    cloud.emulator.add_access_key(SIGNER_AK, SIGNER_SECRET);
    if let Some(every) = rotation {
        let next = cloud.now() + every;
        cloud
            .emulator
            .kms_put_ram_secret(SECRET_NAME, AK1, AK1_SECRET, every, next);
    }
    cloud
}

/// The KMS client: stamps requests on the shared clock, retries (quickly) on tokio's.
fn kms(cloud: &Cloud) -> KmsClient {
    KmsClient::builder()
        .endpoint(cloud.emulator.kms_endpoint())
        .credentials(StaticAccessKeyProvider::new(SIGNER_AK, SIGNER_SECRET).expect("static"))
        .retry(RetryPolicy::new(
            2,
            Backoff::new(Duration::from_millis(10), Duration::from_millis(20)),
            Duration::from_secs(2),
        ))
        .context(cloud.context_with_real_sleep())
        .build()
        .expect("kms client")
}

fn provider(cloud: &Cloud) -> CachedKmsRotatingProvider {
    KmsRotatingProvider::builder(SECRET_NAME)
        .kms(kms(cloud))
        .max_jitter(Duration::ZERO)
        .context(cloud.context())
        .build()
        .expect("build")
}

/// The AccessKeyId `provider` serves now.
async fn served(provider: &CachedKmsRotatingProvider) -> String {
    let creds = provider.provide_credentials().await.expect("credentials");
    creds.access_key_id().to_owned()
}

#[tokio::test]
async fn serves_the_secrets_access_key() {
    let cloud = cloud(Some(24 * HOUR)).await;
    let emulator = &cloud.emulator;
    let provider = provider(&cloud);
    let creds = provider.provide_credentials().await.expect("credentials");
    assert_eq!(creds.provider_path(), "kms_rotating/static_ak");
    assert_eq!(creds.access_key_id(), AK1);
    assert_eq!(creds.access_key_secret(), AK1_SECRET);
    assert_eq!(creds.security_token(), None);
    // No rotation within 6 h: read again after 6 h, so served until 600 h from now.
    assert_eq!(creds.expiration(), Some(cloud.now() + 6 * HOUR * 100));
    provider.provide_credentials().await.expect("cached");
    assert_eq!(emulator.calls(Endpoint::KmsGetSecretValue), 1);
    assert!(!format!("{provider:?} {creds:?} {creds}").contains("sentinel"));
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn after_a_rotation_the_new_key_is_served_by_the_scheduled_time() {
    let cloud = cloud(None).await;
    let emulator = &cloud.emulator;
    let next_rotation = cloud.now() + 2 * MIN;
    emulator.kms_put_ram_secret(SECRET_NAME, AK1, AK1_SECRET, HOUR, next_rotation);
    let provider = provider(&cloud);
    assert_eq!(served(&provider).await, AK1);

    // KMS rotates at (about) NextRotationDate; the provider reads 5 minutes after it.
    let (ak2, _) = emulator.kms_rotate_secret(SECRET_NAME).expect("rotate");
    let parsed_next = mse_auth_providers::timestamp::parse_utc(
        &mse_auth_providers::timestamp::format_utc(next_rotation),
    )
    .expect("whole seconds");
    let scheduled = parsed_next + 5 * MIN;
    let until_scheduled = scheduled
        .duration_since(cloud.now())
        .expect("in the future");
    cloud
        .advance(until_scheduled - Duration::from_secs(2))
        .await;
    support::settle(200).await;
    assert_eq!(served(&provider).await, AK1, "read before the schedule");
    assert_eq!(emulator.calls(Endpoint::KmsGetSecretValue), 1);
    cloud.advance(Duration::from_secs(3)).await;
    support::until("the rotated key is served", async || {
        served(&provider).await == ak2
    })
    .await;
    assert_eq!(emulator.calls(Endpoint::KmsGetSecretValue), 2);
}

#[tokio::test]
async fn a_forced_refresh_returns_the_new_key_at_once() {
    let cloud = cloud(Some(24 * HOUR)).await;
    let provider = provider(&cloud);
    provider.provide_credentials().await.expect("creds");
    let (ak2, secret2) = cloud
        .emulator
        .kms_rotate_secret(SECRET_NAME)
        .expect("rotate");
    let fresh = provider.force_refresh().await.expect("forced refresh");
    assert_eq!(
        (fresh.access_key_id(), fresh.access_key_secret()),
        (ak2.as_str(), secret2.as_str())
    );
    assert_eq!(served(&provider).await, ak2);
    assert_eq!(
        provider.current().map(|c| c.access_key_id().to_owned()),
        Some(ak2)
    );
}

#[tokio::test]
async fn forced_refreshes_are_limited_to_five_then_one_per_ten_minutes() {
    let cloud = cloud(Some(24 * HOUR)).await;
    let emulator = &cloud.emulator;
    let provider = provider(&cloud);
    provider.provide_credentials().await.expect("creds");
    for _ in 0..5 {
        provider.force_refresh().await.expect("allowed");
    }
    assert_eq!(emulator.calls(Endpoint::KmsGetSecretValue), 6);
    let err = provider.force_refresh().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.code(), Some(kms_rotating::FORCED_REFRESH_THROTTLED));
    assert_eq!(
        err.to_string(),
        "kms_rotating: ForcedRefreshThrottled: forced refresh refused: 5 forced refreshes are allowed \
         at once and one more every 10 min; the next is allowed in 600 s (the cached AccessKey stays in \
         service)"
    );
    assert_eq!(emulator.calls(Endpoint::KmsGetSecretValue), 6);
    // The cached key is still served.
    assert_eq!(served(&provider).await, AK1);

    cloud.advance(10 * MIN).await;
    provider
        .force_refresh()
        .await
        .expect("a token after 10 minutes");
    assert_eq!(emulator.calls(Endpoint::KmsGetSecretValue), 7);
    let err = provider.force_refresh().await.unwrap_err();
    assert_eq!(err.code(), Some(kms_rotating::FORCED_REFRESH_THROTTLED));
}

#[tokio::test]
async fn a_failed_forced_refresh_is_reported_and_a_day_of_failures_keeps_the_old_key() {
    let cloud = cloud(Some(24 * HOUR)).await;
    let emulator = &cloud.emulator;
    let provider = provider(&cloud);
    provider.provide_credentials().await.expect("creds");
    emulator.kms_rotate_secret(SECRET_NAME).expect("rotate");
    emulator.inject_fault(Endpoint::KmsGetSecretValue, Fault::Status(503), 100_000);

    // A forced refresh that fails reports the error; the old key stays.
    let err = provider.force_refresh().await.unwrap_err();
    assert_eq!(err.code(), Some("ServiceUnavailableTemporary"), "{err}");
    assert_eq!(err.provider_path(), "kms_rotating/kms");
    assert_eq!(served(&provider).await, AK1);

    // The scheduled read (at 6 h) fails too, and so do the retries of a day: still served.
    let calls = emulator.calls(Endpoint::KmsGetSecretValue);
    cloud.advance(6 * HOUR + Duration::from_secs(1)).await;
    support::until("the scheduled read", async || {
        emulator.calls(Endpoint::KmsGetSecretValue) > calls
    })
    .await;
    for _ in 0..18 {
        cloud.advance(HOUR).await;
        support::settle(10).await;
    }
    assert_eq!(served(&provider).await, AK1);
    assert_eq!(
        provider
            .current()
            .map(|c| c.access_key_id().to_owned())
            .as_deref(),
        Some(AK1)
    );
}

#[tokio::test]
async fn a_forced_refresh_that_joins_a_failing_read_reports_its_error() {
    let cloud = cloud(Some(24 * HOUR)).await;
    let emulator = &cloud.emulator;
    let provider = provider(&cloud);
    assert_eq!(served(&provider).await, AK1);
    emulator.inject_fault(Endpoint::KmsGetSecretValue, Fault::Status(503), 100_000);
    // One forced read alone, to count the requests of one read (the client retries).
    let before = emulator.calls(Endpoint::KmsGetSecretValue);
    provider.force_refresh().await.unwrap_err();
    let one_read = emulator.calls(Endpoint::KmsGetSecretValue) - before;

    // Two at once: the second joins the first's read (in flight on the network), and both get its
    // error rather than the old key.
    let before = emulator.calls(Endpoint::KmsGetSecretValue);
    let (first, joined) = tokio::join!(provider.force_refresh(), provider.force_refresh());
    assert_eq!(
        emulator.calls(Endpoint::KmsGetSecretValue) - before,
        one_read,
        "one read for both"
    );
    for result in [first, joined] {
        let err = result.unwrap_err();
        assert_eq!(err.code(), Some("ServiceUnavailableTemporary"), "{err}");
        assert_eq!(err.provider_path(), "kms_rotating/kms");
    }
    // Readers keep the old key.
    assert_eq!(served(&provider).await, AK1);
}

#[tokio::test]
async fn secrets_that_are_not_ram_credentials_or_lack_a_key_are_refused_without_quoting_them() {
    let cloud = cloud(None).await;
    let emulator = &cloud.emulator;
    let cases = [
        ("Generic", r#"{"AccessKeyId":"a","AccessKeySecret":"sentinel"}"#,
         "the secret `ram-user-ak` has SecretType `Generic`, not RAMCredentials: it does not hold a RAM user's AccessKey"),
        ("ramcredentials", r#"{"AccessKeyId":"a","AccessKeySecret":""}"#,
         "the SecretData of `ram-user-ak` lacks AccessKeySecret"),
        ("RAMCredentials", r#"{"AccessKeySecret":"sentinel"}"#,
         "the SecretData of `ram-user-ak` lacks AccessKeyId"),
        ("RAMCredentials", "sentinel, not json", "the SecretData of `ram-user-ak` is not a JSON object"),
    ];
    for (secret_type, data, message) in cases {
        emulator.kms_put_secret(SECRET_NAME, secret_type, data);
        let err = KmsRotatingProvider::builder(SECRET_NAME)
            .kms(kms(&cloud))
            .context(cloud.context())
            .build_uncached()
            .expect("build")
            .provide_credentials()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Provider, "{secret_type}");
        assert_eq!(err.message(), message);
        assert!(err.request_id().is_some());
        assert!(!format!("{err} {err:?}").contains("sentinel"), "{err:?}");
    }
    let err = provider(&cloud)
        .provide_credentials()
        .await
        .map(|_| ())
        .unwrap_err();
    assert_eq!(err.provider_path(), "kms_rotating");
    let missing = KmsRotatingProvider::builder("no-such-secret")
        .kms(kms(&cloud))
        .build_uncached()
        .expect("build")
        .provide_credentials()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("Forbidden.ResourceNotFound"));
    assert_eq!(missing.provider_path(), "kms_rotating/kms");
}
