//! [`RefreshCache`]: serves a value that expires (credentials, a Nacos token) and keeps it fresh.
//!
//! - **Hits are lock-free and allocation-free.** Each thread keeps its own copy of the current value,
//!   re-made only when the cache publishes a new generation, so readers on different cores never write
//!   to a shared cache line. The hit path reads no clock: a background task opens and closes it.
//! - **Single flight.** At most one load runs at a time; callers that arrive while it runs wait for it
//!   and all get its result, success or error.
//! - **Prefetch.** After a load, a background task (on the Tokio runtime of the caller that loaded)
//!   sleeps until a jittered point of the lifetime (70–75 % by default) and loads again, so no caller
//!   waits once the first load is done. It stops when the cache is dropped.
//! - **Failures.** A failed refresh keeps the current value in service until its cut-off, retrying
//!   with capped exponential backoff plus jitter; callers see an error only once nothing valid is
//!   left. Each failed load is logged once at `warn`, with the cache name and the error (and, for the
//!   background task's, the retry delay), by whoever ran it, never by those who joined it.
//! - **Expiry margin.** A value counts as expired `min(60 s, 10 % of its lifetime)` before its stated
//!   expiration (the lifetime it had when its load began), so a request signed at the last moment
//!   still lands, while a 900-second session is not refreshed on every call (the Java/Python/Node
//!   SDKs' 15-minute rule does exactly that; spec §12).
//!
//! # The cut-off
//! A value is never served at or after its cut-off, `usable_until` = expiration − the margin, whatever
//! the background task is doing:
//! - the hit path is closed at the cut-off by a timer of the background task, which it also sets while
//!   it waits for a load (its own, or one it joined), so a hung upstream cannot hold the hit path
//!   open: closing never waits on a load;
//! - a load that publishes a value wakes the task, so a value with a sooner cut-off than the one the
//!   task slept for is closed on time too;
//! - every other path ([`get`](RefreshCache::get) past the hit path, [`current`](RefreshCache::current),
//!   callers sharing a load) compares the cut-off with the clock;
//! - a value whose cut-off has passed by the time its load finishes is refused (the load fails), not
//!   published.
//!
//! A hit racing the timer may see the value for the timer's latency (the hit path reads no clock),
//! which is what the margin is for. The timer runs on the Tokio runtime that runs the background task:
//! a runtime that is not being driven (a current-thread runtime outside `block_on`) fires no timers.
//!
//! # The load timeout
//! A load that runs past [`Builder::load_timeout`] (default 30 s) fails with
//! [`TimedOut`](crate::ErrorKind::TimedOut). It also bounds every wait: a caller that finds nothing
//! valid (nothing loaded yet, or past the cut-off, e.g. while an upstream hangs) waits for one load,
//! the one in flight (which began before it arrived) or its own, so at most the load timeout, and then
//! gets that load's value or its error (`TimedOut` for an upstream that never answers), never the
//! expired value.
//!
//! Time and sleep come from `aws-smithy-async`, so tests drive them by hand. Without a Tokio runtime
//! there is no background task: every call then checks the clock and refreshes when due.
//!
//! ```
//! use std::time::Duration;
//! use mse_auth::{CredentialsProvider, RefreshCache, StaticAccessKeyProvider};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), mse_auth::CredentialsError> {
//! let cache = RefreshCache::builder()
//!     .load_timeout(Duration::from_secs(10))
//!     .build_for(StaticAccessKeyProvider::new("LTAI5tExampleId", "example-secret")?);
//! let creds = cache.provide_credentials().await?; // loads once
//! let again = cache.provide_credentials().await?; // served from the cache
//! assert_eq!(creds, again);
//! assert_eq!(cache.current(), Some(creds)); // synchronous snapshot
//! # Ok(()) }
//! ```

