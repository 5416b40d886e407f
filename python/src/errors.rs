//! One exception hierarchy, mapped from the Rust error kinds.
//!
//! ```text
//! MseAuthError
//! ├── CredentialsError            kind, code, request_id, status, provider_path, message
//! │   ├── NotLoadedError
//! │   ├── InvalidConfigurationError
//! │   ├── TimedOutError (also a TimeoutError)
//! │   ├── ProviderError
//! │   └── UnhandledError
//! └── CipherError                 kind, code, request_id, data_id, message
//! ```
//!
//! The text is the Rust error's `Display`, which never holds a secret, a token, a signature or a
//! full URL; nothing else goes in.

use mse_auth_providers::cipher::{CipherError as RustCipherError, CipherErrorKind};
use mse_auth_providers::{CredentialsError as RustCredentialsError, ErrorKind};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTimeoutError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

create_exception!(
    mse_auth,
    MseAuthError,
    PyException,
    "Base class of every mse_auth error."
);
create_exception!(
    mse_auth,
    CredentialsError,
    MseAuthError,
    "A provider could not produce credentials. Attributes: kind, code, request_id, status, provider_path, message."
);
create_exception!(
    mse_auth,
    NotLoadedError,
    CredentialsError,
    "The provider is not configured here (no variables, no file, not on ECS...)."
);
create_exception!(
    mse_auth,
    InvalidConfigurationError,
    CredentialsError,
    "The provider is configured, but wrongly."
);
create_exception!(
    mse_auth,
    ProviderError,
    CredentialsError,
    "The upstream service answered with a refusal or an unusable answer."
);
create_exception!(
    mse_auth,
    UnhandledError,
    CredentialsError,
    "A transport failure or an unexpected state."
);
create_exception!(
    mse_auth,
    CipherError,
    MseAuthError,
    "A config could not be encrypted or decrypted. Attributes: kind, code, request_id, data_id, message."
);

/// `TimedOutError(CredentialsError, TimeoutError)`: made at module init, as `create_exception!`
/// takes one base.
static TIMED_OUT: pyo3::sync::PyOnceLock<Py<pyo3::types::PyType>> = pyo3::sync::PyOnceLock::new();

/// Creates `TimedOutError` and adds the exception classes to `module`.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add("MseAuthError", py.get_type::<MseAuthError>())?;
    module.add("CredentialsError", py.get_type::<CredentialsError>())?;
    module.add("NotLoadedError", py.get_type::<NotLoadedError>())?;
    module.add(
        "InvalidConfigurationError",
        py.get_type::<InvalidConfigurationError>(),
    )?;
    module.add("ProviderError", py.get_type::<ProviderError>())?;
    module.add("UnhandledError", py.get_type::<UnhandledError>())?;
    module.add("CipherError", py.get_type::<CipherError>())?;
    let timed_out = TIMED_OUT.get_or_try_init(py, || {
        let bases = PyTuple::new(
            py,
            [
                py.get_type::<CredentialsError>().into_any(),
                py.get_type::<PyTimeoutError>().into_any(),
            ],
        )?;
        let namespace = pyo3::types::PyDict::new(py);
        namespace.set_item("__module__", "mse_auth")?;
        namespace.set_item(
            "__doc__",
            "Loading took longer than its budget (also a TimeoutError).",
        )?;
        let class =
            py.get_type::<pyo3::types::PyType>()
                .call1(("TimedOutError", bases, namespace))?;
        Ok::<_, PyErr>(class.cast_into::<pyo3::types::PyType>()?.unbind())
    })?;
    module.add("TimedOutError", timed_out.bind(py))?;
    Ok(())
}

fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NotLoaded => "not_loaded",
        ErrorKind::InvalidConfiguration => "invalid_configuration",
        ErrorKind::TimedOut => "timed_out",
        ErrorKind::Provider => "provider",
        _ => "unhandled",
    }
}

fn cipher_kind_name(kind: CipherErrorKind) -> &'static str {
    match kind {
        CipherErrorKind::InvalidEncoding => "invalid_encoding",
        CipherErrorKind::Truncated => "truncated",
        CipherErrorKind::InvalidKeyLength => "invalid_key_length",
        CipherErrorKind::BadPadding => "bad_padding",
        CipherErrorKind::AuthenticationFailed => "authentication_failed",
        CipherErrorKind::UnsupportedVersion => "unsupported_version",
        CipherErrorKind::NotUtf8 => "not_utf8",
        CipherErrorKind::TooLarge => "too_large",
        CipherErrorKind::MissingDataKey => "missing_data_key",
        CipherErrorKind::InvalidInput => "invalid_input",
        CipherErrorKind::NotConfigured => "not_configured",
        CipherErrorKind::Kms => "kms",
        _ => "other",
    }
}

/// The Python exception for a credentials error, with its attributes set.
pub(crate) fn credentials_error(py: Python<'_>, err: &RustCredentialsError) -> PyErr {
    let class = match err.kind() {
        ErrorKind::NotLoaded => py.get_type::<NotLoadedError>(),
        ErrorKind::InvalidConfiguration => py.get_type::<InvalidConfigurationError>(),
        ErrorKind::TimedOut => match TIMED_OUT.get(py) {
            Some(class) => class.bind(py).clone(),
            None => py.get_type::<CredentialsError>(),
        },
        ErrorKind::Provider => py.get_type::<ProviderError>(),
        _ => py.get_type::<UnhandledError>(),
    };
    let text = err.to_string();
    let made = class.call1((text.as_str(),)).and_then(|value| {
        value.setattr("kind", kind_name(err.kind()))?;
        value.setattr("code", err.code())?;
        value.setattr("request_id", err.request_id())?;
        value.setattr("status", err.status())?;
        value.setattr("provider_path", err.provider_path())?;
        value.setattr("message", err.message())?;
        Ok(PyErr::from_value(value))
    });
    made.unwrap_or_else(|e| e)
}

/// The Python exception for a cipher error, with its attributes set.
pub(crate) fn cipher_error(py: Python<'_>, err: &RustCipherError) -> PyErr {
    let text = err.to_string();
    let made = py
        .get_type::<CipherError>()
        .call1((text.as_str(),))
        .and_then(|value| {
            value.setattr("kind", cipher_kind_name(err.kind()))?;
            value.setattr("code", err.code())?;
            value.setattr("request_id", err.request_id())?;
            value.setattr("data_id", err.data_id())?;
            value.setattr("message", err.message())?;
            Ok(PyErr::from_value(value))
        });
    made.unwrap_or_else(|e| e)
}
