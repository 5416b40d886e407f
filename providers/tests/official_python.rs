//! Wire compatibility with the official Python client (PyPI `alibabacloud-credentials` 1.0.12): its
//! CloudSSO and OAuth providers, and its CLI profile provider on a CloudSSO profile, get credentials
//! from the emulator, and send what ours send (method, path, content type, `Accept`, the bearer
//! token, a `Content-Length`, the body's fields).
//!
//! Ignored by default: it needs that client. Run it with
//! `MSE_AUTH_OFFICIAL_PYTHON=/path/to/python cargo test -p mse-auth-providers --test official_python -- --ignored`,
//! the Python being one where `import alibabacloud_credentials` gives version 1.0.12.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mse_auth_emulator::{Emulator, Endpoint, LoggedRequest, OAUTH_CLIENT_IDS};
use mse_auth_providers::os::{Env, Fs};
use mse_auth_providers::{vars, CliProfileProvider, Context, CredentialsProvider};
use serde_json::{json, Value};

const PYTHON_VAR: &str = "MSE_AUTH_OFFICIAL_PYTHON";
const SSO_TOKEN: &str = "sso-token-official-python";
const ACCOUNT: &str = "1234567890123456";
const ACCESS_CONFIG: &str = "ac-official";

/// Runs each official provider once against the emulator; prints what it got as JSON.
const SCRIPT: &str = r#"
import json, sys
import alibabacloud_credentials
from alibabacloud_credentials.provider.cloud_sso import CloudSSOCredentialsProvider
from alibabacloud_credentials.provider.oauth import OAuthCredentialsProvider
from alibabacloud_credentials.provider.cli_profile import CLIProfileCredentialsProvider

a = json.loads(sys.argv[1])
def shown(c):
    return [c.get_access_key_id(), c.get_access_key_secret(), c.get_security_token(), c.get_provider_name()]

out = {"version": alibabacloud_credentials.__version__}
out["sso"] = shown(CloudSSOCredentialsProvider(
    sign_in_url=a["sign_in_url"], account_id=a["account"], access_config=a["access_config"],
    access_token=a["sso_token"], access_token_expire=a["expire"]).get_credentials())
updates = []
oauth = OAuthCredentialsProvider(
    client_id=a["client_id"], sign_in_url=a["oauth"], refresh_token=a["refresh_token"],
    token_update_callback=lambda *v: updates.append(list(v)))
out["oauth"] = shown(oauth.get_credentials())
out["updates"] = updates
out["cli"] = shown(CLIProfileCredentialsProvider(profile_file=a["config"], profile_name="sso").get_credentials())
print(json.dumps(out))
"#;

/// What must match between two clients' requests to one endpoint.
fn wire(request: &LoggedRequest) -> Value {
    let media = |name: &str| {
        request
            .header(name)
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_owned())
    };
    let bearer = request
        .header("authorization")
        .map(|v| v.split(' ').next().unwrap_or_default().to_owned());
    let fields: BTreeSet<String> = match media("content-type").as_deref() {
        Some("application/json") if !request.body.is_empty() => {
            serde_json::from_str::<Value>(&request.body)
                .ok()
                .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
                .unwrap_or_default()
        }
        Some("application/x-www-form-urlencoded") => {
            form_urlencoded::parse(request.body.as_bytes())
                .map(|(k, _)| k.into_owned())
                .collect()
        }
        _ => BTreeSet::new(),
    };
    json!({
        "method": request.method,
        "path": request.path_and_query,
        "content_type": media("content-type"),
        "authorization": bearer,
        "has_content_length": request.header("content-length").is_some(),
        "fields": fields,
    })
}

