//! The refresh cache's promises, on manual time (aws-smithy-async `tick_advance_time_and_sleep`): no
//! test sleeps for real, every loop is bounded, and every upstream call is counted.

use aws_smithy_async::test_util::tick_advance_sleep::{
    tick_advance_time_and_sleep, TickAdvanceSleep, TickAdvanceTime,
};
use aws_smithy_async::time::TimeSource;
use mse_auth::backoff::Backoff;
use mse_auth::{Credentials, CredentialsError, CredentialsProvider, ErrorKind, RefreshCache};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::Semaphore;

const LIFETIME: Duration = Duration::from_secs(900);

/// An upstream that counts calls, records when they happened, and can be told to fail or to wait.
#[derive(Clone)]
struct Upstream {
    time: TickAdvanceTime,
    calls: Arc<AtomicUsize>,
    call_times: Arc<Mutex<Vec<SystemTime>>>,
    failing: Arc<AtomicBool>,
    /// While `gated`, each call waits for a permit of `gate`.
    gated: Arc<AtomicBool>,
    /// While `hanging`, each call never completes (an upstream that accepts and never answers).
    hanging: Arc<AtomicBool>,
    gate: Arc<Semaphore>,
    lifetime: Duration,
}

impl Upstream {
    fn new(time: &TickAdvanceTime) -> Self {
        Self {
            time: time.clone(),
            calls: Arc::default(),
            call_times: Arc::default(),
            failing: Arc::default(),
            gated: Arc::default(),
            hanging: Arc::default(),
            gate: Arc::new(Semaphore::new(0)),
            lifetime: LIFETIME,
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn fail(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    fn hold_calls(&self, gated: bool) {
        self.gated.store(gated, Ordering::SeqCst);
    }

    fn hang(&self, hanging: bool) {
        self.hanging.store(hanging, Ordering::SeqCst);
    }

    fn release_one(&self) {
        self.gate.add_permits(1);
    }

    async fn call(self) -> mse_auth::Result<Credentials> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.call_times.lock().unwrap().push(self.time.now());
        if self.hanging.load(Ordering::SeqCst) {
            return std::future::pending().await;
        }
        if self.gated.load(Ordering::SeqCst) {
            self.gate.acquire().await.expect("gate open").forget();
        }
        if self.failing.load(Ordering::SeqCst) {
            return Err(
                CredentialsError::provider("upstream", "service unavailable").with_status(503),
            );
        }
        Credentials::builder()
            .access_key_id(format!("STS.load-{n}"))
            .access_key_secret("sentinel-secret")
            .security_token("sentinel-token")
            .expiration(self.time.now() + self.lifetime)
            .provider_path("upstream")
            .build()
    }

    fn cache(&self, sleep: TickAdvanceSleep) -> RefreshCache<Credentials> {
        let upstream = self.clone();
        RefreshCache::builder()
            .name("upstream")
            .time_source(self.time.clone())
            .sleep_impl(sleep)
            .build_with(move || upstream.clone().call())
    }
}

fn seconds(at: SystemTime) -> f64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

async fn let_background_run() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

async fn spawn_callers(
    cache: &RefreshCache<Credentials>,
    n: usize,
) -> Vec<tokio::task::JoinHandle<mse_auth::Result<Credentials>>> {
    let started = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let cache = cache.clone();
            let started = started.clone();
            tokio::spawn(async move {
                started.fetch_add(1, Ordering::SeqCst);
                cache.provide_credentials().await
            })
        })
        .collect();
    // Bounded: at most 2 s of 1 ms naps for the worker threads to start every caller.
    for _ in 0..2000 {
        if started.load(Ordering::SeqCst) == n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(started.load(Ordering::SeqCst), n, "all callers started");
    tokio::time::sleep(Duration::from_millis(5)).await;
    handles
}

async fn assert_all_got(
    handles: Vec<tokio::task::JoinHandle<mse_auth::Result<Credentials>>>,
    expected_id: &str,
) {
    for handle in handles {
        let creds = handle.await.expect("caller task").expect("credentials");
        assert_eq!(creds.access_key_id(), expected_id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_cache_loads_once_for_1000_concurrent_callers() {
    let (time, sleep) = tick_advance_time_and_sleep();
    let upstream = Upstream::new(&time);
    upstream.hold_calls(true);
    let cache = upstream.cache(sleep);
    let handles = spawn_callers(&cache, 1000).await;
    assert_eq!(
        upstream.calls(),
        1,
        "callers wait for the one load in flight"
    );
    upstream.release_one();
    assert_all_got(handles, "STS.load-1").await;
    assert_eq!(upstream.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_cache_loads_once_for_1000_concurrent_callers() {
    let (time, sleep) = tick_advance_time_and_sleep();
    let upstream = Upstream::new(&time);
    let cache = upstream.cache(sleep);
    cache.provide_credentials().await.unwrap();
    // Every background refresh fails until the value has expired.
    upstream.fail(true);
    // On worker threads the background task runs beside the ticking: step until it has seen expiry.
    time.tick(LIFETIME - Duration::from_secs(60)).await;
    for _ in 0..200 {
        if cache.current().is_none() {
            break;
        }
        time.tick(Duration::from_secs(1)).await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(cache.current().is_none(), "expired");
    let before = upstream.calls();
    upstream.fail(false);
    upstream.hold_calls(true);
    let handles = spawn_callers(&cache, 1000).await;
    assert_eq!(
        upstream.calls() - before,
        1,
        "one load in flight for 1000 callers"
    );
    upstream.release_one();
    assert_all_got(handles, &format!("STS.load-{}", before + 1)).await;
    assert_eq!(upstream.calls() - before, 1);
}

#[tokio::test]
async fn lifetime_900s_with_10000_calls_spread_over_it_loads_twice() {
    let (time, sleep) = tick_advance_time_and_sleep();
    let upstream = Upstream::new(&time);
    let cache = upstream.cache(sleep);
    let step = LIFETIME / 10_000;
    for _ in 0..10_000 {
        let creds = cache.provide_credentials().await.unwrap();
        assert!(creds.expiration().unwrap() > time.now());
        time.tick(step).await;
    }
    // The first load, and one prefetch at 70–75 % of the lifetime: never a refresh per call.
    assert_eq!(upstream.calls(), 2);
}

#[tokio::test]
async fn prefetch_happens_before_expiry_without_a_caller_waiting() {
    let (time, sleep) = tick_advance_time_and_sleep();
    let upstream = Upstream::new(&time);
    let cache = upstream.cache(sleep);
    assert_eq!(
        cache.provide_credentials().await.unwrap().access_key_id(),
        "STS.load-1"
    );
    time.tick(Duration::from_secs(620)).await;
    let_background_run().await;
    assert_eq!(upstream.calls(), 1, "not before 70 % of the lifetime");
    time.tick(Duration::from_secs(60)).await;
    let_background_run().await;
    assert_eq!(
        upstream.calls(),
        2,
        "prefetched by 680 s, with nobody calling"
    );
    let times = upstream.call_times.lock().unwrap().clone();
    assert!(
        (630.0..=675.0).contains(&seconds(times[1])),
        "{:?}",
        seconds(times[1])
    );
    let next = cache.provide_credentials();
    assert!(next.is_ready(), "served without waiting");
    assert_eq!(next.await.unwrap().access_key_id(), "STS.load-2");
}

#[tokio::test]
async fn failed_refresh_keeps_serving_unexpired_credentials_and_errors_only_after_expiry() {
    let (time, sleep) = tick_advance_time_and_sleep();
    let upstream = Upstream::new(&time);
    let cache = upstream.cache(sleep);
    cache.provide_credentials().await.unwrap();
    upstream.fail(true);
    // Usable until expiration - min(60 s, 10 %) = 840 s.
    time.tick(Duration::from_secs(839)).await;
    let_background_run().await;
    assert!(
        upstream.calls() > 2,
        "background retried: {}",
        upstream.calls()
    );
    let served = cache.provide_credentials().await.unwrap();
    assert_eq!(served.access_key_id(), "STS.load-1");
    assert_eq!(cache.current().unwrap().access_key_id(), "STS.load-1");
    time.tick(Duration::from_secs(2)).await;
    let_background_run().await;
    assert!(cache.current().is_none());
    let err = cache.provide_credentials().await.unwrap_err();
    assert_eq!(
        (err.kind(), err.status()),
        (ErrorKind::Provider, Some(503)),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "upstream: HTTP 503: service unavailable");
    // Recovery: the next successful load is served again.
    upstream.fail(false);
    let again = cache.provide_credentials().await.unwrap();
    assert!(again.expiration().unwrap() > time.now());
}

#[tokio::test]
async fn background_retries_back_off_exponentially_up_to_the_cap() {
    let (time, sleep) = tick_advance_time_and_sleep();
    let upstream = Upstream {
        lifetime: Duration::from_secs(24 * 3600),
        ..Upstream::new(&time)
    };
    let cache = {
        let upstream = upstream.clone();
        RefreshCache::builder()
            .time_source(time.clone())
            .sleep_impl(sleep)
            .backoff(Backoff::new(
                Duration::from_secs(1),
                Duration::from_secs(60),
            ))
            .build_with(move || upstream.clone().call())
    };
    cache.provide_credentials().await.unwrap();
    upstream.fail(true);
    // The first refresh is due by 75 % of 24 h; then fail for three more hours, one minute at a time.
    for _ in 0..(18 * 60 + 180) {
        time.tick(Duration::from_secs(60)).await;
        let_background_run().await;
    }
    let times = upstream.call_times.lock().unwrap().clone();
    let gaps: Vec<f64> = times[1..]
        .windows(2)
        .map(|w| seconds(w[1]) - seconds(w[0]))
        .collect();
    assert!(gaps.len() > 100, "kept retrying: {} attempts", gaps.len());
    assert!(gaps.iter().all(|g| *g <= 60.0), "capped at 60 s: {gaps:?}");
    assert!(gaps[0] < 1.0 + 1e-9, "first retry after ≤ 1 s: {}", gaps[0]);
    assert!(gaps[1] < gaps[6], "grows: {gaps:?}");
    assert!(
        gaps[10..].iter().all(|g| *g >= 30.0),
        "equal jitter keeps ≥ cap/2: {gaps:?}"
    );
    assert!(
        cache.current().is_some(),
        "still serving the unexpired value"
    );
}

#[tokio::test]
async fn a_refresh_window_past_the_expiry_margin_still_refreshes_in_time() {
    let (time, sleep) = tick_advance_time_and_sleep();
    let upstream = Upstream {
        lifetime: Duration::from_secs(100),
        ..Upstream::new(&time)
    };
    let cache = {
        let upstream = upstream.clone();
        RefreshCache::builder()
            .time_source(time.clone())
            .sleep_impl(sleep)
            .refresh_window(0.95, 0.99) // later than the default margin (served until 90 s)
            .build_with(move || upstream.clone().call())
    };
    cache.provide_credentials().await.unwrap();
    for _ in 0..95 {
        time.tick(Duration::from_secs(1)).await;
        let_background_run().await;
    }
    assert_eq!(
        upstream.calls(),
        2,
        "refreshed while the first value was still served"
    );
    let times = upstream.call_times.lock().unwrap().clone();
    assert!(
        seconds(times[1]) <= 85.5,
        "at most 95 % of the 90 s service time: {}",
        seconds(times[1])
    );
    assert!(cache.current().is_some());
}

#[tokio::test]
async fn a_load_that_hangs_times_out() {
    let (time, sleep) = tick_advance_time_and_sleep();
    let cache = RefreshCache::builder()
        .name("ecs_ram_role")
        .time_source(time.clone())
        .sleep_impl(sleep)
        .load_timeout(Duration::from_secs(5))
        .build_with(std::future::pending::<mse_auth::Result<Credentials>>);
    let caller = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.provide_credentials().await })
    };
    let_background_run().await;
    time.tick(Duration::from_secs(4)).await;
    let_background_run().await;
    assert!(!caller.is_finished());
    time.tick(Duration::from_secs(2)).await;
    let err = caller.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(err.timeout(), Some(Duration::from_secs(5)));
    assert_eq!(err.to_string(), "ecs_ram_role: timed out after 5s");
}

/// A cache on `upstream` that prefetches at 90 % of the lifetime, i.e. at 95 % of the 840 s a 900 s
/// value is served (798 s), with a load budget of 120 s: a hung prefetch spans the cut-off.
fn cache_with_a_late_prefetch(
    upstream: &Upstream,
    sleep: TickAdvanceSleep,
) -> RefreshCache<Credentials> {
    let upstream = upstream.clone();
    RefreshCache::builder()
        .name("upstream")
        .time_source(upstream.time.clone())
        .sleep_impl(sleep)
        .refresh_window(0.9, 0.9)
        .load_timeout(Duration::from_secs(120))
        .build_with(move || upstream.clone().call())
}

fn assert_timed_out_after_120s(result: mse_auth::Result<Credentials>) {
    let err = result.expect_err("nothing valid left: an error, never the expired value");
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err:?}");
    assert_eq!(err.timeout(), Some(Duration::from_secs(120)));
    assert_eq!(err.to_string(), "upstream: timed out after 120s");
}

#[tokio::test]
async fn a_hung_refresh_does_not_keep_the_hit_path_open_past_the_cut_off() {
    let (time, sleep) = tick_advance_time_and_sleep();
    let upstream = Upstream::new(&time);
    let cache = cache_with_a_late_prefetch(&upstream, sleep);
    cache.get().await.unwrap();
    // The upstream accepts the prefetch at 798 s and never answers (the load times out at 918 s).
    upstream.hang(true);
    time.tick(Duration::from_secs(799)).await;
    let_background_run().await;
    assert_eq!(upstream.calls(), 2, "the prefetch is in flight");
    let hit = cache.provide_credentials();
    assert!(hit.is_ready(), "before the cut-off: served by the hit path");
    assert_eq!(hit.await.unwrap().access_key_id(), "STS.load-1");
    assert_eq!(cache.get().await.unwrap().access_key_id(), "STS.load-1");
    time.tick(Duration::from_secs(40)).await;
    let_background_run().await;
    assert_eq!(
        cache.current().unwrap().access_key_id(),
        "STS.load-1",
        "839 s"
    );

    // 840 s = 900 s − min(60 s, 10 %): the cut-off, while the prefetch still hangs.
    time.tick(Duration::from_secs(1)).await;
    let_background_run().await;
    assert_eq!(cache.current(), None, "current() past the cut-off");
    assert!(
        !cache.provide_credentials().is_ready(),
        "the hit path is closed at the cut-off, not when the hung load ends"
    );
    let callers = [
        {
            let cache = cache.clone();
            tokio::spawn(async move { cache.provide_credentials().await })
        },
        {
            let cache = cache.clone();
            tokio::spawn(async move { cache.get().await })
        },
    ];
    let_background_run().await;
    // They wait for the load in flight (started at 798 s), and only as long as its budget.
    time.tick(Duration::from_secs(77)).await;
    let_background_run().await;
    assert!(
        callers.iter().all(|c| !c.is_finished()),
        "917 s: still waiting"
    );
    assert_eq!(cache.current(), None);
    time.tick(Duration::from_secs(1)).await;
    for caller in callers {
        assert_timed_out_after_120s(caller.await.unwrap());
    }
    assert_eq!(upstream.calls(), 2, "the callers shared the hung load");
    assert_eq!(cache.current(), None);
}

#[tokio::test]
async fn a_caller_after_the_cut_off_waits_at_most_the_load_timeout_for_a_hung_upstream() {
    let (time, sleep) = tick_advance_time_and_sleep();
    let upstream = Upstream::new(&time);
    let cache = cache_with_a_late_prefetch(&upstream, sleep);
    cache.get().await.unwrap();
    upstream.fail(true);
    // The prefetch (798 s) and its retries fail until the cut-off (840 s); then the upstream hangs.
    time.tick(Duration::from_secs(840)).await;
    let_background_run().await;
    assert_eq!(cache.current(), None);
    upstream.hang(true);
    let before = upstream.calls();
    let caller = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.provide_credentials().await })
    };
    let_background_run().await;
    assert_eq!(upstream.calls(), before + 1, "the caller's own load");
    time.tick(Duration::from_secs(119)).await;
    let_background_run().await;
    assert!(!caller.is_finished());
    assert!(cache.current().is_none());
    time.tick(Duration::from_secs(1)).await;
    assert_timed_out_after_120s(caller.await.unwrap());
}

