//! Helpers shared by the provider tests: a cloud on manual time (the emulator, and the clock it shares
//! with every provider under test), the loopback peers of the emulator crate, and a real Nacos server.
//!
//! Refresh tests advance the clock instead of sleeping. The clock is aws-smithy-async's
//! `TickAdvanceTime` with its `TickAdvanceSleep`: advancing it wakes every sleep that falls due on the
//! way, among them the background refresh of each provider's `RefreshCache`, and nothing else. The
//! HTTP between a provider and the emulator stays real (loopback sockets), so a refresh that was
//! woken still takes a few scheduler turns: [`until`] gives them, yielding, never sleeping.

#![allow(dead_code, unused_imports)] // each test binary uses a different subset

pub mod rnacos;

use std::ops::Deref;
use std::time::{Duration, Instant, SystemTime};

use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_async::test_util::tick_advance_sleep::{
    tick_advance_time_and_sleep, TickAdvanceSleep, TickAdvanceTime,
};
use aws_smithy_async::time::TimeSource;
use mse_auth::test_util::CapturedLog;
use mse_auth_emulator::{Emulator, IssuedCredentials};
use mse_auth_providers::os::Env;
use mse_auth_providers::{Context, Credentials, CredentialsError, CredentialsProvider};

pub use mse_auth_emulator::loopback::{closed_port, Canned, Unanswered};

/// A manual clock: aws-smithy-async's `TickAdvanceTime` and the `TickAdvanceSleep` it drives.
pub struct Clock {
    time: TickAdvanceTime,
    sleep: TickAdvanceSleep,
}

/// A manual clock set to the real time.
pub async fn clock() -> Clock {
    let (time, sleep) = tick_advance_time_and_sleep();
    let since_epoch = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("the clock is after 1970");
    time.tick(since_epoch).await; // no sleep is pending yet: this only sets the time
    Clock { time, sleep }
}

impl Clock {
    /// The clock's time.
    pub fn now(&self) -> SystemTime {
        self.time.now()
    }

    /// An empty environment, this clock and its sleep: a provider's refresh cache wakes when the clock
    /// passes its refresh point.
    pub fn context(&self) -> Context {
        context()
            .with_time_source(self.time.clone())
            .with_sleep(self.sleep.clone())
    }

    /// An empty environment, this clock and tokio's sleep: for a client whose retries must not wait for
    /// the clock to be advanced (the KMS client), while it stamps requests with this clock's time.
    pub fn context_with_real_sleep(&self) -> Context {
        self.context().with_sleep(TokioSleep::new())
    }

    /// Advances the clock by `by`, waking on the way every sleep that falls due (a woken refresh then
    /// needs [`until`] to finish its HTTP exchange).
    pub async fn advance(&self, by: Duration) {
        self.time.tick(by).await;
    }
}

/// The query keys of a signed RPC call (STS `AssumeRole`, KMS), in the order the providers send
/// them: the common parameters and the signature; the action's own parameters go in the body.
pub const SIGNED_QUERY: [&str; 9] = [
    "Action",
    "Version",
    "Format",
    "Timestamp",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "AccessKeyId",
    "Signature",
];

/// The emulator on a manual clock; the cloud derefs to that [`Clock`].
pub struct Cloud {
    /// The emulator; its clock is the cloud's.
    pub emulator: Emulator,
    clock: Clock,
}

impl Deref for Cloud {
    type Target = Clock;

    fn deref(&self) -> &Clock {
        &self.clock
    }
}

/// Starts the emulator on a manual clock set to the real time (so its dates look real, and requests
/// stamped by a client on the real clock are still within its ±15 min window).
pub async fn cloud() -> Cloud {
    let clock = clock().await;
    let emulator = Emulator::builder()
        .time_source(clock.time.clone())
        .start()
        .await
        .expect("start the emulator");
    Cloud { emulator, clock }
}

