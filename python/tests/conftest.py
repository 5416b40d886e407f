import os
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))

from support.emulator import Emulator  # noqa: E402


@pytest.fixture
def emulator():
    """A fresh emulator per test (it starts in milliseconds), so faults and lifetimes never leak."""
    emu = Emulator()
    try:
        yield emu
    finally:
        emu.close()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No credentials, profile files or endpoints from the machine: every test sets what it uses."""
    for name in list(os.environ):
        if name.startswith(("ALIBABA_CLOUD_", "NACOS_CLIENT_", "MSE_AUTH_INSECURE")):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    yield
