//! A bounded, time-limited cache of unwrapped data keys, keyed by the KMS `CiphertextBlob`.
//!
//! Entries expire a fixed time after they were stored; when the cache is full the oldest entry goes.
//! Keys are held in `Arc<Zeroizing<…>>`: wiped when the last user drops them.

use aws_smithy_async::time::SharedTimeSource;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use zeroize::Zeroizing;

pub(crate) type CachedKey = Arc<Zeroizing<Vec<u8>>>;

pub(crate) struct KeyCache {
    max_entries: usize,
    ttl: Duration,
    time: SharedTimeSource,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    map: HashMap<String, Entry>,
    /// Insertion order: (blob, generation). Entries whose generation no longer matches are stale.
    order: VecDeque<(String, u64)>,
    next_generation: u64,
}

struct Entry {
    key: CachedKey,
    stored_at: SystemTime,
    generation: u64,
}

impl KeyCache {
    pub(crate) fn new(max_entries: usize, ttl: Duration, time: SharedTimeSource) -> Self {
        Self {
            max_entries,
            ttl,
            time,
            inner: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fresh(&self, stored_at: SystemTime, now: SystemTime) -> bool {
        // A clock that went backwards keeps the entry; one too far ahead expires it.
        now.duration_since(stored_at).unwrap_or_default() < self.ttl
    }

    pub(crate) fn get(&self, blob: &str) -> Option<CachedKey> {
        if self.max_entries == 0 {
            return None;
        }
        let now = self.time.now();
        let mut inner = self.lock();
        match inner.map.get(blob) {
            Some(entry) if self.fresh(entry.stored_at, now) => Some(entry.key.clone()),
            Some(_) => {
                inner.map.remove(blob);
                None
            }
            None => None,
        }
    }

    pub(crate) fn insert(&self, blob: &str, key: CachedKey) {
        if self.max_entries == 0 {
            return;
        }
        let now = self.time.now();
        let mut inner = self.lock();
        let generation = inner.next_generation;
        inner.next_generation += 1;
        inner.map.insert(
            blob.to_owned(),
            Entry {
                key,
                stored_at: now,
                generation,
            },
        );
        inner.order.push_back((blob.to_owned(), generation));
        self.evict(&mut inner, now);
    }

    fn evict(&self, inner: &mut Inner, now: SystemTime) {
        // Oldest first: drop stale order entries, expired entries, and entries over the bound.
        while let Some((blob, generation)) = inner.order.front() {
            let remove = match inner.map.get(blob) {
                Some(e) if e.generation == *generation => {
                    inner.map.len() > self.max_entries || !self.fresh(e.stored_at, now)
                }
                _ => true, // stale: replaced or already removed
            };
            if !remove {
                break;
            }
            let (blob, generation) = inner.order.pop_front().expect("front exists");
            if inner
                .map
                .get(&blob)
                .is_some_and(|e| e.generation == generation)
            {
                inner.map.remove(&blob);
            }
        }
        // Replaced keys leave stale order entries behind the front; keep the queue bounded too.
        if inner.order.len() > 2 * self.max_entries.max(8) {
            let Inner { map, order, .. } = inner;
            order.retain(|(blob, g)| map.get(blob).is_some_and(|e| e.generation == *g));
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_async::test_util::ManualTimeSource;

    fn key(b: u8) -> CachedKey {
        Arc::new(Zeroizing::new(vec![b; 16]))
    }

    fn cache(max: usize) -> (KeyCache, ManualTimeSource) {
        let time = ManualTimeSource::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000));
        let cache = KeyCache::new(
            max,
            Duration::from_secs(3600),
            SharedTimeSource::new(time.clone()),
        );
        (cache, time)
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let (cache, time) = cache(10);
        cache.insert("blob", key(1));
        time.advance(Duration::from_secs(3599));
        assert_eq!(cache.get("blob").unwrap()[0], 1);
        time.advance(Duration::from_secs(1));
        assert!(cache.get("blob").is_none());
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn the_oldest_entry_goes_when_full() {
        let (cache, _time) = cache(3);
        for b in 0..5u8 {
            cache.insert(&format!("blob{b}"), key(b));
        }
        assert_eq!(cache.len(), 3);
        assert!(cache.get("blob0").is_none());
        assert!(cache.get("blob1").is_none());
        assert_eq!(cache.get("blob4").unwrap()[0], 4);
    }

    #[test]
    fn reinserting_one_key_keeps_the_queue_bounded() {
        let (cache, time) = cache(4);
        for b in 0..1000u32 {
            time.advance(Duration::from_secs(1));
            cache.insert("same", key((b % 256) as u8));
        }
        assert_eq!(cache.len(), 1);
        assert!(cache.lock().order.len() <= 16);
        assert_eq!(cache.get("same").unwrap()[0], (999 % 256) as u8);
    }

    #[test]
    fn zero_capacity_caches_nothing() {
        let (cache, _time) = cache(0);
        cache.insert("blob", key(1));
        assert!(cache.get("blob").is_none());
    }
}