use crate::backoff::Backoff;
use crate::credentials::Credentials;
use crate::error::{CredentialsError, Result};
use crate::provider::{CredentialsProvider, ProvideCredentials};
use arc_swap::ArcSwapOption;
use aws_smithy_async::future::timeout::Timeout;
use aws_smithy_async::rt::sleep::{default_async_sleep, AsyncSleep, SharedAsyncSleep};
use aws_smithy_async::time::{SharedTimeSource, TimeSource};
use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::Poll;
use std::time::{Duration, SystemTime};
use thread_local::ThreadLocal;
use tokio::sync::Notify;

/// A value with an optional expiration, cacheable by [`RefreshCache`].
pub trait Expiring: Clone + Send + Sync + 'static {
    /// When the value stops being valid; `None` means never.
    fn expiration(&self) -> Option<SystemTime>;

    /// A copy sharing no reference count with `self` (for `Arc`-backed values: a new `Arc`). Each
    /// thread reading the cache keeps one, so concurrent hits never contend on one counter. The
    /// default is `clone()`.
    fn unshared_copy(&self) -> Self {
        self.clone()
    }
}

impl Expiring for Credentials {
    fn expiration(&self) -> Option<SystemTime> {
        Credentials::expiration(self)
    }

    fn unshared_copy(&self) -> Self {
        Credentials::unshared_copy(self)
    }
}

type LoadFuture<T> = Pin<Box<dyn Future<Output = Result<T>> + Send>>;
type Loader<T> = Box<dyn Fn() -> LoadFuture<T> + Send + Sync>;

/// A caching, self-refreshing holder of an [`Expiring`] value. Cheap to clone (clones share the value);
/// the background task stops when the last clone is dropped. See the [module docs](self).
pub struct RefreshCache<T: Expiring> {
    shared: Arc<Shared<T>>,
}

impl<T: Expiring> Clone for RefreshCache<T> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl RefreshCache<Credentials> {
    /// Wraps `provider` with the default settings.
    pub fn new(provider: impl CredentialsProvider + 'static) -> Self {
        Builder::default().build_for(provider)
    }

    /// Settings for a new cache, of credentials ([`Builder::build_for`]) or of any [`Expiring`] value
    /// ([`Builder::build_with`]).
    pub fn builder() -> Builder {
        Builder::default()
    }
}

impl<T: Expiring> RefreshCache<T> {
    /// The value, loading it if there is none or it has expired. Never waits when a valid value is cached.
    pub async fn get(&self) -> Result<T> {
        match self.shared.cached() {
            Some(value) => Ok(value),
            None => self.shared.get_slow().await,
        }
    }

    /// A synchronous snapshot: the cached value if it is still valid, without loading anything.
    /// For synchronous callers such as `nacos-sdk`'s `AuthPlugin::get_login_identity`.
    pub fn current(&self) -> Option<T> {
        self.shared.cached().or_else(|| {
            let now = self.shared.time.now();
            let entry = self.shared.current.load_full()?;
            entry.usable_at(now).then(|| entry.value.clone())
        })
    }

    /// Loads a new value now, e.g. after the upstream rejected the cached one, or joins the load
    /// already in flight, and returns that load's own outcome: the value it loaded, or its error, even
    /// while the cached value is still valid (which then stays in service for [`get`](Self::get)).
    pub async fn refresh(&self) -> Result<T> {
        self.shared.load().await
    }

    /// The name used in errors and logs.
    pub fn name(&self) -> &str {
        &self.shared.config.name
    }
}

impl<T: Expiring> fmt::Debug for RefreshCache<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entry = self.shared.current.load();
        f.debug_struct("RefreshCache")
            .field("name", &self.shared.config.name)
            .field("cached", &entry.is_some())
            .field(
                "expiration",
                &entry
                    .as_ref()
                    .and_then(|e| e.value.expiration())
                    .map(crate::timestamp::format_utc),
            )
            .finish()
    }
}

