//! The local cloud emulator under the control of the Python tests and benchmarks
//! (`python/tests/support/emulator.py` starts it).
//!
//! It starts [`Emulator`] on 127.0.0.1 with the demo AccessKey, OIDC token, ECS role, KMS key and a
//! RAM-credentials secret, prints one JSON line with everything a client needs, then answers one
//! command per line on stdin with one JSON line on stdout:
//!
//! | command | effect | answer |
//! |---|---|---|
//! | `calls <endpoint>` | | `{"calls": n}` |
//! | `delay <endpoint> <ms> <times>` | the next `times` requests wait `ms` first | `{"ok": true}` |
//! | `status <endpoint> <code> <times>` | the next `times` requests get that error status | `{"ok": true}` |
//! | `lifetime <seconds>` | every credential issued from now on lives that long | `{"ok": true}` |
//! | `issued` | | `{"issued": [{"access_key_id", "access_key_secret", "security_token", "expiration"}]}` |
//! | `rotate <secret name>` | rotates a RAM-credentials secret | `{"access_key_id": …}` |
//!
//! Endpoints are named as [`Endpoint`]'s variants (`AssumeRole`, `KmsGetSecretValue`, …). The
//! process exits when stdin closes, so it never outlives the test that started it.
//!
//! ```sh
//! cargo run -p mse-auth-python --example test_emulator
//! ```

use mse_auth_emulator::{Emulator, Endpoint, Fault};
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const ACCESS_KEY_ID: &str = "LTAI5tEmulatorDemoKey";
const ACCESS_KEY_SECRET: &str = "emulator-demo-secret";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.emulator-demo.token";
const ECS_ROLE: &str = "EmulatorDemoRole";
const KMS_KEY_ID: &str = "alias/acs/mse";
const SECRET_NAME: &str = "mse-auth-demo-ak";
const SECRET_ACCESS_KEY_ID: &str = "LTAI5tRotatedDemoKey1";
const SECRET_ACCESS_KEY_SECRET: &str = "rotated-demo-secret-1";

fn endpoint(name: &str) -> Option<Endpoint> {
    Some(match name {
        "AssumeRole" => Endpoint::AssumeRole,
        "AssumeRoleWithOidc" => Endpoint::AssumeRoleWithOidc,
        "ImdsToken" => Endpoint::ImdsToken,
        "ImdsRole" => Endpoint::ImdsRole,
        "ImdsCredentials" => Endpoint::ImdsCredentials,
        "CredentialsUri" => Endpoint::CredentialsUri,
        "KmsGetSecretValue" => Endpoint::KmsGetSecretValue,
        "KmsGenerateDataKey" => Endpoint::KmsGenerateDataKey,
        "KmsEncrypt" => Endpoint::KmsEncrypt,
        "KmsDecrypt" => Endpoint::KmsDecrypt,
        "NacosLogin" => Endpoint::NacosLogin,
        _ => return None,
    })
}

fn unix(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// One command's answer.
fn answer(emulator: &Emulator, line: &str) -> Value {
    let words: Vec<&str> = line.split_whitespace().collect();
    let number = |i: usize| words.get(i).and_then(|w| w.parse::<u64>().ok());
    let target = words.get(1).and_then(|w| endpoint(w));
    match (words.first().copied(), target) {
        (Some("calls"), Some(e)) => json!({ "calls": emulator.calls(e) }),
        (Some("delay"), Some(e)) => match (number(2), number(3)) {
            (Some(ms), Some(times)) => {
                emulator.inject_fault(e, Fault::Delay(Duration::from_millis(ms)), times as usize);
                json!({ "ok": true })
            }
            _ => json!({ "error": "usage: delay <endpoint> <ms> <times>" }),
        },
        (Some("status"), Some(e)) => match (number(2), number(3)) {
            (Some(code), Some(times)) if (100..600).contains(&code) => {
                emulator.inject_fault(e, Fault::Status(code as u16), times as usize);
                json!({ "ok": true })
            }
            _ => json!({ "error": "usage: status <endpoint> <code> <times>" }),
        },
        (Some("lifetime"), _) => match number(1) {
            Some(seconds) => {
                emulator.set_credential_lifetime(Duration::from_secs(seconds));
                json!({ "ok": true })
            }
            None => json!({ "error": "usage: lifetime <seconds>" }),
        },
        (Some("issued"), _) => {
            let issued: Vec<Value> = emulator
                .issued()
                .into_iter()
                .map(|c| {
                    json!({
                        "access_key_id": c.access_key_id,
                        "access_key_secret": c.access_key_secret,
                        "security_token": c.security_token,
                        "expiration": unix(c.expiration),
                    })
                })
                .collect();
            json!({ "issued": issued })
        }
        (Some("rotate"), _) => match words
            .get(1)
            .and_then(|name| emulator.kms_rotate_secret(name))
        {
            Some((id, _)) => json!({ "access_key_id": id }),
            None => json!({ "error": "no such secret with a rotation interval" }),
        },
        _ => json!({ "error": format!("unknown command: {line}") }),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let emulator = Emulator::start().await?;
    emulator.add_access_key(ACCESS_KEY_ID, ACCESS_KEY_SECRET);
    emulator.set_oidc_token(OIDC_TOKEN);
    emulator.set_imds_role(ECS_ROLE);
    emulator.kms_create_key(KMS_KEY_ID);
    emulator.kms_put_ram_secret(
        SECRET_NAME,
        SECRET_ACCESS_KEY_ID,
        SECRET_ACCESS_KEY_SECRET,
        Duration::from_secs(7 * 24 * 3600),
        SystemTime::now() + Duration::from_secs(7 * 24 * 3600),
    );
    let ready = json!({
        "base_url": emulator.base_url(),
        "sts_endpoint": emulator.sts_endpoint(),
        "ecs_metadata_endpoint": emulator.ecs_metadata_endpoint(),
        "credentials_uri": emulator.credentials_uri(),
        "kms_endpoint": emulator.kms_endpoint(),
        "access_key_id": ACCESS_KEY_ID,
        "access_key_secret": ACCESS_KEY_SECRET,
        "oidc_token": OIDC_TOKEN,
        "ecs_role": ECS_ROLE,
        "kms_key_id": KMS_KEY_ID,
        "secret_name": SECRET_NAME,
        "secret_access_key_id": SECRET_ACCESS_KEY_ID,
    });
    let mut stdout = tokio::io::stdout();
    stdout.write_all(format!("{ready}\n").as_bytes()).await?;
    stdout.flush().await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let reply = answer(&emulator, line.trim());
        stdout.write_all(format!("{reply}\n").as_bytes()).await?;
        stdout.flush().await?;
    }
    Ok(())
}
