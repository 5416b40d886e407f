"""Alibaba Cloud / MSE / Nacos credentials, on a non-blocking Rust refresh cache.

Every provider returns one immutable :class:`Credentials` snapshot from ``get_credentials()``
(synchronous) or ``await get_credentials_async()``. Both read the Rust refresh cache, which
refreshes on a background runtime of its own well before expiry: once warm, a call never waits
on the network and never blocks an asyncio event loop. Only the first call (or a call after
every refresh failed until the credentials' cut-off) waits for a load, with the GIL released.

Any provider plugs into nacos-sdk-python as its ``credentials_provider``::

    from v2.nacos import ClientConfigBuilder
    import mse_auth

    config = (ClientConfigBuilder()
              .server_address("127.0.0.1:8848")
              .credentials_provider(mse_auth.DefaultCredentialsProvider())
              .build())

Set the provider after any ``.access_key()``/``.secret_key()`` call of the builder, or not at
all with them: those call ``set_access_key_id`` on whatever provider is set, and ours are
immutable (they raise ``AttributeError``).

Config encryption is in :mod:`mse_auth.cipher`, the nacos-sdk-python config filter in
:mod:`mse_auth.nacos`. Errors are :class:`MseAuthError` subclasses carrying the Rust error's
kind, code and message; no secret is ever in a message, a log or a ``repr``.
"""

import os as _os

from ._native import (
    __version__,
    CliProfileProvider,
    Credentials,
    CredentialsError,
    CredentialsProvider,
    CredentialsUriProvider,
    DefaultCredentialsProvider,
    EcsRamRoleProvider,
    EnvironmentProvider,
    InvalidConfigurationError,
    KmsRotatingProvider,
    MseAuthError,
    NotLoadedError,
    OidcRoleArnProvider,
    ProfileProvider,
    ProviderError,
    RamRoleArnProvider,
    StaticAccessKeyProvider,
    StaticStsProvider,
    TimedOutError,
    UnhandledError,
    CipherError,
)
from . import _native

# A forked child has none of the parent's threads: providers rebuild themselves there, on a
# runtime of the child's own, at their next call.
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_native.after_fork_in_child)

__all__ = [
    "CipherError",
    "CliProfileProvider",
    "Credentials",
    "CredentialsError",
    "CredentialsProvider",
    "CredentialsUriProvider",
    "DefaultCredentialsProvider",
    "EcsRamRoleProvider",
    "EnvironmentProvider",
    "InvalidConfigurationError",
    "KmsRotatingProvider",
    "MseAuthError",
    "NotLoadedError",
    "OidcRoleArnProvider",
    "ProfileProvider",
    "ProviderError",
    "RamRoleArnProvider",
    "StaticAccessKeyProvider",
    "StaticStsProvider",
    "TimedOutError",
    "UnhandledError",
    "__version__",
]
