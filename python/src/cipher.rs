//! `ConfigCipher`: encrypts and decrypts Nacos configs by dataId, with KMS (signed by any of our
//! providers) or a local AES-256-GCM key.

use crate::errors::{cipher_error, credentials_error};
use crate::providers::source_provider;
use crate::runtime::{self, Outcome};
use arc_swap::ArcSwapOption;
use mse_auth_providers::cipher::gcm::LocalKey;
use mse_auth_providers::cipher::{ConfigCipher, Encrypted, Scheme};
use mse_auth_providers::kms::KmsClient;
use mse_auth_providers::kms_data_keys::{KmsDataKeys, DEFAULT_KEY_ID};
use mse_auth_providers::{Context, CredentialsError, CredentialsProvider};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// The name of a scheme, as `scheme_for` reports it.
fn scheme_name(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::KmsAes128 => "kms_aes_128",
        Scheme::KmsAes256 => "kms_aes_256",
        Scheme::KmsDirect => "kms",
        Scheme::NacosAes => "nacos_aes",
        Scheme::Gcm => "gcm",
        _ => "none",
    }
}

/// The scheme a dataId selects: `kms_aes_128` (`cipher-kms-aes-128-`), `kms_aes_256`
/// (`cipher-kms-aes-256-`), `gcm` (`cipher-gcm-`), `nacos_aes` (`cipher-aes-`), `kms` (any other
/// `cipher-…`) or `none`.
#[pyfunction]
pub(crate) fn scheme_for(data_id: &str) -> &'static str {
    scheme_name(Scheme::for_data_id(data_id))
}

/// A new random local GCM master key, Base64 (keep it like a password).
#[pyfunction]
pub(crate) fn generate_local_key() -> PyResult<String> {
    let key = LocalKey::generate("local").map_err(|e| Python::attach(|py| cipher_error(py, &e)))?;
    Ok(key.expose_base64().to_string())
}

/// An encrypted config: the content to publish and the `encryptedDataKey` to send with it (`""`
/// when the scheme has none). `repr` shows lengths only: for `cipher-aes-` the data key *is* the key.
#[pyclass(name = "EncryptedConfig", module = "mse_auth.cipher", frozen)]
pub(crate) struct PyEncrypted {
    #[pyo3(get)]
    content: String,
    #[pyo3(get)]
    encrypted_data_key: String,
}

#[pymethods]
impl PyEncrypted {
    fn __repr__(&self) -> String {
        format!(
            "EncryptedConfig(content=<{} chars>, encrypted_data_key=<{} chars>)",
            self.content.len(),
            self.encrypted_data_key.len()
        )
    }
}

impl From<Encrypted> for PyEncrypted {
    fn from(e: Encrypted) -> Self {
        Self {
            content: e.content,
            encrypted_data_key: e.encrypted_data_key,
        }
    }
}

/// How to build the cipher again in a forked child.
struct Settings {
    source: Option<Arc<dyn Fn() -> Box<dyn CredentialsProvider> + Send + Sync>>,
    kms_endpoint: Option<String>,
    kms_region_id: Option<String>,
    key_id: String,
    local_key: Option<(String, KeyMaterial)>,
    cache_max_entries: Option<usize>,
    cache_ttl: Option<Duration>,
}

struct Built {
    generation: u64,
    cipher: ConfigCipher,
}

/// Encrypts and decrypts configs by dataId, byte-compatible with the MSE/Nacos clients. See the
/// package docs (`mse_auth.cipher`).
#[pyclass(name = "ConfigCipher", module = "mse_auth.cipher", frozen)]
pub(crate) struct PyConfigCipher {
    settings: Arc<Settings>,
    built: ArcSwapOption<Built>,
}

struct Source(Box<dyn CredentialsProvider>);

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl CredentialsProvider for Source {
    fn provide_credentials(&self) -> mse_auth_providers::ProvideCredentials<'_> {
        self.0.provide_credentials()
    }
}

