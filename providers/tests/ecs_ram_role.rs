//! `ecs_ram_role` against the emulator's instance metadata service: the token path, the IMDSv1
//! fallbacks, role discovery, and the failures particular to it. Faults of the credentials GET, the
//! background refresh and serving unexpired credentials through failed refreshes: `faults.rs`.

mod support;

use std::time::{Duration, Instant};

use mse_auth_emulator::{Emulator, Endpoint, Fault, LoggedRequest};
use mse_auth_providers::http::Timeouts;
use mse_auth_providers::os::Env;
use mse_auth_providers::CredentialsProvider;
use mse_auth_providers::{ecs_ram_role, vars};
use mse_auth_providers::{EcsRamRoleProvider, ErrorKind};
use support::{assert_issued, closed_port, load_err, Canned, Cloud, Unanswered};

const ROLE: &str = "EcsRamRoleTest";
const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";

async fn cloud() -> Cloud {
    let cloud = support::cloud().await;
    cloud.emulator.set_imds_role(ROLE);
    cloud
}

/// A builder on the emulator with `env` as the whole environment.
fn builder(cloud: &Cloud, env: &[(&str, &str)]) -> ecs_ram_role::Builder {
    EcsRamRoleProvider::builder()
        .metadata_endpoint(cloud.emulator.ecs_metadata_endpoint())
        .context(
            cloud
                .context()
                .with_env(Env::from_pairs(env.iter().copied())),
        )
}