impl CredentialsProvider for RefreshCache<Credentials> {
    #[inline]
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        match self.shared.cached() {
            Some(credentials) => ProvideCredentials::ready(Ok(credentials)),
            None => ProvideCredentials::boxed(self.shared.get_slow()),
        }
    }
}

/// Settings of a [`RefreshCache`]; from [`RefreshCache::builder`].
#[derive(Clone)]
pub struct Builder {
    config: Config,
    time: Option<SharedTimeSource>,
    sleep: Option<SharedAsyncSleep>,
}

#[derive(Clone, Debug)]
struct Config {
    name: Cow<'static, str>,
    load_timeout: Duration,
    refresh_window: (f64, f64),
    expiry_margin_cap: Duration,
    expiry_margin_fraction: f64,
    backoff: Backoff,
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            config: Config {
                name: Cow::Borrowed("refresh_cache"),
                load_timeout: Duration::from_secs(30),
                refresh_window: (0.70, 0.75),
                expiry_margin_cap: Duration::from_secs(60),
                expiry_margin_fraction: 0.10,
                backoff: Backoff::default(),
            },
            time: None,
            sleep: None,
        }
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// The name used in errors and logs, usually the wrapped provider's name (default `refresh_cache`).
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.config.name = name.into();
        self
    }

    /// Budget of one load (default 30 s); past it the load fails with `TimedOut`. It is also the
    /// longest a caller waits when nothing valid is cached (none loaded yet, or past the cut-off while
    /// an upstream hangs): it waits for one load, the one in flight or its own, then gets that load's
    /// value or its error, `TimedOut` for an upstream that never answers. See the
    /// [module docs](self#the-load-timeout).
    pub fn load_timeout(mut self, timeout: Duration) -> Self {
        self.config.load_timeout = timeout;
        self
    }

    /// When to prefetch, as fractions of the lifetime a value had when it was loaded: a uniform random
    /// point in `[from, to)` (default 0.70–0.75). Clamped into `[0, 1]`, and never later than 95 % of
    /// the time the value is served (see [`expiry_margin`](Self::expiry_margin)).
    pub fn refresh_window(mut self, from: f64, to: f64) -> Self {
        let from = from.clamp(0.0, 1.0);
        self.config.refresh_window = (from, to.clamp(from, 1.0));
        self
    }

    /// How long before its stated expiration a value stops being served: `min(cap, fraction × lifetime)`
    /// (default `min(60 s, 10 %)`).
    pub fn expiry_margin(mut self, cap: Duration, fraction: f64) -> Self {
        self.config.expiry_margin_cap = cap;
        self.config.expiry_margin_fraction = fraction.clamp(0.0, 1.0);
        self
    }

    /// Retry schedule after failed background refreshes (default 1 s doubling to 60 s, equal jitter).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.config.backoff = backoff;
        self
    }

    /// The clock (default: the system clock).
    pub fn time_source(mut self, time: impl TimeSource + 'static) -> Self {
        self.time = Some(SharedTimeSource::new(time));
        self
    }

    /// The sleep implementation (default: Tokio's).
    pub fn sleep_impl(mut self, sleep: impl AsyncSleep + 'static) -> Self {
        self.sleep = Some(SharedAsyncSleep::new(sleep));
        self
    }

    /// A cache of credentials from `provider`.
    pub fn build_for(
        self,
        provider: impl CredentialsProvider + 'static,
    ) -> RefreshCache<Credentials> {
        let provider = Arc::new(provider);
        self.build_with(move || {
            let provider = provider.clone();
            async move { provider.provide_credentials().await }
        })
    }

    /// A cache of values produced by `load`, called once per load.
    pub fn build_with<T, F, Fut>(self, load: F) -> RefreshCache<T>
    where
        T: Expiring,
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let loader: Loader<T> = Box::new(move || Box::pin(load()));
        RefreshCache {
            shared: Arc::new(Shared {
                config: self.config,
                time: self.time.unwrap_or_default(),
                sleep: self
                    .sleep
                    .or_else(default_async_sleep)
                    .expect("aws-smithy-async is built with rt-tokio"),
                loader,
                current: ArcSwapOption::empty(),
                fast_generation: AtomicU64::new(0),
                next_generation: AtomicU64::new(0),
                slots: ThreadLocal::new(),
                load_lock: tokio::sync::Mutex::new(()),
                loads_finished: AtomicU64::new(0),
                last_error: Mutex::new(None),
                task: Mutex::new(Task::default()),
                published: Arc::new(Notify::new()),
            }),
        }
    }
}

