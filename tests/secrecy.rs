//! Secrets and tokens never reach `Debug`, `Display`, error messages or logs (captured at TRACE).

use aws_smithy_async::test_util::tick_advance_sleep::tick_advance_time_and_sleep;
use aws_smithy_async::time::TimeSource;
use mse_auth::os::Env;
use mse_auth::test_util::ScriptedProvider;
use mse_auth::{
    vars, Credentials, CredentialsError, CredentialsProvider, EnvironmentProvider, ProviderChain,
    RefreshCache, SharedCredentialsProvider, StaticAccessKeyProvider, StaticStsProvider,
};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "sentinel-SECRET-7c1e";
const TOKEN: &str = "sentinel-TOKEN-d93a";

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} shows the secret: {text}");
    assert!(!text.contains(TOKEN), "{what} shows the token: {text}");
}

fn assert_error_clean(err: &CredentialsError) {
    assert_clean("error Display", &err.to_string());
    assert_clean("error Debug", &format!("{err:?}"));
    assert_clean("error Debug (pretty)", &format!("{err:#?}"));
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn credentials_providers_and_every_error_kind_hide_secrets() {
    let creds = Credentials::builder()
        .access_key_id("STS.sentinel-id-000111")
        .access_key_secret(SECRET)
        .security_token(TOKEN)
        .build()
        .unwrap();
    assert_clean("credentials Debug", &format!("{creds:?} {creds:#?}"));
    assert_clean("credentials Display", &creds.to_string());

    let sts = StaticStsProvider::new("id", SECRET, TOKEN).unwrap();
    let ak = StaticAccessKeyProvider::new("id", SECRET).unwrap();
    let env = Env::from_pairs([
        (vars::ACCESS_KEY_SECRET, SECRET),
        (vars::SECURITY_TOKEN, TOKEN),
    ]);
    let env_provider = EnvironmentProvider::with_env(env.clone());
    let chain = ProviderChain::first_try(env_provider.clone()).or_else(sts.clone());
    let shared = SharedCredentialsProvider::new(chain.clone());
    for (what, debug) in [
        ("static sts", format!("{sts:?}")),
        ("static ak", format!("{ak:?}")),
        ("env", format!("{env:?} {env_provider:?}")),
        ("chain", format!("{chain:?} {shared:?}")),
    ] {
        assert_clean(what, &debug);
    }

    // Errors built from inputs that hold secrets, one of each kind.
    let errors = [
        Credentials::new(SECRET, "", "static_ak").unwrap_err(),
        Credentials::builder()
            .access_key_id("id")
            .access_key_secret(SECRET)
            .security_token("")
            .build()
            .unwrap_err(),
        futures_ready(env_provider.provide_credentials()).unwrap_err(),
        futures_ready(shared.provide_credentials()).unwrap_err(),
        CredentialsError::not_loaded("env", "not set"),
        CredentialsError::timed_out("ecs_ram_role", Duration::from_secs(1)),
        CredentialsError::provider("ram_role_arn", "denied")
            .with_code("NoPermission")
            .with_request_id("r-1")
            .with_status(403),
        CredentialsError::unhandled("credentials_uri", "connection reset")
            .with_source(std::io::Error::other("peer closed")),
    ];
    let kinds: std::collections::HashSet<_> = errors.iter().map(CredentialsError::kind).collect();
    assert_eq!(kinds.len(), 5, "every kind is covered");
    for err in &errors {
        assert_error_clean(err);
    }
}

fn futures_ready<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    match std::pin::pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("expected a ready future"),
    }
}

#[test]
fn a_refresh_flow_at_trace_level_logs_no_secret() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            let (time, sleep) = tick_advance_time_and_sleep();
            let calls = Arc::new(AtomicUsize::new(0));
            let cache = {
                let (time, calls) = (time.clone(), calls.clone());
                RefreshCache::builder()
                    .name("upstream")
                    .time_source(time.clone())
                    .sleep_impl(sleep)
                    .build_with(move || {
                        let n = calls.fetch_add(1, Ordering::SeqCst);
                        let expiration = time.now() + Duration::from_secs(900);
                        async move {
                            if n % 2 == 1 {
                                // A failure whose provider echoes nothing secret.
                                return Err(CredentialsError::provider("upstream", "throttled"));
                            }
                            Credentials::builder()
                                .access_key_id(format!("STS.id-{n}"))
                                .access_key_secret(SECRET)
                                .security_token(TOKEN)
                                .expiration(expiration)
                                .build()
                        }
                    })
            };
            let creds = cache.provide_credentials().await.unwrap();
            tracing::info!(credentials = ?creds, "application logs the credentials it got");
            tracing::info!(cache = ?cache, "and the cache");
            for _ in 0..20 {
                time.tick(Duration::from_secs(60)).await;
                tokio::task::yield_now().await;
            }
            let chain =
                ProviderChain::first_try(ScriptedProvider::new("scripted").then_ok(creds.clone()));
            chain.provide_credentials().await.unwrap();
            assert!(calls.load(Ordering::SeqCst) >= 2, "a refresh happened");
        });
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("loading failed"), "the flow logged: {logs}");
    assert!(
        logs.contains("ST****-0"),
        "the application's log line is there: {logs}"
    );
    assert_clean("TRACE logs", &logs);
}
