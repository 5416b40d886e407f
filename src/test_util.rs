//! Fakes for tests (feature `test-util`).
//!
//! ```
//! use mse_auth::{test_util::ScriptedProvider, Credentials, CredentialsError, CredentialsProvider};
//! # async fn demo() {
//! let p = ScriptedProvider::new("fake")
//!     .then_err(CredentialsError::unhandled("fake", "first call fails"))
//!     .then_ok(Credentials::new("id", "secret", "fake").unwrap());
//! assert!(p.provide_credentials().await.is_err());
//! assert!(p.provide_credentials().await.is_ok());
//! assert!(p.provide_credentials().await.is_ok()); // the last step repeats
//! assert_eq!(p.calls(), 3);
//! # }
//! ```

use crate::credentials::Credentials;
use crate::error::{CredentialsError, Result};
use crate::provider::{CredentialsProvider, ProvideCredentials};
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};

/// A provider that answers from a script and counts its calls. Clones share the script and the count.
#[derive(Clone)]
pub struct ScriptedProvider {
    name: &'static str,
    state: Arc<Mutex<Script>>,
}

#[derive(Default)]
struct Script {
    steps: VecDeque<Result<Credentials>>,
    calls: usize,
}

impl ScriptedProvider {
    /// An empty script: answers `NotLoaded` until steps are added.
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            state: Arc::default(),
        }
    }

    /// Adds a successful step.
    pub fn then_ok(self, credentials: Credentials) -> Self {
        self.push(Ok(credentials))
    }

    /// Adds a failing step.
    pub fn then_err(self, error: CredentialsError) -> Self {
        self.push(Err(error))
    }

    /// Adds a step to a script already in use.
    pub fn push(self, step: Result<Credentials>) -> Self {
        self.script().steps.push_back(step);
        self
    }

    /// How many times it was asked.
    pub fn calls(&self) -> usize {
        self.script().calls
    }

    fn script(&self) -> std::sync::MutexGuard<'_, Script> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn next(&self) -> Result<Credentials> {
        let mut script = self.script();
        script.calls += 1;
        match script.steps.len() {
            0 => Err(CredentialsError::not_loaded(
                self.name,
                "the script is empty",
            )),
            1 => script.steps[0].clone(),
            _ => script.steps.pop_front().expect("checked non-empty"),
        }
    }
}

impl fmt::Debug for ScriptedProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptedProvider")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl CredentialsProvider for ScriptedProvider {
    fn provide_credentials(&self) -> ProvideCredentials<'_> {
        ProvideCredentials::ready(self.next())
    }
}
