//! `oauth` against the emulator on manual time (and a canned server for answers the emulator does not
//! give): the token refresh and the exchange as the official clients send them, when each happens,
//! the persisted STS credentials, every refusal with its message, the write-back into `config.json`,
//! and the CLI profile mode `OAuth`.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mse_auth_emulator::{Endpoint, Fault, OAUTH_CLIENT_IDS};
use mse_auth_providers::http::Timeouts;
use mse_auth_providers::oauth::{self, OAuthProvider, OAuthSite};
use mse_auth_providers::os::{Env, Fs};
use mse_auth_providers::timestamp::format_utc;
use mse_auth_providers::{vars, CliProfileProvider, Credentials};
use mse_auth_providers::{CredentialsError, CredentialsProvider, ErrorKind};
use serde_json::{json, Value};
use support::{assert_hides, assert_issued, load_err, Canned, Cloud};

const REFRESH_TOKEN: &str = "sentinel-oauth-refresh-token-61b0";
const ACCESS_TOKEN: &str = "sentinel-oauth-access-token-2c9d";
const RELOGIN: &str = "log in again with the Alibaba Cloud CLI: aliyun configure --mode OAuth";
/// Small budgets, so a hang costs little real time.
const BUDGET: Timeouts = Timeouts::new(Duration::from_millis(100), Duration::from_millis(200));
const CONFIG_PATH: &str = "/home/me/.aliyun/config.json";

/// The emulator, taking [`REFRESH_TOKEN`] once.
async fn cloud() -> Cloud {
    let cloud = support::cloud().await;
    cloud.emulator.oauth_add_refresh_token(REFRESH_TOKEN);
    cloud
}

fn builder(cloud: &Cloud) -> oauth::Builder {
    OAuthProvider::builder()
        .endpoint(cloud.emulator.oauth_endpoint())
        .timeouts(BUDGET)
        .context(cloud.context())
}

