"""The real nacos-sdk-python 3.2.0 client against rnacos 0.8.8 (auth on, 127.0.0.1), with our
credentials provider and config filter in place; KMS is the emulator's."""

import asyncio
import logging
import pathlib

import pytest

import mse_auth
from mse_auth.cipher import ConfigCipher, generate_local_key
from mse_auth.nacos import ConfigFilter, attach_config_filter, config_identity, naming_identity
from support.rnacos import ADMIN, Rnacos

nacos = pytest.importorskip("v2.nacos", reason="nacos-sdk-python 3.2.0 is required (scripts/test.sh installs it)")
from v2.nacos import (  # noqa: E402
    ClientConfigBuilder,
    ConfigParam,
    KMSConfig,
    NacosConfigService,
    NacosException,
    NacosNamingService,
    RegisterInstanceParam,
)
from v2.nacos.transport.rpc_client import RpcClient  # noqa: E402

ROLE = "acs:ram::123456789012:role/nacos-client"
BUDGET_S = 30
SECRET_TEXT = "password: s3cret-db-password"


@pytest.fixture(scope="module")
def rnacos(tmp_path_factory):
    server = Rnacos(tmp_path_factory.mktemp("rnacos"))
    try:
        yield server
    finally:
        server.stop()


def client_config(rnacos, tmp_path, provider=None, kms=None, namespace=""):
    builder = (
        ClientConfigBuilder()
        .server_address(rnacos.address)
        .username(ADMIN[0])
        .password(ADMIN[1])
        .namespace_id(namespace)
        .log_dir(str(tmp_path / "logs"))
        .cache_dir(str(tmp_path / "cache"))
        .log_level(logging.DEBUG)
    )
    if provider is not None:
        builder = builder.credentials_provider(provider)
    if kms is not None:
        builder = builder.kms_config(kms)
    return builder.build()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, BUDGET_S))


async def service_for(config):
    return await NacosConfigService.create_config_service(config)


def kms_cipher(emulator, provider):
    return ConfigCipher(credentials_provider=provider, kms_endpoint=emulator["kms_endpoint"], key_id=emulator["kms_key_id"])


def sts_provider(emulator):
    return mse_auth.RamRoleArnProvider(
        role_arn=ROLE,
        access_key_id=emulator["access_key_id"],
        access_key_secret=emulator["access_key_secret"],
        sts_endpoint=emulator["sts_endpoint"],
    )


@pytest.fixture
def sent_headers(monkeypatch):
    """The headers of every gRPC request the client sends, as it sends them."""
    seen = []
    original = RpcClient.request

    async def recording(self, request, *args, **kwargs):
        seen.append((type(request).__name__, dict(request.get_headers()), getattr(request, "tenant", ""),
                     getattr(request, "group", "")))
        return await original(self, request, *args, **kwargs)

    monkeypatch.setattr(RpcClient, "request", recording)
    return seen


def test_spas_identity_is_signed_with_our_providers_current_credentials(rnacos, emulator, tmp_path, sent_headers):
    provider = sts_provider(emulator)
    config = client_config(rnacos, tmp_path, provider=provider)

    async def main():
        service = await service_for(config)
        try:
            assert await service.publish_config(ConfigParam(data_id="app.yaml", content="plain: 1"))
            return await service.get_config(ConfigParam(data_id="app.yaml"))
        finally:
            await service.shutdown()

    assert run(main()) == "plain: 1"
    creds = provider.get_credentials()
    assert creds.security_token, "an STS provider: the token travels too"
    signed = [(kind, h, t, g) for kind, h, t, g in sent_headers if "Spas-Signature" in h]
    kinds = {kind for kind, *_ in signed}
    assert {"ConfigPublishRequest", "ConfigQueryRequest"} <= kinds, kinds
    for _, headers, tenant, group in signed:
        expected = config_identity(creds, group=group, tenant=tenant or "", timestamp_ms=int(headers["Timestamp"]))
        assert headers["Spas-AccessKey"] == creds.access_key_id
        assert headers["Spas-Signature"] == expected["Spas-Signature"]
        assert headers["Spas-SecurityToken"] == creds.security_token
    assert emulator.calls("AssumeRole") == 1