/// One loaded value and its schedule.
struct Entry<T> {
    generation: u64,
    value: T,
    /// When the background task loads again; `None` for values that never expire.
    refresh_at: Option<SystemTime>,
    /// Last moment the value is served; `None` for values that never expire.
    usable_until: Option<SystemTime>,
}

impl<T> Entry<T> {
    fn usable_at(&self, now: SystemTime) -> bool {
        self.usable_until.is_none_or(|until| now < until)
    }

    fn refresh_due(&self, now: SystemTime) -> bool {
        self.refresh_at.is_some_and(|at| now >= at)
    }
}

#[derive(Default)]
struct Task {
    running: bool,
    abort: Option<tokio::task::AbortHandle>,
}

struct Shared<T: Expiring> {
    config: Config,
    time: SharedTimeSource,
    sleep: SharedAsyncSleep,
    loader: Loader<T>,
    current: ArcSwapOption<Entry<T>>,
    /// Generation the hit path may serve without looking at a clock; 0 = take the slow path.
    fast_generation: AtomicU64,
    next_generation: AtomicU64,
    /// Each thread's own copy of the value of one generation.
    slots: ThreadLocal<RefCell<Option<(u64, T)>>>,
    load_lock: tokio::sync::Mutex<()>,
    loads_finished: AtomicU64,
    last_error: Mutex<Option<CredentialsError>>,
    task: Mutex<Task>,
    /// Wakes the background task when a load publishes a value: its cut-off may come sooner than
    /// whatever the task was sleeping for. Apart from `Shared`, as the task holds it while it sleeps.
    published: Arc<Notify>,
}

