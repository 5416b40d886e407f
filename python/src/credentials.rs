//! `Credentials`: one immutable snapshot of an AccessKey, as a provider handed it out.

use mse_auth_providers::Credentials as RustCredentials;
use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyTzInfo};
use std::time::UNIX_EPOCH;

/// One consistent snapshot of credentials: the three getters of nacos-sdk-python's
/// `CredentialsProvider` contract and read-only properties. Immutable, so every getter of one
/// request reads the same AccessKey. `repr` masks the AccessKey id and shows no secret.
#[pyclass(name = "Credentials", module = "mse_auth", frozen, eq)]
#[derive(Clone, PartialEq)]
pub(crate) struct PyCredentials(pub(crate) RustCredentials);

impl PyCredentials {
    pub(crate) fn inner(&self) -> &RustCredentials {
        &self.0
    }
}

#[pymethods]
impl PyCredentials {
    /// The AccessKey id (nacos-sdk-python and alibabacloud-credentials style).
    fn get_access_key_id(&self) -> &str {
        self.0.access_key_id()
    }

    /// The AccessKey secret.
    fn get_access_key_secret(&self) -> &str {
        self.0.access_key_secret()
    }

    /// The STS security token, or `None` for a long-term AccessKey.
    fn get_security_token(&self) -> Option<&str> {
        self.0.security_token()
    }

    /// The provider path (alibabacloud-credentials' `get_provider_name`).
    fn get_provider_name(&self) -> &str {
        self.0.provider_path()
    }

    /// The AccessKey id.
    #[getter(access_key_id)]
    fn property_access_key_id(&self) -> &str {
        self.0.access_key_id()
    }

    /// The AccessKey secret.
    #[getter(access_key_secret)]
    fn property_access_key_secret(&self) -> &str {
        self.0.access_key_secret()
    }

    /// The STS security token, or `None`.
    #[getter(security_token)]
    fn property_security_token(&self) -> Option<&str> {
        self.0.security_token()
    }

    /// When these credentials expire (an aware UTC datetime), or `None` if they do not.
    #[getter]
    fn expiration<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDateTime>>> {
        let Some(at) = self.0.expiration() else {
            return Ok(None);
        };
        let seconds = match at.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs_f64(),
            Err(e) => -e.duration().as_secs_f64(),
        };
        let utc = PyTzInfo::utc(py)?;
        Ok(Some(PyDateTime::from_timestamp(
            py,
            seconds,
            Some(&utc.to_owned()),
        )?))
    }

    /// Which provider produced them, e.g. `default/env` or `ram_role_arn/static_ak`.
    #[getter]
    fn provider_path(&self) -> &str {
        self.0.provider_path()
    }

    /// The AccessKey id with its middle masked.
    #[getter]
    fn masked_access_key_id(&self) -> String {
        self.0.masked_access_key_id()
    }

    fn __repr__(&self) -> String {
        let expiration = self
            .0
            .expiration()
            .map(mse_auth_providers::timestamp::format_utc)
            .map_or_else(|| "None".to_owned(), |t| format!("'{t}'"));
        format!(
            "Credentials(access_key_id='{}', access_key_secret='****', security_token={}, expiration={}, provider_path='{}')",
            self.0.masked_access_key_id(),
            if self.0.security_token().is_some() {
                "'****'"
            } else {
                "None"
            },
            expiration,
            self.0.provider_path()
        )
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }
}
