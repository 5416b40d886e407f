//! `NacosLogin::relogin` against the emulator, on a manual clock: a refused token is replaced at once
//! (no 60 s wait), scheduled renewals do not hold a relogin back, concurrent callers refused with the
//! same token cause one login, a stale refusal gets the newer token without a login, and forced logins
//! back off exactly as documented (`RELOGIN_MIN_GAP` doubling to `RELOGIN_MAX_GAP`) while the server
//! keeps refusing, then reset.
//!
//! Time moves only when a test advances it: a login's token is refused and replaced without the clock
//! moving at all.

mod support;

use mse_auth::test_util::CapturedLog;

use mse_auth_emulator::{Emulator, Endpoint, Fault};
use mse_auth_providers::nacos::login::{RELOGIN_MAX_GAP, RELOGIN_MIN_GAP};
use mse_auth_providers::nacos::{NacosLogin, NacosToken, Relogin};
use mse_auth_providers::ErrorKind;
use std::sync::Arc;
use std::time::Duration;
use support::Cloud;

const USER: &str = "nacos";
const PASSWORD: &str = "sentinel-relogin-password";
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

/// The `WARN` lines that name `origin` (`http://127.0.0.1:<port>`).
fn warnings_about(origin: &str) -> Vec<String> {
    logs()
        .text()
        .lines()
        .filter(|l| l.contains(" WARN ") && l.contains(origin))
        .map(str::to_string)
        .collect()
}

/// The emulator on a manual clock, with a user, a config and tokens of `ttl`.
async fn cloud(ttl: Duration) -> Cloud {
    let cloud = support::cloud().await;
    cloud.emulator.nacos_add_user(USER, PASSWORD);
    cloud.emulator.nacos_put_config("app.yaml", GROUP, "k: v");
    cloud.emulator.set_nacos_token_ttl(ttl);
    cloud
}

fn login(cloud: &Cloud) -> NacosLogin {
    NacosLogin::builder(cloud.emulator.nacos_server_addr())
        .username(USER)
        .password(PASSWORD)
        .context(cloud.context())
        .build()
        .unwrap()
}

/// A config read with `token` (in the `accessToken` header, not the URL): the HTTP status.
async fn read(emulator: &Emulator, token: &NacosToken) -> u16 {
    // One client (building one loads the system's root certificates), no pooled connections (each
    // test has its own runtime).
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .no_proxy()
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap()
        })
        .get(format!("{}/nacos/v1/cs/configs", emulator.base_url()))
        .query(&[("dataId", "app.yaml"), ("group", GROUP)])
        .header("accessToken", token.access_token())
        .send()
        .await
        .expect("the emulator answers")
        .status()
        .as_u16()
}

fn logins(cloud: &Cloud) -> usize {
    cloud.emulator.calls(Endpoint::NacosLogin)
}

#[track_caller]
fn replaced(relogin: Relogin) -> NacosToken {
    assert!(relogin.replaced(), "{relogin:?}");
    match relogin {
        Relogin::Replaced(token) => token,
        other => panic!("expected a new token, got {other:?}"),
    }
}

/// The documented gap after `strikes` signs of refusal in a row, computed from the public constants.
fn gap(strikes: u32) -> Duration {
    RELOGIN_MIN_GAP
        .saturating_mul(1 << strikes.saturating_sub(1).min(31))
        .min(RELOGIN_MAX_GAP)
}

#[tokio::test]
async fn a_revoked_token_is_replaced_at_once_and_the_retry_succeeds() {
    logs();
    let cloud = cloud(Duration::from_secs(3600)).await;
    let login = login(&cloud);
    let first = login.token().await.unwrap().unwrap();
    let start = cloud.now();
    assert_eq!(read(&cloud.emulator, &first).await, 200);
    cloud.emulator.nacos_revoke_tokens();
    assert_eq!(
        read(&cloud.emulator, &first).await,
        403,
        "the request fails"
    );
    // The login is one second old, far less than the 60 s the old rule waited for.
    let fresh = replaced(login.relogin(&first).await.unwrap());
    assert_ne!(fresh.access_token(), first.access_token());
    assert_eq!(logins(&cloud), 2);
    assert_eq!(cloud.now(), start, "the clock did not move");
    assert_eq!(
        read(&cloud.emulator, &fresh).await,
        200,
        "the retry succeeds"
    );
    assert_eq!(
        login.current().unwrap().access_token(),
        fresh.access_token()
    );
    cloud.emulator.assert_no_url_leaks();
}