fn lock<G>(m: &Mutex<G>) -> MutexGuard<'_, G> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<T: Expiring> Shared<T> {
    /// The hit path: one atomic load, this thread's slot, a clone of this thread's own copy.
    #[inline(always)]
    fn cached(&self) -> Option<T> {
        let generation = self.fast_generation.load(Ordering::Acquire);
        if generation == 0 {
            return None;
        }
        let mut slot = self.slots.get_or_default().borrow_mut();
        if let Some((g, value)) = slot.as_ref() {
            if *g == generation {
                return Some(value.clone());
            }
        }
        let entry = self.current.load();
        let entry = entry.as_ref().filter(|e| e.generation == generation)?;
        let copy = entry.value.unshared_copy();
        *slot = Some((generation, copy.clone()));
        Some(copy)
    }

    /// Everything that is not a hit: no value yet, an expired one, or no background task.
    async fn get_slow(self: &Arc<Self>) -> Result<T> {
        if let Some(value) = self.cached() {
            return Ok(value);
        }
        let now = self.time.now();
        if let Some(entry) = self.current.load_full() {
            if entry.usable_at(now) {
                // Valid: serve it, and let a background task keep it fresh if one can run here.
                if self.activate() || !entry.refresh_due(now) {
                    return Ok(entry.value.clone());
                }
            }
        }
        match self.load().await {
            Ok(value) => Ok(value),
            Err(err) => match self.current.load_full() {
                Some(entry) if entry.usable_at(self.time.now()) => Ok(entry.value.clone()),
                _ => Err(err),
            },
        }
    }

    /// A caller's load ([`load_or_join`](Self::load_or_join)). Logs the failure of a load it ran, at
    /// `warn`; a failure it only joined is logged by whoever ran that load.
    async fn load(self: &Arc<Self>) -> Result<T> {
        let (result, ran) = self.load_or_join().await;
        if let (Err(err), true) = (&result, ran) {
            tracing::warn!(cache = %self.config.name, error = %err, "loading failed");
        }
        result
    }

    /// Runs one load, or waits for the one in flight; either way returns that load's own outcome (a
    /// still-valid older value in its place, on failure, is the caller's choice: see `get_slow`), and
    /// whether this call ran it. Logs nothing at `warn`: that is for its caller, once per load.
    async fn load_or_join(self: &Arc<Self>) -> (Result<T>, bool) {
        let seen = self.loads_finished.load(Ordering::Acquire);
        let _flight = self.load_lock.lock().await;
        if self.loads_finished.load(Ordering::Acquire) != seen {
            return (self.shared_outcome(), false);
        }
        let timeout = self.config.load_timeout;
        let started = self.time.now();
        let result = match Timeout::new((self.loader)(), self.sleep.sleep(timeout)).await {
            Ok(Ok(value)) => self.publish(value, started),
            Ok(Err(err)) => Err(err),
            Err(_) => Err(CredentialsError::timed_out(
                self.config.name.clone(),
                timeout,
            )),
        };
        *lock(&self.last_error) = result.as_ref().err().cloned();
        self.loads_finished.fetch_add(1, Ordering::Release);
        (result, true)
    }

    /// What a caller that waited for someone else's load gets: that load's error, or the value it
    /// published (an error if that has reached its cut-off since: a joiner waits for one load only).
    fn shared_outcome(&self) -> Result<T> {
        if let Some(err) = lock(&self.last_error).clone() {
            return Err(err);
        }
        match self.current.load_full() {
            Some(entry) if entry.usable_at(self.time.now()) => Ok(entry.value.clone()),
            _ => Err(CredentialsError::unhandled(
                self.config.name.clone(),
                "the value of the shared load reached its cut-off before it was served",
            )),
        }
    }

    /// Stores a freshly loaded value with its schedule. The expiry margin is a share of the lifetime
    /// the value had when its load `started`, so a value whose cut-off passed while it loaded is
    /// refused, not published.
    fn publish(self: &Arc<Self>, value: T, started: SystemTime) -> Result<T> {
        let now = self.time.now();
        let (refresh_at, usable_until) = match value.expiration() {
            None => (None, None),
            Some(expiration) => {
                if expiration <= now {
                    return Err(CredentialsError::provider(
                        self.config.name.clone(),
                        format!(
                            "the loaded value expires at {}, which is not after now ({}): check the clock",
                            crate::timestamp::format_utc(expiration),
                            crate::timestamp::format_utc(now)
                        ),
                    ));
                }
                let start = started.min(now);
                let lifetime = expiration.duration_since(start).unwrap_or_default();
                let margin = lifetime
                    .mul_f64(self.config.expiry_margin_fraction)
                    .min(self.config.expiry_margin_cap);
                let usable_until = expiration - margin;
                if usable_until <= now {
                    return Err(CredentialsError::provider(
                        self.config.name.clone(),
                        format!(
                            "the loaded value expires at {}, so it is served only until {} (the expiry \
                             margin before it), but its load began at {} and finished at {}: not served",
                            crate::timestamp::format_utc(expiration),
                            crate::timestamp::format_utc(usable_until),
                            crate::timestamp::format_utc(start),
                            crate::timestamp::format_utc(now)
                        ),
                    ));
                }
                let (from, to) = self.config.refresh_window;
                let fraction = from + (to - from) * fastrand::f64();
                // Never later than 95 % of the time the value is served: the refresh must come
                // while the value is still in service, or nothing would trigger it.
                let latest = now
                    + usable_until
                        .duration_since(now)
                        .unwrap_or_default()
                        .mul_f64(0.95);
                let refresh_at = (start + lifetime.mul_f64(fraction)).min(latest);
                (Some(refresh_at), Some(usable_until))
            }
        };
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed) + 1;
        self.current.store(Some(Arc::new(Entry {
            generation,
            value: value.clone(),
            refresh_at,
            usable_until,
        })));
        tracing::debug!(cache = %self.config.name, generation, "loaded a new value");
        self.activate();
        // The background task may be asleep on the previous value's schedule.
        self.published.notify_one();
        Ok(value)
    }

    /// Makes sure a background task keeps the current value fresh (starting one on the current Tokio
    /// runtime if needed) and opens the hit path for it. Returns whether the hit path is open.
    fn activate(self: &Arc<Self>) -> bool {
        let mut task = lock(&self.task);
        let Some(entry) = self.current.load_full() else {
            return false;
        };
        let expiring = entry.usable_until.is_some();
        if expiring && !task.running {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let handle = runtime.spawn(refresh_in_background(
                    Arc::downgrade(self),
                    self.published.clone(),
                ));
                task.abort = Some(handle.abort_handle());
                task.running = true;
            }
        }
        let open = entry.usable_at(self.time.now()) && (!expiring || task.running);
        self.fast_generation
            .store(if open { entry.generation } else { 0 }, Ordering::Release);
        open
    }

    /// Called by the background task when it has nothing left to do. Under the task lock it checks
    /// again (a load may have just published a value that needs it); returns `false` to keep going.
    fn retire(&self) -> bool {
        let mut task = lock(&self.task);
        let entry = self.current.load_full();
        if let Some(entry) = &entry {
            if entry.usable_until.is_some() && entry.usable_at(self.time.now()) {
                return false;
            }
        }
        task.running = false;
        task.abort = None;
        if entry.is_some_and(|e| e.usable_until.is_some()) {
            self.fast_generation.store(0, Ordering::Release);
        }
        true
    }

    /// Closes the hit path if the current value has reached its cut-off (under the task lock, as
    /// [`activate`](Self::activate) opens it). Returns whether nothing usable is current.
    fn close_if_expired(&self) -> bool {
        let _task = lock(&self.task);
        let now = self.time.now();
        match self.current.load_full() {
            Some(entry) if entry.usable_at(now) => false,
            Some(entry) => {
                if entry.usable_until.is_some() {
                    self.fast_generation.store(0, Ordering::Release);
                }
                true
            }
            None => true,
        }
    }

    /// The background task's load: [`load_or_join`](Self::load_or_join), raced against a timer set to
    /// the current value's cut-off. If the load is still running (or waiting for someone else's) when
    /// the cut-off comes, the timer closes the hit path, and the task goes on waiting for the load:
    /// closing never waits on an upstream.
    async fn load_before_cut_off(self: &Arc<Self>) -> (Result<T>, bool) {
        let mut load = pin!(self.load_or_join());
        // Bounded: each turn sleeps until the cut-off; a turn ends early only if the clock says the
        // timer fired before the cut-off, or if the load finished.
        loop {
            let now = self.time.now();
            let cut_off = match self.current.load().as_ref() {
                Some(entry) if entry.usable_at(now) => entry.usable_until,
                _ => None,
            };
            let Some(cut_off) = cut_off else {
                // Nothing to close, or closed already if expired.
                self.close_if_expired();
                return load.await;
            };
            let timer = self
                .sleep
                .sleep(cut_off.duration_since(now).unwrap_or_default());
            match first(load.as_mut(), timer).await {
                First::Left(result) => return result,
                First::Right(()) => {
                    if self.close_if_expired() {
                        tracing::debug!(
                            cache = %self.config.name,
                            "cut-off reached while a load runs: no longer served"
                        );
                        return load.await;
                    }
                }
            }
        }
    }

    /// One `warn` per failed load: the background task logs the loads it ran, with the retry it
    /// schedules; a load it only joined was logged by the caller that ran it.
    fn log_background_failure(
        &self,
        err: &CredentialsError,
        ran: bool,
        failures: u32,
        retry_in: Duration,
        now: SystemTime,
    ) {
        let name = &self.config.name;
        let serving = self
            .current
            .load()
            .as_ref()
            .is_some_and(|e| e.usable_at(now));
        match (ran, serving) {
            (true, true) => tracing::warn!(
                cache = %name,
                error = %err,
                failures,
                retry_in = ?retry_in,
                "loading failed; the cached value stays in service until its cut-off, retrying in the background"
            ),
            (true, false) => tracing::warn!(
                cache = %name,
                error = %err,
                failures,
                "loading failed; nothing valid is left to serve: the next caller loads again"
            ),
            (false, _) => tracing::debug!(
                cache = %name,
                failures,
                retry_in = ?retry_in,
                "the load the background refresh joined failed (its caller logged it)"
            ),
        }
    }
}