/// `err`'s text up to ` (RequestId`, after checking it hides both tokens and what was issued.
fn text(err: &CredentialsError, cloud: &Cloud) -> String {
    assert_hides(err, REFRESH_TOKEN);
    assert_hides(err, ACCESS_TOKEN);
    for issued in cloud.emulator.oauth_issued() {
        assert_hides(err, &issued.access_token);
        assert_hides(err, &issued.refresh_token);
    }
    err.to_string()
        .split(" (RequestId")
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test]
async fn a_token_within_1200_s_of_expiry_is_refreshed_then_exchanged() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let provider = builder(&cloud)
        .refresh_token(REFRESH_TOKEN)
        .access_token(ACCESS_TOKEN, cloud.now() + Duration::from_secs(1200))
        .build_uncached()
        .unwrap();
    let creds = provider.provide_credentials().await.unwrap();
    assert_eq!(creds.provider_path(), "oauth");
    assert_issued(&creds, &emulator.issued()[0]);
    assert_eq!(emulator.issued()[0].endpoint, Endpoint::OAuthExchange);
    let tokens = emulator.oauth_issued();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].client_id, OAUTH_CLIENT_IDS[0]);

    let requests = emulator.requests();
    assert_eq!(requests.len(), 2);
    let (token, exchange) = (&requests[0], &requests[1]);
    assert_eq!(
        (token.method.as_str(), token.path_and_query.as_str()),
        ("POST", "/v1/token")
    );
    assert_eq!(
        token.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form: Vec<(String, String)> = form_urlencoded::parse(token.body.as_bytes())
        .into_owned()
        .collect();
    let expected: Vec<(String, String)> = [
        ("grant_type", "refresh_token"),
        ("refresh_token", REFRESH_TOKEN),
        ("client_id", "4038181954557748008"),
        ("Timestamp", &format_utc(cloud.now())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(form, expected);
    assert_eq!(
        (exchange.method.as_str(), exchange.path_and_query.as_str()),
        ("POST", "/v1/exchange")
    );
    assert_eq!(exchange.header("content-type"), Some("application/json"));
    assert_eq!(
        exchange.header("authorization"),
        Some(format!("Bearer {}", tokens[0].access_token).as_str())
    );
    assert_eq!(exchange.body, "");
    assert_eq!(exchange.header("content-length"), Some("0"));
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn a_token_valid_beyond_1200_s_is_exchanged_without_a_refresh_until_it_nears_expiry() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let expires = cloud.now() + Duration::from_secs(1250);
    emulator.oauth_add_access_token(ACCESS_TOKEN, expires);
    emulator.set_credential_lifetime(Duration::from_secs(100));
    let cache = builder(&cloud)
        .site(OAuthSite::Intl)
        .refresh_token(REFRESH_TOKEN)
        .access_token(ACCESS_TOKEN, expires)
        .build()
        .unwrap();
    let first = cache.provide_credentials().await.unwrap();
    assert_issued(&first, &emulator.issued()[0]);
    assert_eq!(emulator.calls(Endpoint::OAuthToken), 0);
    assert_eq!(emulator.calls(Endpoint::OAuthExchange), 1);
    // At the background refresh (70–75 s), the token has 1175–1180 s left: refreshed first.
    cloud.advance(Duration::from_secs(80)).await;
    let second = support::refreshed(&cache, &first).await;
    assert_issued(&second, &emulator.issued()[1]);
    assert_eq!(emulator.calls(Endpoint::OAuthToken), 1);
    assert_eq!(emulator.calls(Endpoint::OAuthExchange), 2);
    assert_eq!(emulator.oauth_issued()[0].client_id, OAUTH_CLIENT_IDS[1]);
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn each_refresh_spends_the_refresh_token_it_was_given() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    // Tokens and credentials that must be renewed at every refresh of the cache.
    emulator.set_oauth_token_lifetime(Duration::from_secs(1250));
    emulator.set_credential_lifetime(Duration::from_secs(100));
    let cache = builder(&cloud)
        .refresh_token(REFRESH_TOKEN)
        .build()
        .unwrap();
    let mut served = cache.provide_credentials().await.unwrap();
    for round in 1..=3 {
        cloud.advance(Duration::from_secs(80)).await;
        served = support::refreshed(&cache, &served).await;
        assert_issued(&served, &emulator.issued()[round]);
    }
    let tokens = emulator.oauth_issued();
    assert_eq!(tokens.len(), 4);
    let sent: Vec<String> = emulator
        .requests()
        .iter()
        .filter(|r| r.endpoint == Some(Endpoint::OAuthToken))
        .map(|r| r.body_param("refresh_token").unwrap())
        .collect();
    let mut expected = vec![REFRESH_TOKEN.to_owned()];
    expected.extend(tokens[..3].iter().map(|t| t.refresh_token.clone()));
    assert_eq!(sent, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_loads_of_the_bare_provider_spend_the_refresh_token_once() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let provider = std::sync::Arc::new(
        builder(&cloud)
            .refresh_token(REFRESH_TOKEN)
            .build_uncached()
            .unwrap(),
    );
    let mut loads = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let provider = provider.clone();
        loads.spawn(async move { provider.provide_credentials().await });
    }
    while let Some(load) = loads.join_next().await {
        load.expect("the task").expect("credentials");
    }
    // One refresh; its access token (3600 s) then serves every exchange.
    assert_eq!(emulator.calls(Endpoint::OAuthToken), 1);
    assert_eq!(emulator.calls(Endpoint::OAuthExchange), 8);
}

/// STS credentials as a profile holds them after an exchange.
fn persisted(expires: SystemTime) -> Credentials {
    Credentials::builder()
        .access_key_id("STS.persisted")
        .access_key_secret("sentinel-persisted-secret")
        .security_token("sentinel-persisted-token")
        .expiration(expires)
        .provider_path("anything")
        .build()
        .unwrap()
}

#[tokio::test]
async fn unexpired_persisted_credentials_are_served_without_a_call_then_renewed() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let cache = builder(&cloud)
        .refresh_token(REFRESH_TOKEN)
        .sts_credentials(persisted(cloud.now() + Duration::from_secs(100)))
        .build()
        .unwrap();
    let first = cache.provide_credentials().await.unwrap();
    assert_eq!(first.access_key_id(), "STS.persisted");
    assert_eq!(first.provider_path(), "oauth");
    assert!(emulator.requests().is_empty());
    cloud.advance(Duration::from_secs(80)).await;
    let second = support::refreshed(&cache, &first).await;
    assert_issued(&second, &emulator.issued()[0]);
    assert_eq!(emulator.calls(Endpoint::OAuthToken), 1);

    // Expired ones are not served.
    let emulator_calls = emulator.requests().len();
    let expired = builder(&cloud)
        .access_token(ACCESS_TOKEN, cloud.now() + Duration::from_secs(3600))
        .sts_credentials(persisted(cloud.now()))
        .build_uncached()
        .unwrap();
    emulator.oauth_add_access_token(ACCESS_TOKEN, cloud.now() + Duration::from_secs(3600));
    let creds = expired.provide_credentials().await.unwrap();
    assert_issued(&creds, &emulator.issued()[1]);
    assert_eq!(emulator.requests().len(), emulator_calls + 1);
}

#[tokio::test]
async fn an_expired_token_without_a_refresh_token_is_refused_without_a_call() {
    let cloud = cloud().await;
    let at = cloud.now() + Duration::from_secs(30);
    let provider = builder(&cloud)
        .access_token(ACCESS_TOKEN, at)
        .build_uncached()
        .unwrap();
    cloud.advance(Duration::from_secs(30)).await;
    let err = load_err(&provider).await;
    assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
    assert_eq!(
        text(&err, &cloud),
        format!(
            "oauth: invalid configuration: the OAuth access token expired at {} and there is no \
             refresh token: {RELOGIN}",
            format_utc(at)
        )
    );
    assert!(cloud.emulator.requests().is_empty());
}

#[tokio::test]
async fn tokens_the_service_refuses_are_provider_errors_with_the_oauth_error() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let origin = emulator.oauth_endpoint();
    // A spent refresh token.
    let once = builder(&cloud).refresh_token(REFRESH_TOKEN);
    once.build_uncached()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    let err = load_err(
        &builder(&cloud)
            .refresh_token(REFRESH_TOKEN)
            .build_uncached()
            .unwrap(),
    )
    .await;
    assert_eq!(
        (err.kind(), err.status(), err.code()),
        (ErrorKind::Provider, Some(400), Some("invalid_grant"))
    );
    assert_eq!(
        text(&err, &cloud),
        format!(
            "oauth: HTTP 400: invalid_grant: the OAuth service at {origin} refused the access token \
             refresh (it says: The refresh token has already been used.); {RELOGIN}"
        )
    );
    // An access token the service does not know, or no longer takes.
    let unknown = builder(&cloud)
        .access_token(ACCESS_TOKEN, cloud.now() + Duration::from_secs(3600))
        .build_uncached()
        .unwrap();
    let err = load_err(&unknown).await;
    assert_eq!(
        text(&err, &cloud),
        format!(
            "oauth: HTTP 401: invalid_token: the OAuth service at {origin} refused the exchange of \
             the access token for STS credentials (it says: The access token is invalid.); {RELOGIN}"
        )
    );
    emulator.oauth_add_access_token(ACCESS_TOKEN, cloud.now() + Duration::from_secs(1300));
    let shortened = builder(&cloud)
        .access_token(ACCESS_TOKEN, cloud.now() + Duration::from_secs(3600))
        .build_uncached()
        .unwrap();
    cloud.advance(Duration::from_secs(1300)).await;
    let err = load_err(&shortened).await;
    assert_eq!(
        text(&err, &cloud),
        format!(
            "oauth: HTTP 401: invalid_token: the OAuth service at {origin} refused the exchange of \
             the access token for STS credentials (it says: The access token has expired.); {RELOGIN}"
        )
    );
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn faults_of_either_endpoint_are_reported() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let origin = emulator.oauth_endpoint();
    emulator.oauth_add_access_token(ACCESS_TOKEN, cloud.now() + Duration::from_secs(7200));
    // The refresh token is never spent: every case below fails before or at /v1/token.
    let refreshing = builder(&cloud)
        .refresh_token(REFRESH_TOKEN)
        .build_uncached()
        .unwrap();
    let exchanging = builder(&cloud)
        .access_token(ACCESS_TOKEN, cloud.now() + Duration::from_secs(7200))
        .build_uncached()
        .unwrap();
    let refresh = "the access token refresh";
    let exchange = "the exchange of the access token for STS credentials";
    let cases: Vec<(Endpoint, Fault, ErrorKind, String)> = vec![
        (
            Endpoint::OAuthToken,
            Fault::Status(400),
            ErrorKind::Provider,
            format!(
                "oauth: HTTP 400: invalid_request: the OAuth service at {origin} refused {refresh} \
                 (it says: The request is missing a parameter or is malformed.); {RELOGIN}"
            ),
        ),
        (
            Endpoint::OAuthToken,
            Fault::Status(500),
            ErrorKind::Provider,
            format!(
                "oauth: HTTP 500: server_error: the OAuth service at {origin} failed {refresh} (it \
                 says: The server met an unexpected condition.)"
            ),
        ),
        (
            Endpoint::OAuthToken,
            Fault::Status(503),
            ErrorKind::Provider,
            format!(
                "oauth: HTTP 503: temporarily_unavailable: the OAuth service at {origin} failed \
                 {refresh} (it says: The service is temporarily unavailable.)"
            ),
        ),
        (
            Endpoint::OAuthToken,
            Fault::Garbage,
            ErrorKind::Provider,
            "oauth: the OAuth token response is not JSON (line 1, column 1)".to_owned(),
        ),
        (
            Endpoint::OAuthToken,
            Fault::MissingFields,
            ErrorKind::Provider,
            "oauth: the OAuth token response lacks access_token, refresh_token".to_owned(),
        ),
        (
            Endpoint::OAuthToken,
            Fault::Close,
            ErrorKind::Unhandled,
            format!("oauth: POST {origin}: request failed"),
        ),
        (
            Endpoint::OAuthToken,
            Fault::Hang,
            ErrorKind::TimedOut,
            format!("oauth: timed out after {:?}", BUDGET.total()),
        ),
        (
            Endpoint::OAuthExchange,
            Fault::Status(403),
            ErrorKind::Provider,
            format!(
                "oauth: HTTP 403: access_denied: the OAuth service at {origin} refused {exchange} \
                 (it says: The request is denied.)"
            ),
        ),
        (
            Endpoint::OAuthExchange,
            Fault::Status(502),
            ErrorKind::Provider,
            format!(
                "oauth: HTTP 502: server_error: the OAuth service at {origin} failed {exchange} (it \
                 says: The server met an unexpected condition.)"
            ),
        ),
        (
            Endpoint::OAuthExchange,
            Fault::Garbage,
            ErrorKind::Provider,
            "oauth: the OAuth exchange response is not JSON (line 1, column 1)".to_owned(),
        ),
        (
            Endpoint::OAuthExchange,
            Fault::MissingFields,
            ErrorKind::Provider,
            "oauth: the OAuth exchange response lacks AccessKeyId".to_owned(),
        ),
    ];
    for (endpoint, fault, kind, expected) in cases {
        let provider = match endpoint {
            Endpoint::OAuthToken => &refreshing,
            _ => &exchanging,
        };
        emulator.inject_fault(endpoint, fault.clone(), 1);
        let before = emulator.calls(endpoint);
        let err = load_err(provider).await;
        assert_eq!(emulator.calls(endpoint), before + 1, "{fault:?}");
        assert_eq!(err.kind(), kind, "{endpoint:?} {fault:?}: {err}");
        assert_eq!(text(&err, &cloud), expected, "{endpoint:?} {fault:?}");
    }
    assert!(emulator.issued().is_empty());
    assert!(emulator.oauth_issued().is_empty());
    // After the faults, both answer again.
    refreshing.provide_credentials().await.unwrap();
    exchanging.provide_credentials().await.unwrap();
    emulator.assert_no_url_leaks();
}

