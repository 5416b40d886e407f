//! Where configs live: the [`Store`] the commands read and write, and [`NacosStore`], a Nacos server
//! reached through nacos-sdk (gRPC) with our `MseAuthPlugin`, plus the v1 open API for listing.
//!
//! Reads hand back what the server stores (ciphertext and `encryptedDataKey`), never decrypted: the
//! commands decrypt with `MseConfigFilter` themselves ([`super::crypto`]), so that they can say why a
//! config does not decrypt (a filter in nacos-sdk's chain cannot report a failure) and stop before a
//! publish when encryption fails. The `encryptedDataKey` is not part of nacos-sdk's public response, so
//! a filter of ours in its chain, [`Wire`], records it on the way in and adds it to the publish
//! request on the way out; it never changes a content.

use crate::common::CliResult;
use async_trait::async_trait;
use mse_auth_providers::cipher::{Encrypted, Scheme};
use mse_auth_providers::error::escape_untrusted;
use mse_auth_providers::http::{HttpClient, HttpRequest, Timeouts, TransportErrorKind};
use mse_auth_providers::nacos::ServerList;
use mse_auth_providers::nacos_sdk::{is_forbidden, MseAuthPlugin};
use nacos_sdk::api::config::ConfigService;
use nacos_sdk::api::error::Error as SdkError;
use nacos_sdk::api::plugin::{ConfigFilter, ConfigReq, ConfigResp, RequestResource};
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// A config as the server stores it.
#[derive(Clone)]
pub struct Stored {
    /// The content: ciphertext for a `cipher-…` config.
    pub content: Zeroizing<String>,
    /// The `encryptedDataKey` the server returned (`""` when none; for `cipher-aes-`, the key itself).
    pub encrypted_data_key: Zeroizing<String>,
    /// The server's MD5 of the content, for compare-and-set.
    pub md5: String,
    /// The content type (`yaml`, `text`, …), kept when the config is written again.
    pub content_type: String,
}

impl fmt::Debug for Stored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stored")
            .field("content_len", &self.content.len())
            .field("encrypted_data_key_len", &self.encrypted_data_key.len())
            .field("md5", &self.md5)
            .field("content_type", &self.content_type)
            .finish()
    }
}

/// A config named by a listing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Listed {
    /// The group.
    pub group: String,
    /// The dataId.
    pub data_id: String,
}

/// Why a store call failed: `changed` when a compare-and-set was refused. The message names no
/// secret.
#[derive(Debug)]
pub struct StoreError {
    /// A compare-and-set publish was refused: the config changed since it was read.
    pub changed: bool,
    message: String,
}

impl StoreError {
    /// A failure other than a refused compare-and-set.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            changed: false,
            message: message.into(),
        }
    }

    /// A refused compare-and-set.
    pub fn changed(message: impl Into<String>) -> Self {
        Self {
            changed: true,
            message: message.into(),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StoreError {}

/// What the commands need from a Nacos server, in one namespace.
pub trait Store {
    /// The config as stored, `None` when it does not exist.
    fn get(
        &self,
        data_id: &str,
        group: &str,
    ) -> impl Future<Output = Result<Option<Stored>, StoreError>>;

    /// Publishes `sealed` (content and `encryptedDataKey`) as `data_id`; with `cas_md5`, only if the
    /// stored content still has that MD5 (else [`StoreError::changed`]).
    fn publish(
        &self,
        data_id: &str,
        group: &str,
        sealed: &Encrypted,
        content_type: Option<&str>,
        cas_md5: Option<&str>,
    ) -> impl Future<Output = Result<(), StoreError>>;

    /// Removes the config.
    fn remove(&self, data_id: &str, group: &str) -> impl Future<Output = Result<(), StoreError>>;

    /// Every config of the namespace (of `group` only, if given), sorted by group and dataId.
    fn list(&self, group: Option<&str>) -> impl Future<Output = CliResult<Vec<Listed>>>;
}

/// Configs per listing page at first (halved, down to 1, when a page is over the 1 MiB the HTTP
/// client reads: the open API returns contents too).
pub const PAGE_SIZE: usize = 100;
/// The most configs a listing returns; a larger namespace is refused (narrow it with `--group`).
pub const MAX_LISTED: usize = 10_000;

/// The filter of ours in nacos-sdk's chain: records the `encryptedDataKey` of each response, and sets
/// the one prepared for each publish. Shared by clones.
#[derive(Clone, Default)]
pub struct Wire(Arc<Mutex<WireState>>);

#[derive(Default)]
struct WireState {
    /// (dataId, group) → the `encryptedDataKey` of the last response.
    received: HashMap<(String, String), Zeroizing<String>>,
    /// (dataId, group) → (content, `encryptedDataKey`) of the publish about to be sent.
    prepared: HashMap<(String, String), (Zeroizing<String>, Zeroizing<String>)>,
}

impl fmt::Debug for Wire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Wire")
    }
}