fn build(settings: &Settings, ctx: &Context) -> Result<ConfigCipher, CredentialsError> {
    let mut b = ConfigCipher::builder();
    if let Some(make) = &settings.source {
        let mut kms = KmsClient::builder()
            .credentials(Source(make()))
            .context(ctx.clone());
        if let Some(v) = &settings.kms_endpoint {
            kms = kms.endpoint(v.clone());
        }
        if let Some(v) = &settings.kms_region_id {
            kms = kms.region(v.clone());
        }
        b = b.data_key_service(Arc::new(
            KmsDataKeys::new(kms.build()?).key_id(settings.key_id.clone()),
        ));
    }
    if let Some((name, key)) = &settings.local_key {
        let key = match key {
            KeyMaterial::Raw(raw) => LocalKey::new(name.clone(), raw),
            KeyMaterial::Base64(text) => LocalKey::from_base64(name.clone(), text),
        }
        .map_err(|e| CredentialsError::invalid_configuration("config_cipher", e.to_string()))?;
        b = b.local_key(key);
    }
    if let Some(n) = settings.cache_max_entries {
        b = b.cache_max_entries(n);
    }
    if let Some(ttl) = settings.cache_ttl {
        b = b.cache_ttl(ttl);
    }
    Ok(b.build())
}

impl PyConfigCipher {
    fn cipher(&self) -> Result<Arc<Built>, CredentialsError> {
        let generation = runtime::generation();
        if let Some(built) = self.built.load_full() {
            if built.generation == generation {
                return Ok(built);
            }
        }
        let ctx = runtime::context()
            .map_err(|e| CredentialsError::unhandled("config_cipher", e.to_string()))?;
        let built = Arc::new(Built {
            generation,
            cipher: build(&self.settings, &ctx)?,
        });
        self.built.store(Some(built.clone()));
        Ok(built)
    }
}

/// A local master key as given: 32 raw bytes, or their Base64.
enum KeyMaterial {
    Raw(Zeroizing<Vec<u8>>),
    Base64(Zeroizing<String>),
}

/// The local key from `bytes` (32 raw bytes) or `str` (their Base64).
fn key_material(key: &Bound<'_, PyAny>) -> PyResult<KeyMaterial> {
    if let Ok(bytes) = key.cast::<PyBytes>() {
        return Ok(KeyMaterial::Raw(Zeroizing::new(bytes.as_bytes().to_vec())));
    }
    if let Ok(text) = key.cast::<PyString>() {
        return Ok(KeyMaterial::Base64(Zeroizing::new(
            text.to_str()?.to_owned(),
        )));
    }
    Err(PyTypeError::new_err(
        "local_key must be 32 bytes or their Base64 text",
    ))
}

