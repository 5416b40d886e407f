//! Nacos login errors: a user name without a password is refused at build time, and when every server
//! fails the error names each one with its own reason (refused, no connection, no answer, HTTP status),
//! against the emulator's Nacos login (with `Fault::Hang`), a closed port and an address that never
//! completes a connection. Budgets are shortened to a few hundred milliseconds.

mod support;

use mse_auth_emulator::{Emulator, Endpoint, Fault};
use mse_auth_providers::http::Timeouts;
use mse_auth_providers::nacos::NacosLogin;
use mse_auth_providers::os::Env;
use mse_auth_providers::{Context, ErrorKind};
use std::time::{Duration, Instant};
use support::{closed_port, Unanswered};

const PASSWORD: &str = "sentinel-nacos-password-0042";
const CONNECT: Duration = Duration::from_millis(300);
const READ: Duration = Duration::from_millis(400);

fn login(servers: &str) -> NacosLogin {
    NacosLogin::builder(servers)
        .username("nacos")
        .password(PASSWORD)
        .timeouts(Timeouts::new(CONNECT, READ))
        .build()
        .unwrap()
}

async fn emulator() -> Emulator {
    let emulator = Emulator::start().await.unwrap();
    emulator.nacos_add_user("nacos", PASSWORD);
    emulator
}

#[test]
fn a_user_name_without_a_password_is_invalid_configuration() {
    for password in [None, Some("")] {
        let mut builder = NacosLogin::builder("127.0.0.1:8848").username("nacos");
        if let Some(p) = password {
            builder = builder.password(p);
        }
        let err = builder.build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration);
        assert_eq!(
            err.to_string(),
            "nacos_login: invalid configuration: user \"nacos\" has no password: set it with \
             .password(…) or NACOS_CLIENT_PASSWORD (Nacos refuses a login with an empty password; \
             an empty user name turns login off)"
        );
    }
    // From the environment: the user name set, the password not (or empty).
    for env in [
        Env::from_pairs([
            ("NACOS_CLIENT_SERVER_ADDRESS", "127.0.0.1:8848"),
            ("NACOS_CLIENT_USERNAME", "nacos"),
        ]),
        Env::from_pairs([
            ("NACOS_CLIENT_SERVER_ADDRESS", "127.0.0.1:8848"),
            ("NACOS_CLIENT_USERNAME", "nacos"),
            ("NACOS_CLIENT_PASSWORD", ""),
        ]),
    ] {
        let ctx = Context::default().with_env(env);
        let err = NacosLogin::from_env(&ctx).unwrap().build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfiguration, "{err}");
        assert!(err.to_string().contains("NACOS_CLIENT_PASSWORD"), "{err}");
    }
    // No user name: no login, so no password is needed; a blank password with a user is kept as given.
    assert!(NacosLogin::builder("127.0.0.1:8848").build().is_ok());
    assert!(NacosLogin::builder("127.0.0.1:8848")
        .username("nacos")
        .password(" ")
        .build()
        .is_ok());
}

#[tokio::test]
async fn a_hanging_and_a_refusing_server_are_both_named_with_their_reasons() {
    let hanging = emulator().await;
    hanging.inject_fault(Endpoint::NacosLogin, Fault::Hang, 1);
    let refusing = closed_port();
    let hang_origin = hanging.base_url();
    let servers = format!("{},127.0.0.1:{refusing}", hanging.nacos_server_addr());
    let started = Instant::now();
    let err = login(&servers).token().await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded by the budgets"
    );
    assert_eq!(hanging.calls(Endpoint::NacosLogin), 1);
    // One timed out, one refused: no common kind.
    assert_eq!(err.kind(), ErrorKind::Unhandled, "{err}");
    assert_eq!(err.status(), None);
    assert_eq!(
        err.to_string(),
        format!(
            "nacos_login: login failed on 2 servers: {hang_origin}: timed out after 700ms (no \
             answer); http://127.0.0.1:{refusing}: could not connect (connection refused)"
        )
    );
    assert!(!err.to_string().contains(PASSWORD));
    assert!(!format!("{err:?}").contains(PASSWORD));
}

#[tokio::test]
async fn three_servers_each_fail_their_own_way_and_are_listed_in_order() {
    let wrong_password = Emulator::start().await.unwrap();
    wrong_password.nacos_add_user("nacos", "another-password");
    let silent = Unanswered::start();
    let refusing = closed_port();
    let servers = format!(
        "127.0.0.1:{refusing},{},{}",
        silent.addr,
        wrong_password.nacos_server_addr()
    );
    let err = login(&servers).token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unhandled, "{err}");
    let text = err.to_string();
    let expected = format!(
        "nacos_login: login failed on 3 servers: http://127.0.0.1:{refusing}: could not connect \
         (connection refused); http://{}: timed out after 300ms (no connection); {}: HTTP 403: \
         login refused: wrong user name or password? (server said: unknown user!)",
        silent.addr,
        wrong_password.base_url()
    );
    assert_eq!(text, expected);
    assert!(!text.contains("other servers"), "{text}");
    assert!(!text.contains(PASSWORD), "{text}");
}

#[tokio::test]
async fn servers_failing_alike_keep_their_common_kind() {
    // Both never connect: TimedOut, after the budgets of both.
    let (a, b) = (Unanswered::start(), Unanswered::start());
    let err = login(&format!("{},{}", a.addr, b.addr))
        .token()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert_eq!(err.timeout(), Some(CONNECT * 2));
    assert_eq!(
        err.to_string(),
        format!(
            "nacos_login: timed out after 600ms: login failed on 2 servers: http://{}: timed out \
             after 300ms (no connection); http://{}: timed out after 300ms (no connection)",
            a.addr, b.addr
        )
    );

    // Both refuse the password: Provider, HTTP 403.
    let (one, two) = (
        Emulator::start().await.unwrap(),
        Emulator::start().await.unwrap(),
    );
    let err = login(&format!(
        "{},{}",
        one.nacos_server_addr(),
        two.nacos_server_addr()
    ))
    .token()
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider, "{err}");
    assert_eq!(err.status(), Some(403));
    let text = err.to_string();
    assert!(
        text.starts_with("nacos_login: HTTP 403: login failed on 2 servers: "),
        "{text}"
    );
    assert!(
        text.contains(&one.base_url()) && text.contains(&two.base_url()),
        "{text}"
    );
}

#[tokio::test]
async fn a_single_failing_server_is_named_too() {
    let hanging = emulator().await;
    hanging.inject_fault(Endpoint::NacosLogin, Fault::Hang, 1);
    let err = login(&hanging.nacos_server_addr())
        .token()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert_eq!(err.timeout(), Some(CONNECT + READ));
    assert_eq!(
        err.to_string(),
        format!(
            "nacos_login: timed out after 700ms: {}: no answer",
            hanging.base_url()
        )
    );

    let silent = Unanswered::start();
    let err = login(&silent.addr.to_string()).token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "nacos_login: timed out after 300ms: http://{}: no connection",
            silent.addr
        )
    );

    let refusing = closed_port();
    let err = login(&format!("127.0.0.1:{refusing}"))
        .token()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unhandled, "{err}");
    assert_eq!(
        err.to_string(),
        format!("nacos_login: http://127.0.0.1:{refusing}: could not connect (connection refused)")
    );

    // After the fault is used up, the same login works.
    let token = login(&hanging.nacos_server_addr())
        .token()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(token.server(), hanging.base_url());
}
