//! `MseAuthPlugin`'s relogin against the emulator on a manual clock, driven as nacos-sdk drives it:
//! `AuthPlugin::login` once as `build()` does, then from a runtime of its own (as nacos-sdk's login
//! task runs), and `get_login_identity` before each request. On a current-thread and on a
//! multi-thread runtime: after the server refuses the token, `relogin_if_forbidden` with nacos-sdk's
//! 403 error replaces it at once, the next identity carries the new token, and the emulator accepts
//! it; a failed relogin is logged once.

mod support;

use mse_auth::test_util::CapturedLog;
use mse_auth_emulator::{Emulator, Endpoint, Fault};
use mse_auth_providers::nacos::login::{RELOGIN_MAX_GAP, RELOGIN_MIN_GAP};
use mse_auth_providers::nacos::{NacosLogin, Relogin};
use mse_auth_providers::nacos_sdk::MseAuthPlugin;
use nacos_sdk::api::error::Error;
use nacos_sdk::api::plugin::{AuthContext, AuthPlugin, RequestResource};
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use support::Cloud;

const USER: &str = "nacos";
const PASSWORD: &str = "sentinel-plugin-password";
const GROUP: &str = "DEFAULT_GROUP";

/// Installs the process-wide TRACE subscriber; every test calls it first, so no callsite is seen
/// before it exists (tracing caches interest per callsite). Tests pick their own lines by port.
fn logs() -> &'static CapturedLog {
    static LOGS: std::sync::OnceLock<CapturedLog> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = CapturedLog::default();
        tracing::subscriber::set_global_default(support::trace_subscriber(&captured))
            .expect("the only subscriber");
        captured
    })
}

/// A runtime of nacos-sdk's shape (multi-thread, one worker, never dropped), where it runs `login`.
static NACOS_SDK_RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime")
});

async fn cloud() -> Cloud {
    let cloud = support::cloud().await;
    cloud.emulator.nacos_add_user(USER, PASSWORD);
    cloud.emulator.nacos_put_config("app.yaml", GROUP, "k: v");
    cloud
        .emulator
        .set_nacos_token_ttl(Duration::from_secs(3600));
    cloud
}

fn plugin(cloud: &Cloud) -> MseAuthPlugin {
    let login = NacosLogin::builder(cloud.emulator.nacos_server_addr())
        .username(USER)
        .password(PASSWORD)
        .context(cloud.context())
        .build()
        .unwrap();
    MseAuthPlugin::builder().login(login).build().unwrap()
}

/// nacos-sdk's login round.
async fn login_round(plugin: &MseAuthPlugin, cloud: &Cloud) {
    let servers = Arc::new(vec![cloud.emulator.nacos_server_addr()]);
    plugin
        .login(servers, Arc::new(AuthContext::default()))
        .await;
}

/// nacos-sdk's login round, on its own runtime (awaited from the test's).
async fn login_round_on_nacos_sdks_runtime(plugin: &MseAuthPlugin, cloud: &Cloud) {
    let (plugin, servers) = (
        plugin.clone(),
        Arc::new(vec![cloud.emulator.nacos_server_addr()]),
    );
    NACOS_SDK_RUNTIME
        .spawn(async move {
            plugin
                .login(servers, Arc::new(AuthContext::default()))
                .await
        })
        .await
        .expect("the login round does not panic");
}

fn resource() -> RequestResource {
    RequestResource {
        request_type: "Config".into(),
        namespace: Some(String::new()),
        group: Some(GROUP.into()),
        resource: Some("app.yaml".into()),
    }
}

/// What a request sends: nacos-sdk reads the identity (`get_login_identity`, whose map is private to
/// nacos-sdk); the plugin's `identity` shows the same entries.
#[track_caller]
fn token_sent(plugin: &MseAuthPlugin) -> String {
    let _ = plugin.get_login_identity(resource());
    plugin
        .identity(&resource())
        .into_iter()
        .find(|(name, _)| *name == "accessToken")
        .map(|(_, token)| token)
        .expect("the identity carries a token")
}

/// A config read with `token`: the HTTP status.
async fn read(emulator: &Emulator, token: &str) -> u16 {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
        .get(format!("{}/nacos/v1/cs/configs", emulator.base_url()))
        .query(&[("dataId", "app.yaml"), ("group", GROUP)])
        .header("accessToken", token)
        .send()
        .await
        .expect("the emulator answers")
        .status()
        .as_u16()
}

/// What nacos-sdk returns for a refused gRPC request (rnacos's `ErrorResponse`, spec §G.3.2).
fn forbidden() -> Error {
    Error::ErrResponse(None, 500, 403, Some("token invalid!".into()))
}

fn logins(cloud: &Cloud) -> usize {
    cloud.emulator.calls(Endpoint::NacosLogin)
}

