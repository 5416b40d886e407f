//! `mse-auth tour`: every auth mode on an in-process emulator.

use crate::common::{print_table, time_left, CliResult, Globals, OutputFormat};
use mse_auth_cli::tour;
use mse_auth_providers::timestamp::format_utc;
use serde_json::json;

/// Start the local cloud emulator in-process and walk every auth mode through it: static keys, the
/// environment, RAM role ARN (also chained on a role), OIDC role ARN, ECS RAM role, credentials URI,
/// the KMS-rotated AccessKey, both profile files and the default chain; then a Nacos login and a config
/// encrypt/decrypt round trip under each cipher scheme.
///
/// Nothing of this machine's environment or home directory is read: the tour brings its own. Ids are
/// masked; no secret is printed. Exits 1 when a mode fails or a secret travelled in a URL.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mse-auth tour
  mse-auth tour --format json")]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: OutputFormat,
}

/// Runs `mse-auth tour`.
pub async fn run(globals: &Globals, args: Args) -> CliResult {
    let tour = {
        let _spinner = globals.spinner("touring the local cloud…");
        tour::run().await?
    };
    let leaks = if tour.url_leaks.is_empty() {
        "none".to_string()
    } else {
        tour.url_leaks.join("; ")
    };
    match args.format {
        OutputFormat::Table => {
            println!("local cloud emulator at {} (stopped)\n", tour.base_url);
            let rows: Vec<Vec<String>> = tour
                .stops
                .iter()
                .map(|stop| match &stop.result {
                    Ok(c) => vec![
                        stop.mode.to_string(),
                        c.provider_path().to_string(),
                        c.masked_access_key_id(),
                        time_left(c.expiration()),
                    ],
                    Err(e) => vec![stop.mode.to_string(), format!("FAILED: {e}")],
                })
                .collect();
            print_table(
                &["mode", "provider path", "AccessKey id", "valid for"],
                &rows,
            );
            println!();
            let checks: Vec<Vec<String>> = tour
                .checks
                .iter()
                .map(|check| match &check.result {
                    Ok(summary) => vec![check.what.clone(), format!("ok: {summary}")],
                    Err(e) => vec![check.what.clone(), format!("FAILED: {e}")],
                })
                .collect();
            print_table(&["check", "result"], &checks);
            println!(
                "\nthe emulator saw {} requests; secrets in URLs: {leaks}",
                tour.requests
            );
        }
        OutputFormat::Json => {
            let stops: Vec<_> = tour
                .stops
                .iter()
                .map(|stop| match &stop.result {
                    Ok(c) => json!({
                        "mode": stop.mode,
                        "ok": true,
                        "provider_path": c.provider_path(),
                        "access_key_id_masked": c.masked_access_key_id(),
                        "expiration": c.expiration().map(format_utc),
                    }),
                    Err(e) => json!({"mode": stop.mode, "ok": false, "error": e.to_string()}),
                })
                .collect();
            let checks: Vec<_> = tour
                .checks
                .iter()
                .map(|check| match &check.result {
                    Ok(summary) => json!({"check": check.what, "ok": true, "summary": summary}),
                    Err(e) => json!({"check": check.what, "ok": false, "error": e}),
                })
                .collect();
            let value = json!({
                "emulator": tour.base_url,
                "stops": stops,
                "checks": checks,
                "requests": tour.requests,
                "url_leaks": tour.url_leaks,
            });
            println!("{value:#}");
        }
    }
    if tour.all_ok() {
        Ok(())
    } else {
        Err(format!(
            "the tour did not pass: {} of {} modes and {} of {} checks failed; secrets in URLs: {leaks}",
            tour.stops.iter().filter(|s| s.result.is_err()).count(),
            tour.stops.len(),
            tour.checks.iter().filter(|c| c.result.is_err()).count(),
            tour.checks.len()
        )
        .into())
    }
}
