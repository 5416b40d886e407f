//! `ecs_ram_role` against the emulator's instance metadata service: the token path, the IMDSv1
//! fallbacks, role discovery, refresh, and every failure the service can produce.

mod support;

use std::time::{Duration, Instant};

use mse_auth_emulator::{Emulator, Endpoint, Fault, IssuedCredentials, LoggedRequest};
use mse_auth_providers::http::Timeouts;
use mse_auth_providers::os::Env;
use mse_auth_providers::{ecs_ram_role, vars};
use mse_auth_providers::{Context, Credentials, CredentialsError, CredentialsProvider};
use mse_auth_providers::{EcsRamRoleProvider, ErrorKind};
use support::{closed_port, Canned, Unanswered};

const ROLE: &str = "EcsRamRoleTest";
const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";

async fn emulator() -> Emulator {
    let emulator = Emulator::start().await.expect("emulator starts");
    emulator.set_imds_role(ROLE);
    emulator
}

fn context(env: &[(&str, &str)]) -> Context {
    Context::default().with_env(Env::from_pairs(env.iter().copied()))
}

/// A builder on the emulator with `env` as the whole environment.
fn builder(emulator: &Emulator, env: &[(&str, &str)]) -> ecs_ram_role::Builder {
    EcsRamRoleProvider::builder()
        .metadata_endpoint(emulator.ecs_metadata_endpoint())
        .context(context(env))
}

/// A provider on the emulator with the role name from the environment.
fn provider(emulator: &Emulator) -> EcsRamRoleProvider {
    builder(emulator, &[(vars::ECS_METADATA, ROLE)])
        .build_uncached()
        .expect("valid settings")
}

async fn load_err(provider: &impl CredentialsProvider) -> CredentialsError {
    match provider.provide_credentials().await {
        Ok(creds) => panic!("expected an error, got {creds:?}"),
        Err(err) => err,
    }
}

fn assert_issued(creds: &Credentials, issued: &IssuedCredentials) {
    assert_eq!(creds.provider_path(), "ecs_ram_role");
    assert_eq!(creds.access_key_id(), issued.access_key_id);
    assert_eq!(creds.access_key_secret(), issued.access_key_secret);
    assert_eq!(creds.security_token(), Some(issued.security_token.as_str()));
    assert_eq!(creds.expiration(), Some(issued.expiration));
}

fn assert_no_leaks(emulator: &Emulator) {
    assert!(
        emulator.url_leaks().is_empty(),
        "{:?}",
        emulator.url_leaks()
    );
}

/// (method, path, carries a token header) of every request.
fn trace(emulator: &Emulator) -> Vec<(String, String, bool)> {
    emulator
        .requests()
        .iter()
        .map(|r: &LoggedRequest| {
            let token = r
                .header("x-aliyun-ecs-metadata-token")
                .is_some_and(|t| !t.is_empty());
            (r.method.clone(), r.path_and_query.clone(), token)
        })
        .collect()
}

fn step(method: &str, path: &str, token: bool) -> (String, String, bool) {
    (method.to_owned(), path.to_owned(), token)
}

fn credentials_path() -> String {
    format!("{CREDENTIALS_PATH}{ROLE}")
}

