//! The KMS-rotated AccessKey provider against the emulator's KMS, on manual time for the schedule and the rate limit
//! (the KMS client itself signs with the real clock, as the emulator checks timestamps against it).

use std::time::{Duration, Instant, SystemTime};

use aws_smithy_async::test_util::tick_advance_sleep::{
    tick_advance_time_and_sleep, TickAdvanceTime,
};
use aws_smithy_async::time::TimeSource;
use mse_auth_emulator::{Emulator, Endpoint, Fault};
use mse_auth_providers::backoff::Backoff;
use mse_auth_providers::kms::{KmsClient, RetryPolicy};
use mse_auth_providers::kms_rotating::{self, CachedKmsRotatingProvider, KmsRotatingProvider};
use mse_auth_providers::os::Env;
use mse_auth_providers::{Context, CredentialsProvider, ErrorKind, StaticAccessKeyProvider};

const SIGNER_AK: &str = "LTAI5tKmsSigner";
const SIGNER_SECRET: &str = "kms-signer-secret-77";
const SECRET_NAME: &str = "ram-user-ak";
const AK1: &str = "LTAI5tFirstKey0001";
const AK1_SECRET: &str = "first-key-secret-sentinel";
const HOUR: Duration = Duration::from_secs(3600);
const MIN: Duration = Duration::from_secs(60);
/// The longest a test waits (real time) for a background refresh.
const MAX_WAIT: Duration = Duration::from_secs(5);

async fn emulator() -> Emulator {
    let emulator = Emulator::start().await.expect("start the emulator");
    emulator.add_access_key(SIGNER_AK, SIGNER_SECRET);
    emulator
}

fn empty_env() -> Env {
    Env::from_pairs::<&str, &str>([])
}

fn kms(emulator: &Emulator) -> KmsClient {
    KmsClient::builder()
        .endpoint(emulator.kms_endpoint())
        .credentials(StaticAccessKeyProvider::new(SIGNER_AK, SIGNER_SECRET).expect("static"))
        .retry(RetryPolicy::new(
            2,
            Backoff::new(Duration::from_millis(10), Duration::from_millis(20)),
            Duration::from_secs(2),
        ))
        .context(Context::default().with_env(empty_env()))
        .build()
        .expect("kms client")
}

/// Manual time, set to the real time so that the emulator's dates and the schedule agree.
async fn manual_time() -> (TickAdvanceTime, Context) {
    let (time, sleep) = tick_advance_time_and_sleep();
    let since_epoch = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock after 1970");
    time.tick(since_epoch).await;
    let ctx = Context::default()
        .with_env(empty_env())
        .with_time_source(time.clone())
        .with_sleep(sleep);
    (time, ctx)
}

fn provider(emulator: &Emulator, ctx: Context) -> CachedKmsRotatingProvider {
    KmsRotatingProvider::builder(SECRET_NAME)
        .kms(kms(emulator))
        .max_jitter(Duration::ZERO)
        .context(ctx)
        .build()
        .expect("build")
}

