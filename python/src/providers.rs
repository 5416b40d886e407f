//! The providers: one Python class per mode, all serving a Rust [`RefreshCache`].
//!
//! Each class keeps how to build its provider (a closure over its settings) and the provider built
//! for the current process generation ([`runtime`](crate::runtime)). `get_credentials()` reads the
//! cache's synchronous snapshot ([`RefreshCache::current`]): one atomic load and a thread-local
//! copy, no runtime, no lock, no clock. Only when nothing valid is cached (the first call, or after
//! the cut-off while the upstream fails) does it wait for a load, on the module's runtime with the
//! GIL released. The cache then refreshes in the background on that runtime, well before expiry.

use crate::credentials::PyCredentials;
use crate::errors::credentials_error;
use crate::runtime::{self, Outcome};
use arc_swap::ArcSwapOption;
use mse_auth_providers::kms::KmsClient;
use mse_auth_providers::kms_rotating::{CachedKmsRotatingProvider, KmsRotatingProvider};
use mse_auth_providers::{
    CliProfileProvider, Context, Credentials, CredentialsError, CredentialsProvider,
    CredentialsUriProvider, DefaultChain, EcsRamRoleProvider, EnvironmentProvider,
    OidcRoleArnProvider, ProfileProvider, ProvideCredentials, RamRoleArnProvider, RefreshCache,
    StaticAccessKeyProvider, StaticStsProvider,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use zeroize::Zeroizing;

/// A provider built for one process generation.
struct Built {
    generation: u64,
    cache: RefreshCache<Credentials>,
    /// The KMS-rotated provider, for `force_refresh`.
    kms: Option<Arc<CachedKmsRotatingProvider>>,
}

type Make = Box<dyn Fn(&Context) -> Result<Built, CredentialsError> + Send + Sync>;

/// What a Python provider object holds.
pub(crate) struct Inner {
    class: &'static str,
    /// Settings for `repr` (never a secret).
    shown: String,
    make: Make,
    built: ArcSwapOption<Built>,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.class, self.shown)
    }
}

impl Inner {
    fn new(class: &'static str, shown: String, make: Make) -> PyResult<Self> {
        let inner = Self {
            class,
            shown,
            make,
            built: ArcSwapOption::empty(),
        };
        // Settings are checked now: a misconfigured provider fails at construction.
        Python::attach(|py| inner.built().map_err(|e| credentials_error(py, &e)))?;
        Ok(inner)
    }

    /// The cached snapshot, if one is valid and the provider belongs to this process generation.
    #[inline]
    fn current(&self) -> Option<Credentials> {
        let built = self.built.load();
        let built = built.as_ref()?;
        if built.generation != runtime::generation() {
            return None;
        }
        built.cache.current()
    }

    /// The provider of this process generation, built now if it was built in an earlier one.
    fn built(&self) -> Result<Arc<Built>, CredentialsError> {
        let generation = runtime::generation();
        if let Some(built) = self.built.load_full() {
            if built.generation == generation {
                return Ok(built);
            }
        }
        let ctx = runtime::context()
            .map_err(|e| CredentialsError::unhandled(self.class, e.to_string()))?;
        let mut built = (self.make)(&ctx)?;
        built.generation = generation;
        let built = Arc::new(built);
        self.built.store(Some(built.clone()));
        Ok(built)
    }

    async fn load(&self) -> Result<Credentials, CredentialsError> {
        let built = self.built()?;
        built.cache.provide_credentials().await
    }
}

/// Serves another Python provider's credentials to a Rust provider (a source of AssumeRole, the
/// signer of KMS calls), following that provider across process generations.
#[derive(Debug)]
struct Delegate(Arc<Inner>);

impl CredentialsProvider for Delegate {
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        match self.0.current() {
            Some(credentials) => ProvideCredentials::ready(Ok(credentials)),
            None => ProvideCredentials::boxed(self.0.load()),
        }
    }
}

