"""nacos-sdk-python (``v2.nacos``, 3.x) adapters.

**Credentials**: every mse_auth provider is a nacos-sdk-python ``credentials_provider``: pass it
to ``ClientConfig(credentials_provider=...)`` or ``ClientConfigBuilder.credentials_provider(...)``.
The client asks it once per config and naming request, from inside its coroutines; ours answer from
the refresh cache without waiting and hand out one immutable snapshot per request.

**Config encryption**: :class:`ConfigFilter` encrypts on publish and decrypts on read and on
listener callbacks, for ``cipher-`` dataIds only; every other dataId passes untouched. A failure
raises :class:`~mse_auth.CipherError` naming the dataId: ciphertext is never handed over as
plaintext. :func:`attach_config_filter` adds it to a config service::

    from v2.nacos import ClientConfigBuilder, NacosConfigService, ConfigParam
    import mse_auth
    from mse_auth.cipher import ConfigCipher
    from mse_auth.nacos import attach_config_filter

    provider = mse_auth.DefaultCredentialsProvider()
    config = (ClientConfigBuilder().server_address("127.0.0.1:8848")
              .username("nacos").password("nacos")
              .credentials_provider(provider).build())
    service = await NacosConfigService.create_config_service(config)
    attach_config_filter(service, ConfigCipher(credentials_provider=provider, kms_region_id="cn-hangzhou"))
    await service.get_config(ConfigParam(data_id="cipher-kms-aes-256-db.yaml"))   # plaintext
    await service.get_config(ConfigParam(data_id="app.yaml"))                     # plain, untouched

**Leave nacos-sdk-python's own KMS switch off** (``kms_config.enabled``): with it on, the client
refuses every dataId that does not start with ``cipher-`` (``NacosException 400 "dataId prefix
should start with 'cipher-'"``), so an application cannot read its plain configs, and it would
encrypt ``cipher-`` configs a second time. :func:`attach_config_filter` refuses a service that has
it on.

The filter runs synchronously, as nacos-sdk-python calls filters: a ``cipher-gcm-`` config with a
local key, or any config whose data key is cached, costs no network call; the first read of a
KMS-encrypted config waits for KMS on the calling thread (the GIL released), as the built-in
filter does.

:func:`config_identity` and :func:`naming_identity` compute the Spas identity a request should
carry (to check a client or debug a signature mismatch), as the Java client and nacos-sdk-python do.

The tenant of ``cipher-gcm-`` configs (bound into the ciphertext with the group and dataId) is the
service's ``namespace_id``, as given in its client config.
"""

from typing import Any

from ._native import CipherError, Credentials, config_identity, naming_identity
from .cipher import ConfigCipher, is_encrypted

try:  # the abstract base, when nacos-sdk-python is installed
    from v2.nacos.config.filter.config_filter import IConfigFilter as _Base
except ImportError:  # pragma: no cover - duck typing is all the client needs
    _Base = object

_REQUEST = "RequestType"
_RESPONSE = "ResponseType"


class ConfigFilter(_Base):
    """A nacos-sdk-python config filter over a :class:`~mse_auth.cipher.ConfigCipher`."""

    #: The name the client's filter chain knows it by (one filter per name).
    NAME = "mse_auth.ConfigFilter"

    def __init__(self, cipher: ConfigCipher, *, namespace_id: str = "") -> None:
        self.cipher = cipher
        self.namespace_id = namespace_id or ""

    def do_filter(self, param: Any) -> None:
        data_id = param.data_id
        if not is_encrypted(data_id):
            return
        group = param.group or "DEFAULT_GROUP"
        if param.usage_type == _REQUEST:
            sealed = self.cipher.encrypt(data_id, param.content, group=group, tenant=self.namespace_id)
            param.content = sealed.content
            param.encrypted_data_key = sealed.encrypted_data_key
        elif param.usage_type == _RESPONSE:
            content, key = param.content, param.encrypted_data_key or ""
            # Whatever happens below, the ciphertext is never left in place of the plaintext.
            param.content = ""
            param.content = self.cipher.decrypt(
                data_id, content, encrypted_data_key=key, group=group, tenant=self.namespace_id
            )

    def get_order(self) -> int:
        return 0

    def get_filter_name(self) -> str:
        return self.NAME


def attach_config_filter(config_service: Any, cipher: ConfigCipher) -> ConfigFilter:
    """Adds a :class:`ConfigFilter` over `cipher` to a ``NacosConfigService`` and returns it.
    Raises ``ValueError`` if the service's built-in KMS filter is on (see the module docs)."""
    kms = getattr(getattr(config_service, "client_config", None), "kms_config", None)
    if kms is not None and getattr(kms, "enabled", False):
        raise ValueError(
            "nacos-sdk-python's own KMS switch (kms_config.enabled) is on: turn it off, mse_auth's "
            "filter replaces it (with it on, plain dataIds cannot be read and cipher- configs would "
            "be encrypted twice)"
        )
    config_filter = ConfigFilter(cipher, namespace_id=getattr(config_service, "namespace_id", "") or "")
    config_service.config_filter_chain_manager.add_filter(config_filter)
    return config_filter


__all__ = [
    "CipherError",
    "ConfigFilter",
    "Credentials",
    "attach_config_filter",
    "config_identity",
    "naming_identity",
]