#[tokio::test]
async fn a_value_published_with_a_sooner_cut_off_stops_being_served_at_it() {
    let (time, sleep) = tick_advance_time_and_sleep();
    let calls = Arc::new(AtomicUsize::new(0));
    let cache = {
        let (time, calls) = (time.clone(), calls.clone());
        RefreshCache::builder()
            .name("upstream")
            .time_source(time.clone())
            .sleep_impl(sleep)
            .build_with(move || {
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                // A day, then 100 s (served until 90 s), then failures.
                let lifetime = match n {
                    1 => Duration::from_secs(24 * 3600),
                    2 => Duration::from_secs(100),
                    _ => Duration::ZERO,
                };
                let expiration = time.now() + lifetime;
                async move {
                    if lifetime.is_zero() {
                        return Err(CredentialsError::provider(
                            "upstream",
                            "service unavailable",
                        ));
                    }
                    Credentials::builder()
                        .access_key_id(format!("STS.load-{n}"))
                        .access_key_secret("secret")
                        .expiration(expiration)
                        .build()
                }
            })
    };
    cache.get().await.unwrap();
    let_background_run().await; // the task now sleeps until about 17 h
    assert_eq!(cache.refresh().await.unwrap().access_key_id(), "STS.load-2");
    time.tick(Duration::from_secs(89)).await;
    let_background_run().await;
    assert_eq!(cache.current().unwrap().access_key_id(), "STS.load-2");
    assert!(
        calls.load(Ordering::SeqCst) > 2,
        "refreshed on the new value's schedule"
    );
    time.tick(Duration::from_secs(1)).await;
    let_background_run().await;
    assert_eq!(cache.current(), None, "closed at the new value's cut-off");
    let err = cache.provide_credentials().await.unwrap_err();
    assert_eq!(err.to_string(), "upstream: service unavailable");
}

