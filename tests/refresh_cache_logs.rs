//! A failed load is logged once, at `warn`, with the cache name, the error and (for the background
//! task's retries) the retry delay. Its own test binary: tracing caches each call site's interest
//! globally, so a parallel test without the subscriber could hide events.

use aws_smithy_async::test_util::tick_advance_sleep::tick_advance_time_and_sleep;
use aws_smithy_async::time::TimeSource;
use mse_auth::test_util::CapturedLog;
use mse_auth::{Credentials, CredentialsError, RefreshCache};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

fn warnings(log: &CapturedLog) -> Vec<String> {
    log.text()
        .lines()
        .filter(|line| line.contains("WARN"))
        .map(str::to_owned)
        .collect()
}

async fn let_background_run() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[test]
fn each_failed_load_is_logged_once() {
    let captured = CapturedLog::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .without_time()
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
            let failing = Arc::new(AtomicBool::new(false));
            let gated = Arc::new(AtomicBool::new(false));
            let gate = Arc::new(Semaphore::new(0));
            let cache = {
                let (time, calls, failing) = (time.clone(), calls.clone(), failing.clone());
                let (gated, gate) = (gated.clone(), gate.clone());
                RefreshCache::builder()
                    .name("sts-upstream")
                    .time_source(time.clone())
                    .sleep_impl(sleep)
                    .refresh_window(0.7, 0.7)
                    .build_with(move || {
                        calls.fetch_add(1, Ordering::SeqCst);
                        let expiration = time.now() + Duration::from_secs(900);
                        let (failing, gated, gate) = (failing.clone(), gated.clone(), gate.clone());
                        async move {
                            if gated.load(Ordering::SeqCst) {
                                gate.acquire().await.expect("gate open").forget();
                            }
                            if failing.load(Ordering::SeqCst) {
                                return Err(CredentialsError::provider(
                                    "upstream",
                                    "service unavailable",
                                )
                                .with_status(503));
                            }
                            Credentials::builder()
                                .access_key_id("STS.id")
                                .access_key_secret("secret")
                                .expiration(expiration)
                                .build()
                        }
                    })
            };
            cache.get().await.unwrap();
            failing.store(true, Ordering::SeqCst);

            // One failed background refresh (the prefetch at 630 s; its retry is 0.5–1 s later).
            time.tick(Duration::from_secs(630)).await;
            let_background_run().await;
            assert_eq!(calls.load(Ordering::SeqCst), 2);
            let lines = warnings(&captured);
            assert_eq!(lines.len(), 1, "one warning per failed load: {lines:#?}");
            for part in [
                "loading failed",
                "cache=sts-upstream",
                "error=upstream: HTTP 503: service unavailable",
                "failures=1",
                "retry_in=",
            ] {
                assert!(lines[0].contains(part), "{part:?} in {:?}", lines[0]);
            }

            // Its retry fails too: one more line.
            time.tick(Duration::from_secs(1)).await;
            let_background_run().await;
            assert_eq!(calls.load(Ordering::SeqCst), 3);
            let lines = warnings(&captured);
            assert_eq!(lines.len(), 2, "{lines:#?}");
            assert!(lines[1].contains("failures=2"), "{:?}", lines[1]);

            // A caller's failed load: one line, without a retry delay.
            cache.refresh().await.unwrap_err();
            let lines = warnings(&captured);
            assert_eq!(lines.len(), 3, "{lines:#?}");
            assert!(lines[2].contains("cache=sts-upstream"), "{:?}", lines[2]);
            assert!(
                lines[2].contains("error=upstream: HTTP 503"),
                "{:?}",
                lines[2]
            );
            assert!(!lines[2].contains("retry_in"), "{:?}", lines[2]);

            // The background retry (due by 633 s) joins a caller's load in flight, which fails: one
            // line, the caller's.
            gated.store(true, Ordering::SeqCst);
            let caller = {
                let cache = cache.clone();
                tokio::spawn(async move { cache.refresh().await })
            };
            let_background_run().await;
            time.tick(Duration::from_secs(5)).await;
            let_background_run().await;
            gate.add_permits(1);
            caller.await.unwrap().unwrap_err();
            let_background_run().await;
            assert_eq!(
                calls.load(Ordering::SeqCst),
                5,
                "the retry joined the caller's load"
            );
            let lines = warnings(&captured);
            assert_eq!(lines.len(), 4, "{lines:#?}");
            assert!(!lines[3].contains("retry_in"), "{:?}", lines[3]);
        });
    });
    let log = captured.text();
    assert!(
        log.contains("the load the background refresh joined failed"),
        "the joined failure is noted at debug: {log}"
    );
}