/// An exchanging provider on a canned server answering `respond`.
async fn canned(
    cloud: &Cloud,
    respond: fn(&str, &str) -> (u16, String),
) -> (Canned, OAuthProvider) {
    let server = Canned::start(respond).await;
    let provider = OAuthProvider::builder()
        .endpoint(server.base_url())
        .access_token(ACCESS_TOKEN, cloud.now() + Duration::from_secs(7200))
        .context(cloud.context())
        .build_uncached()
        .unwrap();
    (server, provider)
}

#[tokio::test]
async fn the_go_clients_spelling_is_accepted_and_an_error_in_a_200_is_a_refusal() {
    let cloud = support::cloud().await;
    let (_server, provider) = canned(&cloud, |_, _| {
        (
            200,
            r#"{"accessKeyId":"STS.camel","accessKeySecret":"camel-secret","securityToken":"camel-token",
                "expiration":"2099-01-02T03:04:05Z","requestId":"r-1"}"#
                .into(),
        )
    })
    .await;
    let creds = provider.provide_credentials().await.unwrap();
    assert_eq!(creds.access_key_id(), "STS.camel");
    assert_eq!(creds.security_token(), Some("camel-token"));

    let (server, provider) = canned(&cloud, |_, _| {
        (
            200,
            format!(
                r#"{{"error":"invalid_token","error_description":"no such token {ACCESS_TOKEN}"}}"#
            ),
        )
    })
    .await;
    let err = load_err(&provider).await;
    assert_eq!(
        text(&err, &cloud),
        format!(
            "oauth: invalid_token: the OAuth service at {} refused the exchange of the access token \
             for STS credentials",
            server.base_url()
        )
    );
    let (server, provider) = canned(&cloud, |_, _| (504, format!("<html>{ACCESS_TOKEN}"))).await;
    let err = load_err(&provider).await;
    assert_eq!(
        text(&err, &cloud),
        format!(
            "oauth: HTTP 504: the OAuth service at {} failed the exchange of the access token for \
             STS credentials",
            server.base_url()
        )
    );
}