impl Wire {
    fn lock(&self) -> std::sync::MutexGuard<'_, WireState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take_received(&self, data_id: &str, group: &str) -> Zeroizing<String> {
        self.lock()
            .received
            .remove(&(data_id.to_string(), group.to_string()))
            .unwrap_or_default()
    }

    fn prepare(&self, data_id: &str, group: &str, sealed: &Encrypted) {
        self.lock().prepared.insert(
            (data_id.to_string(), group.to_string()),
            (
                Zeroizing::new(sealed.content.clone()),
                Zeroizing::new(sealed.encrypted_data_key.clone()),
            ),
        );
    }

    fn unprepare(&self, data_id: &str, group: &str) {
        self.lock()
            .prepared
            .remove(&(data_id.to_string(), group.to_string()));
    }
}

#[async_trait]
impl ConfigFilter for Wire {
    async fn filter(&self, req: Option<&mut ConfigReq>, resp: Option<&mut ConfigResp>) {
        if let Some(req) = req {
            let key = (req.data_id.clone(), req.group.clone());
            let prepared = self.lock().prepared.remove(&key);
            match prepared {
                Some((content, data_key)) if *content == req.content => {
                    req.encrypted_data_key = data_key.to_string();
                }
                _ if Scheme::for_data_id(&req.data_id).is_encrypted() => {
                    // Not what this tool prepared: never let it out (as MseConfigFilter does when
                    // encryption fails). Unreachable by construction.
                    tracing::error!(
                        data_id = %req.data_id,
                        "a publish the tool did not encrypt was stopped"
                    );
                    req.content.clear();
                    req.encrypted_data_key.clear();
                    req.data_id.clear();
                }
                _ => {}
            }
        }
        if let Some(resp) = resp {
            self.lock().received.insert(
                (resp.data_id.clone(), resp.group.clone()),
                Zeroizing::new(resp.encrypted_data_key.clone()),
            );
        }
    }
}

/// A temporary directory for nacos-sdk's caches (else it writes under `$HOME/nacos`), removed on drop.
#[derive(Debug)]
pub struct CacheDir(pub PathBuf);

impl CacheDir {
    /// A new empty directory of mode 0700 under the temp dir.
    pub fn new() -> CliResult<CacheDir> {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
        let dir = std::env::temp_dir().join(format!(
            "mse-auth-nacos-{}-{}",
            std::process::id(),
            hex(&bytes)
        ));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(CacheDir(dir))
    }
}

impl Drop for CacheDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A Nacos server: nacos-sdk's config service with our auth plugin and [`Wire`], and the servers for
/// the open API.
pub struct NacosStore {
    /// nacos-sdk's client, for one namespace.
    pub service: ConfigService,
    /// Our filter in its chain.
    pub wire: Wire,
    /// The auth plugin (token and/or AccessKey), if any.
    pub plugin: Option<MseAuthPlugin>,
    /// The namespace.
    pub namespace: String,
    /// The servers (HTTP), for listing.
    pub servers: ServerList,
    /// The budget of each call.
    pub timeout: Duration,
    /// nacos-sdk's cache directory, removed with the store.
    pub _cache: CacheDir,
}