/// Where a role or KMS client gets the credentials it signs with.
#[derive(Clone)]
enum Source {
    Provider(Arc<Inner>),
    /// Kept for rebuilding after a fork; wiped when the provider is dropped.
    Keys {
        id: String,
        secret: Zeroizing<String>,
        token: Option<Zeroizing<String>>,
    },
}

impl Source {
    /// From the official client's keywords: `credentials_provider`, or `access_key_id`,
    /// `access_key_secret` and optionally `security_token`.
    fn from_args(
        credentials_provider: Option<&Bound<'_, PyAny>>,
        access_key_id: Option<String>,
        access_key_secret: Option<String>,
        security_token: Option<String>,
    ) -> PyResult<Option<Source>> {
        if let Some(provider) = credentials_provider {
            let provider = provider.cast::<PyCredentialsProvider>().map_err(|_| {
                PyTypeError::new_err(
                    "credentials_provider must be an mse_auth provider (e.g. mse_auth.DefaultCredentialsProvider())",
                )
            })?;
            return Ok(Some(Source::Provider(provider.get().inner.clone())));
        }
        Ok(match (access_key_id, access_key_secret) {
            (None, None) => None,
            (id, secret) => Some(Source::Keys {
                id: id.unwrap_or_default(),
                secret: Zeroizing::new(secret.unwrap_or_default()),
                token: security_token.filter(|t| !t.is_empty()).map(Zeroizing::new),
            }),
        })
    }

    fn provider(&self) -> Result<Box<dyn CredentialsProvider>, CredentialsError> {
        Ok(match self {
            Source::Provider(inner) => Box::new(Delegate(inner.clone())),
            Source::Keys {
                id,
                secret,
                token: Some(token),
            } => Box::new(StaticStsProvider::new(
                id.as_str(),
                secret.as_str(),
                token.as_str(),
            )?),
            Source::Keys { id, secret, .. } => {
                Box::new(StaticAccessKeyProvider::new(id.as_str(), secret.as_str())?)
            }
        })
    }

    fn shown(&self) -> String {
        match self {
            Source::Provider(inner) => format!("{inner:?}"),
            Source::Keys { token: Some(_), .. } => "static STS token".to_owned(),
            Source::Keys { .. } => "static AccessKey".to_owned(),
        }
    }
}

struct BoxedProvider(Box<dyn CredentialsProvider>);

impl fmt::Debug for BoxedProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl CredentialsProvider for BoxedProvider {
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        self.0.provide_credentials()
    }
}

fn cached(cache: RefreshCache<Credentials>) -> Built {
    Built {
        generation: 0,
        cache,
        kms: None,
    }
}

fn duration(seconds: Option<u64>) -> Option<Duration> {
    seconds.map(Duration::from_secs)
}

/// The base class of every provider. `get_credentials()` returns a [`Credentials`](PyCredentials)
/// snapshot; once warm it never waits on the network.
#[pyclass(name = "CredentialsProvider", module = "mse_auth", subclass, frozen)]
pub(crate) struct PyCredentialsProvider {
    inner: Arc<Inner>,
}

impl PyCredentialsProvider {
    fn init(inner: Inner) -> PyClassInitializer<Self> {
        PyClassInitializer::from(Self {
            inner: Arc::new(inner),
        })
    }
}

#[pymethods]
impl PyCredentialsProvider {
    /// The credentials: the cached snapshot, or (first call, or nothing valid left) the result of a
    /// load, waited for with the GIL released. Raises a `CredentialsError` subclass on failure.
    fn get_credentials(&self, py: Python<'_>) -> PyResult<PyCredentials> {
        if let Some(credentials) = self.inner.current() {
            return Ok(PyCredentials(credentials));
        }
        let inner = &self.inner;
        match runtime::block_on(py, inner.load())? {
            Ok(credentials) => Ok(PyCredentials(credentials)),
            Err(err) => Err(credentials_error(py, &err)),
        }
    }