#[tokio::test]
async fn a_value_whose_cut_off_passed_while_it_loaded_is_refused() {
    let (time, sleep) = tick_advance_time_and_sleep();
    let gate = Arc::new(Semaphore::new(0));
    let cache = {
        let (time, gate) = (time.clone(), gate.clone());
        RefreshCache::builder()
            .name("upstream")
            .time_source(time.clone())
            .sleep_impl(sleep)
            .load_timeout(Duration::from_secs(300))
            .build_with(move || {
                // Issued when asked for, valid 100 s (served until 90 s), delivered when released.
                let expiration = time.now() + Duration::from_secs(100);
                let gate = gate.clone();
                async move {
                    gate.acquire().await.expect("gate open").forget();
                    Credentials::builder()
                        .access_key_id("STS.slow")
                        .access_key_secret("secret")
                        .expiration(expiration)
                        .build()
                }
            })
    };
    let caller = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.provide_credentials().await })
    };
    let_background_run().await;
    time.tick(Duration::from_secs(95)).await;
    gate.add_permits(1);
    let err = caller.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert_eq!(
        err.to_string(),
        "upstream: the loaded value expires at 1970-01-01T00:01:40Z, so it is served only until \
         1970-01-01T00:01:30Z (the expiry margin before it), but its load began at \
         1970-01-01T00:00:00Z and finished at 1970-01-01T00:01:35Z: not served"
    );
    assert_eq!(cache.current(), None);
}