impl fmt::Debug for NacosStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NacosStore")
            .field("namespace", &self.namespace)
            .field("servers", &self.servers)
            .finish_non_exhaustive()
    }
}

/// What a call of nacos-sdk came to.
enum Call<T> {
    Done(T),
    Failed(SdkError),
}

impl NacosStore {
    /// Runs `call` within the budget; after a 403 (token refused) logs in again, at most once per
    /// 60 s, and tries once more.
    async fn call<T, F, Fut>(
        &self,
        what: &str,
        data_id: &str,
        call: F,
    ) -> Result<Call<T>, StoreError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = nacos_sdk::api::error::Result<T>>,
    {
        for attempt in 1..=2 {
            let started = Instant::now();
            let result = tokio::time::timeout(self.timeout, call()).await;
            let elapsed = started.elapsed();
            match result {
                Err(_) => {
                    tracing::debug!(what, data_id, ?elapsed, "no answer");
                    return Err(StoreError::new(format!(
                        "{what} {data_id}: no answer from the Nacos server within {:?}",
                        self.timeout
                    )));
                }
                Ok(Ok(value)) => {
                    tracing::debug!(what, data_id, ?elapsed, "done");
                    return Ok(Call::Done(value));
                }
                Ok(Err(e)) => {
                    tracing::debug!(what, data_id, ?elapsed, error = %e, "failed");
                    if attempt == 1 && is_forbidden(&e) {
                        if let Some(plugin) = &self.plugin {
                            if plugin.nacos_login().is_some() {
                                let _ = plugin.relogin().await;
                                continue;
                            }
                        }
                    }
                    return Ok(Call::Failed(e));
                }
            }
        }
        unreachable!("the loop returns on its second attempt")
    }

    /// Why the server refused `what`, for a message.
    fn refused(&self, what: &str, data_id: &str, e: &SdkError) -> StoreError {
        if is_forbidden(e) {
            let hint = match &self.plugin {
                None => {
                    "no identity was sent: give --username (NACOS_CLIENT_USERNAME) and a \
                         password, or --sign for AccessKey signing"
                }
                Some(_) => "is the user allowed to do this in this namespace?",
            };
            return StoreError::new(format!(
                "{what} {data_id}: the Nacos server refused it (403): {hint}"
            ));
        }
        StoreError::new(format!(
            "{what} {data_id}: {}",
            escape_untrusted(&e.to_string(), 300)
        ))
    }
}

impl Store for NacosStore {
    async fn get(&self, data_id: &str, group: &str) -> Result<Option<Stored>, StoreError> {
        let result = self
            .call("reading", data_id, || {
                self.service.get_config(data_id.into(), group.into())
            })
            .await?;
        match result {
            Call::Done(resp) => Ok(Some(Stored {
                content: Zeroizing::new(resp.content().clone()),
                encrypted_data_key: self.wire.take_received(data_id, group),
                md5: resp.md5().clone(),
                content_type: resp.content_type().clone(),
            })),
            Call::Failed(SdkError::ConfigNotFound(_)) => {
                self.wire.take_received(data_id, group);
                Ok(None)
            }
            Call::Failed(e) => Err(self.refused("reading", data_id, &e)),
        }
    }

