//! The default chain against the emulator: each provider wins in turn and reports its path; with nothing
//! configured it fails fast with every provider's reason.

mod support;

use mse_auth_emulator::{Emulator, Endpoint};
use mse_auth_providers::os::{Env, Fs};
use mse_auth_providers::{
    vars, Context, Credentials, CredentialsProvider, DefaultChain, ErrorKind,
};
use std::time::{Duration, Instant};

const AK_ID: &str = "LTAI5tChainSource";
const AK_SECRET: &str = "chain-source-secret";
const ROLE: &str = "acs:ram::1234567890:role/chain";

/// The chain on `ctx`, asked once.
async fn chain(ctx: Context) -> mse_auth_providers::Result<Credentials> {
    DefaultChain::builder()
        .context(ctx)
        .build()
        .provide_credentials()
        .await
}

fn context(env: Vec<(&str, String)>, files: Vec<(&str, String)>) -> Context {
    let mut pairs: Vec<(String, String)> = vec![("HOME".into(), "/home/chain".into())];
    pairs.extend(env.into_iter().map(|(k, v)| (k.to_string(), v)));
    if !pairs.iter().any(|(k, _)| k == vars::ECS_METADATA_ENDPOINT) {
        pairs.push((
            vars::ECS_METADATA_ENDPOINT.into(),
            format!("http://127.0.0.1:{}", support::closed_port()),
        ));
    }
    Context::default()
        .with_env(Env::from_pairs(pairs))
        .with_fs(Fs::from_pairs(
            files.into_iter().map(|(p, c)| (p, c.into_bytes())),
        ))
}

async fn emulator() -> Emulator {
    let e = Emulator::start().await.unwrap();
    e.add_access_key(AK_ID, AK_SECRET);
    e
}

#[tokio::test]
async fn nothing_configured_fails_fast_listing_every_provider() {
    let started = Instant::now();
    let err = chain(context(vec![], vec![])).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
    assert_eq!(err.kind(), ErrorKind::NotLoaded);
    let text = err.to_string();
    assert!(
        text.starts_with(
            "default: not loaded: none of the 6 providers in the chain loaded credentials ("
        ),
        "{text}"
    );
    for provider in [
        "(env: ",
        "; oidc_role_arn: ",
        "; cli_profile: ",
        "; profile: ",
        "; ecs_ram_role: ",
        "; credentials_uri: ",
    ] {
        assert!(text.contains(provider), "{provider} missing from {text}");
    }
}

#[tokio::test]
async fn environment_wins_first() {
    let ctx = context(
        vec![
            (vars::ACCESS_KEY_ID, AK_ID.into()),
            (vars::ACCESS_KEY_SECRET, AK_SECRET.into()),
        ],
        vec![],
    );
    let c = chain(ctx).await.unwrap();
    assert_eq!(c.provider_path(), "default/env");
}

#[tokio::test]
async fn oidc_wins_when_its_three_variables_are_set() {
    let e = emulator().await;
    e.set_oidc_token("chain-oidc-token");
    let ctx = context(
        vec![
            (vars::ROLE_ARN, ROLE.into()),
            (
                vars::OIDC_PROVIDER_ARN,
                "acs:ram::1234567890:oidc-provider/ack".into(),
            ),
            (vars::OIDC_TOKEN_FILE, "/var/run/token".into()),
            (vars::STS_ENDPOINT, e.sts_endpoint()),
        ],
        vec![("/var/run/token", "chain-oidc-token".into())],
    );
    let c = chain(ctx).await.unwrap();
    assert_eq!(c.provider_path(), "default/oidc_role_arn");
    assert_eq!(e.calls(Endpoint::AssumeRoleWithOidc), 1);
    e.assert_no_url_leaks();
}