    /// An awaitable of the credentials: a finished asyncio future when warm (no yield to the loop),
    /// else one completed from the module's runtime when the load is done.
    fn get_credentials_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if let Some(credentials) = self.inner.current() {
            let value = Bound::new(py, PyCredentials(credentials))?.into_any();
            return runtime::ready_future(py, value);
        }
        let inner = self.inner.clone();
        runtime::spawn_into_asyncio(py, async move {
            let result = inner.load().await;
            Box::new(move |py: Python<'_>| match result {
                Ok(credentials) => Ok(Bound::new(py, PyCredentials(credentials))?
                    .into_any()
                    .unbind()),
                Err(err) => Err(credentials_error(py, &err)),
            }) as Outcome
        })
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }
}

/// Declares a provider subclass with a `#[new]` that builds its `Inner`.
macro_rules! provider_class {
    ($rust:ident, $py:literal) => {
        #[pyclass(name = $py, module = "mse_auth", extends = PyCredentialsProvider, frozen)]
        pub(crate) struct $rust;
    };
}

provider_class!(PyStaticAccessKeyProvider, "StaticAccessKeyProvider");
provider_class!(PyStaticStsProvider, "StaticStsProvider");
provider_class!(PyEnvironmentProvider, "EnvironmentProvider");
provider_class!(PyRamRoleArnProvider, "RamRoleArnProvider");
provider_class!(PyOidcRoleArnProvider, "OidcRoleArnProvider");
provider_class!(PyEcsRamRoleProvider, "EcsRamRoleProvider");
provider_class!(PyCredentialsUriProvider, "CredentialsUriProvider");
provider_class!(PyKmsRotatingProvider, "KmsRotatingProvider");
provider_class!(PyProfileProvider, "ProfileProvider");
provider_class!(PyCliProfileProvider, "CliProfileProvider");
provider_class!(PyDefaultCredentialsProvider, "DefaultCredentialsProvider");

fn init<T: pyo3::PyClass<BaseType = PyCredentialsProvider>>(
    sub: T,
    inner: Inner,
) -> PyClassInitializer<T> {
    PyCredentialsProvider::init(inner).add_subclass(sub)
}

#[pymethods]
impl PyStaticAccessKeyProvider {
    #[new]
    #[pyo3(signature = (*, access_key_id, access_key_secret))]
    fn new(access_key_id: String, access_key_secret: String) -> PyResult<PyClassInitializer<Self>> {
        let access_key_secret = Zeroizing::new(access_key_secret);
        let inner = Inner::new(
            "StaticAccessKeyProvider",
            String::new(),
            Box::new(move |ctx| {
                let p = StaticAccessKeyProvider::new(
                    access_key_id.as_str(),
                    access_key_secret.as_str(),
                )?;
                Ok(cached(ctx.cache_builder("static_ak").build_for(p)))
            }),
        )?;
        Ok(init(Self, inner))
    }
}

#[pymethods]
impl PyStaticStsProvider {
    #[new]
    #[pyo3(signature = (*, access_key_id, access_key_secret, security_token, expiration=None))]
    fn new(
        access_key_id: String,
        access_key_secret: String,
        security_token: String,
        expiration: Option<SystemTime>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let (access_key_secret, security_token) = (
            Zeroizing::new(access_key_secret),
            Zeroizing::new(security_token),
        );
        let inner = Inner::new(
            "StaticStsProvider",
            String::new(),
            Box::new(move |ctx| {
                let mut p = StaticStsProvider::new(
                    access_key_id.as_str(),
                    access_key_secret.as_str(),
                    security_token.as_str(),
                )?;
                if let Some(at) = expiration {
                    p = p.expiration(at)?;
                }
                Ok(cached(ctx.cache_builder("static_sts").build_for(p)))
            }),
        )?;
        Ok(init(Self, inner))
    }
}

#[pymethods]
impl PyEnvironmentProvider {
    #[new]
    fn new() -> PyResult<PyClassInitializer<Self>> {
        let inner = Inner::new(
            "EnvironmentProvider",
            String::new(),
            Box::new(|ctx| {
                let p = EnvironmentProvider::with_env(ctx.env().clone());
                Ok(cached(ctx.cache_builder("env").build_for(p)))
            }),
        )?;
        Ok(init(Self, inner))
    }
}

