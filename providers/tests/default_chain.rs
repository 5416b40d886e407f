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
