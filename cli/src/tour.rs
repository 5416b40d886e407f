//! A tour of every auth mode on the local cloud emulator: starts an [`Emulator`]
//! on 127.0.0.1 and fetches credentials through every provider — static keys, environment, RAM role ARN
//! (and a role chained on a role), OIDC, ECS RAM role, credentials URI, the KMS-rotated AccessKey, both
//! profile files (with the CLI's CloudSSO, OAuth and External modes) and the default chain (also with
//! `ALIBABA_CLOUD_SECRET_NAME`) — reporting who produced what; then logs in to Nacos and
//! encrypts and decrypts a config under each cipher scheme. Used by `cli/examples/tour.rs` and
//! `mse-auth tour`.
//!
//! Everything the providers read comes from an in-memory [`Context`]: nothing of the machine's own
//! environment or home directory is used (the External profile runs `printf`, without a shell). The results are credentials, whose `Debug`/`Display` are
//! masked; the emulator's own secrets are throwaway values.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let tour = mse_auth_cli::tour::run().await?;
//! for stop in &tour.stops {
//!     match &stop.result {
//!         Ok(c) => println!("{:<28} {}", stop.mode, c), // masked
//!         Err(e) => println!("{:<28} FAILED: {e}", stop.mode),
//!     }
//! }
//! # Ok(()) }
//! ```

use mse_auth::cipher::ConfigCipher;
use mse_auth_emulator::Emulator;
use mse_auth_providers::kms::KmsClient;
use mse_auth_providers::kms_data_keys::KmsDataKeys;
use mse_auth_providers::kms_rotating::KmsRotatingProvider;
use mse_auth_providers::nacos::NacosLogin;
use mse_auth_providers::os::{Env, Fs};
use mse_auth_providers::{
    vars, CliProfileProvider, Context, Credentials, CredentialsError, CredentialsProvider,
    CredentialsUriProvider, DefaultChain, EcsRamRoleProvider, EnvironmentProvider,
    OidcRoleArnProvider, ProfileProvider, RamRoleArnProvider, StaticAccessKeyProvider,
    StaticStsProvider,
};
use std::sync::Arc;
use std::time::Duration;

const AK_ID: &str = "LTAI5tTourSourceKey";
const AK_SECRET: &str = "tour-source-secret";
const ROLE: &str = "acs:ram::1234567890123456:role/tour";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.tour.token";
const KMS_KEY: &str = "alias/tour";
const CONFIG: &str = "db.password=tour-secret\ndb.user=app\n";
const SSO_TOKEN: &str = "tour-cloud-sso-access-token";
const OAUTH_REFRESH_TOKEN: &str = "tour-oauth-refresh-token";
/// The External profile's command: a real program (no shell) that prints an AccessKey as JSON.
const EXTERNAL_COMMAND: &str = r#"printf '%s' '{"mode":"AK","access_key_id":"LTAI5tTourExternal","access_key_secret":"tour-external-secret"}'"#;

/// One auth mode and what it produced.
#[derive(Debug)]
pub struct Stop {
    /// The mode, e.g. `RAM role ARN`.
    pub mode: &'static str,
    /// The credentials, or why there are none.
    pub result: Result<Credentials, CredentialsError>,
}

/// Something the tour did besides fetching credentials (a Nacos login, a config round trip), and how
/// it went, in words that contain no secret.
#[derive(Debug)]
pub struct Check {
    /// What was done, e.g. `config cipher-kms-aes-256-`.
    pub what: String,
    /// A one-line summary, or why it failed.
    pub result: Result<String, String>,
}

/// The outcome of a tour.
#[derive(Debug)]
pub struct Tour {
    /// Where the emulator listened (it is stopped when [`run`] returns).
    pub base_url: String,
    /// Every mode, in order.
    pub stops: Vec<Stop>,
    /// The Nacos login and the config encrypt/decrypt round trips.
    pub checks: Vec<Check>,
    /// How many requests the emulator received.
    pub requests: usize,
    /// Requests that carried a secret in their URL (none, when every client behaves).
    pub url_leaks: Vec<String>,
}

impl Tour {
    /// `true` when every mode produced credentials and no secret travelled in a URL.
    pub fn all_ok(&self) -> bool {
        self.url_leaks.is_empty()
            && self.stops.iter().all(|s| s.result.is_ok())
            && self.checks.iter().all(|c| c.result.is_ok())
    }
}