#[tokio::test]
async fn dropping_the_cache_stops_the_background_task() {
    let (time, sleep) = tick_advance_time_and_sleep();
    let upstream = Upstream::new(&time);
    let cache = upstream.cache(sleep);
    let metrics = tokio::runtime::Handle::current().metrics();
    let idle = metrics.num_alive_tasks();
    cache.provide_credentials().await.unwrap();
    assert_eq!(
        metrics.num_alive_tasks(),
        idle + 1,
        "a background task runs"
    );
    let loader_alive = Arc::downgrade(&upstream.calls);
    drop(cache);
    let_background_run().await;
    assert_eq!(metrics.num_alive_tasks(), idle, "the background task ended");
    assert_eq!(
        loader_alive.strong_count(),
        1,
        "only the test's own handle is left"
    );
    time.tick(LIFETIME * 3).await;
    let_background_run().await;
    assert_eq!(upstream.calls(), 1, "no refresh after the drop");
}

#[tokio::test]
async fn current_is_a_synchronous_snapshot() {
    let (time, sleep) = tick_advance_time_and_sleep();
    let upstream = Upstream::new(&time);
    let cache = upstream.cache(sleep);
    assert!(
        cache.current().is_none(),
        "nothing loaded yet, and current() never loads"
    );
    assert_eq!(upstream.calls(), 0);
    let creds = cache.provide_credentials().await.unwrap();
    assert_eq!(cache.current(), Some(creds));
}

