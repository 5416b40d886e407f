//! The main job on the embedded local cloud: starts the emulator on 127.0.0.1, then fetches credentials
//! through every provider — static keys, environment, RAM role ARN (and a role chained on a role), OIDC,
//! ECS RAM role, credentials URI, both profile files and the default chain — and prints who produced
//! what. No secret is printed: ids are masked.
//!
//! `cargo run -p mse-auth-providers --example tour --features emulator`

use mse_auth_providers::emulator::Emulator;
use mse_auth_providers::os::{Env, Fs};
use mse_auth_providers::{
    vars, CliProfileProvider, Context, Credentials, CredentialsProvider, CredentialsUriProvider,
    DefaultChain, EcsRamRoleProvider, EnvironmentProvider, OidcRoleArnProvider, ProfileProvider,
    RamRoleArnProvider, StaticAccessKeyProvider, StaticStsProvider,
};
use std::time::{Duration, SystemTime};

const AK_ID: &str = "LTAI5tTourSourceKey";
const AK_SECRET: &str = "tour-source-secret";
const ROLE: &str = "acs:ram::1234567890123456:role/tour";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.tour.token";

fn row(mode: &str, result: Result<Credentials, mse_auth_providers::CredentialsError>) {
    match result {
        Ok(c) => {
            let left = c
                .expiration()
                .and_then(|e| e.duration_since(SystemTime::now()).ok())
                .map(|d| format!("{}s", d.as_secs()))
                .unwrap_or_else(|| "never expires".into());
            println!(
                "{mode:<28} {:<46} {:<16} {left}",
                c.provider_path(),
                c.masked_access_key_id()
            );
        }
        Err(e) => println!("{mode:<28} FAILED: {e}"),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::start().await?;
    emulator.add_access_key(AK_ID, AK_SECRET);
    emulator.set_oidc_token(OIDC_TOKEN);
    println!("local cloud emulator at {}\n", emulator.base_url());

    let cli_config = format!(
        r#"{{"current": "chained", "profiles": [
            {{"name": "base", "mode": "AK", "access_key_id": "{AK_ID}", "access_key_secret": "{AK_SECRET}"}},
            {{"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "base", "ram_role_arn": "{ROLE}"}}]}}"#
    );
    let ini = format!("[default]\ntype = oidc_role_arn\nrole_arn = {ROLE}\noidc_provider_arn = acs:ram::1:oidc-provider/tour\noidc_token_file_path = /var/run/oidc/token\n");
    // Everything the providers read comes from this context: nothing of this machine's own
    // environment or home directory is used.
    let ctx = Context::default()
        .with_env(Env::from_pairs([
            ("HOME".to_string(), "/home/tour".to_string()),
            (vars::STS_ENDPOINT.into(), emulator.sts_endpoint()),
            (
                vars::ECS_METADATA_ENDPOINT.into(),
                emulator.ecs_metadata_endpoint(),
            ),
            (vars::ACCESS_KEY_ID.into(), AK_ID.into()),
            (vars::ACCESS_KEY_SECRET.into(), AK_SECRET.into()),
        ]))
        .with_fs(Fs::from_pairs([
            ("/home/tour/.aliyun/config.json", cli_config.into_bytes()),
            ("/home/tour/.alibabacloud/credentials", ini.into_bytes()),
            ("/var/run/oidc/token", OIDC_TOKEN.as_bytes().to_vec()),
        ]));

    println!(
        "{:<28} {:<46} {:<16} valid for",
        "mode", "provider path", "AccessKey id"
    );
    let static_ak = StaticAccessKeyProvider::new(AK_ID, AK_SECRET)?;
    row("static AccessKey", static_ak.provide_credentials().await);
    row(
        "static STS token",
        StaticStsProvider::new("STS.TourStaticToken", "sts-secret", "sts-token")?
            .provide_credentials()
            .await,
    );
    row(
        "environment",
        EnvironmentProvider::with_env(ctx.env().clone())
            .provide_credentials()
            .await,
    );
    let role = RamRoleArnProvider::builder(ROLE)
        .source(static_ak.clone())
        .context(ctx.clone())
        .build()?;
    row("RAM role ARN", role.provide_credentials().await);
    let chained = RamRoleArnProvider::builder(ROLE)
        .source(role.clone())
        .duration(Duration::from_secs(900))
        .context(ctx.clone())
        .build()?;
    row(
        "RAM role ARN on a role",
        chained.provide_credentials().await,
    );
    row(
        "OIDC role ARN (RRSA)",
        OidcRoleArnProvider::builder(ROLE, "acs:ram::1:oidc-provider/tour", "/var/run/oidc/token")
            .context(ctx.clone())
            .build()?
            .provide_credentials()
            .await,
    );
    row(
        "ECS RAM role (IMDSv2)",
        EcsRamRoleProvider::builder()
            .context(ctx.clone())
            .build()?
            .provide_credentials()
            .await,
    );
    row(
        "credentials URI",
        CredentialsUriProvider::builder(emulator.credentials_uri())
            .context(ctx.clone())
            .build()?
            .provide_credentials()
            .await,
    );
    row(
        "CLI profile (config.json)",
        CliProfileProvider::builder()
            .context(ctx.clone())
            .build()
            .provide_credentials()
            .await,
    );
    row(
        "ini profile (credentials)",
        ProfileProvider::builder()
            .context(ctx.clone())
            .build()
            .provide_credentials()
            .await,
    );
    row(
        "default chain",
        DefaultChain::builder()
            .context(ctx.clone())
            .build()
            .provide_credentials()
            .await,
    );

    let leaks = emulator.url_leaks();
    println!(
        "\nthe emulator saw {} requests; secrets in URLs: {}",
        emulator.requests().len(),
        if leaks.is_empty() {
            "none".to_string()
        } else {
            leaks.join("; ")
        }
    );
    Ok(())
}