#[tokio::test]
async fn cli_profile_with_a_ram_role_wins_and_reports_the_full_path() {
    let e = emulator().await;
    let config = format!(
        r#"{{"current": "role", "profiles": [
            {{"name": "role", "mode": "RamRoleArn", "access_key_id": "{AK_ID}", "access_key_secret": "{AK_SECRET}",
              "ram_role_arn": "{ROLE}", "ram_session_name": "chain-test", "expired_seconds": 900}}]}}"#
    );
    let ctx = context(
        vec![(vars::STS_ENDPOINT, e.sts_endpoint())],
        vec![("/home/chain/.aliyun/config.json", config)],
    );
    let c = chain(ctx).await.unwrap();
    assert_eq!(
        c.provider_path(),
        "default/cli_profile/ram_role_arn/static_ak"
    );
    assert_eq!(c.access_key_id(), e.issued().last().unwrap().access_key_id);
    e.assert_no_url_leaks();
}

#[tokio::test]
async fn cli_profile_chainable_role_follows_its_source_profile() {
    let e = emulator().await;
    let config = format!(
        r#"{{"current": "outer", "profiles": [
            {{"name": "base", "mode": "AK", "access_key_id": "{AK_ID}", "access_key_secret": "{AK_SECRET}"}},
            {{"name": "inner", "mode": "ChainableRamRoleArn", "source_profile": "base", "ram_role_arn": "{ROLE}"}},
            {{"name": "outer", "mode": "ChainableRamRoleArn", "source_profile": "inner", "ram_role_arn": "{ROLE}"}}]}}"#
    );
    let ctx = context(
        vec![(vars::STS_ENDPOINT, e.sts_endpoint())],
        vec![("/home/chain/.aliyun/config.json", config)],
    );
    let c = chain(ctx).await.unwrap();
    assert_eq!(
        c.provider_path(),
        "default/cli_profile/ram_role_arn/ram_role_arn/static_ak"
    );
    assert_eq!(e.calls(Endpoint::AssumeRole), 2);
    e.assert_no_url_leaks();
}

#[tokio::test]
async fn cli_profile_can_be_disabled_and_the_ini_profile_then_wins() {
    let e = emulator().await;
    let config = r#"{"current": "ak", "profiles": [{"name": "ak", "mode": "AK", "access_key_id": "LTAI5tCli", "access_key_secret": "s"}]}"#.to_string();
    let ini = format!(
        "[default]\ntype = ram_role_arn\naccess_key_id = {AK_ID}\naccess_key_secret = {AK_SECRET}\nrole_arn = {ROLE}\n"
    );
    let ctx = context(
        vec![
            (vars::STS_ENDPOINT, e.sts_endpoint()),
            (vars::CLI_PROFILE_DISABLED, "TRUE".into()),
        ],
        vec![
            ("/home/chain/.aliyun/config.json", config),
            ("/home/chain/.alibabacloud/credentials", ini),
        ],
    );
    let c = chain(ctx).await.unwrap();
    assert_eq!(c.provider_path(), "default/profile/ram_role_arn/static_ak");
}

#[tokio::test]
async fn ecs_ram_role_wins_on_an_instance() {
    let e = emulator().await;
    let ctx = context(
        vec![(vars::ECS_METADATA_ENDPOINT, e.ecs_metadata_endpoint())],
        vec![],
    );
    let c = chain(ctx).await.unwrap();
    assert_eq!(c.provider_path(), "default/ecs_ram_role");
    assert!(e.calls(Endpoint::ImdsCredentials) >= 1);
    e.assert_no_url_leaks();
}

#[tokio::test]
async fn credentials_uri_comes_last() {
    let e = emulator().await;
    let ctx = context(
        vec![
            (vars::CREDENTIALS_URI, e.credentials_uri()),
            (vars::ECS_METADATA_DISABLED, "true".into()),
        ],
        vec![],
    );
    let c = chain(ctx).await.unwrap();
    assert_eq!(c.provider_path(), "default/credentials_uri");
    e.assert_no_url_leaks();
}