/// A CLI config: `current` is a chained RAM role over the OAuth profile `web`, among other profiles
/// and keys the library does not know.
fn cli_config(cloud: &Cloud, oauth_profile: Value) -> Value {
    json!({
        "current": "chained",
        "profiles": [
            {"name": "default", "mode": "AK", "access_key_id": "LTAI5tOther", "access_key_secret": "other",
             "region_id": "cn-hangzhou", "output_format": "json", "language": "en"},
            {"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "web",
             "ram_role_arn": "acs:ram::123456789012:role/reader", "ram_session_name": "oauth-test"},
            oauth_profile,
            {"name": "sso", "mode": "CloudSSO", "cloud_sso_sign_in_url": cloud.emulator.cloud_sso_sign_in_url(),
             "cloud_sso_account_id": "1", "cloud_sso_access_config": "ac", "access_token": "other-token",
             "cloud_sso_access_token_expire": 1}
        ],
        "meta_path": "",
        "unknown_top_level": {"kept": [1, 2, 3]}
    })
}

fn oauth_profile() -> Value {
    json!({
        "name": "web", "mode": "OAuth", "oauth_site_type": "CN",
        "oauth_refresh_token": REFRESH_TOKEN, "oauth_access_token": "", "oauth_access_token_expire": 0,
        "region_id": "cn-shanghai", "unknown_profile_key": {"x": true}
    })
}

