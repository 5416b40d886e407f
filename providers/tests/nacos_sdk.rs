//! The nacos-sdk adapters end to end: a real `nacos-sdk` 0.8.3 `ConfigService` (gRPC) with our
//! `MseAuthPlugin` and `MseConfigFilter`, against a real rnacos 0.8.8 with auth on (`support/rnacos.rs`)
//! and the emulator's KMS. Loopback only; every nacos-sdk call is bounded by a timeout.
//!
//! rnacos drops `encryptedDataKey` (spec §G.3), so the envelope schemes are proven by handing the filter
//! nacos-sdk's own `ConfigResp` with the data key the publish produced, as a server that keeps it would.

mod support;

use async_trait::async_trait;
use mse_auth::test_util::CapturedLog;
use mse_auth_emulator::{Emulator, Endpoint};
use mse_auth_providers::cipher::gcm::LocalKey;
use mse_auth_providers::cipher::ConfigCipher;
use mse_auth_providers::kms::KmsClient;
use mse_auth_providers::kms_data_keys::KmsDataKeys;
use mse_auth_providers::nacos::NacosLogin;
use mse_auth_providers::nacos_sdk::{is_forbidden, MseAuthPlugin, MseConfigFilter};
use mse_auth_providers::StaticAccessKeyProvider;
use nacos_sdk::api::config::{ConfigService, ConfigServiceBuilder};
use nacos_sdk::api::plugin::{ConfigFilter, ConfigReq, ConfigResp};
use nacos_sdk::api::props::ClientProps;
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::rnacos::{Rnacos, ADMIN};

const GROUP: &str = "DEFAULT_GROUP";
const KMS_KEY: &str = "alias/mse-auth-nacos-sdk";
const SECRET: &str = "password: sentinel-plaintext-42";

/// Installs the process-wide TRACE subscriber; every test calls it first, so no callsite is seen
/// before it exists (tracing caches interest per callsite).
fn logs() -> &'static CapturedLog {
    static LOGS: std::sync::OnceLock<CapturedLog> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = CapturedLog::default();
        tracing::subscriber::set_global_default(support::trace_subscriber(&captured))
            .expect("the only subscriber");
        captured
    })
}

/// Runs a nacos-sdk call with a deadline.
async fn bounded<T>(what: &str, call: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(15), call)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within 15 s"))
}

/// A temporary directory for nacos-sdk's caches (else it writes under `$HOME/nacos`), removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "mse-auth-nacos-sdk-{tag}-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).expect("create a cache dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn login(server: &Rnacos, password: &str) -> MseAuthPlugin {
    let login = NacosLogin::builder(server.base_url())
        .username(ADMIN.0)
        .password(password)
        .build()
        .unwrap();
    MseAuthPlugin::builder().login(login).build().unwrap()
}

/// A gRPC config client for `server`, with `plugin` and `filters`.
async fn config_service(
    server: &Rnacos,
    cache: &TempDir,
    plugin: Option<&MseAuthPlugin>,
    filters: Vec<Box<dyn ConfigFilter>>,
) -> ConfigService {
    let props = ClientProps::new()
        .server_addr(format!("127.0.0.1:{}", server.http_port))
        .remote_grpc_port(server.grpc_port)
        .env_first(false)
        .cache_dir(cache.0.clone())
        .app_name("mse-auth-test");
    let mut builder = ConfigServiceBuilder::new(props).with_config_filters(filters);
    if let Some(plugin) = plugin {
        builder = builder.with_auth_plugin(Arc::new(plugin.clone()));
    }
    bounded("ConfigServiceBuilder::build", builder.build())
        .await
        .expect("nacos-sdk config service")
}

async fn publish(
    service: &ConfigService,
    data_id: &str,
    content: &str,
) -> nacos_sdk::api::error::Result<bool> {
    bounded(
        "publish_config",
        service.publish_config(data_id.into(), GROUP.into(), content.into(), None),
    )
    .await
}

async fn read(service: &ConfigService, data_id: &str) -> nacos_sdk::api::error::Result<String> {
    bounded(
        "get_config",
        service.get_config(data_id.into(), GROUP.into()),
    )
    .await
    .map(|r| r.content().clone())
}