/// Starts the emulator and walks every mode. Fails only when the emulator cannot start or a provider
/// cannot be built; a provider that fails to load is reported in its [`Stop`].
pub async fn run() -> Result<Tour, Box<dyn std::error::Error + Send + Sync>> {
    let emulator = Emulator::start().await?;
    emulator.add_access_key(AK_ID, AK_SECRET);
    emulator.set_oidc_token(OIDC_TOKEN);
    emulator.kms_create_key(KMS_KEY);
    emulator.kms_put_ram_secret(
        "tour/app-access-key",
        "LTAI5tTourRotatedKey",
        "tour-rotated-secret",
        Duration::from_secs(24 * 3600),
        std::time::SystemTime::now() + Duration::from_secs(12 * 3600),
    );
    emulator.nacos_add_user("nacos", "tour-nacos-password");

    let sso_expire = std::time::SystemTime::now() + Duration::from_secs(3600);
    emulator.cloud_sso_add_access_token(SSO_TOKEN, sso_expire, "1234567890123456", "ac-tour");
    emulator.oauth_add_refresh_token(OAUTH_REFRESH_TOKEN);
    let sso_expire = sso_expire
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let sso_url = emulator.cloud_sso_sign_in_url();
    let external = serde_json::to_string(EXTERNAL_COMMAND)?;
    let cli_config = format!(
        r#"{{"current": "chained", "profiles": [
            {{"name": "base", "mode": "AK", "access_key_id": "{AK_ID}", "access_key_secret": "{AK_SECRET}"}},
            {{"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "base", "ram_role_arn": "{ROLE}"}},
            {{"name": "sso", "mode": "CloudSSO", "cloud_sso_sign_in_url": "{sso_url}", "cloud_sso_account_id": "1234567890123456",
              "cloud_sso_access_config": "ac-tour", "access_token": "{SSO_TOKEN}", "cloud_sso_access_token_expire": {sso_expire}}},
            {{"name": "oauth", "mode": "OAuth", "oauth_refresh_token": "{OAUTH_REFRESH_TOKEN}"}},
            {{"name": "external", "mode": "External", "process_command": {external}}}]}}"#
    );
    let ini = format!("[default]\ntype = oidc_role_arn\nrole_arn = {ROLE}\noidc_provider_arn = acs:ram::1:oidc-provider/tour\noidc_token_file_path = /var/run/oidc/token\n");
    let ctx = Context::default()
        .with_env(Env::from_pairs([
            ("HOME".to_string(), "/home/tour".to_string()),
            (vars::STS_ENDPOINT.into(), emulator.sts_endpoint()),
            (
                vars::ECS_METADATA_ENDPOINT.into(),
                emulator.ecs_metadata_endpoint(),
            ),
            (vars::OAUTH_ENDPOINT.into(), emulator.oauth_endpoint()),
            (vars::ACCESS_KEY_ID.into(), AK_ID.into()),
            (vars::ACCESS_KEY_SECRET.into(), AK_SECRET.into()),
        ]))
        .with_fs(Fs::from_pairs([
            ("/home/tour/.aliyun/config.json", cli_config.into_bytes()),
            ("/home/tour/.alibabacloud/credentials", ini.into_bytes()),
            ("/var/run/oidc/token", OIDC_TOKEN.as_bytes().to_vec()),
        ]));

    let mut stops = Vec::new();
    let mut stop = |mode, result| stops.push(Stop { mode, result });
    let static_ak = StaticAccessKeyProvider::new(AK_ID, AK_SECRET)?;
    stop("static AccessKey", static_ak.provide_credentials().await);
    stop(
        "static STS token",
        StaticStsProvider::new("STS.TourStaticToken", "sts-secret", "sts-token")?
            .provide_credentials()
            .await,
    );
    stop(
        "environment",
        EnvironmentProvider::with_env(ctx.env().clone())
            .provide_credentials()
            .await,
    );
    let role = RamRoleArnProvider::builder(ROLE)
        .source(static_ak.clone())
        .context(ctx.clone())
        .build()?;
    stop("RAM role ARN", role.provide_credentials().await);
    let chained = RamRoleArnProvider::builder(ROLE)
        .source(role.clone())
        .duration(Duration::from_secs(900))
        .context(ctx.clone())
        .build()?;
    stop(
        "RAM role ARN on a role",
        chained.provide_credentials().await,
    );
    stop(
        "OIDC role ARN (RRSA)",
        OidcRoleArnProvider::builder(ROLE, "acs:ram::1:oidc-provider/tour", "/var/run/oidc/token")
            .context(ctx.clone())
            .build()?
            .provide_credentials()
            .await,
    );
    stop(
        "ECS RAM role (IMDSv2)",
        EcsRamRoleProvider::builder()
            .context(ctx.clone())
            .build()?
            .provide_credentials()
            .await,
    );
    stop(
        "credentials URI",
        CredentialsUriProvider::builder(emulator.credentials_uri())
            .context(ctx.clone())
            .build()?
            .provide_credentials()
            .await,
    );
    let kms = KmsClient::builder()
        .endpoint(emulator.kms_endpoint())
        .credentials(static_ak.clone())
        .context(ctx.clone())
        .build()?;
    stop(
        "KMS-rotated AccessKey",
        KmsRotatingProvider::builder("tour/app-access-key")
            .kms(kms.clone())
            .context(ctx.clone())
            .build()?
            .provide_credentials()
            .await,
    );
    stop(
        "CLI profile (config.json)",
        CliProfileProvider::builder()
            .context(ctx.clone())
            .build()
            .provide_credentials()
            .await,
    );
    for (mode, profile) in [
        ("CLI profile: CloudSSO", "sso"),
        ("CLI profile: OAuth (writes tokens back)", "oauth"),
        ("CLI profile: External (a command)", "external"),
    ] {
        stop(
            mode,
            CliProfileProvider::builder()
                .profile(profile)
                .context(ctx.clone())
                .build()
                .provide_credentials()
                .await,
        );
    }
    stop(
        "ini profile (credentials)",
        ProfileProvider::builder()
            .context(ctx.clone())
            .build()
            .provide_credentials()
            .await,
    );
    stop(
        "default chain",
        DefaultChain::builder()
            .context(ctx.clone())
            .build()
            .provide_credentials()
            .await,
    );
    // The same machine with a KMS secret name: the chain answers with the key kept in the secret,
    // read with the environment's key (`default/kms_rotating/env`).
    let kms_ctx = ctx.clone().with_env(
        ctx.env()
            .clone()
            .with_var(vars::SECRET_NAME, "tour/app-access-key")
            .with_var(vars::KMS_ENDPOINT, emulator.kms_endpoint()),
    );
    stop(
        "default chain + ALIBABA_CLOUD_SECRET_NAME",
        DefaultChain::builder()
            .context(kms_ctx)
            .build()
            .provide_credentials()
            .await,
    );
    let mut checks = vec![nacos_login(&emulator, &ctx).await];
    let cipher = ConfigCipher::builder()
        .data_key_service(Arc::new(KmsDataKeys::new(kms).key_id(KMS_KEY)))
        .build();
    for data_id in [
        "cipher-kms-aes-256-db.properties",
        "cipher-kms-aes-128-db.properties",
        "cipher-db.properties",
        "cipher-gcm-db.properties",
    ] {
        checks.push(round_trip(&cipher, data_id).await);
    }
    Ok(Tour {
        base_url: emulator.base_url(),
        stops,
        checks,
        requests: emulator.requests().len(),
        url_leaks: emulator.url_leaks(),
    })
}

