//! The CLI's sign-in modes, at TRACE level, never log, format or put in a URL an access token, a
//! refresh token, a secret or a security token: a CloudSSO flow and its refusal, an OAuth refresh,
//! exchange and write-back, a refusal and a failed write-back.
//!
//! One test in its own binary: `tracing` caches per-callsite interest process-wide, and a thread-local
//! subscriber racing with other tests' first use of a callsite can miss events.

mod support;

use std::time::{Duration, SystemTime};

use mse_auth::test_util::CapturedLog;
use mse_auth_emulator::Emulator;
use mse_auth_providers::os::{Env, Fs};
use mse_auth_providers::OAuthProvider;
use mse_auth_providers::{
    vars, CliProfileProvider, CloudSsoProvider, Context, CredentialsProvider,
};

const SSO_TOKEN: &str = "sentinel-SSO-TOKEN-7a01";
const WRONG_SSO_TOKEN: &str = "sentinel-WRONG-SSO-TOKEN-44b2";
const REFRESH_TOKEN: &str = "sentinel-REFRESH-TOKEN-90cd";
const CONFIG: &str = "/home/me/.aliyun/config.json";

fn context(emulator: &Emulator, fs: Fs) -> Context {
    Context::default()
        .with_env(Env::from_pairs([
            ("HOME", "/home/me".to_owned()),
            (vars::OAUTH_ENDPOINT, emulator.oauth_endpoint()),
        ]))
        .with_fs(fs)
}

/// Runs every flow, returning what `Display` and `Debug` showed along the way.
async fn flows(emulator: &Emulator) -> String {
    let url = emulator.cloud_sso_sign_in_url();
    let later = SystemTime::now() + Duration::from_secs(3600);
    let sso = CloudSsoProvider::builder(&url, "1234567890123456", "ac-1")
        .access_token(SSO_TOKEN, later)
        .context(context(emulator, Fs::default()))
        .build()
        .expect("sso");
    let creds = sso.provide_credentials().await.expect("sso credentials");
    let mut shown = format!("{creds} {creds:?} {sso:?}");
    let wrong = CloudSsoProvider::builder(&url, "1234567890123456", "ac-1")
        .access_token(WRONG_SSO_TOKEN, later);
    shown.push_str(&format!("{wrong:?}"));
    let wrong = wrong
        .context(context(emulator, Fs::default()))
        .build_uncached()
        .expect("wrong sso");
    let err = wrong.provide_credentials().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidAccessToken"));
    shown.push_str(&format!("{err} {err:?} {wrong:?}"));

    let config = serde_json::json!({"current": "web", "profiles": [
        {"name": "web", "mode": "OAuth", "oauth_refresh_token": REFRESH_TOKEN}
    ]})
    .to_string();
    let fs = Fs::from_pairs([(CONFIG, config.as_str())]);
    let cli = CliProfileProvider::builder()
        .context(context(emulator, fs.clone()))
        .build();
    let creds = cli.provide_credentials().await.expect("oauth credentials");
    assert_eq!(creds.provider_path(), "cli_profile/oauth");
    assert!(fs
        .read_to_string(CONFIG)
        .expect("config")
        .contains("sts_token"));
    shown.push_str(&format!("{creds} {creds:?} {cli:?} {fs:?}"));

    // The refresh token is spent now: refused. And a write-back that cannot be made.
    let spent = OAuthProvider::builder()
        .refresh_token(REFRESH_TOKEN)
        .context(context(emulator, Fs::default()))
        .build()
        .expect("spent");
    let err = spent.provide_credentials().await.unwrap_err();
    assert_eq!(err.code(), Some("invalid_grant"));
    shown.push_str(&format!("{err} {err:?} {spent:?}"));
    let next = emulator.oauth_issued()[0].refresh_token.clone();
    let unwritable = OAuthProvider::builder()
        .refresh_token(next)
        .write_back("/nowhere/config.json", "web")
        .context(context(emulator, fs))
        .build()
        .expect("unwritable");
    let creds = unwritable.provide_credentials().await.expect("credentials");
    shown.push_str(&format!("{creds} {creds:?} {unwritable:?}"));
    shown
}

#[tokio::test]
async fn no_token_or_secret_reaches_trace_logs_debug_display_or_urls() {
    let log = CapturedLog::default();
    let _guard = tracing::subscriber::set_default(support::trace_subscriber(&log));

    let emulator = Emulator::start().await.expect("start the emulator");
    emulator.cloud_sso_add_access_token(
        SSO_TOKEN,
        SystemTime::now() + Duration::from_secs(3600),
        "1234567890123456",
        "ac-1",
    );
    emulator.oauth_add_refresh_token(REFRESH_TOKEN);
    let shown = flows(&emulator).await;

    let text = log.text();
    for expected in [
        "got CloudSSO credentials",
        "refreshed the OAuth access token",
        "exchanged the OAuth access token for STS credentials",
        "wrote the OAuth tokens back to the CLI config",
        "could not write the OAuth tokens back to the CLI config",
        "loading failed",
    ] {
        assert!(
            text.contains(expected),
            "`{expected}` was not logged: {text}"
        );
    }
    let mut secrets: Vec<String> = [SSO_TOKEN, WRONG_SSO_TOKEN, REFRESH_TOKEN]
        .map(String::from)
        .to_vec();
    let tokens = emulator.oauth_issued();
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    for pair in tokens {
        secrets.push(pair.access_token);
        secrets.push(pair.refresh_token);
    }
    secrets.extend(support::issued_secrets(&emulator, 3));
    support::assert_none_shown(&text, &shown, &secrets);
    emulator.assert_no_url_leaks();
}
