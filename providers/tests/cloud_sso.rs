//! `cloud_sso` against the emulator on manual time (and a canned server for answers the emulator
//! does not give): the request as the official clients send it, the background refresh, every
//! refusal with its message, and the CLI profile mode `CloudSSO`.

mod support;

use std::time::Duration;

use mse_auth_emulator::{Endpoint, Fault};
use mse_auth_providers::http::Timeouts;
use mse_auth_providers::os::{Env, Fs};
use mse_auth_providers::{cloud_sso, CliProfileProvider, CloudSsoProvider};
use mse_auth_providers::{Context, CredentialsError, CredentialsProvider, ErrorKind};
use serde_json::{json, Value};
use support::{assert_hides, assert_issued, load_err, Canned, Cloud};

const TOKEN: &str = "sentinel-sso-access-token-5d1e";
const ACCOUNT: &str = "1234567890123456";
const ACCESS_CONFIG: &str = "ac-00ccule7tadaijxc69pp";
const RELOGIN: &str = "log in again with the Alibaba Cloud CLI: aliyun configure --mode CloudSSO";
/// Small budgets, so a hang costs little real time.
const BUDGET: Timeouts = Timeouts::new(Duration::from_millis(100), Duration::from_millis(200));

/// The emulator, taking [`TOKEN`] for an hour for [`ACCOUNT`] / [`ACCESS_CONFIG`].
async fn cloud() -> Cloud {
    let cloud = support::cloud().await;
    cloud.emulator.cloud_sso_add_access_token(
        TOKEN,
        cloud.now() + Duration::from_secs(3600),
        ACCOUNT,
        ACCESS_CONFIG,
    );
    cloud
}

/// A builder on `url`, holding [`TOKEN`] valid for `valid` (by the cloud's clock).
fn builder(cloud: &Cloud, url: &str, valid: Duration) -> cloud_sso::Builder {
    CloudSsoProvider::builder(url, ACCOUNT, ACCESS_CONFIG)
        .access_token(TOKEN, cloud.now() + valid)
        .timeouts(BUDGET)
        .context(cloud.context())
}

fn provider(cloud: &Cloud) -> CloudSsoProvider {
    builder(
        cloud,
        &cloud.emulator.cloud_sso_sign_in_url(),
        Duration::from_secs(3600),
    )
    .build_uncached()
    .expect("build")
}

/// `err`'s text up to ` (RequestId` (request ids are random), after checking it hides the token.
fn text(err: &CredentialsError) -> String {
    assert_hides(err, TOKEN);
    let shown = err.to_string();
    shown
        .split(" (RequestId")
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn posts_the_account_and_access_configuration_with_the_bearer_token() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let creds = provider(&cloud).provide_credentials().await.unwrap();
    assert_eq!(creds.provider_path(), "cloud_sso");
    assert_issued(&creds, &emulator.issued()[0]);
    assert_eq!(emulator.issued()[0].endpoint, Endpoint::CloudSsoCredentials);
    let requests = emulator.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        (request.method.as_str(), request.path_and_query.as_str()),
        ("POST", "/cloud-credentials")
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("accept"), Some("application/json"));
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(
        body,
        json!({"AccountId": ACCOUNT, "AccessConfigurationId": ACCESS_CONFIG})
    );
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn the_cache_refreshes_before_the_credentials_expire() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    emulator.set_credential_lifetime(Duration::from_secs(100));
    let cache = builder(
        &cloud,
        &emulator.cloud_sso_sign_in_url(),
        Duration::from_secs(3600),
    )
    .build()
    .unwrap();
    let first = cache.provide_credentials().await.unwrap();
    assert_eq!(cache.provide_credentials().await.unwrap(), first);
    cloud.advance(Duration::from_secs(60)).await;
    support::settle(200).await;
    assert_eq!(
        emulator.calls(Endpoint::CloudSsoCredentials),
        1,
        "too early"
    );
    cloud.advance(Duration::from_secs(20)).await;
    let second = support::refreshed(&cache, &first).await;
    assert_issued(&second, &emulator.issued()[1]);
    assert_eq!(emulator.calls(Endpoint::CloudSsoCredentials), 2);
}

#[tokio::test]
async fn an_expired_token_is_refused_at_build_and_at_load_without_a_call() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let url = emulator.cloud_sso_sign_in_url();
    let err = CloudSsoProvider::builder(&url, ACCOUNT, ACCESS_CONFIG)
        .access_token(TOKEN, cloud.now() - Duration::from_secs(1))
        .context(cloud.context())
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    let expired_at =
        mse_auth_providers::timestamp::format_utc(cloud.now() - Duration::from_secs(1));
    assert_eq!(
        text(&err),
        format!(
            "cloud_sso: invalid configuration: the CloudSSO access token expired at {expired_at}: \
             {RELOGIN}"
        )
    );
    let soon = builder(&cloud, &url, Duration::from_secs(60))
        .build_uncached()
        .unwrap();
    let expires = mse_auth_providers::timestamp::format_utc(cloud.now() + Duration::from_secs(60));
    cloud.advance(Duration::from_secs(60)).await;
    let err = load_err(&soon).await;
    assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    assert_eq!(
        text(&err),
        format!(
            "cloud_sso: invalid configuration: the CloudSSO access token expired at {expires}: \
             {RELOGIN}"
        )
    );
    assert_eq!(emulator.calls(Endpoint::CloudSsoCredentials), 0);
}