    async fn publish(
        &self,
        data_id: &str,
        group: &str,
        sealed: &Encrypted,
        content_type: Option<&str>,
        cas_md5: Option<&str>,
    ) -> Result<(), StoreError> {
        let result = self
            .call("publishing", data_id, || {
                self.wire.prepare(data_id, group, sealed);
                let content = sealed.content.clone();
                let content_type = content_type.map(str::to_string);
                async move {
                    match cas_md5 {
                        Some(md5) => {
                            self.service
                                .publish_config_cas(
                                    data_id.into(),
                                    group.into(),
                                    content,
                                    content_type,
                                    md5.into(),
                                )
                                .await
                        }
                        None => {
                            self.service
                                .publish_config(data_id.into(), group.into(), content, content_type)
                                .await
                        }
                    }
                }
            })
            .await;
        self.wire.unprepare(data_id, group);
        match result? {
            Call::Done(true) => Ok(()),
            Call::Done(false) => Err(StoreError::new(format!(
                "publishing {data_id}: the Nacos server did not accept it"
            ))),
            Call::Failed(e) if cas_md5.is_some() && is_cas_refusal(&e) => {
                Err(StoreError::changed(format!(
                    "publishing {data_id}: the Nacos server refused the compare-and-set: the \
                     config changed since it was read"
                )))
            }
            Call::Failed(e) => Err(self.refused("publishing", data_id, &e)),
        }
    }

    async fn remove(&self, data_id: &str, group: &str) -> Result<(), StoreError> {
        let result = self
            .call("removing", data_id, || {
                self.service.remove_config(data_id.into(), group.into())
            })
            .await?;
        match result {
            Call::Done(true) => Ok(()),
            Call::Done(false) => Err(StoreError::new(format!(
                "removing {data_id}: the Nacos server did not accept it"
            ))),
            Call::Failed(e) => Err(self.refused("removing", data_id, &e)),
        }
    }

    async fn list(&self, group: Option<&str>) -> CliResult<Vec<Listed>> {
        let mut page_size = PAGE_SIZE;
        loop {
            match self.list_pages(group, page_size).await {
                Err(Listing::TooLarge) if page_size > 1 => {
                    page_size /= 2;
                    tracing::debug!(page_size, "a listing page was over 1 MiB: smaller pages");
                }
                Err(Listing::TooLarge) => {
                    return Err(
                        "listing: one config is over 1 MiB, the most a listing page may \
                                hold"
                            .into(),
                    )
                }
                Err(Listing::Failed(e)) => return Err(e),
                Err(Listing::Forbidden(message)) => return Err(message.into()),
                Ok(listed) => return Ok(listed),
            }
        }
    }
}

/// Whether nacos-sdk's error is Nacos refusing a compare-and-set publish (its message names the MD5
/// or "cas"; Nacos answers `ConfigPublishResponse` with an error code).
fn is_cas_refusal(e: &SdkError) -> bool {
    let text = e.to_string().to_ascii_lowercase();
    text.contains("cas") || text.contains("md5")
}

/// Why listing stopped.
enum Listing {
    /// A page was over the HTTP client's body limit.
    TooLarge,
    /// The server refused the identity (HTTP 403).
    Forbidden(String),
    Failed(Box<dyn std::error::Error + Send + Sync>),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    #[serde(default)]
    total_count: usize,
    #[serde(default)]
    page_items: Vec<PageItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageItem {
    data_id: String,
    #[serde(default)]
    group: String,
}

impl NacosStore {
    /// The identity headers of an open-API request in `group` (the token, AccessKey signature).
    async fn identity(&self, group: Option<&str>) -> Vec<(&'static str, String)> {
        let Some(plugin) = &self.plugin else {
            return Vec::new();
        };
        if let Some(login) = plugin.nacos_login() {
            // Logged in at connect; this only refreshes a token that is due.
            let _ = tokio::time::timeout(self.timeout, login.token()).await;
        }
        plugin.identity(&RequestResource {
            request_type: "Config".into(),
            namespace: Some(self.namespace.clone()),
            group: group.map(str::to_string),
            resource: None,
        })
    }

