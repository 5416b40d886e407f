//! A server double for the commands' tests: configs in memory, kept with their `encryptedDataKey`
//! (or, like rnacos, without it), a compare-and-set publish, and hooks that change a config behind
//! the command's back.
//!
//! Why a double: the envelope schemes (`cipher-kms-aes-128-`, `cipher-kms-aes-256-`) need a server
//! that keeps `encryptedDataKey`, and rnacos 0.8.8, the real server of the end-to-end tests, drops it
//! (spec §G.3). nacos-sdk talks to a server over Nacos's gRPC protocol (a bidirectional stream, a
//! connection setup, server checks), so a double for nacos-sdk would be a Nacos server of its own.
//! The commands reach the server only through [`Store`]: this double stands in for [`NacosStore`]
//! (nacos-sdk and the open API) below the line where the commands hand nacos-sdk's `ConfigReq` and
//! `ConfigResp` to `MseConfigFilter`, so everything above it (encryption, verification,
//! re-encryption, idempotence, compare-and-set) runs as it does against a live server.
//!
//! [`NacosStore`]: super::store::NacosStore

use super::store::{Listed, Store, StoreError, Stored};
use crate::common::CliResult;
use mse_auth_providers::cipher::Encrypted;
use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use zeroize::Zeroizing;

/// A change made behind the command's back, on the n-th `get` of a dataId.
type Meddle = Box<dyn Fn(&mut Stored) + Send>;

/// Configs in memory, one namespace.
pub struct MemoryStore {
    keeps_data_keys: bool,
    configs: Mutex<BTreeMap<(String, String), Stored>>,
    /// dataId → (after how many reads, what to do), applied once.
    meddle: Mutex<Vec<(String, usize, Meddle)>>,
    reads: Mutex<BTreeMap<String, usize>>,
    /// Publishes and removes, in order: `publish <dataId>`, `remove <dataId>`.
    pub writes: Mutex<Vec<String>>,
}

/// A version tag for compare-and-set (the double's MD5: any hash of the content will do).
fn tag(content: &str) -> String {
    let mut h = DefaultHasher::new();
    content.hash(&mut h);
    format!("{:016x}", h.finish())
}

impl MemoryStore {
    /// A server that keeps `encryptedDataKey` (Nacos, MSE).
    pub fn keeping_data_keys() -> Self {
        Self::new(true)
    }

    /// A server that drops `encryptedDataKey` (rnacos 0.8.8).
    pub fn dropping_data_keys() -> Self {
        Self::new(false)
    }

    fn new(keeps_data_keys: bool) -> Self {
        Self {
            keeps_data_keys,
            configs: Mutex::new(BTreeMap::new()),
            meddle: Mutex::new(Vec::new()),
            reads: Mutex::new(BTreeMap::new()),
            writes: Mutex::new(Vec::new()),
        }
    }

    /// Stores a config as another client would (no encryption here).
    pub fn put(&self, data_id: &str, group: &str, content: &str, data_key: &str) {
        let stored = Stored {
            content: Zeroizing::new(content.to_string()),
            encrypted_data_key: Zeroizing::new(if self.keeps_data_keys {
                data_key.to_string()
            } else {
                String::new()
            }),
            md5: tag(content),
            content_type: "yaml".into(),
        };
        self.configs
            .lock()
            .unwrap()
            .insert((group.to_string(), data_id.to_string()), stored);
    }

    /// What is stored, if anything.
    pub fn stored(&self, data_id: &str, group: &str) -> Option<Stored> {
        self.configs
            .lock()
            .unwrap()
            .get(&(group.to_string(), data_id.to_string()))
            .cloned()
    }

    /// On read number `after` + 1 of `data_id`, before answering, `change` the stored config (and
    /// its MD5), once.
    pub fn meddle_on_read(
        &self,
        data_id: &str,
        after: usize,
        change: impl Fn(&mut Stored) + Send + 'static,
    ) {
        self.meddle
            .lock()
            .unwrap()
            .push((data_id.to_string(), after, Box::new(change)));
    }

    /// The writes so far.
    pub fn writes(&self) -> Vec<String> {
        self.writes.lock().unwrap().clone()
    }
}

impl Store for MemoryStore {
    async fn get(&self, data_id: &str, group: &str) -> Result<Option<Stored>, StoreError> {
        let n = {
            let mut reads = self.reads.lock().unwrap();
            let n = reads.entry(data_id.to_string()).or_default();
            *n += 1;
            *n - 1
        };
        let mut meddle = self.meddle.lock().unwrap();
        if let Some(i) = meddle
            .iter()
            .position(|(d, after, _)| d == data_id && *after == n)
        {
            let (_, _, change) = meddle.remove(i);
            let mut configs = self.configs.lock().unwrap();
            if let Some(stored) = configs.get_mut(&(group.to_string(), data_id.to_string())) {
                change(stored);
                stored.md5 = tag(&stored.content);
            }
        }
        Ok(self.stored(data_id, group))
    }

    async fn publish(
        &self,
        data_id: &str,
        group: &str,
        sealed: &Encrypted,
        content_type: Option<&str>,
        cas_md5: Option<&str>,
    ) -> Result<(), StoreError> {
        let key = (group.to_string(), data_id.to_string());
        let mut configs = self.configs.lock().unwrap();
        if let Some(cas) = cas_md5 {
            if configs.get(&key).map(|s| s.md5.as_str()) != Some(cas) {
                return Err(StoreError::changed(
                    "Cas publish fail, server md5 may have changed.",
                ));
            }
        }
        self.writes
            .lock()
            .unwrap()
            .push(format!("publish {data_id}"));
        configs.insert(
            key,
            Stored {
                content: Zeroizing::new(sealed.content.clone()),
                encrypted_data_key: Zeroizing::new(if self.keeps_data_keys {
                    sealed.encrypted_data_key.clone()
                } else {
                    String::new()
                }),
                md5: tag(&sealed.content),
                content_type: content_type.unwrap_or("text").to_string(),
            },
        );
        Ok(())
    }

    async fn remove(&self, data_id: &str, group: &str) -> Result<(), StoreError> {
        self.writes
            .lock()
            .unwrap()
            .push(format!("remove {data_id}"));
        self.configs
            .lock()
            .unwrap()
            .remove(&(group.to_string(), data_id.to_string()));
        Ok(())
    }

    async fn list(&self, group: Option<&str>) -> CliResult<Vec<Listed>> {
        Ok(self
            .configs
            .lock()
            .unwrap()
            .keys()
            .filter(|(g, _)| group.is_none_or(|want| want == g))
            .map(|(g, d)| Listed {
                group: g.clone(),
                data_id: d.clone(),
            })
            .collect())
    }
}