/// A provider on the emulator with the role name from the environment.
fn provider(cloud: &Cloud) -> EcsRamRoleProvider {
    builder(cloud, &[(vars::ECS_METADATA, ROLE)])
        .build_uncached()
        .expect("valid settings")
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

#[tokio::test]
async fn puts_a_token_then_gets_the_credentials_with_it() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let creds = provider(&cloud).provide_credentials().await.unwrap();
    assert_eq!(creds.provider_path(), "ecs_ram_role");
    assert_issued(&creds, &emulator.issued()[0]);
    // Two requests only: the token was accepted (a refused token would cause a token-less retry).
    assert_eq!(
        trace(emulator),
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
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn discovers_the_role_name_and_trims_it_with_a_fresh_token_per_get() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    emulator.set_imds_role(&format!(" {ROLE}\n"));
    support::load_issued(&builder(&cloud, &[]).build_uncached().unwrap(), emulator, 0).await;
    assert_eq!(
        trace(emulator),
        [
            step("PUT", "/latest/api/token", false),
            step("GET", CREDENTIALS_PATH, true),
            step("PUT", "/latest/api/token", false),
            step("GET", &credentials_path(), true),
        ]
    );
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn a_role_name_set_in_code_wins_over_the_environment() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    support::load_issued(
        &builder(&cloud, &[(vars::ECS_METADATA, "OtherRole")])
            .role_name(ROLE)
            .build_uncached()
            .unwrap(),
        emulator,
        0,
    )
    .await;
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn an_empty_role_name_from_the_service_is_a_provider_error() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    emulator.inject_fault(Endpoint::ImdsRole, Fault::MissingFields, 1);
    let err = load_err(&builder(&cloud, &[]).build_uncached().unwrap()).await;
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(
        err.to_string(),
        format!(
            "ecs_ram_role: the metadata service at {} reports no RAM role: attach a role to the instance",
            emulator.ecs_metadata_endpoint()
        )
    );
    assert_eq!(emulator.calls(Endpoint::ImdsCredentials), 0);
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn a_failed_token_put_falls_back_to_a_token_less_get() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    emulator.inject_fault(Endpoint::ImdsToken, Fault::Status(405), 1);
    support::load_issued(&provider(&cloud), emulator, 0).await;
    assert_eq!(
        trace(emulator),
        [
            step("PUT", "/latest/api/token", false),
            step("GET", &credentials_path(), false),
        ]
    );
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn a_failed_get_with_a_token_is_repeated_once_without_it() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    emulator.inject_fault(Endpoint::ImdsCredentials, Fault::Status(401), 1);
    support::load_issued(&provider(&cloud), emulator, 0).await;
    assert_eq!(
        trace(emulator),
        [
            step("PUT", "/latest/api/token", false),
            step("GET", &credentials_path(), true),
            step("GET", &credentials_path(), false),
        ]
    );
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn with_imdsv1_disabled_in_code_a_failed_token_put_is_an_error_naming_the_cause() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    emulator.inject_fault(Endpoint::ImdsToken, Fault::Status(403), 1);
    let provider = builder(&cloud, &[(vars::ECS_METADATA, ROLE)])
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
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn with_imdsv1_disabled_by_env_a_failed_get_is_not_repeated() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    emulator.inject_fault(Endpoint::ImdsCredentials, Fault::Status(500), 1);
    let env = [(vars::ECS_METADATA, ROLE), (vars::IMDSV1_DISABLED, "true")];
    let err = load_err(&builder(&cloud, &env).build_uncached().unwrap()).await;
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
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn a_service_that_requires_tokens_refuses_the_v1_fallback_with_401() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    emulator.set_imds_token_required(true);
    emulator.inject_fault(Endpoint::ImdsToken, Fault::Status(503), 1);
    let err = load_err(&provider(&cloud)).await;
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.status(), Some(401));
    assert!(err.message().starts_with(&format!(
        "getting the credentials of RAM role `{ROLE}` from the metadata service"
    )));
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn disabled_by_env_is_not_loaded_and_sends_nothing() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let env = [
        (vars::ECS_METADATA_DISABLED, "true"),
        (vars::ECS_METADATA, ROLE),
    ];
    let err = builder(&cloud, &env).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotLoaded);
    assert_eq!(
        err.to_string(),
        "ecs_ram_role: not loaded: disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED"
    );
    assert!(emulator.requests().is_empty());
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn nothing_listening_at_the_endpoint_is_not_loaded_at_once() {
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let provider = EcsRamRoleProvider::builder()
        .metadata_endpoint(&endpoint)
        .context(support::context())
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
        .context(support::context())
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
async fn an_unknown_role_is_404_saying_the_role_is_not_attached() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let provider = builder(&cloud, &[])
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
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn a_hanging_token_put_falls_back_to_v1_after_its_budget() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    emulator.inject_fault(Endpoint::ImdsToken, Fault::Hang, 1);
    let budget = Timeouts::new(Duration::from_millis(200), Duration::from_millis(200));
    let provider = builder(&cloud, &[(vars::ECS_METADATA, ROLE)])
        .timeouts(budget)
        .build_uncached()
        .unwrap();
    support::load_issued(&provider, emulator, 0).await;
    emulator.assert_no_url_leaks();
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
        .context(support::context())
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
async fn a_bare_host_in_the_endpoint_variable_means_plain_http() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let bare = emulator.local_addr().to_string(); // `127.0.0.1:<port>`, no scheme
    let provider = EcsRamRoleProvider::builder()
        .context(cloud.context().with_env(Env::from_pairs([
            (vars::ECS_METADATA, ROLE),
            (vars::ECS_METADATA_ENDPOINT, bare.as_str()),
        ])))
        .build_uncached()
        .expect("a bare loopback host is a valid metadata endpoint");
    support::load_issued(&provider, emulator, 0).await;
    assert_eq!(
        trace(emulator),
        [
            step("PUT", "/latest/api/token", false),
            step("GET", &credentials_path(), true),
        ]
    );
}

#[test]
fn a_bare_host_off_loopback_is_refused_as_plain_http_without_the_opt_in() {
    let err = EcsRamRoleProvider::builder()
        .context(support::context().with_env(Env::from_pairs([(
            vars::ECS_METADATA_ENDPOINT,
            "10.0.0.8:8080",
        )])))
        .build_uncached()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    assert_eq!(
        err.to_string(),
        "ecs_ram_role: invalid configuration: ALIBABA_CLOUD_ECS_METADATA_ENDPOINT: refusing plain http \
         to http://10.0.0.8:8080: credentials would cross the network unencrypted; use https, or opt in \
         with MSE_AUTH_INSECURE_ALLOW_HTTP=true (CLI: --insecure-allow-http)"
    );
}
