//! The main job on the embedded local cloud: starts the emulator on 127.0.0.1, then fetches credentials
//! through every provider — static keys, environment, RAM role ARN (and a role chained on a role), OIDC,
//! ECS RAM role, credentials URI, the KMS-rotated AccessKey, both profile files and the default chain —
//! and prints who produced what; then a Nacos login and a config encrypt/decrypt round trip under each
//! cipher scheme. No secret is printed: ids are masked. (`mse-auth tour` runs the same tour.)
//!
//! `cargo run -p mse-auth-cli --example tour`

use mse_auth_cli::tour;
use std::time::SystemTime;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let tour = tour::run().await?;
    println!("local cloud emulator at {}\n", tour.base_url);
    println!(
        "{:<28} {:<46} {:<16} valid for",
        "mode", "provider path", "AccessKey id"
    );
    for stop in &tour.stops {
        match &stop.result {
            Ok(c) => {
                let left = c
                    .expiration()
                    .and_then(|e| e.duration_since(SystemTime::now()).ok())
                    .map(|d| format!("{}s", d.as_secs()))
                    .unwrap_or_else(|| "never expires".into());
                println!(
                    "{:<28} {:<46} {:<16} {left}",
                    stop.mode,
                    c.provider_path(),
                    c.masked_access_key_id()
                );
            }
            Err(e) => println!("{:<28} FAILED: {e}", stop.mode),
        }
    }
    println!();
    for check in &tour.checks {
        match &check.result {
            Ok(summary) => println!("{:<40} ok: {summary}", check.what),
            Err(e) => println!("{:<40} FAILED: {e}", check.what),
        }
    }
    println!(
        "\nthe emulator saw {} requests; secrets in URLs: {}",
        tour.requests,
        if tour.url_leaks.is_empty() {
            "none".to_string()
        } else {
            tour.url_leaks.join("; ")
        }
    );
    Ok(())
}