#[tokio::test]
async fn tokens_and_grants_the_service_refuses_are_provider_errors_naming_status_and_code() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let origin = emulator.base_url();
    let url = emulator.cloud_sso_sign_in_url();
    // The service's grant ends before the expiry the client was given.
    emulator.cloud_sso_add_access_token(
        TOKEN,
        cloud.now() + Duration::from_secs(10),
        ACCOUNT,
        ACCESS_CONFIG,
    );
    let p = builder(&cloud, &url, Duration::from_secs(3600))
        .build_uncached()
        .unwrap();
    cloud.advance(Duration::from_secs(20)).await;
    let err = load_err(&p).await;
    assert_eq!(
        (err.kind(), err.status(), err.code()),
        (
            ErrorKind::Provider,
            Some(401),
            Some("InvalidAccessToken.Expired")
        )
    );
    assert!(err.request_id().is_some());
    assert_eq!(
        text(&err),
        format!(
            "cloud_sso: HTTP 401: InvalidAccessToken.Expired: the CloudSSO service at {origin} \
             refused the credentials request (it says: The specified access token has expired.); \
             {RELOGIN}"
        )
    );

    let other_config = CloudSsoProvider::builder(&url, ACCOUNT, "ac-not-assigned")
        .access_token(
            "sentinel-unknown-token",
            cloud.now() + Duration::from_secs(60),
        )
        .context(cloud.context())
        .build_uncached()
        .unwrap();
    let err = load_err(&other_config).await;
    assert_hides(&err, "sentinel-unknown-token");
    assert_eq!(
        text(&err),
        format!(
            "cloud_sso: HTTP 401: InvalidAccessToken: the CloudSSO service at {origin} refused the \
             credentials request (it says: The specified access token is invalid.); {RELOGIN}"
        )
    );
    emulator.cloud_sso_add_access_token(
        TOKEN,
        cloud.now() + Duration::from_secs(60),
        ACCOUNT,
        ACCESS_CONFIG,
    );
    let wrong_config = CloudSsoProvider::builder(&url, ACCOUNT, "ac-not-assigned")
        .access_token(TOKEN, cloud.now() + Duration::from_secs(60))
        .context(cloud.context())
        .build_uncached()
        .unwrap();
    let err = load_err(&wrong_config).await;
    assert_eq!(
        text(&err),
        format!(
            "cloud_sso: HTTP 400: InvalidParameter.AccessConfigurationId: the CloudSSO service at \
             {origin} refused the credentials request (it says: The specified access configuration \
             is not assigned to this user in this account.)"
        )
    );
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn faults_are_reported_with_status_code_or_the_problem_of_the_body() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let origin = emulator.base_url();
    let p = provider(&cloud);
    let cases: [(Fault, ErrorKind, String); 7] = [
        (
            Fault::Status(403),
            ErrorKind::Provider,
            format!(
                "cloud_sso: HTTP 403: NoPermission: the CloudSSO service at {origin} refused the \
                 credentials request (it says: You are not authorized to do this action. You should \
                 be authorized by RAM.)"
            ),
        ),
        (
            Fault::Status(500),
            ErrorKind::Provider,
            format!(
                "cloud_sso: HTTP 500: InternalError: the CloudSSO service at {origin} failed the \
                 credentials request (it says: The request processing has failed due to some \
                 unknown error.)"
            ),
        ),
        (
            Fault::Status(503),
            ErrorKind::Provider,
            format!(
                "cloud_sso: HTTP 503: ServiceUnavailable: the CloudSSO service at {origin} failed \
                 the credentials request (it says: The request has failed due to a temporary \
                 failure of the server.)"
            ),
        ),
        (
            Fault::Garbage,
            ErrorKind::Provider,
            "cloud_sso: the CloudSSO response is not JSON (line 1, column 1)".to_owned(),
        ),
        (
            Fault::MissingFields,
            ErrorKind::Provider,
            "cloud_sso: the CloudSSO response lacks CloudCredential.AccessKeyId".to_owned(),
        ),
        (
            Fault::Close,
            ErrorKind::Unhandled,
            format!("cloud_sso: POST {origin}: request failed"),
        ),
        (
            Fault::Hang,
            ErrorKind::TimedOut,
            format!("cloud_sso: timed out after {:?}", BUDGET.total()),
        ),
    ];
    for (fault, kind, expected) in cases {
        emulator.inject_fault(Endpoint::CloudSsoCredentials, fault.clone(), 1);
        let err = load_err(&p).await;
        assert_eq!(err.kind(), kind, "{fault:?}: {err}");
        assert_eq!(text(&err), expected, "{fault:?}");
    }
    assert_eq!(emulator.calls(Endpoint::CloudSsoCredentials), 7);
    assert!(emulator.issued().is_empty());
    // After the faults, the service answers again.
    assert_issued(
        &p.provide_credentials().await.unwrap(),
        &emulator.issued()[0],
    );
}

