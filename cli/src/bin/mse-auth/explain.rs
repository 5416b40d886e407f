//! `mse-auth explain`: ask every provider of the default chain, one by one, and show what each did.

use crate::common::{kind, print_table, time_left, CliResult, Globals, OutputFormat};
use mse_auth_providers::error::escape_untrusted;
use mse_auth_providers::os::Env;
use mse_auth_providers::timestamp::format_utc;
use mse_auth_providers::{vars, CredentialsProvider, ErrorKind};
use serde_json::json;

/// Walk the default chain and show, for each provider, what it read and why it did or did not load.
///
/// Every provider is asked, even after one has loaded, so the table shows the whole picture; the last
/// line says which one the chain itself would use. A provider that is "not configured" lets the chain
/// move on; one that is configured but fails stops the chain. No secret is printed: AccessKey ids are
/// masked, and the credentials URI (whose path may hold a token) is named by its variable only.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mse-auth explain
  mse-auth explain --profile prod
  mse-auth explain --format json | jq '.providers[] | select(.configured)'")]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: OutputFormat,
}

/// One provider's outcome.
struct Row {
    name: &'static str,
    reads: String,
    configured: bool,
    result: String,
    detail: String,
    loaded: bool,
}

/// `ALIBABA_CLOUD_{A,B}` for variables sharing the prefix.
fn braced(names: &[&str]) -> String {
    const PREFIX: &str = "ALIBABA_CLOUD_";
    let rest: Vec<&str> = names
        .iter()
        .map(|n| n.strip_prefix(PREFIX).unwrap_or(n))
        .collect();
    format!("{PREFIX}{{{}}}", rest.join(","))
}

/// What each provider reads (names and paths only; never a value that may hold a secret).
fn reads(name: &str, env: &Env) -> String {
    match name {
        "kms_rotating" => {
            let kms = env
                .get(vars::KMS_ENDPOINT)
                .map(|v| format!("KMS at {}", escape_untrusted(&v, 200)))
                .or_else(|| {
                    env.get(vars::KMS_REGION)
                        .map(|r| format!("KMS in {}", escape_untrusted(&r, 40)))
                })
                .unwrap_or_else(|| "KMS".into());
            format!(
                "{} from {kms}, signed by the providers below",
                vars::SECRET_NAME
            )
        }
        "env" => braced(&[
            vars::ACCESS_KEY_ID,
            vars::ACCESS_KEY_SECRET,
            vars::SECURITY_TOKEN,
        ]),
        "oidc_role_arn" => braced(&[
            vars::ROLE_ARN,
            vars::OIDC_PROVIDER_ARN,
            vars::OIDC_TOKEN_FILE,
        ]),
        // Values from the environment are shown escaped: they reach a terminal.
        "cli_profile" => env.get(vars::CONFIG_FILE).map_or_else(
            || "~/.aliyun/config.json".into(),
            |v| escape_untrusted(&v, 200),
        ),
        "profile" => env.get(vars::CREDENTIALS_FILE).map_or_else(
            || "~/.alibabacloud/credentials".into(),
            |v| escape_untrusted(&v, 200),
        ),
        "ecs_ram_role" => {
            let endpoint = env.get(vars::ECS_METADATA_ENDPOINT).map_or_else(
                || "http://100.100.100.200".into(),
                |v| escape_untrusted(&v, 200),
            );
            format!("instance metadata at {endpoint}")
        }
        "credentials_uri" => vars::CREDENTIALS_URI.to_string(),
        _ => String::new(),
    }
}

/// Runs `mse-auth explain`.
pub async fn run(globals: &Globals, args: Args) -> CliResult {
    let env = globals.context().env().clone();
    let mut rows = Vec::new();
    for (name, provider) in globals.chain().build_providers() {
        let _spinner = globals.spinner(&format!("asking {name}…"));
        let row = match provider.provide_credentials().await {
            Ok(c) => Row {
                name,
                reads: reads(name, &env),
                configured: true,
                result: "loaded".into(),
                detail: format!(
                    "{} {} via {}, expires {} ({})",
                    kind(&c),
                    c.masked_access_key_id(),
                    c.provider_path(),
                    c.expiration().map_or_else(|| "never".into(), format_utc),
                    time_left(c.expiration()),
                ),
                loaded: true,
            },
            Err(e) if e.kind() == ErrorKind::NotLoaded => Row {
                name,
                reads: reads(name, &env),
                configured: false,
                result: "not configured".into(),
                detail: e.message().to_string(),
                loaded: false,
            },
            Err(e) => Row {
                name,
                reads: reads(name, &env),
                configured: true,
                result: format!("failed ({:?})", e.kind()),
                detail: e.to_string(),
                loaded: false,
            },
        };
        rows.push(row);
    }
    // The chain takes the first provider that is configured: loaded, or broken (which stops it).
    let chosen = rows.iter().position(|r| r.configured);
    let verdict = match chosen {
        Some(i) if rows[i].loaded => format!("the default chain uses {}", rows[i].name),
        Some(i) => format!(
            "the default chain stops at {}, which is configured but failed",
            rows[i].name
        ),
        None => "nothing loaded: no provider of the default chain is configured".into(),
    };
    match args.format {
        OutputFormat::Json => {
            let providers: Vec<_> = rows
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    json!({
                        "position": i + 1,
                        "name": r.name,
                        "reads": r.reads,
                        "configured": r.configured,
                        "loaded": r.loaded,
                        "result": r.result,
                        "detail": r.detail,
                    })
                })
                .collect();
            let value = json!({
                "providers": providers,
                "chosen": chosen.map(|i| rows[i].name),
                "verdict": verdict,
            });
            println!("{value:#}");
        }
        OutputFormat::Table => {
            let cells: Vec<Vec<String>> = rows
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let mark = if Some(i) == chosen { "*" } else { "" };
                    vec![
                        format!("{}{mark}", i + 1),
                        r.name.to_string(),
                        r.reads.clone(),
                        if r.configured { "yes" } else { "no" }.to_string(),
                        r.result.clone(),
                        r.detail.clone(),
                    ]
                })
                .collect();
            print_table(
                &["#", "provider", "reads", "configured", "result", "detail"],
                &cells,
            );
            println!();
            println!("{verdict}");
        }
    }
    Ok(())
}