async fn wait_for_calls(emulator: &Emulator, endpoint: Endpoint, n: usize, limit: Duration) {
    let start = Instant::now();
    while emulator.calls(endpoint) < n {
        assert!(
            start.elapsed() < limit,
            "{n} calls to {endpoint:?} did not happen within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn puts_a_token_then_gets_the_credentials_with_it() {
    let emulator = emulator().await;
    let creds = provider(&emulator).provide_credentials().await.unwrap();
    assert_issued(&creds, &emulator.issued()[0]);
    // Two requests only: the token was accepted (a refused token would cause a token-less retry).
    assert_eq!(
        trace(&emulator),
        [
            step("PUT", "/latest/api/token", false),
            step("GET", &credentials_path(), true),
        ]
    );
    let put = &emulator.requests()[0];
    assert_eq!(
        put.header("x-aliyun-ecs-metadata-token-ttl-seconds"),
        Some("21600")
    );
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn discovers_the_role_name_and_trims_it_with_a_fresh_token_per_get() {
    let emulator = emulator().await;
    emulator.set_imds_role(&format!(" {ROLE}\n"));
    let creds = builder(&emulator, &[])
        .build_uncached()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert_issued(&creds, &emulator.issued()[0]);
    assert_eq!(
        trace(&emulator),
        [
            step("PUT", "/latest/api/token", false),
            step("GET", CREDENTIALS_PATH, true),
            step("PUT", "/latest/api/token", false),
            step("GET", &credentials_path(), true),
        ]
    );
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn a_role_name_set_in_code_wins_over_the_environment() {
    let emulator = emulator().await;
    let creds = builder(&emulator, &[(vars::ECS_METADATA, "OtherRole")])
        .role_name(ROLE)
        .build_uncached()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert_issued(&creds, &emulator.issued()[0]);
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn an_empty_role_name_from_the_service_is_a_provider_error() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::ImdsRole, Fault::MissingFields, 1);
    let err = load_err(&builder(&emulator, &[]).build_uncached().unwrap()).await;
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(
        err.to_string(),
        format!(
            "ecs_ram_role: the metadata service at {} reports no RAM role: attach a role to the instance",
            emulator.ecs_metadata_endpoint()
        )
    );
    assert_eq!(emulator.calls(Endpoint::ImdsCredentials), 0);
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn a_failed_token_put_falls_back_to_a_token_less_get() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::ImdsToken, Fault::Status(405), 1);
    let creds = provider(&emulator).provide_credentials().await.unwrap();
    assert_issued(&creds, &emulator.issued()[0]);
    assert_eq!(
        trace(&emulator),
        [
            step("PUT", "/latest/api/token", false),
            step("GET", &credentials_path(), false),
        ]
    );
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn a_failed_get_with_a_token_is_repeated_once_without_it() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::ImdsCredentials, Fault::Status(401), 1);
    let creds = provider(&emulator).provide_credentials().await.unwrap();
    assert_issued(&creds, &emulator.issued()[0]);
    assert_eq!(
        trace(&emulator),
        [
            step("PUT", "/latest/api/token", false),
            step("GET", &credentials_path(), true),
            step("GET", &credentials_path(), false),
        ]
    );
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn with_imdsv1_disabled_in_code_a_failed_token_put_is_an_error_naming_the_cause() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::ImdsToken, Fault::Status(403), 1);
    let provider = builder(&emulator, &[(vars::ECS_METADATA, ROLE)])
        .disable_imdsv1(true)
        .build_uncached()
        .unwrap();
    let err = load_err(&provider).await;
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.code(), Some("NoPermission"));
    assert_eq!(
        err.to_string(),
        format!(
            "ecs_ram_role: HTTP 403: NoPermission: getting a metadata token from the metadata service \
             at {} failed, and the IMDSv1 fallback is disabled (disable_imdsv1 or \
             ALIBABA_CLOUD_IMDSV1_DISABLED)",
            emulator.ecs_metadata_endpoint()
        )
    );
    assert_eq!(emulator.calls(Endpoint::ImdsCredentials), 0);
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn with_imdsv1_disabled_by_env_a_failed_get_is_not_repeated() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::ImdsCredentials, Fault::Status(500), 1);
    let env = [(vars::ECS_METADATA, ROLE), (vars::IMDSV1_DISABLED, "true")];
    let err = load_err(&builder(&emulator, &env).build_uncached().unwrap()).await;
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.status(), Some(500));
    assert_eq!(
        err.to_string(),
        format!(
            "ecs_ram_role: HTTP 500: InternalError: getting the credentials of RAM role `{ROLE}` from \
             the metadata service at {} failed",
            emulator.ecs_metadata_endpoint()
        )
    );
    assert_eq!(emulator.calls(Endpoint::ImdsCredentials), 1);
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn a_service_that_requires_tokens_refuses_the_v1_fallback_with_401() {
    let emulator = emulator().await;
    emulator.set_imds_token_required(true);
    emulator.inject_fault(Endpoint::ImdsToken, Fault::Status(503), 1);
    let err = load_err(&provider(&emulator)).await;
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.status(), Some(401));
    assert!(err.message().starts_with(&format!(
        "getting the credentials of RAM role `{ROLE}` from the metadata service"
    )));
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn disabled_by_env_is_not_loaded_and_sends_nothing() {
    let emulator = emulator().await;
    let env = [
        (vars::ECS_METADATA_DISABLED, "true"),
        (vars::ECS_METADATA, ROLE),
    ];
    let err = builder(&emulator, &env).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotLoaded);
    assert_eq!(
        err.to_string(),
        "ecs_ram_role: not loaded: disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED"
    );
    assert!(emulator.requests().is_empty());
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn nothing_listening_at_the_endpoint_is_not_loaded_at_once() {
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let provider = EcsRamRoleProvider::builder()
        .metadata_endpoint(&endpoint)
        .context(context(&[]))
        .build()
        .unwrap();
    let start = Instant::now();
    let err = load_err(&provider).await;
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(err.kind(), ErrorKind::NotLoaded);
    assert_eq!(
        err.to_string(),
        format!("ecs_ram_role: not loaded: no instance metadata service at {endpoint}: not running on ECS?")
    );
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn an_address_that_never_answers_is_not_loaded_within_the_connect_budget() {
    let silent = Unanswered::start();
    let endpoint = format!("http://{}", silent.addr);
    // Default budgets (1 s connect), the role discovered: a second attempt would show in the time.
    let provider = EcsRamRoleProvider::builder()
        .metadata_endpoint(&endpoint)
        .context(context(&[]))
        .build_uncached()
        .unwrap();
    let start = Instant::now();
    let err = load_err(&provider).await;
    let elapsed = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::NotLoaded, "{err}");
    assert_eq!(
        err.message(),
        format!("no instance metadata service at {endpoint}: not running on ECS?")
    );
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_millis(1400),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn upstream_error_statuses_are_provider_errors_with_status_and_code() {
    for (status, code) in [
        (400, "InvalidParameter"),
        (403, "NoPermission"),
        (500, "InternalError"),
        (503, "ServiceUnavailable"),
    ] {
        let emulator = emulator().await;
        // Twice: the token-less retry fails too.
        emulator.inject_fault(Endpoint::ImdsCredentials, Fault::Status(status), 2);
        let err = load_err(&provider(&emulator)).await;
        assert_eq!(err.kind(), ErrorKind::Provider, "{status}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.code(), Some(code));
        assert_eq!(
            err.message(),
            format!(
                "getting the credentials of RAM role `{ROLE}` from the metadata service at {} failed \
                 (also without a token)",
                emulator.ecs_metadata_endpoint()
            )
        );
        assert_eq!(emulator.calls(Endpoint::ImdsCredentials), 2);
        assert_no_leaks(&emulator);
    }
}

#[tokio::test]
async fn an_unknown_role_is_404_saying_the_role_is_not_attached() {
    let emulator = emulator().await;
    let provider = builder(&emulator, &[])
        .role_name("NotAttached")
        .build_uncached()
        .unwrap();
    let err = load_err(&provider).await;
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.status(), Some(404));
    assert_eq!(
        err.to_string(),
        format!(
            "ecs_ram_role: HTTP 404: the RAM role `NotAttached` is not attached to this instance \
             (metadata service at {}): attach it, or configure the attached role's name (also without \
             a token)",
            emulator.ecs_metadata_endpoint()
        )
    );
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn a_hang_after_connecting_times_out_within_the_budget_without_a_v1_repeat() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::ImdsCredentials, Fault::Hang, 2);
    let budget = Timeouts::new(Duration::from_millis(300), Duration::from_millis(300));
    let provider = builder(&emulator, &[(vars::ECS_METADATA, ROLE)])
        .timeouts(budget)
        .build_uncached()
        .unwrap();
    let start = Instant::now();
    let err = load_err(&provider).await;
    let elapsed = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert_eq!(err.timeout(), Some(budget.total()));
    assert_eq!(err.to_string(), "ecs_ram_role: timed out after 600ms");
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_millis(1500),
        "{elapsed:?}"
    );
    assert_eq!(emulator.calls(Endpoint::ImdsCredentials), 1);
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn a_hanging_token_put_falls_back_to_v1_after_its_budget() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::ImdsToken, Fault::Hang, 1);
    let budget = Timeouts::new(Duration::from_millis(200), Duration::from_millis(200));
    let provider = builder(&emulator, &[(vars::ECS_METADATA, ROLE)])
        .timeouts(budget)
        .build_uncached()
        .unwrap();
    let creds = provider.provide_credentials().await.unwrap();
    assert_issued(&creds, &emulator.issued()[0]);
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn garbage_is_a_provider_error() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::ImdsCredentials, Fault::Garbage, 1);
    let err = load_err(&provider(&emulator)).await;
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(
        err.to_string(),
        "ecs_ram_role: the credentials response is not JSON (line 1, column 1)"
    );
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn missing_fields_are_named() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::ImdsCredentials, Fault::MissingFields, 1);
    let err = load_err(&provider(&emulator)).await;
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(
        err.to_string(),
        "ecs_ram_role: the credentials response lacks AccessKeyId"
    );
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn a_closed_connection_is_unhandled_naming_the_call() {
    let emulator = emulator().await;
    emulator.inject_fault(Endpoint::ImdsCredentials, Fault::Close, 2);
    let err = load_err(&provider(&emulator)).await;
    assert_eq!(err.kind(), ErrorKind::Unhandled, "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "ecs_ram_role: getting the credentials of RAM role `{ROLE}` failed: GET {}: request \
             failed (also without a token)",
            emulator.ecs_metadata_endpoint()
        )
    );
    assert_eq!(emulator.calls(Endpoint::ImdsCredentials), 2);
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn code_other_than_success_is_a_provider_error() {
    let server = Canned::start(|method, _| match method {
        "PUT" => (200, "canned-token".into()),
        _ => (
            200,
            r#"{"Code":"Failed","AccessKeyId":"STS.x","AccessKeySecret":"s","SecurityToken":"t",
                "Expiration":"2099-01-01T00:00:00Z"}"#
                .into(),
        ),
    })
    .await;
    let provider = EcsRamRoleProvider::builder()
        .metadata_endpoint(server.base_url())
        .role_name(ROLE)
        .context(context(&[]))
        .build_uncached()
        .unwrap();
    let err = load_err(&provider).await;
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.code(), Some("Failed"));
    assert_eq!(
        err.to_string(),
        "ecs_ram_role: Failed: the credentials response has Code `Failed`, not `Success`"
    );
}