def test_the_identity_follows_the_providers_key_after_a_rotation(rnacos, emulator, tmp_path, sent_headers):
    provider = mse_auth.KmsRotatingProvider(
        secret_name=emulator["secret_name"],
        access_key_id=emulator["access_key_id"],
        access_key_secret=emulator["access_key_secret"],
        kms_endpoint=emulator["kms_endpoint"],
    )
    config = client_config(rnacos, tmp_path, provider=provider)
    keys = []

    async def main():
        service = await service_for(config)
        try:
            for content in ("v: 1", "v: 2"):
                assert await service.publish_config(ConfigParam(data_id="rotating.yaml", content=content))
                keys.append(provider.get_credentials())
                if content == "v: 1":
                    emulator.command(f"rotate {emulator['secret_name']}")
                    provider.force_refresh()
        finally:
            await service.shutdown()

    run(main())
    before, after = keys
    assert before.access_key_id == emulator["secret_access_key_id"] != after.access_key_id
    published = [h for kind, h, *_ in sent_headers if kind == "ConfigPublishRequest"]
    assert len(published) == 2
    for headers, creds in zip(published, keys):
        expected = config_identity(creds, group="DEFAULT_GROUP", timestamp_ms=int(headers["Timestamp"]))
        assert headers["Spas-AccessKey"] == creds.access_key_id
        assert headers["Spas-Signature"] == expected["Spas-Signature"]
        assert "Spas-SecurityToken" not in headers


def test_naming_requests_are_signed_with_our_provider_too(rnacos, emulator, tmp_path, sent_headers):
    provider = sts_provider(emulator)
    config = client_config(rnacos, tmp_path, provider=provider)

    async def main():
        naming = await NacosNamingService.create_naming_service(config)
        try:
            assert await naming.register_instance(
                RegisterInstanceParam(service_name="orders", group_name="DEFAULT_GROUP", ip="127.0.0.1", port=8080)
            )
        finally:
            await naming.shutdown()

    run(main())
    creds = provider.get_credentials()
    signed = [h for kind, h, *_ in sent_headers if kind == "InstanceRequest" and "signature" in h]
    assert signed, [kind for kind, *_ in sent_headers]
    for headers in signed:
        timestamp = int(headers["data"].split("@@", 1)[0])
        expected = naming_identity(creds, service_name="orders", group="DEFAULT_GROUP", timestamp_ms=timestamp)
        assert headers["data"] == expected["data"]
        assert (headers["ak"], headers["signature"]) == (creds.access_key_id, expected["signature"])
        assert headers["Spas-SecurityToken"] == creds.security_token


@pytest.mark.parametrize("data_id", ["cipher-gcm-db.yaml", "cipher-db.yaml"])
def test_encrypted_configs_are_ciphertext_on_the_server_and_plaintext_for_the_app(
    rnacos, emulator, tmp_path, data_id
):
    provider = sts_provider(emulator)
    config = client_config(rnacos, tmp_path, provider=provider)
    received = []
    got_it = None

    async def listener(tenant, group, data_id_, content):
        received.append(content)
        if content.endswith("v2"):
            got_it.set()

    async def main():
        nonlocal got_it
        got_it = asyncio.Event()
        service = await service_for(config)
        try:
            attach_config_filter(service, kms_cipher(emulator, provider))
            assert await service.publish_config(ConfigParam(data_id=data_id, content=SECRET_TEXT))
            status, stored = rnacos.read_raw(data_id)
            assert status == 200
            read = await service.get_config(ConfigParam(data_id=data_id))
            await service.add_listener(data_id, "DEFAULT_GROUP", listener)
            assert await service.publish_config(ConfigParam(data_id=data_id, content=SECRET_TEXT + " v2"))
            await asyncio.wait_for(got_it.wait(), BUDGET_S)
            return stored, read
        finally:
            await service.shutdown()

    stored, read = run(main())
    assert SECRET_TEXT not in stored and "s3cret" not in stored
    if data_id.startswith("cipher-gcm-"):
        assert stored.startswith("mseauth:v1:")
    assert read == SECRET_TEXT
    assert received[-1] == SECRET_TEXT + " v2"
    assert all("s3cret" in text for text in received), "a listener got ciphertext"


