//! Runs the local cloud emulator and prints its endpoints and test credentials as one JSON line,
//! so that other programs (the official SDKs, a shell) can be pointed at it.
//!
//! ```text
//! cargo run -p mse-auth-cli --example emulator_serve -- [SECONDS]
//! ```
//!
//! It serves until its standard input closes or SECONDS (default 600) pass, then prints to stderr
//! how many calls each endpoint received, per request the method, endpoint and URL, and the id of
//! every credential it issued.

#![allow(clippy::print_stdout)]

use std::time::Duration;

use mse_auth_emulator::{Emulator, Endpoint};
use tokio::io::AsyncReadExt;

const ACCESS_KEY_ID: &str = "LTAI5tEmulatorExampleKey";
const ACCESS_KEY_SECRET: &str = "emulator-example-secret";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.emulator-example.token";
const ROLE_NAME: &str = "EmulatorEcsRole";

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let seconds = std::env::args()
        .nth(1)
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(600);
    let emulator = Emulator::start().await?;
    emulator.add_access_key(ACCESS_KEY_ID, ACCESS_KEY_SECRET);
    emulator.set_oidc_token(OIDC_TOKEN);
    emulator.set_imds_role(ROLE_NAME);

    let info = serde_json::json!({
        "base_url": emulator.base_url(),
        "sts_endpoint": emulator.sts_endpoint(),
        "ecs_metadata_endpoint": emulator.ecs_metadata_endpoint(),
        "credentials_uri": emulator.credentials_uri(),
        "access_key_id": ACCESS_KEY_ID,
        "access_key_secret": ACCESS_KEY_SECRET,
        "oidc_token": OIDC_TOKEN,
        "imds_role": ROLE_NAME,
    });
    println!("{info}");

    // Until stdin reaches EOF, or the time is up.
    let stdin_closed = async {
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 256];
        while let Ok(n) = stdin.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(seconds), stdin_closed).await;

    for endpoint in [
        Endpoint::AssumeRole,
        Endpoint::AssumeRoleWithOidc,
        Endpoint::ImdsToken,
        Endpoint::ImdsRole,
        Endpoint::ImdsCredentials,
        Endpoint::CredentialsUri,
    ] {
        eprintln!("calls {endpoint:?}: {}", emulator.calls(endpoint));
    }
    for request in emulator.requests() {
        eprintln!(
            "request {} {:?} {}",
            request.method, request.endpoint, request.path_and_query
        );
    }
    for issued in emulator.issued() {
        eprintln!("issued {:?} {}", issued.endpoint, issued.access_key_id);
    }
    Ok(())
}