/// Waits (real time, bounded) until the provider serves `id`.
async fn wait_for_key(provider: &CachedKmsRotatingProvider, id: &str) {
    let deadline = Instant::now() + MAX_WAIT;
    loop {
        let creds = provider.provide_credentials().await.expect("credentials");
        if creds.access_key_id() == id {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still serving {} instead of {id}",
            creds.access_key_id()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits (real time, bounded) until `endpoint` has seen more than `calls` requests.
async fn wait_for_calls(emulator: &Emulator, endpoint: Endpoint, calls: usize) {
    let deadline = Instant::now() + MAX_WAIT;
    while emulator.calls(endpoint) <= calls {
        assert!(Instant::now() < deadline, "no call beyond {calls}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn serves_the_secrets_access_key() {
    let emulator = emulator().await;
    emulator.kms_put_ram_secret(
        SECRET_NAME,
        AK1,
        AK1_SECRET,
        24 * HOUR,
        SystemTime::now() + 24 * HOUR,
    );
    let (time, ctx) = manual_time().await;
    let provider = provider(&emulator, ctx);
    let creds = provider.provide_credentials().await.expect("credentials");
    assert_eq!(creds.provider_path(), "kms_rotating");
    assert_eq!(creds.access_key_id(), AK1);
    assert_eq!(creds.access_key_secret(), AK1_SECRET);
    assert_eq!(creds.security_token(), None);
    // No rotation within 6 h: read again after 6 h, so served until 600 h from now.
    assert_eq!(creds.expiration(), Some(time.now() + 6 * HOUR * 100));
    provider.provide_credentials().await.expect("cached");
    assert_eq!(emulator.calls(Endpoint::KmsGetSecretValue), 1);
    assert!(!format!("{provider:?} {creds:?} {creds}").contains("sentinel"));
    assert!(
        emulator.url_leaks().is_empty(),
        "{:?}",
        emulator.url_leaks()
    );
}

#[tokio::test]
async fn after_a_rotation_the_new_key_is_served_by_the_scheduled_time() {
    let emulator = emulator().await;
    let next_rotation = SystemTime::now() + 2 * MIN;
    emulator.kms_put_ram_secret(SECRET_NAME, AK1, AK1_SECRET, HOUR, next_rotation);
    let (time, ctx) = manual_time().await;
    let provider = provider(&emulator, ctx);
    assert_eq!(
        provider
            .provide_credentials()
            .await
            .expect("creds")
            .access_key_id(),
        AK1
    );

    // KMS rotates at (about) NextRotationDate; the provider reads 5 minutes after it.
    let (ak2, _) = emulator.kms_rotate_secret(SECRET_NAME).expect("rotate");
    let parsed_next = mse_auth_providers::timestamp::parse_utc(
        &mse_auth_providers::timestamp::format_utc(next_rotation),
    )
    .expect("whole seconds");
    let scheduled = parsed_next + 5 * MIN;
    let until_scheduled = scheduled.duration_since(time.now()).expect("in the future");
    time.tick(until_scheduled - Duration::from_secs(2)).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        provider
            .provide_credentials()
            .await
            .expect("creds")
            .access_key_id(),
        AK1,
        "read before the schedule"
    );
    assert_eq!(emulator.calls(Endpoint::KmsGetSecretValue), 1);
    time.tick(Duration::from_secs(3)).await;
    wait_for_key(&provider, &ak2).await;
    assert_eq!(emulator.calls(Endpoint::KmsGetSecretValue), 2);
}

#[tokio::test]
async fn a_forced_refresh_returns_the_new_key_at_once() {
    let emulator = emulator().await;
    emulator.kms_put_ram_secret(
        SECRET_NAME,
        AK1,
        AK1_SECRET,
        24 * HOUR,
        SystemTime::now() + 24 * HOUR,
    );
    let (_time, ctx) = manual_time().await;
    let provider = provider(&emulator, ctx);
    provider.provide_credentials().await.expect("creds");
    let (ak2, secret2) = emulator.kms_rotate_secret(SECRET_NAME).expect("rotate");
    let fresh = provider.force_refresh().await.expect("forced refresh");
    assert_eq!(
        (fresh.access_key_id(), fresh.access_key_secret()),
        (ak2.as_str(), secret2.as_str())
    );
    assert_eq!(
        provider
            .provide_credentials()
            .await
            .expect("creds")
            .access_key_id(),
        ak2
    );
    assert_eq!(
        provider.current().map(|c| c.access_key_id().to_owned()),
        Some(ak2)
    );
}

#[tokio::test]
async fn forced_refreshes_are_limited_to_five_then_one_per_ten_minutes() {
    let emulator = emulator().await;
    emulator.kms_put_ram_secret(
        SECRET_NAME,
        AK1,
        AK1_SECRET,
        24 * HOUR,
        SystemTime::now() + 24 * HOUR,
    );
    let (time, ctx) = manual_time().await;
    let provider = provider(&emulator, ctx);
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
    assert_eq!(
        provider
            .provide_credentials()
            .await
            .expect("creds")
            .access_key_id(),
        AK1
    );

    time.tick(10 * MIN).await;
    provider
        .force_refresh()
        .await
        .expect("a token after 10 minutes");
    assert_eq!(emulator.calls(Endpoint::KmsGetSecretValue), 7);
    let err = provider.force_refresh().await.unwrap_err();
    assert_eq!(err.code(), Some(kms_rotating::FORCED_REFRESH_THROTTLED));
}

#[tokio::test]
async fn failed_refreshes_keep_the_old_key_in_service() {
    let emulator = emulator().await;
    emulator.kms_put_ram_secret(
        SECRET_NAME,
        AK1,
        AK1_SECRET,
        24 * HOUR,
        SystemTime::now() + 24 * HOUR,
    );
    let (time, ctx) = manual_time().await;
    let provider = provider(&emulator, ctx);
    provider.provide_credentials().await.expect("creds");
    emulator.kms_rotate_secret(SECRET_NAME).expect("rotate");
    emulator.inject_fault(Endpoint::KmsGetSecretValue, Fault::Status(503), 100_000);

    // The scheduled read (6 h) fails: still the old key.
    time.tick(6 * HOUR + Duration::from_secs(1)).await;
    wait_for_calls(&emulator, Endpoint::KmsGetSecretValue, 1).await;
    assert_eq!(
        provider
            .provide_credentials()
            .await
            .expect("creds")
            .access_key_id(),
        AK1
    );

    // A forced refresh that fails reports the error; the old key stays.
    let err = provider.force_refresh().await.unwrap_err();
    assert_eq!(err.code(), Some("ServiceUnavailableTemporary"), "{err}");
    assert_eq!(err.provider_path(), "kms_rotating/kms");
    assert_eq!(
        provider
            .provide_credentials()
            .await
            .expect("creds")
            .access_key_id(),
        AK1
    );

    // A day of failing retries later: still served.
    for _ in 0..24 {
        time.tick(HOUR).await;
        tokio::task::yield_now().await;
    }
    assert_eq!(
        provider
            .provide_credentials()
            .await
            .expect("creds")
            .access_key_id(),
        AK1
    );
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
    let emulator = emulator().await;
    emulator.kms_put_ram_secret(
        SECRET_NAME,
        AK1,
        AK1_SECRET,
        24 * HOUR,
        SystemTime::now() + 24 * HOUR,
    );
    let (_time, ctx) = manual_time().await;
    let provider = provider(&emulator, ctx);
    provider.provide_credentials().await.expect("creds");
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
    assert_eq!(
        provider
            .provide_credentials()
            .await
            .expect("creds")
            .access_key_id(),
        AK1
    );
}

#[tokio::test]
async fn secrets_that_are_not_ram_credentials_or_lack_a_key_are_refused_without_quoting_them() {
    let emulator = emulator().await;
    let (_time, ctx) = manual_time().await;
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
            .kms(kms(&emulator))
            .context(ctx.clone())
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
    let err = provider(&emulator, ctx)
        .provide_credentials()
        .await
        .map(|_| ())
        .unwrap_err();
    assert_eq!(err.provider_path(), "kms_rotating");
    let missing = KmsRotatingProvider::builder("no-such-secret")
        .kms(kms(&emulator))
        .build_uncached()
        .expect("build")
        .provide_credentials()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("Forbidden.ResourceNotFound"));
    assert_eq!(missing.provider_path(), "kms_rotating/kms");
}