#[pymethods]
impl PyConfigCipher {
    #[new]
    #[pyo3(signature = (
        *, credentials_provider=None, kms_endpoint=None, kms_region_id=None, key_id=None,
        local_key=None, local_key_name=None, cache_max_entries=None, cache_ttl_seconds=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        credentials_provider: Option<&Bound<'_, PyAny>>,
        kms_endpoint: Option<String>,
        kms_region_id: Option<String>,
        key_id: Option<String>,
        local_key: Option<&Bound<'_, PyAny>>,
        local_key_name: Option<String>,
        cache_max_entries: Option<usize>,
        cache_ttl_seconds: Option<u64>,
    ) -> PyResult<Self> {
        let source = match credentials_provider {
            Some(provider) => {
                let provider = Arc::new(source_provider(provider)?);
                let make: Arc<dyn Fn() -> Box<dyn CredentialsProvider> + Send + Sync> =
                    Arc::new(move || Box::new(SharedSource(provider.clone())));
                Some(make)
            }
            None => None,
        };
        let local_key = match local_key {
            Some(key) => Some((
                local_key_name.unwrap_or_else(|| "local".to_owned()),
                key_material(key)?,
            )),
            None => None,
        };
        let settings = Arc::new(Settings {
            source,
            kms_endpoint,
            kms_region_id,
            key_id: key_id.unwrap_or_else(|| DEFAULT_KEY_ID.to_owned()),
            local_key,
            cache_max_entries,
            cache_ttl: cache_ttl_seconds.map(Duration::from_secs),
        });
        let cipher = Self {
            settings,
            built: ArcSwapOption::empty(),
        };
        cipher.cipher().map_err(|e| credentials_error(py, &e))?;
        Ok(cipher)
    }

    /// Encrypts `content` for publishing to `data_id` (in `group` of namespace `tenant`). A dataId
    /// that selects no scheme, and blank content, pass through unchanged. Raises `CipherError`.
    #[pyo3(signature = (data_id, content, *, group="DEFAULT_GROUP", tenant=""))]
    fn encrypt(
        &self,
        py: Python<'_>,
        data_id: &str,
        content: &str,
        group: &str,
        tenant: &str,
    ) -> PyResult<PyEncrypted> {
        let built = self.cipher().map_err(|e| credentials_error(py, &e))?;
        let result = runtime::block_on(py, built.cipher.encrypt(tenant, group, data_id, content))?;
        result
            .map(PyEncrypted::from)
            .map_err(|e| cipher_error(py, &e))
    }

    /// Decrypts `content` read from `data_id`, with the `encrypted_data_key` the server returned
    /// next to it. A dataId that selects no scheme passes through unchanged. Raises `CipherError`
    /// (tampered, moved, wrong key, missing data key...), never returns ciphertext as plaintext.
    #[pyo3(signature = (data_id, content, *, encrypted_data_key="", group="DEFAULT_GROUP", tenant=""))]
    fn decrypt(
        &self,
        py: Python<'_>,
        data_id: &str,
        content: &str,
        encrypted_data_key: &str,
        group: &str,
        tenant: &str,
    ) -> PyResult<String> {
        let built = self.cipher().map_err(|e| credentials_error(py, &e))?;
        let result = runtime::block_on(
            py,
            built
                .cipher
                .decrypt(tenant, group, data_id, content, encrypted_data_key),
        )?;
        result.map_err(|e| cipher_error(py, &e))
    }

    /// `encrypt`, as an awaitable: the work runs on the module's runtime, not the event loop.
    #[pyo3(signature = (data_id, content, *, group="DEFAULT_GROUP".to_owned(), tenant=String::new()))]
    fn encrypt_async<'py>(
        &self,
        py: Python<'py>,
        data_id: String,
        content: String,
        group: String,
        tenant: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let built = self.cipher().map_err(|e| credentials_error(py, &e))?;
        runtime::spawn_into_asyncio(py, async move {
            let result = built
                .cipher
                .encrypt(&tenant, &group, &data_id, &content)
                .await;
            Box::new(move |py: Python<'_>| match result {
                Ok(e) => Ok(Bound::new(py, PyEncrypted::from(e))?.into_any().unbind()),
                Err(e) => Err(cipher_error(py, &e)),
            }) as Outcome
        })
    }

    /// `decrypt`, as an awaitable.
    #[pyo3(signature = (data_id, content, *, encrypted_data_key=String::new(), group="DEFAULT_GROUP".to_owned(), tenant=String::new()))]
    fn decrypt_async<'py>(
        &self,
        py: Python<'py>,
        data_id: String,
        content: String,
        encrypted_data_key: String,
        group: String,
        tenant: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let built = self.cipher().map_err(|e| credentials_error(py, &e))?;
        runtime::spawn_into_asyncio(py, async move {
            let result = built
                .cipher
                .decrypt(&tenant, &group, &data_id, &content, &encrypted_data_key)
                .await;
            Box::new(move |py: Python<'_>| match result {
                Ok(text) => Ok(PyString::new(py, &text).into_any().unbind()),
                Err(e) => Err(cipher_error(py, &e)),
            }) as Outcome
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "ConfigCipher(kms={}, key_id={:?}, local_key={})",
            self.settings.source.is_some(),
            self.settings.key_id,
            self.settings
                .local_key
                .as_ref()
                .map_or("None".to_owned(), |(name, _)| format!("{name:?}"))
        )
    }
}

/// Our provider shared by every KMS client of one cipher.
struct SharedSource<P>(Arc<P>);

impl<P: CredentialsProvider> std::fmt::Debug for SharedSource<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<P: CredentialsProvider> CredentialsProvider for SharedSource<P> {
    fn provide_credentials(&self) -> mse_auth_providers::ProvideCredentials<'_> {
        self.0.provide_credentials()
    }
}

/// Adds the cipher classes and functions to `module`.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyConfigCipher>()?;
    module.add_class::<PyEncrypted>()?;
    module.add_function(wrap_pyfunction!(scheme_for, module)?)?;
    module.add_function(wrap_pyfunction!(generate_local_key, module)?)?;
    Ok(())
}
