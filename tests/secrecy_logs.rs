//! A refresh flow logged at TRACE level shows no secret or token. Its own test binary: tracing caches
//! each call site's interest globally, so a parallel test without the subscriber could hide events.

use aws_smithy_async::test_util::tick_advance_sleep::tick_advance_time_and_sleep;
use aws_smithy_async::time::TimeSource;
use mse_auth::test_util::CapturedLog;
use mse_auth::test_util::ScriptedProvider;
use mse_auth::{Credentials, CredentialsError, CredentialsProvider, ProviderChain, RefreshCache};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const SECRET: &str = "sentinel-SECRET-7c1e";
const TOKEN: &str = "sentinel-TOKEN-d93a";

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} shows the secret: {text}");
    assert!(!text.contains(TOKEN), "{what} shows the token: {text}");
}

#[test]
fn a_refresh_flow_at_trace_level_logs_no_secret() {
    let captured = CapturedLog::default();
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
    let logs = captured.text();
    assert!(logs.contains("loading failed"), "the flow logged: {logs}");
    assert!(
        logs.contains("ST****-0"),
        "the application's log line is there: {logs}"
    );
    assert_clean("TRACE logs", &logs);
}
