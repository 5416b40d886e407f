"""Type stubs of the native module (Rust, PyO3). Import from ``mse_auth``, ``mse_auth.cipher``
and ``mse_auth.nacos`` rather than from here."""

import asyncio
import datetime
from typing import Final, final

__version__: Final[str]

@final
class Credentials:
    """One immutable snapshot of credentials. Every getter of one snapshot reads the same
    AccessKey; ``repr`` masks the id and shows no secret."""

    def get_access_key_id(self) -> str: ...
    def get_access_key_secret(self) -> str: ...
    def get_security_token(self) -> str | None: ...
    def get_provider_name(self) -> str: ...
    @property
    def access_key_id(self) -> str: ...
    @property
    def access_key_secret(self) -> str: ...
    @property
    def security_token(self) -> str | None: ...
    @property
    def expiration(self) -> datetime.datetime | None:
        """When they expire (aware, UTC), or ``None`` for long-term keys."""
    @property
    def provider_path(self) -> str:
        """Which provider produced them, e.g. ``default/env`` or ``ram_role_arn/static_ak``."""
    @property
    def masked_access_key_id(self) -> str: ...
    def __eq__(self, other: object) -> bool: ...

class CredentialsProvider:
    """The base class of every provider."""

    def get_credentials(self) -> Credentials:
        """The cached snapshot; the first call (or one after every refresh failed until the
        cut-off) waits for a load with the GIL released. Raises a ``CredentialsError``."""
    def get_credentials_async(self) -> asyncio.Future[Credentials]:
        """An asyncio future of the credentials, already done when warm. Call it inside a
        running event loop."""

@final
class StaticAccessKeyProvider(CredentialsProvider):
    def __init__(self, *, access_key_id: str, access_key_secret: str) -> None: ...

@final
class StaticStsProvider(CredentialsProvider):
    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        security_token: str,
        expiration: datetime.datetime | None = None,
    ) -> None: ...

@final
class EnvironmentProvider(CredentialsProvider):
    """``ALIBABA_CLOUD_ACCESS_KEY_ID``, ``ALIBABA_CLOUD_ACCESS_KEY_SECRET`` and optionally
    ``ALIBABA_CLOUD_SECURITY_TOKEN``."""

    def __init__(self) -> None: ...

@final
class RamRoleArnProvider(CredentialsProvider):
    """STS ``AssumeRole`` signed with ``credentials_provider`` (any mse_auth provider) or the given
    AccessKey; empty settings fall back to ``ALIBABA_CLOUD_ROLE_ARN`` and friends."""

    def __init__(
        self,
        *,
        role_arn: str | None = None,
        access_key_id: str | None = None,
        access_key_secret: str | None = None,
        security_token: str | None = None,
        credentials_provider: CredentialsProvider | None = None,
        role_session_name: str | None = None,
        duration_seconds: int | None = None,
        policy: str | None = None,
        external_id: str | None = None,
        sts_region_id: str | None = None,
        sts_endpoint: str | None = None,
        enable_vpc: bool | None = None,
    ) -> None: ...

@final
class OidcRoleArnProvider(CredentialsProvider):
    """STS ``AssumeRoleWithOIDC`` (RRSA); the token file is read again at every refresh. Unset
    values come from ``ALIBABA_CLOUD_ROLE_ARN``, ``ALIBABA_CLOUD_OIDC_PROVIDER_ARN`` and
    ``ALIBABA_CLOUD_OIDC_TOKEN_FILE``."""

    def __init__(
        self,
        *,
        role_arn: str | None = None,
        oidc_provider_arn: str | None = None,
        oidc_token_file_path: str | None = None,
        role_session_name: str | None = None,
        duration_seconds: int | None = None,
        policy: str | None = None,
        sts_region_id: str | None = None,
        sts_endpoint: str | None = None,
        enable_vpc: bool | None = None,
    ) -> None: ...

@final
class EcsRamRoleProvider(CredentialsProvider):
    """The ECS instance's RAM role, from the metadata service (IMDSv2, v1 fallback unless
    disabled)."""

    def __init__(
        self,
        *,
        role_name: str | None = None,
        disable_imds_v1: bool | None = None,
        metadata_endpoint: str | None = None,
    ) -> None: ...

@final
class CredentialsUriProvider(CredentialsProvider):
    """``GET`` of a credentials URI (default ``ALIBABA_CLOUD_CREDENTIALS_URI``)."""

    def __init__(self, *, uri: str | None = None) -> None: ...