#[tokio::test]
async fn refresh_forces_a_new_load_and_keeps_the_old_value_when_it_fails() {
    let (time, sleep) = tick_advance_time_and_sleep();
    let upstream = Upstream::new(&time);
    let cache = upstream.cache(sleep);
    cache.get().await.unwrap();
    assert_eq!(cache.refresh().await.unwrap().access_key_id(), "STS.load-2");
    upstream.fail(true);
    assert!(cache.refresh().await.is_err());
    assert_eq!(cache.get().await.unwrap().access_key_id(), "STS.load-2");
}

fn spawn_refresh(
    cache: &RefreshCache<Credentials>,
) -> tokio::task::JoinHandle<mse_auth::Result<Credentials>> {
    let cache = cache.clone();
    tokio::spawn(async move { cache.refresh().await })
}

#[tokio::test]
async fn refresh_returns_the_outcome_of_the_load_it_joins() {
    let (time, sleep) = tick_advance_time_and_sleep();
    let upstream = Upstream::new(&time);
    let cache = upstream.cache(sleep);
    cache.get().await.unwrap();
    upstream.hold_calls(true);

    // A refresh joins another's load, which fails: both get its error; readers keep the old value.
    upstream.fail(true);
    let running = spawn_refresh(&cache);
    let_background_run().await;
    let joining = spawn_refresh(&cache);
    let_background_run().await;
    assert_eq!(upstream.calls(), 2, "one load in flight");
    assert_eq!(cache.get().await.unwrap().access_key_id(), "STS.load-1");
    upstream.release_one();
    for refresh in [running, joining] {
        let err = refresh.await.unwrap().unwrap_err();
        assert_eq!(
            (err.kind(), err.status()),
            (ErrorKind::Provider, Some(503)),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "upstream: HTTP 503: service unavailable");
    }
    assert_eq!(
        upstream.calls(),
        2,
        "the second refresh shared the first's load"
    );
    let served = cache.provide_credentials();
    assert!(
        served.is_ready(),
        "the old value is still served by the hit path"
    );
    assert_eq!(served.await.unwrap().access_key_id(), "STS.load-1");
    assert_eq!(cache.get().await.unwrap().access_key_id(), "STS.load-1");

    // The same, with a load that succeeds: both get its new value.
    upstream.fail(false);
    let running = spawn_refresh(&cache);
    let_background_run().await;
    let joining = spawn_refresh(&cache);
    let_background_run().await;
    upstream.release_one();
    for refresh in [running, joining] {
        assert_eq!(
            refresh.await.unwrap().unwrap().access_key_id(),
            "STS.load-3"
        );
    }
    assert_eq!(upstream.calls(), 3);
    assert_eq!(cache.get().await.unwrap().access_key_id(), "STS.load-3");
}