    /// Every config, `page_size` at a time: `GET {ctx}/v1/cs/configs?search=accurate&dataId=&group=…
    /// &tenant=…&pageNo=…&pageSize=…` on the first server that answers.
    async fn list_pages(
        &self,
        group: Option<&str>,
        page_size: usize,
    ) -> Result<Vec<Listed>, Listing> {
        let mut seen = BTreeSet::new();
        let max_pages = MAX_LISTED.div_ceil(page_size) + 1;
        for page_no in 1..=max_pages {
            let page = self.page(group, page_no, page_size).await?;
            if page.total_count > MAX_LISTED {
                return Err(Listing::Failed(
                    format!(
                        "the namespace holds {} configs{}, more than the {MAX_LISTED} this command \
                         lists: narrow it with --group",
                        page.total_count,
                        group.map(|g| format!(" in group {g}")).unwrap_or_default()
                    )
                    .into(),
                ));
            }
            let count = page.page_items.len();
            for item in page.page_items {
                seen.insert(Listed {
                    group: item.group,
                    data_id: item.data_id,
                });
            }
            if count < page_size || page_no * page_size >= page.total_count {
                return Ok(seen.into_iter().collect());
            }
        }
        Err(Listing::Failed(
            format!("listing did not end within {max_pages} pages").into(),
        ))
    }

    /// One page; after a 403 (token refused) logs in again, at most once per 60 s, and tries once
    /// more.
    async fn page(
        &self,
        group: Option<&str>,
        page_no: usize,
        page_size: usize,
    ) -> Result<Page, Listing> {
        let forbidden = |result: Result<Page, Listing>| match result {
            Err(Listing::Forbidden(message)) => Err(Listing::Failed(message.into())),
            other => other,
        };
        match self.page_once(group, page_no, page_size).await {
            Err(Listing::Forbidden(_))
                if self
                    .plugin
                    .as_ref()
                    .is_some_and(|p| p.nacos_login().is_some()) =>
            {
                if let Some(plugin) = &self.plugin {
                    let _ = plugin.relogin().await;
                }
                forbidden(self.page_once(group, page_no, page_size).await)
            }
            other => forbidden(other),
        }
    }

    async fn page_once(
        &self,
        group: Option<&str>,
        page_no: usize,
        page_size: usize,
    ) -> Result<Page, Listing> {
        let identity = self.identity(group).await;
        let timeouts = Timeouts::new(Duration::from_secs(3), self.timeout);
        let mut failures = Vec::new();
        for index in 0..self.servers.len() {
            let mut url = self.servers.url(index, "/v1/cs/configs");
            url.query_pairs_mut()
                .append_pair("search", "accurate")
                .append_pair("dataId", "")
                .append_pair("group", group.unwrap_or(""))
                .append_pair("tenant", &self.namespace)
                .append_pair("pageNo", &page_no.to_string())
                .append_pair("pageSize", &page_size.to_string());
            let mut request = HttpRequest::get(url, timeouts);
            for (name, value) in &identity {
                request = request.header(name, value.clone());
            }
            let origin = self.servers.origin(index);
            let started = Instant::now();
            let response = HttpClient::shared().send(request).await;
            tracing::debug!(server = %origin, page_no, page_size, elapsed = ?started.elapsed(), "listing page");
            match response {
                Err(e) if e.kind() == TransportErrorKind::BodyTooLarge => {
                    return Err(Listing::TooLarge)
                }
                Err(e) => failures.push(e.to_string()),
                Ok(r) if r.status == 403 => {
                    let hint = if self.plugin.is_none() {
                        "no identity was sent: give --username (NACOS_CLIENT_USERNAME) and a \
                         password, or --sign"
                    } else {
                        "is the user allowed to list this namespace?"
                    };
                    return Err(Listing::Forbidden(format!(
                        "listing configs on {origin}: refused (HTTP 403): {hint}"
                    )));
                }
                Ok(r) if r.is_success() => {
                    return serde_json::from_slice(&r.body).map_err(|e| {
                        Listing::Failed(
                            format!("listing configs on {origin}: not a config page: {e}").into(),
                        )
                    })
                }
                Ok(r) => failures.push(format!(
                    "{origin}: HTTP {}: {}",
                    r.status,
                    escape_untrusted(&r.body_excerpt(200), 200)
                )),
            }
        }
        Err(Listing::Failed(
            format!("listing configs failed: {}", failures.join("; ")).into(),
        ))
    }
}
