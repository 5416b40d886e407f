//! Contention: both cores reading the same cache at once. A fixed number of calls per thread, started
//! together behind a barrier; prints the median ns per call per thread over several rounds, at 1 and 2
//! threads, for the cached `provide_credentials().await` and for the floors (`Arc::clone` of one shared
//! `Arc`, `ArcSwap::load_full`), all in the same run.
//!
//! `cargo bench --bench contention`

use arc_swap::ArcSwap;
use mse_auth::test_util::ScriptedProvider;
use mse_auth::{Credentials, CredentialsProvider, RefreshCache, SharedCredentialsProvider};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime};

const CALLS_PER_THREAD: u32 = 2_000_000;
const ROUNDS: usize = 11;

fn await_ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the cached path must be ready"),
    }
}

/// Median over rounds of the slowest thread's ns per call.
fn measure<F>(threads: usize, op: F) -> f64
where
    F: Fn() + Send + Sync + Clone + 'static,
{
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let barrier = Arc::new(Barrier::new(threads));
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (barrier, op) = (barrier.clone(), op.clone());
                    std::thread::spawn(move || {
                        op(); // warm this thread's state
                        barrier.wait();
                        let start = Instant::now();
                        for _ in 0..CALLS_PER_THREAD {
                            op();
                        }
                        start.elapsed()
                    })
                })
                .collect();
            let slowest = handles
                .into_iter()
                .map(|h| h.join().expect("bench thread"))
                .max()
                .unwrap_or_default();
            slowest.as_nanos() as f64 / f64::from(CALLS_PER_THREAD)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks benches to list themselves
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let credentials = Credentials::builder()
        .access_key_id("STS.bench")
        .access_key_secret("secret")
        .security_token("token")
        .expiration(SystemTime::now() + Duration::from_secs(3600))
        .build()
        .unwrap();
    let provider = SharedCredentialsProvider::new(RefreshCache::new(
        ScriptedProvider::new("bench").then_ok(credentials.clone()),
    ));
    runtime.block_on(provider.provide_credentials()).unwrap();
    let arc = Arc::new(credentials);
    let swap = Arc::new(ArcSwap::from(arc.clone()));

    println!(
        "{CALLS_PER_THREAD} calls per thread, median of {ROUNDS} rounds, ns per call per thread"
    );
    println!(
        "{:<40} {:>10} {:>10} {:>8}",
        "operation", "1 thread", "2 threads", "ratio"
    );
    type Row = (&'static str, Box<dyn Fn(usize) -> f64>);
    let rows: [Row; 3] = [
        ("cached provide_credentials().await", {
            let p = provider.clone();
            Box::new(move |t| {
                let p = p.clone();
                measure(t, move || {
                    black_box(await_ready(black_box(&p).provide_credentials()).unwrap());
                })
            })
        }),
        ("floor: Arc::clone (one shared Arc)", {
            let a = arc.clone();
            Box::new(move |t| {
                let a = a.clone();
                measure(t, move || {
                    black_box(Arc::clone(black_box(&a)));
                })
            })
        }),
        ("floor: ArcSwap::load_full", {
            let s = swap.clone();
            Box::new(move |t| {
                let s = s.clone();
                measure(t, move || {
                    black_box(black_box(&s).load_full());
                })
            })
        }),
    ];
    for (name, run) in rows {
        let (one, two) = (run(1), run(2));
        println!("{name:<40} {one:>10.2} {two:>10.2} {:>7.2}x", two / one);
    }
}
