//! Nacos login end to end against a real Nacos-compatible server, rnacos 0.8.8 (see
//! `support/rnacos.rs`): auth on, loopback only.

mod support;

use mse_auth_providers::nacos::NacosLogin;
use mse_auth_providers::ErrorKind;
use std::time::Duration;
use support::closed_port;
use support::rnacos::{Rnacos, ADMIN};

fn login(servers: &str, password: &str) -> NacosLogin {
    NacosLogin::builder(servers)
        .username(ADMIN.0)
        .password(password)
        .build()
        .unwrap()
}

#[tokio::test]
async fn login_token_reads_configs_that_are_refused_without_it() {
    let server = Rnacos::start(3600);
    let token = login(&server.base_url(), ADMIN.1)
        .token()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(token.ttl(), Duration::from_secs(3600));
    assert_eq!(
        server.publish(token.access_token(), "app.yaml", "DEFAULT_GROUP", "k: v"),
        200
    );
    let (status, body) = server.read(Some(token.access_token()), "app.yaml", "DEFAULT_GROUP");
    assert_eq!((status, body.as_str()), (200, "k: v"));
    let (status, _) = server.read(None, "app.yaml", "DEFAULT_GROUP");
    assert_eq!(status, 403, "without the token the server refuses");
}

#[tokio::test]
async fn a_wrong_password_is_a_clear_error_without_the_password() {
    let server = Rnacos::start(3600);
    let err = login(&server.base_url(), "sentinel-wrong-password")
        .token()
        .await
        .unwrap_err();
    assert_eq!((err.kind(), err.status()), (ErrorKind::Provider, Some(403)));
    let text = format!("{err} {err:?}");
    assert!(
        text.contains("login refused: wrong user name or password?"),
        "{text}"
    );
    assert!(!text.contains("sentinel-wrong-password"), "{text}");
}

#[tokio::test]
async fn with_the_first_server_down_login_goes_to_the_second() {
    let server = Rnacos::start(3600);
    let servers = format!("127.0.0.1:{},{}", closed_port(), server.base_url());
    let token = login(&servers, ADMIN.1).token().await.unwrap().unwrap();
    assert_eq!(token.server(), server.base_url());
    let (status, _) = server.read(Some(token.access_token()), "missing", "DEFAULT_GROUP");
    assert_ne!(status, 403, "the token is accepted");
}

#[tokio::test]
async fn the_token_is_refreshed_before_its_ttl_ends() {
    // 6 s tokens: refreshed in the background at 5.4–5.6 s of the client's clock (advanced by hand),
    // before they stop being served at 5.7 s; the new token works.
    let server = Rnacos::start(6);
    let clock = support::clock().await;
    let l = NacosLogin::builder(server.base_url())
        .username(ADMIN.0)
        .password(ADMIN.1)
        .context(clock.context())
        .build()
        .unwrap();
    let first = l.token().await.unwrap().unwrap();
    clock.advance(Duration::from_millis(5_350)).await;
    support::settle(200).await;
    assert_eq!(
        l.current().unwrap().access_token(),
        first.access_token(),
        "not earlier than ttl − ttl/10"
    );
    clock.advance(Duration::from_millis(300)).await;
    support::until("the refreshed token is current", async || {
        l.current()
            .is_some_and(|t| t.access_token() != first.access_token())
    })
    .await;
    let second = l.current().unwrap();
    let (status, _) = server.read(Some(second.access_token()), "x", "DEFAULT_GROUP");
    assert_ne!(status, 403, "the refreshed token works");
}