def test_plain_data_ids_pass_untouched_with_our_filter_but_fail_with_the_builtin_kms(rnacos, emulator, tmp_path):
    rnacos.publish_raw("plain.properties", "feature.flag=on")
    ours = client_config(rnacos, tmp_path / "ours", provider=sts_provider(emulator))
    builtin = client_config(
        rnacos,
        tmp_path / "builtin",
        kms=KMSConfig(enabled=True, endpoint="kms.cn-hangzhou.aliyuncs.com", access_key="LTAI5tKey", secret_key="sk"),
    )

    async def with_ours():
        service = await service_for(ours)
        try:
            attach_config_filter(service, ConfigCipher(local_key=generate_local_key()))
            return await service.get_config(ConfigParam(data_id="plain.properties"))
        finally:
            await service.shutdown()

    async def with_builtin():
        service = await service_for(builtin)
        try:
            with pytest.raises(ValueError, match="kms_config.enabled"):
                attach_config_filter(service, ConfigCipher(local_key=generate_local_key()))
            with pytest.raises(NacosException) as err:
                await service.get_config(ConfigParam(data_id="plain.properties"))
            return err.value
        finally:
            await service.shutdown()

    assert run(with_ours()) == "feature.flag=on"
    err = run(with_builtin())
    assert err.error_code == 400 and "dataId prefix should start with 'cipher-'" in str(err)


def test_tampered_or_moved_gcm_configs_raise_naming_the_data_id(rnacos, tmp_path):
    cipher = ConfigCipher(local_key=generate_local_key())
    config = client_config(rnacos, tmp_path)
    received = []

    async def listener(tenant, group, data_id, content):
        received.append(content)

    async def main():
        service = await service_for(config)
        try:
            attach_config_filter(service, cipher)
            assert await service.publish_config(ConfigParam(data_id="cipher-gcm-a.yaml", content=SECRET_TEXT))
            _, stored = rnacos.read_raw("cipher-gcm-a.yaml")
            # Moved: the same ciphertext under another dataId.
            assert rnacos.publish_raw("cipher-gcm-b.yaml", stored) == 200
            with pytest.raises(mse_auth.CipherError) as moved:
                await service.get_config(ConfigParam(data_id="cipher-gcm-b.yaml"))
            # Tampered: one character of the sealed text changed.
            i = len(stored) - 8
            tampered = stored[:i] + ("A" if stored[i] != "A" else "B") + stored[i + 1:]
            assert rnacos.publish_raw("cipher-gcm-a.yaml", tampered) == 200
            with pytest.raises(mse_auth.CipherError) as changed:
                await service.get_config(ConfigParam(data_id="cipher-gcm-a.yaml"))
            await service.add_listener("cipher-gcm-b.yaml", "DEFAULT_GROUP", listener)
            assert rnacos.publish_raw("cipher-gcm-b.yaml", tampered) == 200
            await asyncio.sleep(1)
            return moved.value, changed.value, stored
        finally:
            await service.shutdown()

    moved, changed, stored = run(main())
    assert moved.data_id == "cipher-gcm-b.yaml" and "cipher-gcm-b.yaml" in str(moved)
    assert changed.data_id == "cipher-gcm-a.yaml"
    assert moved.kind == changed.kind == "authentication_failed"
    assert not any(text.startswith("mseauth:") or text == stored for text in received), "ciphertext handed over"


def test_the_filter_alone_leaves_other_usage_types_and_plain_ids_alone():
    class Param:
        data_id, group, content, encrypted_data_key, usage_type = "app.yaml", "G", "x", "", "ResponseType"

    f = ConfigFilter(ConfigCipher(local_key=generate_local_key()))
    p = Param()
    f.do_filter(p)
    assert p.content == "x"
    assert f.get_filter_name() == "mse_auth.ConfigFilter" and f.get_order() == 0


def test_no_secret_in_the_clients_logs(rnacos, emulator, tmp_path):
    provider = sts_provider(emulator)
    cipher = kms_cipher(emulator, provider)
    config = client_config(rnacos, tmp_path, provider=provider)

    async def main():
        service = await service_for(config)
        try:
            attach_config_filter(service, cipher)
            await service.publish_config(ConfigParam(data_id="cipher-gcm-logs.yaml", content=SECRET_TEXT))
            await service.get_config(ConfigParam(data_id="cipher-gcm-logs.yaml"))
            with pytest.raises(mse_auth.CipherError) as err:
                cipher.decrypt("cipher-gcm-logs.yaml", "mseauth:v1:garbage")
            return err.value
        finally:
            await service.shutdown()

    err = run(main())
    creds = provider.get_credentials()
    logs = "".join(p.read_text(errors="replace") for p in pathlib.Path(tmp_path / "logs").rglob("*") if p.is_file())
    assert logs, "the client wrote no log to check"
    for secret in (creds.access_key_secret, creds.security_token, emulator["access_key_secret"], "s3cret-db-password"):
        assert secret not in logs
        assert secret not in str(err) and secret not in repr(cipher) and secret not in repr(provider)
