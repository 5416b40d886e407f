"""The providers against the workspace's own `mse-auth emulator --format json` (the command a
developer runs by hand), its JSON read by key: other keys may come and go."""

import json
import os
import pathlib
import signal
import subprocess
import threading

import pytest

import mse_auth

REPO = pathlib.Path(__file__).resolve().parents[2]


def mse_auth_bin() -> str:
    explicit = os.environ.get("MSE_AUTH_BIN")
    if explicit:
        return explicit
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    for profile in ("debug", "release"):
        candidate = target / profile / "mse-auth"
        if candidate.is_file():
            return str(candidate)
    raise RuntimeError("the mse-auth command is not built: run `cargo build -p mse-auth-cli --locked` "
                       "(scripts/test_python.sh does) or set MSE_AUTH_BIN")


@pytest.fixture
def cli_emulator():
    process = subprocess.Popen([mse_auth_bin(), "emulator", "--format", "json"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    box = []
    reader = threading.Thread(target=lambda: box.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(30)
    try:
        assert box and box[0], "mse-auth emulator printed nothing within 30 s"
        yield json.loads(box[0])
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        process.stdout.close()


def test_every_network_mode_against_mse_auth_emulator(cli_emulator, monkeypatch, tmp_path):
    env = cli_emulator
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_STS_ENDPOINT"):
        monkeypatch.setenv(name, env[name])
    source = mse_auth.EnvironmentProvider()
    role = mse_auth.RamRoleArnProvider(role_arn="acs:ram::123456789012:role/cli", credentials_provider=source)
    assert role.get_credentials().provider_path == "ram_role_arn/env"
    token = tmp_path / "token"
    token.write_text(env["oidc_token"])
    oidc = mse_auth.OidcRoleArnProvider(role_arn="acs:ram::123456789012:role/cli",
                                        oidc_provider_arn="acs:ram::123456789012:oidc-provider/cli",
                                        oidc_token_file_path=str(token))
    assert oidc.get_credentials().provider_path == "oidc_role_arn"
    monkeypatch.delenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED")
    ecs = mse_auth.EcsRamRoleProvider(metadata_endpoint=env["ALIBABA_CLOUD_ECS_METADATA_ENDPOINT"])
    assert ecs.get_credentials().provider_path == "ecs_ram_role"
    monkeypatch.setenv("ALIBABA_CLOUD_CREDENTIALS_URI", env["ALIBABA_CLOUD_CREDENTIALS_URI"])
    assert mse_auth.CredentialsUriProvider().get_credentials().provider_path == "credentials_uri"
    assert mse_auth.DefaultCredentialsProvider().get_credentials().provider_path == "default/env"
    from mse_auth.cipher import ConfigCipher
    cipher = ConfigCipher(credentials_provider=source, kms_endpoint=env["ALIBABA_CLOUD_KMS_ENDPOINT"],
                          key_id=env["kms_key_id"])
    for data_id in ("cipher-kms-aes-128-a", "cipher-kms-aes-256-a", "cipher-a", "cipher-gcm-a", "cipher-aes-a"):
        sealed = cipher.encrypt(data_id, "secret: value")
        assert sealed.content != "secret: value"
        assert cipher.decrypt(data_id, sealed.content, encrypted_data_key=sealed.encrypted_data_key) == "secret: value"