#[tokio::test]
async fn a_relogin_right_after_a_scheduled_renewal_still_logs_in() {
    logs();
    let cloud = cloud(Duration::from_secs(100)).await;
    let login = login(&cloud);
    let first = login.token().await.unwrap().unwrap();
    // ttl 100 s: renewed at 90–93.4 s in the background.
    cloud.advance(Duration::from_secs(94)).await;
    support::until("the scheduled renewal lands", async || {
        login.current().unwrap().access_token() != first.access_token()
    })
    .await;
    let renewed = login.current().unwrap();
    assert_eq!(logins(&cloud), 2);
    cloud.emulator.nacos_revoke_tokens();
    assert_eq!(read(&cloud.emulator, &renewed).await, 403);
    let fresh = replaced(login.relogin(&renewed).await.unwrap());
    assert_eq!(logins(&cloud), 3, "the renewal did not count against it");
    assert_eq!(read(&cloud.emulator, &fresh).await, 200);
}

#[tokio::test]
async fn a_caller_refused_with_an_old_token_gets_the_newer_one_without_a_login() {
    logs();
    let cloud = cloud(Duration::from_secs(100)).await;
    let login = login(&cloud);
    let first = login.token().await.unwrap().unwrap();
    cloud.emulator.nacos_revoke_tokens();
    let second = replaced(login.relogin(&first).await.unwrap());
    // Another request refused with the first token, reported late.
    let again = replaced(login.relogin(&first).await.unwrap());
    assert_eq!(again.access_token(), second.access_token());
    assert_eq!(logins(&cloud), 2, "no login for a token already replaced");
    // Also after a scheduled renewal: the refused token is the one it replaced.
    cloud.advance(Duration::from_secs(94)).await;
    support::until("the scheduled renewal lands", async || {
        login.current().unwrap().access_token() != second.access_token()
    })
    .await;
    let renewed = replaced(login.relogin(&second).await.unwrap());
    assert_eq!(
        renewed.access_token(),
        login.current().unwrap().access_token()
    );
    assert_eq!(logins(&cloud), 3, "only the renewal logged in");
    assert_eq!(read(&cloud.emulator, &renewed).await, 200);
}

/// `callers` tasks refused with the same token relogin at once: one login, all get its token.
async fn concurrent_callers(callers: usize) {
    let cloud = cloud(Duration::from_secs(3600)).await;
    let login = Arc::new(login(&cloud));
    let refused = login.token().await.unwrap().unwrap();
    cloud.emulator.nacos_revoke_tokens();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..callers {
        let (login, refused) = (login.clone(), refused.clone());
        tasks.spawn(async move { login.relogin(&refused).await });
    }
    let mut tokens = Vec::new();
    while let Some(outcome) = tasks.join_next().await {
        tokens.push(
            replaced(outcome.unwrap().unwrap())
                .access_token()
                .to_string(),
        );
    }
    assert_eq!(tokens.len(), callers);
    assert!(tokens.iter().all(|t| *t == tokens[0]), "one token for all");
    assert_ne!(tokens[0], refused.access_token());
    assert_eq!(logins(&cloud), 2, "{callers} callers, one login");
    assert_eq!(read(&cloud.emulator, &login.current().unwrap()).await, 200);
}