#[pymethods]
impl PyRamRoleArnProvider {
    #[new]
    #[pyo3(signature = (
        *, role_arn=None, access_key_id=None, access_key_secret=None, security_token=None,
        credentials_provider=None, role_session_name=None, duration_seconds=None, policy=None,
        external_id=None, sts_region_id=None, sts_endpoint=None, enable_vpc=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        role_arn: Option<String>,
        access_key_id: Option<String>,
        access_key_secret: Option<String>,
        security_token: Option<String>,
        credentials_provider: Option<&Bound<'_, PyAny>>,
        role_session_name: Option<String>,
        duration_seconds: Option<u64>,
        policy: Option<String>,
        external_id: Option<String>,
        sts_region_id: Option<String>,
        sts_endpoint: Option<String>,
        enable_vpc: Option<bool>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let source = Source::from_args(
            credentials_provider,
            access_key_id,
            access_key_secret,
            security_token,
        )?;
        let role_arn = role_arn.unwrap_or_default();
        let shown = format!(
            "role_arn={role_arn:?}, source={}",
            source.as_ref().map_or("none".to_owned(), Source::shown)
        );
        let inner = Inner::new(
            "RamRoleArnProvider",
            shown,
            Box::new(move |ctx| {
                let mut b = RamRoleArnProvider::builder(role_arn.clone()).context(ctx.clone());
                if let Some(source) = &source {
                    b = b.source(BoxedProvider(source.provider()?));
                }
                if let Some(v) = &role_session_name {
                    b = b.session_name(v.clone());
                }
                if let Some(v) = duration(duration_seconds) {
                    b = b.duration(v);
                }
                if let Some(v) = &policy {
                    b = b.policy(v.clone());
                }
                if let Some(v) = &external_id {
                    b = b.external_id(v.clone());
                }
                if let Some(v) = &sts_region_id {
                    b = b.sts_region(v.clone());
                }
                if let Some(v) = &sts_endpoint {
                    b = b.sts_endpoint(v.clone());
                }
                if let Some(v) = enable_vpc {
                    b = b.vpc(v);
                }
                Ok(cached(b.build()?))
            }),
        )?;
        Ok(init(Self, inner))
    }
}

#[pymethods]
impl PyOidcRoleArnProvider {
    #[new]
    #[pyo3(signature = (
        *, role_arn=None, oidc_provider_arn=None, oidc_token_file_path=None, role_session_name=None,
        duration_seconds=None, policy=None, sts_region_id=None, sts_endpoint=None, enable_vpc=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        role_arn: Option<String>,
        oidc_provider_arn: Option<String>,
        oidc_token_file_path: Option<String>,
        role_session_name: Option<String>,
        duration_seconds: Option<u64>,
        policy: Option<String>,
        sts_region_id: Option<String>,
        sts_endpoint: Option<String>,
        enable_vpc: Option<bool>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let (role_arn, provider_arn, token_file) = (
            role_arn.unwrap_or_default(),
            oidc_provider_arn.unwrap_or_default(),
            oidc_token_file_path.unwrap_or_default(),
        );
        let shown = format!("role_arn={role_arn:?}, oidc_provider_arn={provider_arn:?}");
        let inner = Inner::new(
            "OidcRoleArnProvider",
            shown,
            Box::new(move |ctx| {
                let mut b = OidcRoleArnProvider::builder(
                    role_arn.clone(),
                    provider_arn.clone(),
                    token_file.clone(),
                )
                .context(ctx.clone());
                if let Some(v) = &role_session_name {
                    b = b.session_name(v.clone());
                }
                if let Some(v) = duration(duration_seconds) {
                    b = b.duration(v);
                }
                if let Some(v) = &policy {
                    b = b.policy(v.clone());
                }
                if let Some(v) = &sts_region_id {
                    b = b.sts_region(v.clone());
                }
                if let Some(v) = &sts_endpoint {
                    b = b.sts_endpoint(v.clone());
                }
                if let Some(v) = enable_vpc {
                    b = b.vpc(v);
                }
                Ok(cached(b.build()?))
            }),
        )?;
        Ok(init(Self, inner))
    }
}