#[tokio::test]
async fn a_configured_but_broken_provider_stops_the_chain() {
    let ctx = context(vec![(vars::ACCESS_KEY_ID, AK_ID.into())], vec![]);
    // Half of the environment pair is set: the chain must report it rather than fall through.
    let err = chain(ctx).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    assert!(
        err.to_string()
            .starts_with("default/env: invalid configuration:"),
        "{err}"
    );
}

// ---- the KMS-rotated AccessKey (ALIBABA_CLOUD_SECRET_NAME) ---------------------------------------

const SECRET_NAME: &str = "chain-ram-user-ak";
const KEPT_ID: &str = "LTAI5tKeptInTheSecret";
const KEPT_SECRET: &str = "kept-secret-sentinel";
const MIN: Duration = Duration::from_secs(60);

/// A cloud whose KMS keeps a RAMCredentials secret (rotating hourly, next in 2 minutes), and an
/// environment with the chain's source AccessKey, the secret name and the emulator's KMS.
async fn kms_cloud() -> (support::Cloud, Vec<(&'static str, String)>) {
    let cloud = support::cloud().await;
    cloud.emulator.add_access_key(AK_ID, AK_SECRET);
    let next = cloud.now() + 2 * MIN;
    cloud
        .emulator
        .kms_put_ram_secret(SECRET_NAME, KEPT_ID, KEPT_SECRET, 60 * MIN, next);
    let env = vec![
        (vars::ACCESS_KEY_ID, AK_ID.to_owned()),
        (vars::ACCESS_KEY_SECRET, AK_SECRET.to_owned()),
        (vars::SECRET_NAME, SECRET_NAME.to_owned()),
        (vars::KMS_ENDPOINT, cloud.emulator.kms_endpoint()),
    ];
    (cloud, env)
}

/// `context` on the cloud's manual clock.
fn on_clock(cloud: &support::Cloud, env: Vec<(&str, String)>) -> Context {
    context(env, vec![])
        .with_time_source(cloud.context().time().clone())
        .with_sleep(cloud.context().sleep().clone())
}

#[tokio::test]
async fn a_secret_name_makes_the_chain_answer_with_the_kept_key_signed_by_the_rest_of_the_chain() {
    let (cloud, env) = kms_cloud().await;
    let emulator = &cloud.emulator;
    let provider = DefaultChain::builder()
        .context(on_clock(&cloud, env))
        .build();
    let creds = provider.provide_credentials().await.expect("credentials");
    assert_eq!(creds.provider_path(), "default/kms_rotating/env");
    assert_eq!(creds.access_key_id(), KEPT_ID);
    assert_eq!(creds.access_key_secret(), KEPT_SECRET);
    assert_eq!(creds.security_token(), None);
    assert_eq!(emulator.calls(Endpoint::KmsGetSecretValue), 1);
    let call = emulator.requests().pop().expect("the KMS call");
    assert_eq!(call.query_param("AccessKeyId").as_deref(), Some(AK_ID));
    assert_eq!(call.body_param("SecretName").as_deref(), Some(SECRET_NAME));

    // KMS rotates at NextRotationDate; the chain reads the secret 5 min (+ up to 5 min of jitter) later.
    let (rotated, _) = emulator.kms_rotate_secret(SECRET_NAME).expect("rotate");
    cloud.advance(2 * MIN + 4 * MIN).await;
    support::settle(200).await;
    let served = provider.provide_credentials().await.expect("credentials");
    assert_eq!(
        served.access_key_id(),
        KEPT_ID,
        "not read before the schedule"
    );
    assert_eq!(emulator.calls(Endpoint::KmsGetSecretValue), 1);
    // The read falls due somewhere in the jitter window: step through it (5 s at a time, well inside
    // the 60 s load timeout on this clock), and once the read has been sent, let it finish.
    for _ in 0..(6 * 12 + 1) {
        cloud.advance(Duration::from_secs(5)).await;
        support::settle(50).await;
        if emulator.calls(Endpoint::KmsGetSecretValue) > 1 {
            break;
        }
    }
    support::until("the rotated key is served", async || {
        provider
            .provide_credentials()
            .await
            .is_ok_and(|c| c.access_key_id() == rotated)
    })
    .await;
    assert_eq!(emulator.calls(Endpoint::KmsGetSecretValue), 2);
    assert!(!format!("{provider:?}").contains("sentinel"));
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn an_unreadable_secret_stops_the_chain_with_the_kms_error_and_never_falls_back_to_env() {
    let (cloud, mut env) = kms_cloud().await;
    let emulator = &cloud.emulator;
    env.retain(|(k, _)| *k != vars::SECRET_NAME);
    env.push((vars::SECRET_NAME, "no-such-secret".to_owned()));
    let err = chain(on_clock(&cloud, env.clone())).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(err.code(), Some("Forbidden.ResourceNotFound"));
    assert!(
        err.to_string().starts_with("default/kms_rotating/kms: "),
        "{err}"
    );

    emulator.kms_put_secret(
        "generic",
        "Generic",
        r#"{"AccessKeyId":"a","AccessKeySecret":"b"}"#,
    );
    env.retain(|(k, _)| *k != vars::SECRET_NAME);
    env.push((vars::SECRET_NAME, "generic".to_owned()));
    let err = chain(on_clock(&cloud, env.clone())).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(
        err.to_string().split(" (RequestId").next().unwrap(),
        "default/kms_rotating: the secret `generic` has SecretType `Generic`, not \
         RAMCredentials: it does not hold a RAM user's AccessKey"
    );

    emulator.kms_put_secret(
        "partial",
        "RAMCredentials",
        r#"{"AccessKeyId":"LTAI5tOnlyId"}"#,
    );
    env.retain(|(k, _)| *k != vars::SECRET_NAME);
    env.push((vars::SECRET_NAME, "partial".to_owned()));
    let err = chain(on_clock(&cloud, env)).await.unwrap_err();
    assert_eq!(
        err.to_string().split(" (RequestId").next().unwrap(),
        "default/kms_rotating: the SecretData of `partial` lacks AccessKeySecret"
    );
}

#[tokio::test]
async fn a_secret_name_without_source_credentials_or_kms_endpoint_is_a_configuration_error() {
    let (cloud, env) = kms_cloud().await;
    let no_source: Vec<_> = env
        .iter()
        .filter(|(k, _)| ![vars::ACCESS_KEY_ID, vars::ACCESS_KEY_SECRET].contains(k))
        .cloned()
        .collect();
    let err = chain(on_clock(&cloud, no_source)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    assert!(
        err.to_string().starts_with(
            "default/kms_rotating/kms/chain: invalid configuration: the credentials that sign KMS calls \
             are not available: none of the 6 providers"
        ),
        "{err}"
    );
    assert_eq!(cloud.emulator.calls(Endpoint::KmsGetSecretValue), 0);

    let no_endpoint: Vec<_> = env
        .iter()
        .filter(|(k, _)| *k != vars::KMS_ENDPOINT)
        .cloned()
        .collect();
    let err = chain(on_clock(&cloud, no_endpoint)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    assert_eq!(
        err.to_string(),
        "default/kms_rotating/kms: invalid configuration: no KMS endpoint: set a region \
         (.region(\"cn-hangzhou\")), an endpoint, or ALIBABA_CLOUD_KMS_ENDPOINT or ALIBABA_CLOUD_KMS_REGION"
    );
}

#[tokio::test]
async fn an_empty_secret_name_leaves_the_chain_as_it_was() {
    let (cloud, mut env) = kms_cloud().await;
    env.retain(|(k, _)| *k != vars::SECRET_NAME);
    env.push((vars::SECRET_NAME, "  ".to_owned()));
    let creds = chain(on_clock(&cloud, env)).await.expect("credentials");
    assert_eq!(creds.provider_path(), "default/env");
    assert_eq!(cloud.emulator.calls(Endpoint::KmsGetSecretValue), 0);
}