#[tokio::test]
async fn two_callers_refused_with_the_same_token_cause_one_login() {
    logs();
    concurrent_callers(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_callers_refused_with_the_same_token_cause_one_login_on_two_threads() {
    logs();
    concurrent_callers(16).await;
}

#[tokio::test]
async fn sixteen_callers_refused_with_the_same_token_cause_one_login_on_one_thread() {
    logs();
    concurrent_callers(16).await;
}

/// The forced logins the documented rule allows when the caller asks every `step`, `iterations`
/// times, and every forced login counts against the next (its token is refused at once, or it
/// fails): offsets from the first.
fn allowed_logins(step: Duration, iterations: u32) -> Vec<Duration> {
    let mut times: Vec<Duration> = Vec::new();
    for i in 0..iterations {
        let t = step * i;
        let allowed = times
            .last()
            .is_none_or(|last| t >= *last + gap(times.len() as u32));
        if allowed {
            times.push(t);
        }
    }
    times
}

#[test]
fn the_model_of_the_backoff_matches_the_documented_sequence() {
    let secs: Vec<u64> = allowed_logins(Duration::from_millis(500), 400)
        .iter()
        .map(Duration::as_secs)
        .collect();
    assert_eq!(secs, [0, 1, 3, 7, 15, 31, 63, 123, 183]);
}

#[tokio::test]
async fn a_server_that_keeps_refusing_sees_logins_no_more_often_than_the_backoff() {
    logs();
    let cloud = cloud(Duration::from_secs(3600)).await;
    let login = login(&cloud);
    let mut held = login.token().await.unwrap().unwrap();
    cloud.emulator.nacos_revoke_tokens();
    let (step, iterations) = (Duration::from_millis(500), 400);
    let expected = allowed_logins(step, iterations);
    let start = cloud.now();
    let before = logins(&cloud);
    let mut seen: Vec<Duration> = Vec::new();
    for _ in 0..iterations {
        let now = cloud.now().duration_since(start).unwrap();
        assert_eq!(read(&cloud.emulator, &held).await, 403, "at {now:?}");
        match login.relogin(&held).await.unwrap() {
            Relogin::Replaced(token) => {
                seen.push(now);
                // The server refuses every token: this one too, from now on.
                cloud.emulator.nacos_revoke_tokens();
                held = token;
            }
            Relogin::HeldBack { until } => {
                let last = *seen.last().expect("held back only after a forced login");
                let next = last + gap(seen.len() as u32);
                assert_eq!(until, start + next, "at {now:?}");
                assert!(start + now < until);
            }
            other => panic!("at {now:?}: {other:?}"),
        }
        cloud.advance(step).await;
    }
    assert_eq!(seen, expected);
    assert_eq!(logins(&cloud) - before, expected.len());

    // The server recovers: the next allowed forced login gets a token it accepts for a minute, and
    // then refuses (a new incident): the backoff starts over, a login at once, and the next refusal
    // waits RELOGIN_MIN_GAP, not RELOGIN_MAX_GAP.
    let next = start + *seen.last().unwrap() + gap(seen.len() as u32);
    cloud
        .advance(next.duration_since(cloud.now()).unwrap_or_default())
        .await;
    let accepted = replaced(login.relogin(&held).await.unwrap());
    assert_eq!(read(&cloud.emulator, &accepted).await, 200);
    cloud.advance(RELOGIN_MAX_GAP).await;
    cloud.emulator.nacos_revoke_tokens();
    let at = cloud.now();
    let fresh = replaced(login.relogin(&accepted).await.unwrap());
    cloud.emulator.nacos_revoke_tokens();
    match login.relogin(&fresh).await.unwrap() {
        Relogin::HeldBack { until } => assert_eq!(until, at + RELOGIN_MIN_GAP),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_scheduled_renewal_resets_the_backoff() {
    logs();
    let cloud = cloud(Duration::from_secs(20)).await;
    let login = login(&cloud);
    let start = cloud.now();
    let first = login.token().await.unwrap().unwrap();
    cloud.emulator.nacos_revoke_tokens();
    let f1 = replaced(login.relogin(&first).await.unwrap());
    cloud.emulator.nacos_revoke_tokens();
    cloud.advance(RELOGIN_MIN_GAP).await;
    let f2 = replaced(login.relogin(&f1).await.unwrap());
    cloud.emulator.nacos_revoke_tokens();
    // Two refusals in a row: the next forced login waits 2 s.
    match login.relogin(&f2).await.unwrap() {
        Relogin::HeldBack { until } => assert_eq!(until, start + RELOGIN_MIN_GAP + gap(2)),
        other => panic!("{other:?}"),
    }
    // Nobody asks again until the scheduled renewal (18–18.7 s after f2, before its cut-off at 19 s)
    // has logged in.
    cloud.advance(Duration::from_millis(18_800)).await;
    support::until("the scheduled renewal lands", async || {
        login
            .current()
            .is_some_and(|t| t.access_token() != f2.access_token())
    })
    .await;
    let renewed = login.current().unwrap();
    assert_eq!(read(&cloud.emulator, &renewed).await, 200);
    cloud.emulator.nacos_revoke_tokens();
    let at = cloud.now();
    let f3 = replaced(login.relogin(&renewed).await.unwrap());
    cloud.emulator.nacos_revoke_tokens();
    // Without the reset the gap would be gap(3) = 4 s.
    match login.relogin(&f3).await.unwrap() {
        Relogin::HeldBack { until } => assert_eq!(until, at + RELOGIN_MIN_GAP),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn failing_forced_logins_return_their_error_and_back_off() {
    logs();
    let cloud = cloud(Duration::from_secs(3600)).await;
    let login = login(&cloud);
    let held = login.token().await.unwrap().unwrap();
    cloud.emulator.nacos_revoke_tokens();
    let (step, iterations) = (Duration::from_secs(1), 140);
    let expected = allowed_logins(step, iterations);
    // One request per login: the v3 path (a 503 is not a 404: no v1 fallback).
    cloud
        .emulator
        .inject_fault(Endpoint::NacosLogin, Fault::Status(503), expected.len());
    let start = cloud.now();
    let before = logins(&cloud);
    let mut failed = Vec::new();
    for _ in 0..iterations {
        let now = cloud.now().duration_since(start).unwrap();
        match login.relogin(&held).await {
            Err(err) => {
                failed.push(now);
                assert_eq!(err.kind(), ErrorKind::Provider);
                assert_eq!(err.status(), Some(503));
                let text = format!("{err} {err:?}");
                assert!(text.contains("server said: "), "{text}");
                assert!(!text.contains(PASSWORD), "{text}");
            }
            Ok(Relogin::HeldBack { until }) => assert!(start + now < until),
            Ok(other) => panic!("at {now:?}: {other:?}"),
        }
        cloud.advance(step).await;
    }
    assert_eq!(failed, expected);
    assert_eq!(logins(&cloud) - before, expected.len());
    // The token in hand stayed in service, and is still refused; once the server is back, the next
    // allowed forced login replaces it.
    assert_eq!(login.current().unwrap().access_token(), held.access_token());
    let last = *failed.last().unwrap();
    let next = start + last + gap(failed.len() as u32);
    let now = cloud.now();
    if now < next {
        cloud.advance(next.duration_since(now).unwrap()).await;
    }
    let fresh = replaced(login.relogin(&held).await.unwrap());
    assert_eq!(read(&cloud.emulator, &fresh).await, 200);
}

#[tokio::test]
async fn a_login_that_hands_back_the_refused_token_is_reported_unchanged() {
    logs();
    // A server with a token cache answers a login with the token it already issued (spec §A.5).
    let server = support::Canned::start(|_, _| {
        (
            200,
            r#"{"accessToken":"cached-token","tokenTtl":3600}"#.into(),
        )
    })
    .await;
    let clock = support::clock().await;
    let login = NacosLogin::builder(server.base_url())
        .username(USER)
        .password(PASSWORD)
        .context(clock.context())
        .build()
        .unwrap();
    let token = login.token().await.unwrap().unwrap();
    let outcome = login.relogin(&token).await.unwrap();
    assert!(!outcome.replaced(), "{outcome:?}");
    assert!(outcome.token().is_none());
    assert!(matches!(&outcome, Relogin::Unchanged(t) if t.access_token() == "cached-token"));
    assert!(!format!("{outcome:?}").contains("cached-token"));
    // Its token counts as refused: the next forced login is held back.
    let now = clock.now();
    assert!(matches!(
        login.relogin(&token).await.unwrap(),
        Relogin::HeldBack { until } if until == now + RELOGIN_MIN_GAP
    ));
}

#[tokio::test]
async fn without_a_user_name_there_is_nothing_to_replace() {
    logs();
    let cloud = cloud(Duration::from_secs(3600)).await;
    let token = login(&cloud).token().await.unwrap().unwrap();
    let off = NacosLogin::builder(cloud.emulator.nacos_server_addr())
        .build()
        .unwrap();
    let outcome = off.relogin(&token).await.unwrap();
    assert!(matches!(outcome, Relogin::Disabled), "{outcome:?}");
    assert!(!outcome.replaced());
    assert_eq!(logins(&cloud), 1);
}

#[tokio::test]
async fn a_failed_login_is_logged_once_whether_or_not_a_later_server_answers() {
    logs();
    let cloud = cloud(Duration::from_secs(3600)).await;
    let dead = format!("http://127.0.0.1:{}", support::closed_port());
    let servers = format!("{dead},{}", cloud.emulator.nacos_server_addr());
    let login = || {
        NacosLogin::builder(servers.clone())
            .username(USER)
            .password(PASSWORD)
            .context(cloud.context())
            .build()
            .unwrap()
    };
    let l = login();
    let token = l.token().await.unwrap().unwrap();
    let warned = warnings_about(&dead);
    assert_eq!(warned.len(), 1, "{warned:#?}");
    assert!(
        warned[0].contains("logged in after other servers failed")
            && warned[0].contains(&format!("{dead}: could not connect"))
            && warned[0].contains(token.server()),
        "{}",
        warned[0]
    );
    // Both fail: one line, the cache's, naming both.
    cloud
        .emulator
        .inject_fault(Endpoint::NacosLogin, Fault::Status(503), 1);
    cloud.emulator.nacos_revoke_tokens();
    let err = l.relogin(&token).await.unwrap_err();
    assert!(
        err.to_string().contains("login failed on 2 servers"),
        "{err}"
    );
    let warned = warnings_about(&dead);
    assert_eq!(
        warned.len(),
        2,
        "one more line for the failed login: {warned:#?}"
    );
    assert!(
        warned[1].contains("login failed on 2 servers"),
        "{}",
        warned[1]
    );
    assert!(!logs().text().contains(PASSWORD));
    assert!(!logs().text().contains(token.access_token()));
}