fn first(requests: &[LoggedRequest], endpoint: Endpoint) -> &LoggedRequest {
    requests
        .iter()
        .find(|r| r.endpoint == Some(endpoint))
        .unwrap_or_else(|| panic!("no request to {endpoint:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MSE_AUTH_OFFICIAL_PYTHON: a Python with alibabacloud-credentials 1.0.12"]
async fn the_official_python_client_gets_credentials_from_the_emulator_as_ours_do() {
    let python = std::env::var(PYTHON_VAR).unwrap_or_else(|_| {
        panic!("{PYTHON_VAR} must name a Python with alibabacloud-credentials 1.0.12")
    });
    let emulator = Emulator::start().await.expect("start the emulator");
    let expire = SystemTime::now() + Duration::from_secs(3600);
    emulator.cloud_sso_add_access_token(SSO_TOKEN, expire, ACCOUNT, ACCESS_CONFIG);
    emulator.oauth_add_refresh_token("python-refresh-token");
    emulator.oauth_add_refresh_token("rust-refresh-token");
    let sso_profile = json!({"current": "sso", "profiles": [{
        "name": "sso", "mode": "CloudSSO", "cloud_sso_sign_in_url": emulator.cloud_sso_sign_in_url(),
        "cloud_sso_account_id": ACCOUNT, "cloud_sso_access_config": ACCESS_CONFIG,
        "access_token": SSO_TOKEN,
        "cloud_sso_access_token_expire": expire.duration_since(UNIX_EPOCH).unwrap().as_secs()
    }]});
    let config = std::env::temp_dir().join(format!(
        "mse-auth-official-python-{}.json",
        std::process::id()
    ));
    std::fs::write(&config, sso_profile.to_string()).unwrap();
    let args = json!({
        "sign_in_url": emulator.cloud_sso_sign_in_url(), "account": ACCOUNT,
        "access_config": ACCESS_CONFIG, "sso_token": SSO_TOKEN,
        "expire": expire.duration_since(UNIX_EPOCH).unwrap().as_secs(),
        "oauth": emulator.oauth_endpoint(), "client_id": OAUTH_CLIENT_IDS[0],
        "refresh_token": "python-refresh-token", "config": config,
    });
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .args(["-c", SCRIPT, &args.to_string()])
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .output()
    })
    .await
    .unwrap()
    .expect("run the Python client");
    let _ = std::fs::remove_file(&config);
    assert!(
        output.status.success(),
        "the Python client failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out: Value = serde_json::from_slice(&output.stdout).expect("the script's JSON");
    assert_eq!(out["version"], "1.0.12");
    let issued = emulator.issued();
    assert_eq!(issued.len(), 3, "{issued:?}");
    let got = |key: &str, i: usize, name: &str| {
        assert_eq!(
            out[key],
            json!([
                issued[i].access_key_id,
                issued[i].access_key_secret,
                issued[i].security_token,
                name
            ]),
            "{key}"
        );
    };
    got("sso", 0, "cloud_sso");
    got("oauth", 1, "oauth");
    got("cli", 2, "cli_profile/cloud_sso");
    let tokens = emulator.oauth_issued();
    assert_eq!(out["updates"][0][0], tokens[0].refresh_token.as_str());
    assert_eq!(out["updates"][0][1], tokens[0].access_token.as_str());
    let python_requests = emulator.requests();

    // Ours, on the same emulator, from CLI profiles.
    let ours = json!({"current": "sso", "profiles": [
        sso_profile["profiles"][0],
        {"name": "web", "mode": "OAuth", "oauth_refresh_token": "rust-refresh-token"}
    ]})
    .to_string();
    let ctx = |profile: &str| {
        let provider = CliProfileProvider::builder().profile(profile).context(
            Context::default()
                .with_env(Env::from_pairs([
                    ("HOME", "/home/me".to_owned()),
                    (vars::OAUTH_ENDPOINT, emulator.oauth_endpoint()),
                ]))
                .with_fs(Fs::from_pairs([(
                    "/home/me/.aliyun/config.json",
                    ours.as_str(),
                )])),
        );
        provider.build()
    };
    ctx("sso")
        .provide_credentials()
        .await
        .expect("ours, CloudSSO");
    ctx("web").provide_credentials().await.expect("ours, OAuth");
    let all = emulator.requests();
    let our_requests = &all[python_requests.len()..];
    for endpoint in [
        Endpoint::CloudSsoCredentials,
        Endpoint::OAuthToken,
        Endpoint::OAuthExchange,
    ] {
        let (theirs, mine) = (
            first(&python_requests, endpoint),
            first(our_requests, endpoint),
        );
        assert_eq!(wire(theirs), wire(mine), "{endpoint:?}");
        if endpoint == Endpoint::CloudSsoCredentials {
            assert_eq!(theirs.header("accept"), mine.header("accept"));
        }
    }
    emulator.assert_no_url_leaks();
}
