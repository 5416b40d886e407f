//! `mse-auth credentials`: resolve the default chain (or one of its providers) and print the result.

use crate::common::{kind, print_rows, seconds_left, shell_quote, time_left, CliResult, Globals};
use clap::ValueEnum;
use mse_auth_providers::timestamp::format_utc;
use mse_auth_providers::{vars, Credentials, CredentialsProvider, SharedCredentialsProvider};
use serde_json::json;

/// The names of the default chain's providers, in order (what `--provider` accepts).
pub const PROVIDERS: [&str; 7] = [
    "kms_rotating",
    "env",
    "oidc_role_arn",
    "cli_profile",
    "profile",
    "ecs_ram_role",
    "credentials_uri",
];

/// Resolve credentials and show which provider produced them.
///
/// Walks the default chain (environment, OIDC role ARN, CLI profile, ini profile, ECS RAM role,
/// credentials URI; with ALIBABA_CLOUD_SECRET_NAME set, the AccessKey kept in that KMS secret, read
/// with the credentials of the others) and prints the winner's path, the masked AccessKey id, the expiration and the time
/// left. The secret and the security token are printed only with --show-secrets, or by the export
/// formats `env` and `credentials-uri`, whose purpose is to hand the credentials to another program.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mse-auth credentials
  mse-auth credentials --profile prod --provider profile
  # the AccessKey kept in a KMS secret (ALIBABA_CLOUD_SECRET_NAME):
  mse-auth credentials --provider kms_rotating
  mse-auth credentials --format json
  # prints the secret: for handing over only
  eval \"$(mse-auth credentials --format env)\"
  # the JSON a credentials URI serves (prints the secret)
  mse-auth credentials --format credentials-uri")]
pub struct Args {
    /// Output format. `env` (shell `export` lines) and `credentials-uri` (the JSON a credentials URI
    /// serves) print the secret and the token, since handing them over is what they are for.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also print the AccessKey id in full, the secret and the security token (table and json).
    #[arg(long)]
    pub show_secrets: bool,
    /// Ask only this provider of the default chain instead of the whole chain.
    #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(PROVIDERS))]
    pub provider: Option<String>,
}

/// How `credentials` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned rows for people (masked).
    Table,
    /// One JSON object (masked unless --show-secrets).
    Json,
    /// `export ALIBABA_CLOUD_…=…` lines for a POSIX shell (prints the secret).
    Env,
    /// The JSON a credentials URI serves (prints the secret; STS credentials only).
    CredentialsUri,
}

/// Resolves credentials the way `credentials` and `serve` do: the whole default chain, cached, or one
/// provider of it.
pub fn provider(globals: &Globals, only: Option<&str>) -> CliResult<SharedCredentialsProvider> {
    match only {
        None => Ok(SharedCredentialsProvider::new(globals.chain().build())),
        Some(name) => globals
            .chain()
            .build_providers()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| p)
            .ok_or_else(|| format!("no provider named `{name}` in the default chain").into()),
    }
}

/// Runs `mse-auth credentials`.
pub async fn run(globals: &Globals, args: Args) -> CliResult {
    let provider = provider(globals, args.provider.as_deref())?;
    let credentials = {
        let _spinner = globals.spinner("resolving credentials…");
        provider.provide_credentials().await?
    };
    match args.format {
        Format::Table => print_table(&credentials, args.show_secrets),
        Format::Json => println!("{:#}", to_json(&credentials, args.show_secrets)),
        Format::Env => print!("{}", to_env(&credentials)),
        Format::CredentialsUri => println!("{}", credentials_uri_json(&credentials)?),
    }
    Ok(())
}

fn print_table(c: &Credentials, show_secrets: bool) {
    let mut rows = vec![
        ("provider", c.provider_path().to_string()),
        ("type", kind(c).to_string()),
        (
            "access key id",
            if show_secrets {
                c.access_key_id().to_string()
            } else {
                c.masked_access_key_id()
            },
        ),
        (
            "expiration",
            c.expiration().map_or_else(|| "never".into(), format_utc),
        ),
        ("time left", time_left(c.expiration())),
    ];
    if show_secrets {
        rows.push(("access key secret", c.access_key_secret().to_string()));
        if let Some(token) = c.security_token() {
            rows.push(("security token", token.to_string()));
        }
    }
    print_rows(&rows);
}

/// The `--format json` object: masked unless `show_secrets`.
fn to_json(c: &Credentials, show_secrets: bool) -> serde_json::Value {
    let mut value = json!({
        "provider_path": c.provider_path(),
        "type": if c.is_sts() { "sts" } else { "access_key" },
        "access_key_id_masked": c.masked_access_key_id(),
        "expiration": c.expiration().map(format_utc),
        "seconds_left": c.expiration().map(seconds_left),
    });
    if show_secrets {
        value["access_key_id"] = json!(c.access_key_id());
        value["access_key_secret"] = json!(c.access_key_secret());
        value["security_token"] = json!(c.security_token());
    }
    value
}

/// Shell lines exporting the credentials; a long-term key also unsets a stale security token.
fn to_env(c: &Credentials) -> String {
    let mut out = format!(
        "export {}={}\nexport {}={}\n",
        vars::ACCESS_KEY_ID,
        shell_quote(c.access_key_id()),
        vars::ACCESS_KEY_SECRET,
        shell_quote(c.access_key_secret()),
    );
    match c.security_token() {
        Some(token) => out.push_str(&format!(
            "export {}={}\n",
            vars::SECURITY_TOKEN,
            shell_quote(token)
        )),
        None => out.push_str(&format!("unset {}\n", vars::SECURITY_TOKEN)),
    }
    out
}

/// The JSON a credentials URI serves (spec §8). Only STS credentials with a known expiration: the format
/// requires a `SecurityToken` and an `Expiration` (the Python SDK and ours refuse a response without
/// them), so a long-term AccessKey, or an STS token whose expiration nobody stated, is refused here
/// rather than served in a shape clients reject.
pub fn credentials_uri_json(c: &Credentials) -> CliResult<String> {
    let (token, expiration) = match (c.security_token(), c.expiration()) {
        (Some(token), Some(expiration)) => (token, expiration),
        (Some(_), None) => return Err(static_sts_refused(c.provider_path()).into()),
        (None, _) => return Err(long_term_refused(c.provider_path()).into()),
    };
    Ok(json!({
        "Code": "Success",
        "AccessKeyId": c.access_key_id(),
        "AccessKeySecret": c.access_key_secret(),
        "SecurityToken": token,
        "Expiration": format_utc(expiration),
    })
    .to_string())
}

fn static_sts_refused(provider_path: &str) -> String {
    format!(
        "{provider_path} produced a static STS token (e.g. {} set with an AccessKey), which has no \
         expiration, and the credentials URI format requires one (Expiration); use a RAM role \
         (e.g. a ram_role_arn profile), whose credentials carry their expiration",
        vars::SECURITY_TOKEN
    )
}

fn long_term_refused(provider_path: &str) -> String {
    format!(
        "{provider_path} produced a long-term AccessKey, and the credentials URI format carries \
         only STS credentials (SecurityToken and Expiration are required); use a RAM role (e.g. a \
         ram_role_arn profile) to hand out temporary credentials"
    )
}
