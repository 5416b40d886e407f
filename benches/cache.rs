//! Single-thread cost of a cached `provide_credentials().await` through a `SharedCredentialsProvider`,
//! beside the floors measured in the same run (`Arc::clone`, `ArcSwap::load_full`, `ArcSwap::load`).
//!
//! `cargo bench --bench cache`

use arc_swap::ArcSwap;
use criterion::{criterion_group, criterion_main, Criterion};
use mse_auth::test_util::ScriptedProvider;
use mse_auth::{Credentials, CredentialsProvider, RefreshCache, SharedCredentialsProvider};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

/// What `.await` does to a future that is ready: one poll.
fn await_ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the cached path must be ready"),
    }
}

fn warm_provider(runtime: &tokio::runtime::Runtime) -> SharedCredentialsProvider {
    let credentials = Credentials::builder()
        .access_key_id("STS.bench")
        .access_key_secret("secret")
        .security_token("token")
        .expiration(SystemTime::now() + Duration::from_secs(3600))
        .build()
        .unwrap();
    let provider = SharedCredentialsProvider::new(RefreshCache::new(
        ScriptedProvider::new("bench").then_ok(credentials),
    ));
    runtime.block_on(provider.provide_credentials()).unwrap();
    provider
}

fn cached_hit(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let provider = warm_provider(&runtime);
    let credentials = await_ready(provider.provide_credentials()).unwrap();
    let arc = Arc::new(credentials.clone());
    let swap = ArcSwap::from(arc.clone());

    let mut group = c.benchmark_group("cached_hit");
    // As a caller uses it: `provider.provide_credentials().await?` (the same as benches/contention.rs).
    group.bench_function("provide_credentials().await", |b| {
        b.iter(|| black_box(await_ready(black_box(&provider).provide_credentials()).unwrap()))
    });
    group.bench_function("floor: Arc::clone", |b| {
        b.iter(|| black_box(Arc::clone(black_box(&arc))))
    });
    group.bench_function("floor: ArcSwap::load_full", |b| {
        b.iter(|| black_box(black_box(&swap).load_full()))
    });
    group.bench_function("floor: ArcSwap::load + field read", |b| {
        b.iter(|| black_box(black_box(&swap).load().expiration()))
    });
    group.finish();
}

criterion_group!(benches, cached_hit);
criterion_main!(benches);