async fn a_refused_identity_is_replaced_and_accepted() {
    let cloud = cloud().await;
    let plugin = plugin(&cloud);
    login_round(&plugin, &cloud).await;
    let first = token_sent(&plugin);
    assert_eq!(read(&cloud.emulator, &first).await, 200);
    cloud.emulator.nacos_revoke_tokens();
    assert_eq!(read(&cloud.emulator, &first).await, 403);
    let start = cloud.now();
    assert!(plugin.relogin_if_forbidden(&forbidden()).await, "retry");
    // Another request refused with the same token, reported now: retry too, no second login.
    assert!(plugin.relogin_if_forbidden(&forbidden()).await);
    assert_eq!(logins(&cloud), 2);
    let second = token_sent(&plugin);
    assert_ne!(second, first, "the next identity carries the new token");
    assert_eq!(read(&cloud.emulator, &second).await, 200);
    assert_eq!(cloud.now(), start, "at once, the clock did not move");
    // nacos-sdk's next rounds find the token fresh: no login.
    login_round(&plugin, &cloud).await;
    login_round_on_nacos_sdks_runtime(&plugin, &cloud).await;
    assert_eq!(logins(&cloud), 2);

    // The server refuses the new token at once too: the forced login backs off, and says so.
    cloud.emulator.nacos_revoke_tokens();
    assert_eq!(read(&cloud.emulator, &second).await, 403);
    assert!(!plugin.relogin_if_forbidden(&forbidden()).await, "no retry");
    match plugin.relogin().await.unwrap() {
        Relogin::HeldBack { until } => assert_eq!(until, start + RELOGIN_MIN_GAP),
        other => panic!("{other:?}"),
    }
    assert_eq!(token_sent(&plugin), second);
    assert_eq!(logins(&cloud), 2);
    cloud.advance(RELOGIN_MIN_GAP).await;
    assert!(plugin.relogin_if_forbidden(&forbidden()).await);
    let third = token_sent(&plugin);
    assert_eq!(read(&cloud.emulator, &third).await, 200);
    assert_eq!(logins(&cloud), 3);
    assert!(!plugin.relogin_if_forbidden(&Error::NoAvailableServer).await);
    assert_eq!(logins(&cloud), 3, "not a 403: nothing to do");

    // From a listener callback: request_relogin, then nacos-sdk's round on its own runtime.
    cloud.advance(RELOGIN_MAX_GAP).await;
    cloud.emulator.nacos_revoke_tokens();
    plugin.request_relogin();
    login_round_on_nacos_sdks_runtime(&plugin, &cloud).await;
    let fourth = token_sent(&plugin);
    assert_ne!(fourth, third);
    assert_eq!(read(&cloud.emulator, &fourth).await, 200);
    assert_eq!(logins(&cloud), 4);
    cloud.emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn a_refused_identity_is_replaced_and_accepted_on_a_current_thread_runtime() {
    logs();
    a_refused_identity_is_replaced_and_accepted().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_identity_is_replaced_and_accepted_on_a_multi_thread_runtime() {
    logs();
    a_refused_identity_is_replaced_and_accepted().await;
}

async fn a_relogin_before_any_identity_loads_the_token() {
    let cloud = cloud().await;
    let plugin = plugin(&cloud);
    // A 403 before nacos-sdk read any identity (the request went without a token).
    assert!(plugin.relogin_if_forbidden(&forbidden()).await);
    assert_eq!(logins(&cloud), 1);
    assert_eq!(read(&cloud.emulator, &token_sent(&plugin)).await, 200);
}

#[tokio::test]
async fn a_relogin_before_any_identity_loads_the_token_on_a_current_thread_runtime() {
    logs();
    a_relogin_before_any_identity_loads_the_token().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relogin_before_any_identity_loads_the_token_on_a_multi_thread_runtime() {
    logs();
    a_relogin_before_any_identity_loads_the_token().await;
}

/// The `WARN` lines that name the emulator.
fn warnings(emulator: &Emulator) -> Vec<String> {
    let origin = emulator.base_url();
    logs()
        .text()
        .lines()
        .filter(|l| l.contains(" WARN ") && l.contains(&origin))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn a_failed_relogin_is_logged_once_without_secrets() {
    logs();
    let cloud = cloud().await;
    let plugin = plugin(&cloud);
    login_round(&plugin, &cloud).await;
    let first = token_sent(&plugin);
    cloud.emulator.nacos_revoke_tokens();
    cloud
        .emulator
        .inject_fault(Endpoint::NacosLogin, Fault::Status(503), 1);
    assert!(!plugin.relogin_if_forbidden(&forbidden()).await, "failed");
    let warned = warnings(&cloud.emulator);
    assert_eq!(warned.len(), 1, "one line per failed relogin: {warned:#?}");
    assert!(warned[0].contains("HTTP 503"), "{}", warned[0]);
    // The error is also returned to a direct caller (held back first: one failure in a row).
    assert!(matches!(
        plugin.relogin().await,
        Ok(Relogin::HeldBack { .. })
    ));
    cloud.advance(RELOGIN_MIN_GAP).await;
    assert!(plugin.relogin_if_forbidden(&forbidden()).await);
    let second = token_sent(&plugin);

    // A failed login round is logged once too.
    let fresh = self::plugin(&cloud);
    cloud
        .emulator
        .inject_fault(Endpoint::NacosLogin, Fault::Status(503), 1);
    let before = warnings(&cloud.emulator).len();
    login_round(&fresh, &cloud).await;
    let warned = warnings(&cloud.emulator);
    assert_eq!(warned.len(), before + 1, "{warned:#?}");

    let text = logs().text();
    assert!(text.contains("TRACE") || text.contains("DEBUG"), "{text}");
    for secret in [PASSWORD, first.as_str(), second.as_str()] {
        assert!(!text.contains(secret), "a secret was logged: {text}");
    }
}
