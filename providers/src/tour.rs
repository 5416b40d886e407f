//! A tour of every auth mode on the local cloud emulator (feature `emulator`): starts an [`Emulator`]
//! on 127.0.0.1 and fetches credentials through every provider — static keys, environment, RAM role ARN
//! (and a role chained on a role), OIDC, ECS RAM role, credentials URI, both profile files and the
//! default chain — reporting who produced what. Used by `examples/tour.rs` and `mse-auth tour`.
//!
//! Everything the providers read comes from an in-memory [`Context`]: nothing of the machine's own
//! environment or home directory is used. The results are credentials, whose `Debug`/`Display` are
//! masked; the emulator's own secrets are throwaway values.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let tour = mse_auth_providers::tour::run().await?;
//! for stop in &tour.stops {
//!     match &stop.result {
//!         Ok(c) => println!("{:<28} {}", stop.mode, c), // masked
//!         Err(e) => println!("{:<28} FAILED: {e}", stop.mode),
//!     }
//! }
//! # Ok(()) }
//! ```

use crate::emulator::Emulator;
use crate::os::{Env, Fs};
use crate::{
    vars, CliProfileProvider, Context, Credentials, CredentialsError, CredentialsProvider,
    CredentialsUriProvider, DefaultChain, EcsRamRoleProvider, EnvironmentProvider,
    OidcRoleArnProvider, ProfileProvider, RamRoleArnProvider, StaticAccessKeyProvider,
    StaticStsProvider,
};
use std::time::Duration;

const AK_ID: &str = "LTAI5tTourSourceKey";
const AK_SECRET: &str = "tour-source-secret";
const ROLE: &str = "acs:ram::1234567890123456:role/tour";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.tour.token";

/// One auth mode and what it produced.
#[derive(Debug)]
pub struct Stop {
    /// The mode, e.g. `RAM role ARN`.
    pub mode: &'static str,
    /// The credentials, or why there are none.
    pub result: Result<Credentials, CredentialsError>,
}

/// The outcome of a tour.
#[derive(Debug)]
pub struct Tour {
    /// Where the emulator listened (it is stopped when [`run`] returns).
    pub base_url: String,
    /// Every mode, in order.
    pub stops: Vec<Stop>,
    /// How many requests the emulator received.
    pub requests: usize,
    /// Requests that carried a secret in their URL (none, when every client behaves).
    pub url_leaks: Vec<String>,
}

impl Tour {
    /// `true` when every mode produced credentials and no secret travelled in a URL.
    pub fn all_ok(&self) -> bool {
        self.url_leaks.is_empty() && self.stops.iter().all(|s| s.result.is_ok())
    }
}

/// Starts the emulator and walks every mode. Fails only when the emulator cannot start or a provider
/// cannot be built; a provider that fails to load is reported in its [`Stop`].
pub async fn run() -> Result<Tour, Box<dyn std::error::Error + Send + Sync>> {
    let emulator = Emulator::start().await?;
    emulator.add_access_key(AK_ID, AK_SECRET);
    emulator.set_oidc_token(OIDC_TOKEN);

    let cli_config = format!(
        r#"{{"current": "chained", "profiles": [
            {{"name": "base", "mode": "AK", "access_key_id": "{AK_ID}", "access_key_secret": "{AK_SECRET}"}},
            {{"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "base", "ram_role_arn": "{ROLE}"}}]}}"#
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
    stop(
        "CLI profile (config.json)",
        CliProfileProvider::builder()
            .context(ctx.clone())
            .build()
            .provide_credentials()
            .await,
    );
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
    Ok(Tour {
        base_url: emulator.base_url(),
        stops,
        requests: emulator.requests().len(),
        url_leaks: emulator.url_leaks(),
    })
}