async fn nacos_login(emulator: &Emulator, ctx: &Context) -> Check {
    let login = NacosLogin::builder(emulator.nacos_server_addr())
        .username("nacos")
        .password("tour-nacos-password")
        .context(ctx.clone())
        .build();
    let result = match login {
        Ok(login) => match login.token().await {
            Ok(Some(token)) => Ok(format!(
                "token from {} valid for {}s",
                token.server(),
                token.ttl().as_secs()
            )),
            Ok(None) => Err("no user name configured".to_string()),
            Err(e) => Err(e.to_string()),
        },
        Err(e) => Err(e.to_string()),
    };
    Check {
        what: "Nacos login".to_string(),
        result,
    }
}

async fn round_trip(cipher: &ConfigCipher, data_id: &str) -> Check {
    let result = async {
        let sealed = cipher
            .encrypt("", "DEFAULT_GROUP", data_id, CONFIG)
            .await
            .map_err(|e| e.to_string())?;
        if sealed.content.contains("tour-secret") {
            return Err("the stored content is the plaintext".to_string());
        }
        let plain = cipher
            .decrypt(
                "",
                "DEFAULT_GROUP",
                data_id,
                &sealed.content,
                &sealed.encrypted_data_key,
            )
            .await
            .map_err(|e| e.to_string())?;
        if plain != CONFIG {
            return Err("decryption returned different text".to_string());
        }
        Ok(format!(
            "{} plaintext bytes -> {} stored bytes{} -> decrypted back",
            CONFIG.len(),
            sealed.content.len(),
            if sealed.encrypted_data_key.is_empty() {
                String::new()
            } else {
                " + encryptedDataKey".to_string()
            }
        ))
    }
    .await;
    Check {
        what: format!("config {data_id}"),
        result,
    }
}
