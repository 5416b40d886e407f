//! `mse-auth emulator`: run the local cloud emulator and print how to point clients at it.

use crate::common::{shutdown_signal, CliResult, Globals};
use clap::ValueEnum;
use mse_auth_emulator::{Emulator, Endpoint};
use mse_auth_providers::kms_data_keys::DEFAULT_KEY_ID;
use mse_auth_providers::vars;
use serde_json::json;
use std::time::Duration;

/// The demo AccessKey the emulator's STS accepts: a throwaway secret of the emulator.
pub const DEMO_ACCESS_KEY_ID: &str = "LTAI5tEmulatorDemoKey";
/// The demo AccessKey's secret (it works nowhere but in the emulator).
pub const DEMO_ACCESS_KEY_SECRET: &str = "emulator-demo-secret";
/// The OIDC token `AssumeRoleWithOIDC` accepts.
pub const DEMO_OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.emulator-demo.token";
/// The ECS RAM role the metadata service reports.
pub const DEMO_ROLE: &str = "EmulatorDemoRole";
/// The KMS master key the emulator creates: the key `mse-auth config` encrypts with by default.
pub const DEMO_KMS_KEY_ID: &str = DEFAULT_KEY_ID;

/// Run the local cloud emulator (STS, ECS instance metadata, a credentials URI, KMS) on 127.0.0.1 until
/// Ctrl-C, and print the environment variables that point a client at it.
///
/// Its KMS has a master key with the id `mse-auth config` encrypts with by default (alias/acs/mse), so
/// `config encrypt|decrypt` work against it with the printed exports and no further flags.
///
/// The printed demo AccessKey is a throwaway secret that only the emulator knows; it is printed on
/// purpose, as the source credential for AssumeRole against the emulator. Every credential the
/// emulator issues is fake and short-lived.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  # prints export lines, runs until Ctrl-C:
  mse-auth emulator
  # issue credentials that expire after 60 s:
  mse-auth emulator --lifetime 60
  mse-auth emulator --format json
  # paste the export lines into another shell, then use the emulator's KMS:
  mse-auth config encrypt --data-id cipher-kms-aes-256-db.yaml --in db.yaml")]
pub struct Args {
    /// Lifetime of every credential issued, in seconds (default: the requested DurationSeconds for
    /// STS, 3600 otherwise).
    #[arg(long, value_name = "SECONDS")]
    pub lifetime: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Env)]
    pub format: Format,
}

/// How `emulator` prints its endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `export NAME=value` lines for a POSIX shell.
    Env,
    /// One JSON object on one line.
    Json,
}

/// Runs `mse-auth emulator`.
pub async fn run(_globals: &Globals, args: Args) -> CliResult {
    let emulator = Emulator::start()
        .await
        .map_err(|e| format!("cannot start the emulator on 127.0.0.1: {e}"))?;
    emulator.add_access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET);
    emulator.set_oidc_token(DEMO_OIDC_TOKEN);
    emulator.set_imds_role(DEMO_ROLE);
    emulator.kms_create_key(DEMO_KMS_KEY_ID);
    if let Some(seconds) = args.lifetime {
        emulator.set_credential_lifetime(Duration::from_secs(seconds));
    }
    // Handlers first: a signal right after the exports are printed must stop it gracefully.
    let shutdown = shutdown_signal();
    let exports = [
        (vars::STS_ENDPOINT, emulator.sts_endpoint()),
        (
            vars::ECS_METADATA_ENDPOINT,
            emulator.ecs_metadata_endpoint(),
        ),
        (vars::CREDENTIALS_URI, emulator.credentials_uri()),
        (vars::KMS_ENDPOINT, emulator.kms_endpoint()),
        (vars::ACCESS_KEY_ID, DEMO_ACCESS_KEY_ID.to_string()),
        (vars::ACCESS_KEY_SECRET, DEMO_ACCESS_KEY_SECRET.to_string()),
    ];
    match args.format {
        Format::Env => {
            println!(
                "# mse-auth local cloud emulator at {}; Ctrl-C stops it",
                emulator.base_url()
            );
            for (name, value) in &exports[..4] {
                println!("export {name}={value}");
            }
            println!(
                "# a demo AccessKey its STS and KMS accept (a throwaway secret of the emulator):"
            );
            for (name, value) in &exports[4..] {
                println!("export {name}={value}");
            }
            println!("# AssumeRoleWithOIDC accepts the token {DEMO_OIDC_TOKEN}; the ECS role is {DEMO_ROLE}");
            println!(
                "# KMS master key {DEMO_KMS_KEY_ID} (the default of `mse-auth config --kms-key-id`)"
            );
        }
        Format::Json => {
            let mut value = json!({
                "base_url": emulator.base_url(),
                "oidc_token": DEMO_OIDC_TOKEN,
                "ecs_role": DEMO_ROLE,
                "kms_key_id": DEMO_KMS_KEY_ID,
            });
            for (name, v) in &exports {
                value[*name] = json!(v);
            }
            println!("{value}");
        }
    }
    shutdown.await;
    eprintln!("mse-auth: emulator stopping; calls received:");
    for endpoint in [
        Endpoint::AssumeRole,
        Endpoint::AssumeRoleWithOidc,
        Endpoint::ImdsToken,
        Endpoint::ImdsRole,
        Endpoint::ImdsCredentials,
        Endpoint::CredentialsUri,
        Endpoint::KmsGenerateDataKey,
        Endpoint::KmsEncrypt,
        Endpoint::KmsDecrypt,
    ] {
        eprintln!("  {endpoint:?}: {}", emulator.calls(endpoint));
    }
    Ok(())
}