#[tokio::test]
async fn an_already_expired_value_is_an_error_naming_the_clock() {
    let (time, sleep) = tick_advance_time_and_sleep();
    time.tick(Duration::from_secs(1000)).await;
    let past = time.now() - Duration::from_secs(10);
    let cache = RefreshCache::builder()
        .name("credentials_uri")
        .time_source(time.clone())
        .sleep_impl(sleep)
        .build_with(move || async move {
            Credentials::builder()
                .access_key_id("id")
                .access_key_secret("secret")
                .expiration(past)
                .build()
        });
    let err = cache.get().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "credentials_uri: the loaded value expires at 1970-01-01T00:16:30Z, which is not after now \
         (1970-01-01T00:16:40Z): check the clock"
    );
}

#[test]
fn without_a_runtime_every_call_checks_the_clock_and_refreshes_when_due() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let time = aws_smithy_async::test_util::ManualTimeSource::new(SystemTime::UNIX_EPOCH);
    let calls = Arc::new(AtomicUsize::new(0));
    let cache = {
        let (time, calls) = (time.clone(), calls.clone());
        RefreshCache::builder()
            .time_source(time.clone())
            .sleep_impl(aws_smithy_async::test_util::InstantSleep::unlogged())
            .build_with(move || {
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                let expiration = time.now() + LIFETIME;
                async move {
                    Credentials::builder()
                        .access_key_id(format!("id-{n}"))
                        .access_key_secret("secret")
                        .expiration(expiration)
                        .build()
                }
            })
    };
    let get = |cache: &RefreshCache<Credentials>| {
        let mut fut = std::pin::pin!(cache.provide_credentials());
        match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(result) => result.unwrap(),
            Poll::Pending => panic!("an immediate loader completes on first poll"),
        }
    };
    assert_eq!(get(&cache).access_key_id(), "id-1");
    time.advance(Duration::from_secs(600));
    assert_eq!(get(&cache).access_key_id(), "id-1");
    time.advance(Duration::from_secs(100));
    assert_eq!(
        get(&cache).access_key_id(),
        "id-2",
        "due at 70–75 %: refreshed by the caller"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}