/// Which of two futures finished first.
enum First<A, B> {
    Left(A),
    Right(B),
}

/// Polls both futures until one is ready (`a` first when both are).
async fn first<A: Future, B: Future>(a: A, b: B) -> First<A::Output, B::Output> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(First::Left(out));
        }
        if let Poll::Ready(out) = b.as_mut().poll(cx) {
            return Poll::Ready(First::Right(out));
        }
        Poll::Pending
    })
    .await
}

impl<T: Expiring> Drop for Shared<T> {
    fn drop(&mut self) {
        if let Some(abort) = lock(&self.task).abort.take() {
            abort.abort();
        }
    }
}

/// Clears the task state if the task ends abnormally (aborted, or its runtime shut down), so the next
/// caller takes the slow path and starts a new one.
struct TaskGuard<T: Expiring> {
    shared: Weak<Shared<T>>,
    armed: bool,
}

impl<T: Expiring> Drop for TaskGuard<T> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Some(shared) = self.shared.upgrade() {
            let mut task = lock(&shared.task);
            task.running = false;
            task.abort = None;
            shared.fast_generation.store(0, Ordering::Release);
        }
    }
}

/// Sleeps until the current value's refresh point (or until a load publishes a new value), loads, and
/// on failure retries with backoff until the value expires. Closes the hit path at the cut-off, also
/// while a load is in flight ([`Shared::load_before_cut_off`]). Holds only a weak reference while it
/// sleeps.
async fn refresh_in_background<T: Expiring>(weak: Weak<Shared<T>>, published: Arc<Notify>) {
    let mut guard = TaskGuard {
        shared: weak.clone(),
        armed: true,
    };
    let mut watched = 0;
    let mut failures = 0u32;
    let mut next_attempt = None;
    loop {
        let (nap, sleep) = {
            let Some(shared) = weak.upgrade() else {
                guard.armed = false;
                return;
            };
            let now = shared.time.now();
            let entry = shared.current.load_full();
            let usable_until = match &entry {
                Some(e) if e.usable_at(now) => e.usable_until,
                _ => None,
            };
            let (Some(entry), Some(usable_until)) = (entry, usable_until) else {
                if shared.retire() {
                    guard.armed = false;
                    return;
                }
                continue;
            };
            if entry.generation != watched {
                watched = entry.generation;
                failures = 0;
                next_attempt = entry.refresh_at;
            }
            let wake = next_attempt.map_or(usable_until, |at| at.min(usable_until));
            if wake > now {
                (
                    wake.duration_since(now).unwrap_or_default(),
                    shared.sleep.clone(),
                )
            } else {
                let (result, ran) = shared.load_before_cut_off().await;
                if let Err(err) = result {
                    failures += 1;
                    let delay = shared.config.backoff.delay(failures, fastrand::f64());
                    let now = shared.time.now();
                    next_attempt = Some(now + delay);
                    shared.log_background_failure(&err, ran, failures, delay, now);
                }
                continue;
            }
        };
        // Woken by the schedule, or by a new value whose cut-off may be sooner.
        first(sleep.sleep(nap), published.notified()).await;
    }
}
