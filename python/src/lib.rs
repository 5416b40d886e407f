//! `mse_auth._native`: the Rust half of the `mse_auth` Python package (PyO3).
//!
//! Thin wrappers over `mse-auth-providers`: every provider on a Rust refresh cache that refreshes on
//! a Tokio runtime of its own (`runtime`), immutable credential snapshots, the config ciphers,
//! Spas signing and one exception hierarchy (`errors`). The Python half (`python/mse_auth/`) adds
//! the nacos-sdk-python config filter and the type stubs.
//!
//! Built by maturin (`pip install ./python`); its tests are the pytest suite in `tests/`, which
//! `scripts/test.sh` runs on the built wheel.

#![deny(unsafe_code)]

mod cipher;
mod credentials;
mod errors;
mod providers;
mod runtime;
mod sign;

use pyo3::prelude::*;

/// The native module: classes and functions re-exported by `mse_auth`, `mse_auth.cipher` and
/// `mse_auth.nacos`.
#[pymodule]
#[pyo3(name = "_native")]
fn native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add_class::<credentials::PyCredentials>()?;
    errors::register(module)?;
    providers::register(module)?;
    cipher::register(module)?;
    module.add_function(wrap_pyfunction!(sign::config_identity, module)?)?;
    module.add_function(wrap_pyfunction!(sign::naming_identity, module)?)?;
    module.add_function(wrap_pyfunction!(runtime::after_fork_in_child, module)?)?;
    Ok(())
}
