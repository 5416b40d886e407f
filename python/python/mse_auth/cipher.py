"""Config encryption by dataId, byte-compatible with the MSE/Nacos clients.

======================== ======================================================= =====================
dataId prefix            content                                                 ``encryptedDataKey``
======================== ======================================================= =====================
``cipher-kms-aes-128-``  Base64(AES-128-ECB(KMS data key, text))                 KMS ``CiphertextBlob``
``cipher-kms-aes-256-``  same, AES-256                                           same
``cipher-gcm-``          ``mseauth:v1:`` AES-256-GCM, wrapped data key inside,   empty
                         tenant, group and dataId bound in (ours)
``cipher-aes-``          hex AES-CBC (the nacos-plugin scheme)                   the key itself
any other ``cipher-``    KMS ``Encrypt`` of the whole text (at most 6 KB)        empty
anything else            unchanged                                               empty
======================== ======================================================= =====================

KMS calls are signed with any mse_auth provider (``credentials_provider=``); ``cipher-gcm-`` can
use a local 32-byte key instead (``local_key=``, from :func:`generate_local_key`). Unwrapped data
keys are cached (1,000 for an hour by default), so reading a config again does not call KMS.
``cipher-gcm-`` is the scheme to use on servers that drop ``encryptedDataKey`` (rnacos).

::

    from mse_auth import DefaultCredentialsProvider
    from mse_auth.cipher import ConfigCipher

    cipher = ConfigCipher(credentials_provider=DefaultCredentialsProvider(), kms_region_id="cn-hangzhou")
    sealed = cipher.encrypt("cipher-kms-aes-256-db.yaml", "password: s3cret")
    plain = cipher.decrypt("cipher-kms-aes-256-db.yaml", sealed.content,
                           encrypted_data_key=sealed.encrypted_data_key)

Failures raise :class:`~mse_auth.CipherError` (its message names the dataId; never the content
or a key): a tampered or moved ``cipher-gcm-`` config, a wrong key, a missing data key, KMS errors.
"""

from ._native import CipherError, ConfigCipher, EncryptedConfig, generate_local_key, scheme_for

#: Every encrypted dataId starts with this (alone, it selects no scheme).
CIPHER_PREFIX = "cipher-"
KMS_AES_128_PREFIX = "cipher-kms-aes-128-"
KMS_AES_256_PREFIX = "cipher-kms-aes-256-"
GCM_PREFIX = "cipher-gcm-"
NACOS_AES_PREFIX = "cipher-aes-"


def is_encrypted(data_id: str) -> bool:
    """Whether configs of `data_id` are encrypted (its prefix selects a scheme)."""
    return scheme_for(data_id) != "none"


__all__ = [
    "CIPHER_PREFIX",
    "CipherError",
    "ConfigCipher",
    "EncryptedConfig",
    "GCM_PREFIX",
    "KMS_AES_128_PREFIX",
    "KMS_AES_256_PREFIX",
    "NACOS_AES_PREFIX",
    "generate_local_key",
    "is_encrypted",
    "scheme_for",
]