/// The environment of a CLI-profile user of the emulator.
fn cli_env(cloud: &Cloud) -> Env {
    Env::from_pairs([
        ("HOME", "/home/me".to_owned()),
        (vars::OAUTH_ENDPOINT, cloud.emulator.oauth_endpoint()),
        (vars::STS_ENDPOINT, cloud.emulator.sts_endpoint()),
    ])
}

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "mse-auth-oauth-{tag}-{}-{:08x}",
            std::process::id(),
            fastrand::u32(..)
        ));
        std::fs::create_dir_all(&dir).expect("create the temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("valid JSON")
}

#[tokio::test]
async fn the_write_back_changes_only_the_oauth_profiles_seven_keys_of_the_file() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let dir = TempDir::new("write-back");
    let path = dir.0.join("config.json");
    let before = cli_config(&cloud, oauth_profile());
    std::fs::write(&path, serde_json::to_string_pretty(&before).unwrap()).unwrap();
    let ctx = cloud
        .context()
        .with_env(cli_env(&cloud))
        .with_fs(Fs::real());
    let provider = CliProfileProvider::builder()
        .path(&path)
        .context(ctx.clone())
        .build();
    let creds = provider.provide_credentials().await.unwrap();
    assert_eq!(creds.provider_path(), "cli_profile/ram_role_arn/oauth");
    let issued = emulator.issued();
    assert_eq!(
        issued.iter().map(|i| i.endpoint).collect::<Vec<_>>(),
        [Endpoint::OAuthExchange, Endpoint::AssumeRole]
    );
    assert_issued(&creds, &issued[1]);

    let after = read_json(&path);
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&after), keys(&before));
    for key in ["current", "meta_path", "unknown_top_level"] {
        assert_eq!(after[key], before[key], "{key}");
    }
    for index in [0, 1, 3] {
        assert_eq!(
            after["profiles"][index], before["profiles"][index],
            "profile {index}"
        );
    }
    let tokens = &emulator.oauth_issued()[0];
    let mut expected = before["profiles"][2].clone();
    for (key, value) in [
        ("oauth_refresh_token", json!(tokens.refresh_token)),
        ("oauth_access_token", json!(tokens.access_token)),
        ("oauth_access_token_expire", json!(unix(tokens.expiration))),
        ("access_key_id", json!(issued[0].access_key_id)),
        ("access_key_secret", json!(issued[0].access_key_secret)),
        ("sts_token", json!(issued[0].security_token)),
        ("sts_expiration", json!(unix(issued[0].expiration))),
    ] {
        expected[key] = value;
    }
    assert_eq!(after["profiles"][2], expected);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }
    let files: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, ["config.json"]);

    // The next process starts from the file: the persisted STS credentials, no call.
    let requests = emulator.requests().len();
    let next = CliProfileProvider::builder()
        .path(&path)
        .profile("web")
        .context(ctx)
        .build();
    let creds = next.provide_credentials().await.unwrap();
    assert_eq!(creds.provider_path(), "cli_profile/oauth");
    assert_eq!(creds.access_key_id(), issued[0].access_key_id);
    assert_eq!(creds.expiration(), Some(issued[0].expiration));
    assert_eq!(emulator.requests().len(), requests);
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn a_refreshed_token_is_written_back_even_when_the_exchange_fails() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let config = cli_config(&cloud, oauth_profile()).to_string();
    let fs = Fs::from_pairs([(CONFIG_PATH, config.as_str())]);
    let ctx = cloud
        .context()
        .with_env(cli_env(&cloud))
        .with_fs(fs.clone());
    emulator.inject_fault(Endpoint::OAuthExchange, Fault::Status(503), 1);
    let provider = CliProfileProvider::builder()
        .profile("web")
        .context(ctx)
        .build();
    let err = load_err(&provider).await;
    assert_eq!(err.status(), Some(503));
    assert!(
        text(&err, &cloud).starts_with("cli_profile/oauth: HTTP 503: temporarily_unavailable"),
        "{err}"
    );
    let after: Value = serde_json::from_str(&fs.read_to_string(CONFIG_PATH).unwrap()).unwrap();
    let tokens = &emulator.oauth_issued()[0];
    let web = &after["profiles"][2];
    assert_eq!(web["oauth_refresh_token"], tokens.refresh_token.as_str());
    assert_eq!(web["oauth_access_token"], tokens.access_token.as_str());
    assert_eq!(web["oauth_access_token_expire"], unix(tokens.expiration));
    assert!(web.get("sts_token").is_none() && web.get("access_key_id").is_none());

    // The same provider goes on with the new tokens: no second refresh.
    let creds = provider.provide_credentials().await.unwrap();
    assert_eq!(creds.provider_path(), "cli_profile/oauth");
    assert_issued(&creds, &emulator.issued()[0]);
    assert_eq!(emulator.calls(Endpoint::OAuthToken), 1);
    let after: Value = serde_json::from_str(&fs.read_to_string(CONFIG_PATH).unwrap()).unwrap();
    assert_eq!(
        after["profiles"][2]["sts_token"],
        emulator.issued()[0].security_token.as_str()
    );
}