@final
class KmsRotatingProvider(CredentialsProvider):
    """The AccessKey kept in a KMS RAMCredentials secret (default ``ALIBABA_CLOUD_SECRET_NAME``),
    read with ``credentials_provider`` (or the given AccessKey) and again on its rotation
    schedule."""

    def __init__(
        self,
        *,
        secret_name: str | None = None,
        credentials_provider: CredentialsProvider | None = None,
        access_key_id: str | None = None,
        access_key_secret: str | None = None,
        security_token: str | None = None,
        kms_endpoint: str | None = None,
        kms_region_id: str | None = None,
        refresh_interval_seconds: int | None = None,
    ) -> None: ...
    def force_refresh(self) -> Credentials:
        """Reads the secret now (after an upstream ``InvalidAccessKeyId``); rate-limited."""

@final
class ProfileProvider(CredentialsProvider):
    """A section of ``~/.alibabacloud/credentials`` (or ``ALIBABA_CLOUD_CREDENTIALS_FILE``)."""

    def __init__(self, *, profile_name: str | None = None, profile_file: str | None = None) -> None: ...

@final
class CliProfileProvider(CredentialsProvider):
    """A profile of the Alibaba Cloud CLI's ``~/.aliyun/config.json``."""

    def __init__(self, *, profile_name: str | None = None, profile_file: str | None = None) -> None: ...

@final
class DefaultCredentialsProvider(CredentialsProvider):
    """The default chain: KMS-rotated AccessKey (``ALIBABA_CLOUD_SECRET_NAME``), environment, OIDC,
    CLI profile, ini profile, ECS RAM role, credentials URI."""

    def __init__(self, *, profile_name: str | None = None) -> None: ...

class MseAuthError(Exception): ...

class CredentialsError(MseAuthError):
    kind: str
    """``not_loaded``, ``invalid_configuration``, ``timed_out``, ``provider`` or ``unhandled``."""
    code: str | None
    request_id: str | None
    status: int | None
    provider_path: str
    message: str

class NotLoadedError(CredentialsError): ...
class InvalidConfigurationError(CredentialsError): ...
class TimedOutError(CredentialsError, TimeoutError): ...
class ProviderError(CredentialsError): ...
class UnhandledError(CredentialsError): ...

class CipherError(MseAuthError):
    kind: str
    """``invalid_encoding``, ``truncated``, ``invalid_key_length``, ``bad_padding``,
    ``authentication_failed``, ``unsupported_version``, ``not_utf8``, ``too_large``,
    ``missing_data_key``, ``invalid_input``, ``not_configured`` or ``kms``."""
    code: str | None
    request_id: str | None
    data_id: str | None
    message: str

@final
class EncryptedConfig:
    @property
    def content(self) -> str: ...
    @property
    def encrypted_data_key(self) -> str: ...

@final
class ConfigCipher:
    def __init__(
        self,
        *,
        credentials_provider: CredentialsProvider | None = None,
        kms_endpoint: str | None = None,
        kms_region_id: str | None = None,
        key_id: str | None = None,
        local_key: bytes | str | None = None,
        local_key_name: str | None = None,
        cache_max_entries: int | None = None,
        cache_ttl_seconds: int | None = None,
    ) -> None: ...
    def encrypt(
        self, data_id: str, content: str, *, group: str = "DEFAULT_GROUP", tenant: str = ""
    ) -> EncryptedConfig: ...
    def decrypt(
        self,
        data_id: str,
        content: str,
        *,
        encrypted_data_key: str = "",
        group: str = "DEFAULT_GROUP",
        tenant: str = "",
    ) -> str: ...
    def encrypt_async(
        self, data_id: str, content: str, *, group: str = "DEFAULT_GROUP", tenant: str = ""
    ) -> asyncio.Future[EncryptedConfig]: ...
    def decrypt_async(
        self,
        data_id: str,
        content: str,
        *,
        encrypted_data_key: str = "",
        group: str = "DEFAULT_GROUP",
        tenant: str = "",
    ) -> asyncio.Future[str]: ...

def scheme_for(data_id: str) -> str: ...
def generate_local_key() -> str: ...
def config_identity(
    credentials: Credentials,
    *,
    group: str,
    timestamp_ms: int,
    tenant: str = "",
    region_id: str | None = None,
) -> dict[str, str]: ...
def naming_identity(
    credentials: Credentials,
    *,
    service_name: str,
    group: str,
    timestamp_ms: int,
    region_id: str | None = None,
) -> dict[str, str]: ...
def after_fork_in_child() -> None: ...