/// The error of a provider whose service is a canned server answering `respond`, and the server's
/// origin.
async fn canned_error(
    cloud: &Cloud,
    respond: fn(&str, &str) -> (u16, String),
) -> (CredentialsError, String) {
    let server = Canned::start(respond).await;
    let url = format!("{}/d-1/login", server.base_url());
    let p = builder(cloud, &url, Duration::from_secs(60))
        .build_uncached()
        .unwrap();
    let err = load_err(&p).await;
    assert_eq!(err.kind(), ErrorKind::Provider, "{err}");
    (err, server.base_url())
}

#[tokio::test]
async fn bodies_are_never_quoted_and_messages_quoting_the_token_are_dropped() {
    let cloud = support::cloud().await;
    let (err, origin) =
        canned_error(&cloud, |_, _| (502, format!("<html>{TOKEN} upstream down"))).await;
    assert_eq!(
        text(&err),
        format!(
            "cloud_sso: HTTP 502: the CloudSSO service at {origin} failed the credentials request"
        )
    );
    let (err, origin) = canned_error(&cloud, |_, _| {
        (
            401,
            format!(r#"{{"Code":"InvalidAccessToken","Message":"token {TOKEN} is unknown"}}"#),
        )
    })
    .await;
    assert_eq!(
        text(&err),
        format!(
            "cloud_sso: HTTP 401: InvalidAccessToken: the CloudSSO service at {origin} refused the \
             credentials request; {RELOGIN}"
        )
    );
    let (err, _) = canned_error(&cloud, |_, _| {
        (
            200,
            r#"{"RequestId":"x","CloudCredential":{"AccessKeyId":"STS.a","AccessKeySecret":"s",
                "SecurityToken":"t","Expiration":"2099-01-02 03:04:05"}}"#
                .into(),
        )
    })
    .await;
    assert!(
        text(&err).starts_with(
            "cloud_sso: the CloudSSO response has a bad CloudCredential.Expiration: \
             `2099-01-02 03:04:05`"
        ),
        "{err}"
    );
}

/// A CLI config whose `sso` profile is CloudSSO on the emulator, token valid for `valid`.
fn cli_config(cloud: &Cloud, valid: Duration) -> String {
    let expire = (cloud.now() + valid)
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    json!({
        "current": "sso",
        "profiles": [
            {"name": "default", "mode": "AK", "access_key_id": "LTAI5tOther", "access_key_secret": "other"},
            {
                "name": "sso",
                "mode": "CloudSSO",
                "cloud_sso_sign_in_url": cloud.emulator.cloud_sso_sign_in_url(),
                "cloud_sso_account_id": ACCOUNT,
                "cloud_sso_access_config": ACCESS_CONFIG,
                "access_token": TOKEN,
                "cloud_sso_access_token_expire": expire,
                "region_id": "cn-shanghai"
            }
        ]
    })
    .to_string()
}

fn cli_context(cloud: &Cloud, config: &str) -> Context {
    cloud
        .context()
        .with_env(Env::from_pairs([("HOME", "/home/me")]))
        .with_fs(Fs::from_pairs([("/home/me/.aliyun/config.json", config)]))
}

#[tokio::test]
async fn the_cli_profile_mode_cloud_sso_serves_its_credentials() {
    let cloud = cloud().await;
    let config = cli_config(&cloud, Duration::from_secs(3600));
    let provider = CliProfileProvider::builder()
        .context(cli_context(&cloud, &config))
        .build();
    let creds = provider.provide_credentials().await.unwrap();
    assert_eq!(creds.provider_path(), "cli_profile/cloud_sso");
    assert_issued(&creds, &cloud.emulator.issued()[0]);
    // Cached: the second call makes no request.
    assert_eq!(provider.provide_credentials().await.unwrap(), creds);
    assert_eq!(cloud.emulator.calls(Endpoint::CloudSsoCredentials), 1);

    let expired = cli_config(&cloud, Duration::ZERO);
    let err = load_err(
        &CliProfileProvider::builder()
            .context(cli_context(&cloud, &expired))
            .build(),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    let at = mse_auth_providers::timestamp::format_utc(cloud.now());
    assert_eq!(
        text(&err),
        format!(
            "cli_profile: invalid configuration: /home/me/.aliyun/config.json, profile `sso`: the \
             CloudSSO access token expired at {at}: {RELOGIN}"
        )
    );
    cloud.emulator.assert_no_url_leaks();
}