#[tokio::test]
async fn a_write_back_that_cannot_be_made_does_not_fail_the_credentials() {
    let cloud = cloud().await;
    let config = cli_config(&cloud, oauth_profile()).to_string();
    let fs = Fs::from_pairs([(CONFIG_PATH, config.as_str())]);
    let provider = builder(&cloud)
        .refresh_token(REFRESH_TOKEN)
        .write_back(CONFIG_PATH, "no-such-profile")
        .context(cloud.context().with_fs(fs.clone()))
        .build_uncached()
        .unwrap();
    let creds = provider.provide_credentials().await.unwrap();
    assert_issued(&creds, &cloud.emulator.issued()[0]);
    assert_eq!(fs.read_to_string(CONFIG_PATH).unwrap(), config);
    let missing = builder(&cloud)
        .refresh_token(cloud.emulator.oauth_issued()[0].refresh_token.clone())
        .write_back("/nowhere/config.json", "web")
        .context(cloud.context().with_fs(fs))
        .build_uncached()
        .unwrap();
    missing.provide_credentials().await.unwrap();
}

#[tokio::test]
async fn the_cli_profile_mode_oauth_reads_its_site_tokens_and_persisted_credentials() {
    let cloud = cloud().await;
    let emulator = &cloud.emulator;
    let expire = unix(cloud.now() + Duration::from_secs(600));
    let profile = json!({
        "name": "web", "mode": "OAuth", "oauth_site_type": "intl",
        "oauth_refresh_token": REFRESH_TOKEN, "oauth_access_token": ACCESS_TOKEN,
        "oauth_access_token_expire": expire,
        "access_key_id": "STS.persisted", "access_key_secret": "sentinel-persisted-secret",
        "sts_token": "sentinel-persisted-token", "sts_expiration": expire
    });
    let config = cli_config(&cloud, profile).to_string();
    let fs = Fs::from_pairs([(CONFIG_PATH, config.as_str())]);
    let ctx = cloud
        .context()
        .with_env(cli_env(&cloud))
        .with_fs(fs.clone());
    let provider = CliProfileProvider::builder()
        .profile("web")
        .context(ctx.clone())
        .build();
    let creds = provider.provide_credentials().await.unwrap();
    assert_eq!(creds.provider_path(), "cli_profile/oauth");
    assert_eq!(creds.access_key_id(), "STS.persisted");
    assert!(emulator.requests().is_empty());
    assert_eq!(
        fs.read_to_string(CONFIG_PATH).unwrap(),
        config,
        "nothing to write back"
    );

    // With the STS credentials expired, a refresh (600 s < 1200 s) with the INTL client id.
    let expired = config.replace(
        &format!("\"sts_expiration\":{expire}"),
        "\"sts_expiration\":1",
    );
    assert_ne!(expired, config);
    let fs = Fs::from_pairs([(CONFIG_PATH, expired.as_str())]);
    let provider = CliProfileProvider::builder()
        .profile("web")
        .context(ctx.with_fs(fs))
        .build();
    let creds = provider.provide_credentials().await.unwrap();
    assert_issued(&creds, &emulator.issued()[0]);
    assert_eq!(emulator.oauth_issued()[0].client_id, OAUTH_CLIENT_IDS[1]);
    emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn debug_of_builder_provider_and_cache_shows_no_token() {
    let cloud = cloud().await;
    let b = || {
        builder(&cloud)
            .refresh_token(REFRESH_TOKEN)
            .access_token(ACCESS_TOKEN, None)
            .sts_credentials(persisted(cloud.now() + Duration::from_secs(60)))
            .write_back(CONFIG_PATH, "web")
    };
    let cache = b().build().unwrap();
    cache.provide_credentials().await.unwrap();
    let shown = format!("{:?} {:?} {cache:?}", b(), b().build_uncached().unwrap());
    for secret in [REFRESH_TOKEN, ACCESS_TOKEN, "sentinel-persisted"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}