/// An empty environment on the real clock, for tests that need no emulator.
pub fn context() -> Context {
    Context::default().with_env(Env::from_pairs::<&str, &str>([]))
}

/// A TRACE-level subscriber that writes every event, without colours, into `log`.
pub fn trace_subscriber(log: &CapturedLog) -> impl tracing::Subscriber + Send + Sync {
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
}

/// Lets spawned tasks (a background refresh, the emulator answering it) run until `done` returns
/// true: yields to the scheduler, never sleeps; panics naming `what` after 10 s or 5,000,000 turns.
/// On the emulator a refresh lands within a few turns; a real server (rnacos) takes thousands.
pub async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    const TURNS: usize = 5_000_000;
    let deadline = Instant::now() + Duration::from_secs(10);
    for _ in 0..TURNS {
        if done().await {
            return;
        }
        assert!(Instant::now() < deadline, "not within 10 s: {what}");
        tokio::task::yield_now().await;
    }
    panic!("not within {TURNS} scheduler turns: {what}");
}

/// Gives spawned tasks `turns` scheduler turns, e.g. before checking that nothing happened.
pub async fn settle(turns: usize) {
    for _ in 0..turns {
        tokio::task::yield_now().await;
    }
}

/// The credentials `provider` serves once they differ from `old` (a background refresh landed).
pub async fn refreshed(provider: &impl CredentialsProvider, old: &Credentials) -> Credentials {
    let mut served = old.clone();
    until("new credentials are served", async || {
        served = provider.provide_credentials().await.expect("credentials");
        served != *old
    })
    .await;
    served
}

/// Loads credentials from `provider`, checks that they are the `nth` the emulator issued, and
/// returns them.
pub async fn load_issued(
    provider: &impl CredentialsProvider,
    emulator: &Emulator,
    nth: usize,
) -> Credentials {
    let creds = provider.provide_credentials().await.expect("credentials");
    let issued = emulator.issued();
    assert_issued(&creds, issued.get(nth).expect("issued"));
    creds
}

/// `creds` are exactly what the emulator issued.
#[track_caller]
pub fn assert_issued(creds: &Credentials, issued: &IssuedCredentials) {
    assert_eq!(creds.access_key_id(), issued.access_key_id);
    assert_eq!(creds.access_key_secret(), issued.access_key_secret);
    assert_eq!(creds.security_token(), Some(issued.security_token.as_str()));
    assert_eq!(creds.expiration(), Some(issued.expiration));
}

/// Neither the captured TRACE log `log` nor the Debug/Display text `shown` holds any of `secrets`.
#[track_caller]
pub fn assert_none_shown(
    log: &str,
    shown: &str,
    secrets: impl IntoIterator<Item = impl AsRef<str>>,
) {
    for secret in secrets {
        let secret = secret.as_ref();
        assert!(!log.contains(secret), "the TRACE log shows a secret: {log}");
        assert!(
            !shown.contains(secret),
            "Debug/Display shows a secret: {shown}"
        );
    }
}

/// Every AccessKey secret and security token the emulator has issued, after checking it issued
/// `count` credentials.
#[track_caller]
pub fn issued_secrets(emulator: &Emulator, count: usize) -> Vec<String> {
    let issued = emulator.issued();
    assert_eq!(issued.len(), count, "{issued:?}");
    issued
        .into_iter()
        .flat_map(|c| [c.access_key_secret, c.security_token])
        .collect()
}

/// Neither `err`'s `Display`, its `Debug` nor those of its sources show `secret`.
#[track_caller]
pub fn assert_hides(err: &CredentialsError, secret: &str) {
    let mut shown = format!("{err} {err:?}");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        shown.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    assert!(!shown.contains(secret), "{shown}");
}

/// The error of one `provide_credentials`; panics showing the credentials if there is none.
pub async fn load_err(provider: &impl CredentialsProvider) -> CredentialsError {
    match provider.provide_credentials().await {
        Ok(creds) => panic!("expected an error, got {creds:?}"),
        Err(err) => err,
    }
}
