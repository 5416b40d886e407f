//! Nacos Spas signing, for checking what a Nacos client sent (and debugging signature mismatches).

use crate::credentials::PyCredentials;
use mse_auth_providers::sign::spas::{
    config_identity as spas_config, naming_identity as spas_naming, SpasOptions,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::time::{Duration, UNIX_EPOCH};

/// The Spas identity of a config request for `tenant` and `group` at `timestamp_ms` (epoch
/// milliseconds): `Spas-AccessKey`, `Timestamp`, `Spas-Signature`, and `Spas-SecurityToken` for STS
/// credentials (`signatureVersion` too with a `region_id`: the v4 key). As the Java client and
/// nacos-sdk-python compute it.
#[pyfunction]
#[pyo3(signature = (credentials, *, group, timestamp_ms, tenant="", region_id=None))]
pub(crate) fn config_identity<'py>(
    py: Python<'py>,
    credentials: &PyCredentials,
    group: &str,
    timestamp_ms: u64,
    tenant: &str,
    region_id: Option<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut options = SpasOptions::default();
    if let Some(region) = region_id {
        options = options.region(region);
    }
    let at = UNIX_EPOCH + Duration::from_millis(timestamp_ms);
    let identity = spas_config(credentials.inner(), &options, tenant, group, at);
    let dict = PyDict::new(py);
    for (name, value) in identity {
        dict.set_item(name, value)?;
    }
    Ok(dict)
}

/// The Spas identity of a naming request for `service_name` in `group` at `timestamp_ms`: `ak`,
/// `data` (`timestamp@@group@@service`), `signature`, and `Spas-SecurityToken` for STS credentials.
#[pyfunction]
#[pyo3(signature = (credentials, *, service_name, group, timestamp_ms, region_id=None))]
pub(crate) fn naming_identity<'py>(
    py: Python<'py>,
    credentials: &PyCredentials,
    service_name: &str,
    group: &str,
    timestamp_ms: u64,
    region_id: Option<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut options = SpasOptions::default();
    if let Some(region) = region_id {
        options = options.region(region);
    }
    let at = UNIX_EPOCH + Duration::from_millis(timestamp_ms);
    let identity = spas_naming(credentials.inner(), &options, service_name, group, at);
    let dict = PyDict::new(py);
    for (name, value) in identity {
        dict.set_item(name, value)?;
    }
    Ok(dict)
}