/// The raw stored content, over the open API with an admin token.
fn stored(server: &Rnacos, data_id: &str) -> (u16, String) {
    let token = server.admin_token().expect("an admin token");
    server.read(Some(&token), data_id, GROUP)
}

async fn kms(emulator: &Emulator) -> Arc<KmsDataKeys> {
    emulator.add_access_key("LTAI5tNacosSdk", "nacos-sdk-kms-secret");
    emulator.kms_create_key(KMS_KEY);
    let client = KmsClient::builder()
        .endpoint(emulator.kms_endpoint())
        .credentials(
            StaticAccessKeyProvider::new("LTAI5tNacosSdk", "nacos-sdk-kms-secret").unwrap(),
        )
        .build()
        .unwrap();
    Arc::new(KmsDataKeys::new(client).key_id(KMS_KEY))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plugin_token_lets_nacos_sdk_publish_and_read_with_auth_on() {
    logs();
    let server = Rnacos::start(3600);
    let cache = TempDir::new("auth");
    let plugin = login(&server, ADMIN.1);
    let service = config_service(&server, &cache, Some(&plugin), vec![]).await;
    assert!(publish(&service, "app.yaml", "k: v").await.unwrap());
    assert_eq!(read(&service, "app.yaml").await.unwrap(), "k: v");
    assert_eq!(stored(&server, "app.yaml"), (200, "k: v".to_string()));
    let token = plugin
        .nacos_login()
        .unwrap()
        .current()
        .expect("a cached token");
    assert_eq!(token.server(), server.base_url());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_plugin_or_with_a_wrong_password_the_server_refuses() {
    logs();
    let server = Rnacos::start(3600);
    let token = server.admin_token().unwrap();
    assert_eq!(server.publish(&token, "app.yaml", GROUP, "k: v"), 200);

    let cache = TempDir::new("refused");
    let anonymous = config_service(&server, &cache, None, vec![]).await;
    let err = read(&anonymous, "app.yaml").await.unwrap_err();
    assert!(is_forbidden(&err), "expected a 403, got {err}");
    let refused = publish(&anonymous, "other.yaml", "x").await;
    assert!(!matches!(refused, Ok(true)), "{refused:?}");

    let cache = TempDir::new("wrong-password");
    let wrong = login(&server, "sentinel-wrong-password");
    let service = config_service(&server, &cache, Some(&wrong), vec![]).await;
    let err = read(&service, "app.yaml").await.unwrap_err();
    assert!(is_forbidden(&err), "expected a 403, got {err}");
    // The caller's 403 path: a relogin is attempted and fails again, so no retry; no panic.
    assert!(
        !wrong.relogin_if_forbidden(&err).await,
        "a retry cannot succeed"
    );
    let err = wrong.relogin().await.unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert!(err.to_string().contains("login refused"), "{err}");
    assert!(!format!("{err} {err:?}").contains("sentinel-wrong-password"));
    assert_eq!(
        stored(&server, "other.yaml").0,
        404,
        "nothing was published"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcm_and_direct_kms_configs_are_stored_encrypted_and_read_back_in_plaintext() {
    logs();
    let server = Rnacos::start(3600);
    let emulator = Emulator::start().await.unwrap();
    let keys = kms(&emulator).await;
    let local = || LocalKey::new("nacos-sdk-test", &[42u8; 32]).unwrap();
    let filter = |with_local: bool| {
        let mut cipher = ConfigCipher::builder().data_key_service(keys.clone());
        if with_local {
            cipher = cipher.local_key(local());
        }
        MseConfigFilter::new(Arc::new(cipher.build()))
    };
    let plugin = login(&server, ADMIN.1);
    let (writer_cache, reader_cache) = (TempDir::new("writer"), TempDir::new("reader"));
    // The writer seals cipher-gcm- with the local key; KMS does direct cipher-.
    let writer_filter = filter(true);
    let writer = config_service(
        &server,
        &writer_cache,
        Some(&plugin),
        vec![Box::new(writer_filter.clone())],
    )
    .await;
    for data_id in ["cipher-gcm-db.yaml", "cipher-db.yaml", "plain.yaml"] {
        assert!(
            publish(&writer, data_id, SECRET).await.unwrap(),
            "{data_id}"
        );
        let (status, raw) = stored(&server, data_id);
        assert_eq!(status, 200, "{data_id}");
        if data_id == "plain.yaml" {
            assert_eq!(raw, SECRET, "non-cipher dataIds pass through");
        } else {
            assert!(
                !raw.contains("sentinel-plaintext"),
                "{data_id} stored in plaintext: {raw}"
            );
        }
    }
    // Another client with its own cipher (no data key cached): decrypts through KMS.
    let decrypts = emulator.calls(Endpoint::KmsDecrypt);
    let reader_filter = filter(true);
    let reader = config_service(
        &server,
        &reader_cache,
        Some(&plugin),
        vec![Box::new(reader_filter.clone())],
    )
    .await;
    for data_id in ["cipher-gcm-db.yaml", "cipher-db.yaml", "plain.yaml"] {
        assert_eq!(read(&reader, data_id).await.unwrap(), SECRET, "{data_id}");
    }
    assert_eq!(
        emulator.calls(Endpoint::KmsDecrypt) - decrypts,
        1,
        "direct cipher- reads call KMS"
    );
    assert_eq!((writer_filter.failures(), reader_filter.failures()), (0, 0));

    // cipher-gcm- through KMS (no local key): the wrapped data key travels inside the ciphertext,
    // so it round-trips through rnacos although rnacos drops encryptedDataKey.
    let kms_writer = config_service(
        &server,
        &TempDir::new("kms-gcm"),
        Some(&plugin),
        vec![Box::new(filter(false))],
    )
    .await;
    assert!(publish(&kms_writer, "cipher-gcm-kms.yaml", SECRET)
        .await
        .unwrap());
    assert!(!stored(&server, "cipher-gcm-kms.yaml")
        .1
        .contains("sentinel-plaintext"));
    let kms_reader = config_service(
        &server,
        &TempDir::new("kms-gcm-r"),
        Some(&plugin),
        vec![Box::new(filter(false))],
    )
    .await;
    assert_eq!(
        read(&kms_reader, "cipher-gcm-kms.yaml").await.unwrap(),
        SECRET
    );
}

/// Records the `encryptedDataKey` each publish carries after the filters before it ran.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<HashMap<String, String>>>);

#[async_trait]
impl ConfigFilter for Recorder {
    async fn filter(&self, req: Option<&mut ConfigReq>, _resp: Option<&mut ConfigResp>) {
        if let Some(req) = req {
            let mut seen = self.0.lock().unwrap();
            seen.insert(req.data_id.clone(), req.encrypted_data_key.clone());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelope_configs_round_trip_when_the_data_key_is_kept() {
    logs();
    let server = Rnacos::start(3600);
    let emulator = Emulator::start().await.unwrap();
    let keys = kms(&emulator).await;
    let filter = || {
        MseConfigFilter::new(Arc::new(
            ConfigCipher::builder()
                .data_key_service(keys.clone())
                .build(),
        ))
    };
    let plugin = login(&server, ADMIN.1);
    let recorder = Recorder::default();
    let writer = config_service(
        &server,
        &TempDir::new("envelope"),
        Some(&plugin),
        vec![Box::new(filter()), Box::new(recorder.clone())],
    )
    .await;
    let reader_filter = filter();
    let reader = config_service(
        &server,
        &TempDir::new("envelope-r"),
        Some(&plugin),
        vec![Box::new(reader_filter.clone())],
    )
    .await;
    let fresh = filter(); // no data key cached: unwraps through KMS
    for data_id in ["cipher-kms-aes-128-db.yaml", "cipher-kms-aes-256-db.yaml"] {
        assert!(
            publish(&writer, data_id, SECRET).await.unwrap(),
            "{data_id}"
        );
        let (status, raw) = stored(&server, data_id);
        assert_eq!(status, 200);
        assert!(
            !raw.contains("sentinel-plaintext"),
            "{data_id} stored in plaintext: {raw}"
        );
        let data_key = recorder
            .0
            .lock()
            .unwrap()
            .get(data_id)
            .cloned()
            .unwrap_or_default();
        assert!(
            !data_key.is_empty(),
            "{data_id}: the publish carried an encryptedDataKey"
        );

        // What a server that keeps encryptedDataKey returns, through nacos-sdk's own type.
        let mut resp = ConfigResp::new(
            data_id.into(),
            GROUP.into(),
            String::new(),
            raw.clone(),
            data_key,
        );
        let decrypts = emulator.calls(Endpoint::KmsDecrypt);
        fresh.filter(None, Some(&mut resp)).await;
        assert_eq!(resp.content, SECRET, "{data_id}");
        assert_eq!(emulator.calls(Endpoint::KmsDecrypt) - decrypts, 1);

        // Through rnacos, which dropped the key: the reader gets an empty content, never ciphertext.
        assert_eq!(read(&reader, data_id).await.unwrap(), "", "{data_id}");
    }
    assert_eq!(reader_filter.failures(), 2);
    assert_eq!(fresh.failures(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_that_cannot_be_encrypted_is_not_published() {
    logs();
    let server = Rnacos::start(3600);
    let token = server.admin_token().unwrap();
    let data_id = "cipher-kms-aes-256-db.yaml";
    assert_eq!(
        server.publish(&token, data_id, GROUP, "the-previous-version"),
        200
    );
    let plugin = login(&server, ADMIN.1);
    // No KMS configured: the cipher- dataIds cannot be encrypted.
    let filter = MseConfigFilter::new(Arc::new(ConfigCipher::builder().build()));
    let service = config_service(
        &server,
        &TempDir::new("no-kms"),
        Some(&plugin),
        vec![Box::new(filter.clone())],
    )
    .await;
    // Nacos refuses the emptied request; rnacos validates nothing and answers Ok(true) (spec §G.3), so
    // the outcome is checked on the server: neither the plaintext nor an empty content replaced the
    // stored version.
    let _ = publish(&service, data_id, SECRET).await;
    assert_eq!(filter.failures(), 1);
    assert_eq!(
        stored(&server, data_id),
        (200, "the-previous-version".to_string())
    );
    assert_eq!(stored(&server, "cipher-kms-aes-128-new.yaml").0, 404);
    let _ = publish(&service, "cipher-kms-aes-128-new.yaml", SECRET).await;
    assert_eq!(filter.failures(), 2);
    assert_eq!(
        stored(&server, "cipher-kms-aes-128-new.yaml").0,
        404,
        "nothing stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_token_plaintext_or_key_reaches_the_logs_at_trace() {
    let logs = logs();
    let server = Rnacos::start(3600);
    let emulator = Emulator::start().await.unwrap();
    let keys = kms(&emulator).await;
    let plugin = login(&server, ADMIN.1);
    let filter = MseConfigFilter::new(Arc::new(
        ConfigCipher::builder().data_key_service(keys).build(),
    ));
    let service = config_service(
        &server,
        &TempDir::new("secrecy"),
        Some(&plugin),
        vec![Box::new(filter.clone())],
    )
    .await;
    assert!(publish(&service, "cipher-kms-aes-256-s.yaml", SECRET)
        .await
        .unwrap());
    // rnacos dropped the data key: a logged decrypt failure.
    assert_eq!(
        read(&service, "cipher-kms-aes-256-s.yaml").await.unwrap(),
        ""
    );
    assert!(publish(&service, "cipher-s.yaml", SECRET).await.unwrap());
    assert_eq!(read(&service, "cipher-s.yaml").await.unwrap(), SECRET);
    let wrong = login(&server, "sentinel-wrong-password");
    let _ = wrong.relogin().await;
    let token = plugin.nacos_login().unwrap().current().expect("a token");

    let text = logs.text();
    assert!(
        text.contains("cannot decrypt the config") && text.contains("cipher-kms-aes-256-s.yaml"),
        "the failure is logged with its dataId"
    );
    assert!(text.contains("MissingDataKey"), "and its kind");
    for sentinel in [
        "sentinel-plaintext",
        "sentinel-wrong-password",
        "nacos-sdk-kms-secret",
        token.access_token(),
    ] {
        assert!(!text.contains(sentinel), "{sentinel:?} was logged");
    }
}
