//! Nacos login against loopback servers that answer like Nacos 3 (v3 path), Nacos 2 (v3 → 404, v1), a
//! refusing server and a dead one. The end-to-end tests against a real server are in `nacos_rnacos.rs`.

mod support;

use mse_auth_providers::nacos::login::RELOGIN_MIN_GAP;
use mse_auth_providers::nacos::{NacosLogin, Relogin};
use mse_auth_providers::ErrorKind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::{closed_port, Canned};

fn nacos3(method: &str, path: &str) -> (u16, String) {
    assert_eq!(method, "POST");
    assert!(
        !path.contains("password"),
        "the password must not be in the URL: {path}"
    );
    if path.starts_with("/nacos/v3/auth/user/login?username=nacos") {
        (
            200,
            r#"{"accessToken":"token-v3","tokenTtl":18000,"globalAdmin":true,"username":"nacos"}"#
                .into(),
        )
    } else {
        (404, "not found".into())
    }
}

fn nacos2(_: &str, path: &str) -> (u16, String) {
    if path.starts_with("/nacos/v1/auth/users/login?username=nacos") {
        (200, r#"{"accessToken":"token-v1","tokenTtl":18000}"#.into())
    } else {
        (404, "{\"status\":404}".into())
    }
}

fn refusing(_: &str, _: &str) -> (u16, String) {
    (403, "unknown user!".into())
}

static SHORT_LOGINS: AtomicUsize = AtomicUsize::new(0);

fn short_ttl(_: &str, _: &str) -> (u16, String) {
    let n = SHORT_LOGINS.fetch_add(1, Ordering::SeqCst) + 1;
    (
        200,
        format!(r#"{{"accessToken":"short-{n}","tokenTtl":100}}"#),
    )
}

fn login(servers: &str) -> NacosLogin {
    NacosLogin::builder(servers)
        .username("nacos")
        .password("sentinel-password")
        .build()
        .unwrap()
}

#[tokio::test]
async fn nacos3_login_uses_the_v3_path() {
    let server = Canned::start(nacos3).await;
    let token = login(&server.base_url()).token().await.unwrap().unwrap();
    assert_eq!(token.access_token(), "token-v3");
    assert_eq!(token.ttl(), Duration::from_secs(18000));
}

#[tokio::test]
async fn older_servers_fall_back_to_the_v1_path() {
    let server = Canned::start(nacos2).await;
    let token = login(&server.base_url()).token().await.unwrap().unwrap();
    assert_eq!(token.access_token(), "token-v1");
}

#[tokio::test]
async fn servers_are_tried_in_order_and_a_dead_first_one_is_skipped() {
    let server = Canned::start(nacos3).await;
    let servers = format!("127.0.0.1:{},{}", closed_port(), server.base_url());
    let token = login(&servers).token().await.unwrap().unwrap();
    assert_eq!(token.server(), server.base_url());
}

#[tokio::test]
async fn a_wrong_password_is_a_clear_error_without_the_password() {
    let server = Canned::start(refusing).await;
    let err = login(&server.base_url()).token().await.unwrap_err();
    assert_eq!((err.kind(), err.status()), (ErrorKind::Provider, Some(403)));
    assert_eq!(
        err.to_string(),
        format!(
            "nacos_login: HTTP 403: {}: login refused: wrong user name or password? (server said: unknown user!)",
            server.base_url()
        )
    );
    assert!(!format!("{err:?}").contains("sentinel-password"));
}

#[tokio::test]
async fn every_server_failing_names_them_all() {
    let server = Canned::start(refusing).await;
    let dead = closed_port();
    let servers = format!("{},127.0.0.1:{dead}", server.base_url());
    let err = login(&servers).token().await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!("127.0.0.1:{dead}: could not connect")),
        "{text}"
    );
    assert!(text.contains("login refused"), "{text}");
}

