//! The cached `provide_credentials().await` path allocates nothing, counted by a counting allocator.
#![allow(unsafe_code)] // a GlobalAlloc impl is unsafe by definition; it only forwards to System

use mse_auth::test_util::ScriptedProvider;
use mse_auth::{Credentials, CredentialsProvider, RefreshCache, SharedCredentialsProvider};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, SystemTime};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn allocations_on_this_thread() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

fn count() {
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every method forwards to `System` unchanged; counting touches only a const thread-local.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn cached_provide_credentials_allocates_nothing() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let credentials = Credentials::builder()
            .access_key_id("STS.hot")
            .access_key_secret("secret")
            .security_token("token")
            .expiration(SystemTime::now() + Duration::from_secs(3600))
            .build()
            .unwrap();
        let provider = SharedCredentialsProvider::new(RefreshCache::new(
            ScriptedProvider::new("hot").then_ok(credentials),
        ));
        provider.provide_credentials().await.unwrap(); // first load
        provider.provide_credentials().await.unwrap(); // this thread's slot is made

        let before = allocations_on_this_thread();
        for _ in 0..10_000 {
            let call = provider.provide_credentials();
            assert!(call.is_ready(), "served by the hit path");
            let creds = call.await.unwrap();
            assert_eq!(creds.access_key_id(), "STS.hot");
        }
        let allocated = allocations_on_this_thread() - before;
        assert_eq!(
            allocated, 0,
            "10,000 cached calls allocated {allocated} times"
        );

        // The counter works: a miss path (a chain walk) does allocate.
        let before = allocations_on_this_thread();
        let chain = mse_auth::ProviderChain::first_try(provider.clone());
        chain.provide_credentials().await.unwrap();
        assert!(allocations_on_this_thread() > before);
    });
}