#[pymethods]
impl PyEcsRamRoleProvider {
    #[new]
    #[pyo3(signature = (*, role_name=None, disable_imds_v1=None, metadata_endpoint=None))]
    fn new(
        role_name: Option<String>,
        disable_imds_v1: Option<bool>,
        metadata_endpoint: Option<String>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let shown = format!("role_name={role_name:?}");
        let inner = Inner::new(
            "EcsRamRoleProvider",
            shown,
            Box::new(move |ctx| {
                let mut b = EcsRamRoleProvider::builder().context(ctx.clone());
                if let Some(v) = &role_name {
                    b = b.role_name(v.clone());
                }
                if let Some(v) = disable_imds_v1 {
                    b = b.disable_imdsv1(v);
                }
                if let Some(v) = &metadata_endpoint {
                    b = b.metadata_endpoint(v.clone());
                }
                Ok(cached(b.build()?))
            }),
        )?;
        Ok(init(Self, inner))
    }
}

#[pymethods]
impl PyCredentialsUriProvider {
    #[new]
    #[pyo3(signature = (*, uri=None))]
    fn new(uri: Option<String>) -> PyResult<PyClassInitializer<Self>> {
        let inner = Inner::new(
            "CredentialsUriProvider",
            String::new(),
            Box::new(move |ctx| {
                let b = match &uri {
                    Some(uri) => CredentialsUriProvider::builder(uri.clone()).context(ctx.clone()),
                    None => CredentialsUriProvider::from_env(ctx)?,
                };
                Ok(cached(b.build()?))
            }),
        )?;
        Ok(init(Self, inner))
    }
}

#[pymethods]
impl PyKmsRotatingProvider {
    #[new]
    #[pyo3(signature = (
        *, secret_name=None, credentials_provider=None, access_key_id=None, access_key_secret=None,
        security_token=None, kms_endpoint=None, kms_region_id=None, refresh_interval_seconds=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        secret_name: Option<String>,
        credentials_provider: Option<&Bound<'_, PyAny>>,
        access_key_id: Option<String>,
        access_key_secret: Option<String>,
        security_token: Option<String>,
        kms_endpoint: Option<String>,
        kms_region_id: Option<String>,
        refresh_interval_seconds: Option<u64>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let source = Source::from_args(
            credentials_provider,
            access_key_id,
            access_key_secret,
            security_token,
        )?;
        let secret_name = secret_name.unwrap_or_default();
        let shown = format!(
            "secret_name={secret_name:?}, source={}",
            source.as_ref().map_or("none".to_owned(), Source::shown)
        );
        let inner = Inner::new(
            "KmsRotatingProvider",
            shown,
            Box::new(move |ctx| {
                let Some(source) = &source else {
                    return Err(CredentialsError::invalid_configuration(
                        "kms_rotating",
                        "no credentials to read the secret with: pass credentials_provider= (e.g. \
                         mse_auth.EcsRamRoleProvider()) or access_key_id=/access_key_secret=",
                    ));
                };
                let mut kms = KmsClient::builder()
                    .credentials(BoxedProvider(source.provider()?))
                    .context(ctx.clone());
                if let Some(v) = &kms_endpoint {
                    kms = kms.endpoint(v.clone());
                }
                if let Some(v) = &kms_region_id {
                    kms = kms.region(v.clone());
                }
                let mut b = KmsRotatingProvider::builder(secret_name.clone())
                    .kms(kms.build()?)
                    .context(ctx.clone());
                if let Some(v) = duration(refresh_interval_seconds) {
                    b = b.refresh_interval(v);
                }
                let provider = Arc::new(b.build()?);
                Ok(Built {
                    generation: 0,
                    cache: provider.cache().clone(),
                    kms: Some(provider),
                })
            }),
        )?;
        Ok(init(Self, inner))
    }

    /// Reads the secret again now (after an upstream `InvalidAccessKeyId`), rate-limited: 5 at
    /// once, one more per 10 minutes. Waits with the GIL released.
    fn force_refresh(slf: PyRef<'_, Self>, py: Python<'_>) -> PyResult<PyCredentials> {
        let inner = slf.as_super().inner.clone();
        let result = runtime::block_on(py, async move {
            let built = inner.built()?;
            match &built.kms {
                Some(kms) => kms.force_refresh().await,
                None => built.cache.refresh().await,
            }
        })?;
        result
            .map(PyCredentials)
            .map_err(|e| credentials_error(py, &e))
    }
}