#[tokio::test]
async fn no_user_name_means_no_login() {
    let server = Canned::start(nacos3).await;
    let someone_elses = login(&server.base_url()).token().await.unwrap().unwrap();
    let l = NacosLogin::builder("127.0.0.1:1").build().unwrap();
    assert!(l.token().await.unwrap().is_none());
    assert!(matches!(
        l.relogin(&someone_elses).await.unwrap(),
        Relogin::Disabled
    ));
}

#[tokio::test]
async fn the_token_is_refreshed_before_its_ttl_and_relogin_replaces_a_refused_one_at_once() {
    let server = Canned::start(short_ttl).await;
    let clock = support::clock().await;
    let l = NacosLogin::builder(server.base_url())
        .username("nacos")
        .password("p")
        .context(clock.context())
        .build()
        .unwrap();
    let first = l.token().await.unwrap().unwrap();
    let base = SHORT_LOGINS.load(Ordering::SeqCst);
    // ttl 100 s: refreshed at 100 − U[6.67, 10) s, i.e. between 90 and 93.4 s, without a caller.
    clock.advance(Duration::from_secs(89)).await;
    support::settle(200).await;
    assert_eq!(SHORT_LOGINS.load(Ordering::SeqCst), base);
    clock.advance(Duration::from_secs(5)).await;
    support::until("the refreshed token is current", async || {
        l.current().unwrap().access_token() != first.access_token()
    })
    .await;
    assert_eq!(
        SHORT_LOGINS.load(Ordering::SeqCst),
        base + 1,
        "refreshed before the TTL ended"
    );
    let second = l.current().unwrap();
    // A 403 right after the scheduled renewal logs in again at once: renewals do not count ...
    let before = SHORT_LOGINS.load(Ordering::SeqCst);
    let fresh = match l.relogin(&second).await.unwrap() {
        Relogin::Replaced(token) => token,
        other => panic!("{other:?}"),
    };
    assert_eq!(SHORT_LOGINS.load(Ordering::SeqCst), before + 1);
    assert_ne!(fresh.access_token(), second.access_token());
    // ... a late 403 for the token it replaced gets the new one without a login ...
    let same = l.relogin(&second).await.unwrap();
    assert_eq!(same.token().unwrap().access_token(), fresh.access_token());
    // ... and a 403 for the forced login's own token within RELOGIN_MIN_GAP is held back.
    let now = clock.now();
    match l.relogin(&fresh).await.unwrap() {
        Relogin::HeldBack { until } => assert_eq!(until, now + RELOGIN_MIN_GAP),
        other => panic!("{other:?}"),
    }
    assert_eq!(SHORT_LOGINS.load(Ordering::SeqCst), before + 1);
    clock.advance(RELOGIN_MIN_GAP).await;
    let third = l.relogin(&fresh).await.unwrap();
    assert!(third.replaced(), "{third:?}");
    assert_eq!(SHORT_LOGINS.load(Ordering::SeqCst), before + 2);
}

#[tokio::test]
async fn the_emulator_logs_in_like_nacos_and_no_password_or_token_travels_in_a_url() {
    use mse_auth_emulator::Endpoint;
    let cloud = support::cloud().await;
    let emulator = &cloud.emulator;
    emulator.nacos_add_user("nacos", "sentinel-nacos-password");
    emulator.set_nacos_token_ttl(Duration::from_secs(600));
    let token = NacosLogin::builder(emulator.nacos_server_addr())
        .username("nacos")
        .password("sentinel-nacos-password")
        .context(cloud.context())
        .build()
        .unwrap()
        .token()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(token.ttl(), Duration::from_secs(600));
    assert_eq!(
        emulator.calls(Endpoint::NacosLogin),
        1,
        "the v3 path answered"
    );
    let err = NacosLogin::builder(emulator.nacos_server_addr())
        .username("nacos")
        .password("wrong")
        .context(cloud.context())
        .build()
        .unwrap()
        .token()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    emulator.assert_no_url_leaks();
}