#[tokio::test]
async fn the_cache_refreshes_after_a_short_lifetime() {
    let emulator = emulator().await;
    emulator.set_credential_lifetime(Duration::from_secs(2));
    let cache = builder(&emulator, &[(vars::ECS_METADATA, ROLE)])
        .build()
        .unwrap();
    let first = cache.provide_credentials().await.unwrap();
    assert_issued(&first, &emulator.issued()[0]);
    assert_eq!(cache.provide_credentials().await.unwrap(), first);
    assert_eq!(emulator.calls(Endpoint::ImdsCredentials), 1);
    wait_for_calls(
        &emulator,
        Endpoint::ImdsCredentials,
        2,
        Duration::from_secs(5),
    )
    .await;
    // The background refresh lands right after its request; wait for it to be published.
    let start = Instant::now();
    let second = loop {
        let creds = cache.provide_credentials().await.unwrap();
        if creds != first {
            break creds;
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "the refresh was not published"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let issued = emulator.issued();
    assert!(issued.len() >= 2);
    assert_issued(&second, &issued[1]);
    assert_no_leaks(&emulator);
}

#[tokio::test]
async fn unexpired_credentials_are_served_while_refreshes_fail() {
    let emulator = emulator().await;
    emulator.set_credential_lifetime(Duration::from_secs(6));
    let cache = builder(&emulator, &[(vars::ECS_METADATA, ROLE)])
        .build()
        .unwrap();
    let first = cache.provide_credentials().await.unwrap();
    emulator.inject_fault(Endpoint::ImdsCredentials, Fault::Status(500), 1000);
    // The prefetch (at 70–75 % of the lifetime) fails; expiry is still ≥ 1 s away.
    wait_for_calls(
        &emulator,
        Endpoint::ImdsCredentials,
        2,
        Duration::from_secs(6),
    )
    .await;
    let expiration = first.expiration().unwrap();
    assert!(
        std::time::SystemTime::now() + Duration::from_millis(500) < expiration,
        "the test ran too slowly to show anything"
    );
    assert_eq!(cache.provide_credentials().await.unwrap(), first);
    assert_eq!(emulator.issued().len(), 1);
    assert_no_leaks(&emulator);
}
