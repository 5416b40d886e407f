//! [`Context`]: everything a provider reads from the outside world — environment, files, clock, sleep,
//! HTTP — so tests can replace each part.
//!
//! ```
//! use mse_auth_providers::os::{Env, Fs};
//! use mse_auth_providers::Context;
//!
//! let ctx = Context::default()
//!     .with_env(Env::from_pairs([("ALIBABA_CLOUD_PROFILE", "prod")]))
//!     .with_fs(Fs::from_pairs([("/home/me/.alibabacloud/credentials", "[prod]\n")]));
//! assert_eq!(ctx.env().get("ALIBABA_CLOUD_PROFILE").as_deref(), Some("prod"));
//! ```

use crate::http::HttpClient;
use aws_smithy_async::rt::sleep::{default_async_sleep, AsyncSleep, SharedAsyncSleep};
use aws_smithy_async::time::{SharedTimeSource, TimeSource};
use mse_auth::cache;
use mse_auth::os::{Env, Fs};
use std::borrow::Cow;

/// The outside world of a provider. Defaults: the process environment, the real file system, the
/// system clock, Tokio's sleep and the shared HTTP client.
#[derive(Clone, Debug)]
pub struct Context {
    env: Env,
    fs: Fs,
    time: SharedTimeSource,
    sleep: SharedAsyncSleep,
    http: HttpClient,
}

impl Default for Context {
    fn default() -> Self {
        Self {
            env: Env::real(),
            fs: Fs::real(),
            time: SharedTimeSource::default(),
            sleep: default_async_sleep().expect("aws-smithy-async is built with rt-tokio"),
            http: HttpClient::shared(),
        }
    }
}

impl Context {
    /// Replaces the environment.
    pub fn with_env(mut self, env: Env) -> Self {
        self.env = env;
        self
    }

    /// Replaces the file system.
    pub fn with_fs(mut self, fs: Fs) -> Self {
        self.fs = fs;
        self
    }

    /// Replaces the clock.
    pub fn with_time_source(mut self, time: impl TimeSource + 'static) -> Self {
        self.time = SharedTimeSource::new(time);
        self
    }

    /// Replaces the sleep implementation.
    pub fn with_sleep(mut self, sleep: impl AsyncSleep + 'static) -> Self {
        self.sleep = SharedAsyncSleep::new(sleep);
        self
    }

    /// Replaces the HTTP client family.
    pub fn with_http(mut self, http: HttpClient) -> Self {
        self.http = http;
        self
    }

    /// The environment.
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// The file system.
    pub fn fs(&self) -> &Fs {
        &self.fs
    }

    /// The clock.
    pub fn time(&self) -> &SharedTimeSource {
        &self.time
    }

    /// The sleep implementation.
    pub fn sleep(&self) -> &SharedAsyncSleep {
        &self.sleep
    }

    /// The HTTP client family.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// A refresh-cache builder on this context's clock and sleep, named `name`.
    pub fn cache_builder(&self, name: impl Into<Cow<'static, str>>) -> cache::Builder {
        mse_auth::RefreshCache::builder()
            .name(name)
            .time_source(self.time.clone())
            .sleep_impl(self.sleep.clone())
    }
}