#[pymethods]
impl PyProfileProvider {
    #[new]
    #[pyo3(signature = (*, profile_name=None, profile_file=None))]
    fn new(
        profile_name: Option<String>,
        profile_file: Option<String>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let shown = format!("profile_name={profile_name:?}, profile_file={profile_file:?}");
        let inner = Inner::new(
            "ProfileProvider",
            shown,
            Box::new(move |ctx| {
                let mut b = ProfileProvider::builder().context(ctx.clone());
                if let Some(v) = &profile_name {
                    b = b.profile(v.clone());
                }
                if let Some(v) = &profile_file {
                    b = b.path(v.clone());
                }
                Ok(cached(ctx.cache_builder("profile").build_for(b.build())))
            }),
        )?;
        Ok(init(Self, inner))
    }
}

#[pymethods]
impl PyCliProfileProvider {
    #[new]
    #[pyo3(signature = (*, profile_name=None, profile_file=None))]
    fn new(
        profile_name: Option<String>,
        profile_file: Option<String>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let shown = format!("profile_name={profile_name:?}, profile_file={profile_file:?}");
        let inner = Inner::new(
            "CliProfileProvider",
            shown,
            Box::new(move |ctx| {
                let mut b = CliProfileProvider::builder().context(ctx.clone());
                if let Some(v) = &profile_name {
                    b = b.profile(v.clone());
                }
                if let Some(v) = &profile_file {
                    b = b.path(v.clone());
                }
                Ok(cached(
                    ctx.cache_builder("cli_profile").build_for(b.build()),
                ))
            }),
        )?;
        Ok(init(Self, inner))
    }
}

#[pymethods]
impl PyDefaultCredentialsProvider {
    #[new]
    #[pyo3(signature = (*, profile_name=None))]
    fn new(profile_name: Option<String>) -> PyResult<PyClassInitializer<Self>> {
        let shown = format!("profile_name={profile_name:?}");
        let inner = Inner::new(
            "DefaultCredentialsProvider",
            shown,
            Box::new(move |ctx| {
                let mut b = DefaultChain::builder().context(ctx.clone());
                if let Some(v) = &profile_name {
                    b = b.profile(v.clone());
                }
                Ok(cached(b.build()))
            }),
        )?;
        Ok(init(Self, inner))
    }
}

/// Adds the provider classes to `module`.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyCredentialsProvider>()?;
    module.add_class::<PyStaticAccessKeyProvider>()?;
    module.add_class::<PyStaticStsProvider>()?;
    module.add_class::<PyEnvironmentProvider>()?;
    module.add_class::<PyRamRoleArnProvider>()?;
    module.add_class::<PyOidcRoleArnProvider>()?;
    module.add_class::<PyEcsRamRoleProvider>()?;
    module.add_class::<PyCredentialsUriProvider>()?;
    module.add_class::<PyKmsRotatingProvider>()?;
    module.add_class::<PyProfileProvider>()?;
    module.add_class::<PyCliProfileProvider>()?;
    module.add_class::<PyDefaultCredentialsProvider>()?;
    Ok(())
}

/// The Rust provider behind a Python provider object, for the cipher's KMS client.
pub(crate) fn source_provider(
    provider: &Bound<'_, PyAny>,
) -> PyResult<impl CredentialsProvider + 'static> {
    let provider = provider.cast::<PyCredentialsProvider>().map_err(|_| {
        PyTypeError::new_err(
            "credentials_provider must be an mse_auth provider (e.g. mse_auth.DefaultCredentialsProvider())",
        )
    })?;
    Ok(Delegate(provider.get().inner.clone()))
}
