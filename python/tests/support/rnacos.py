"""A real Nacos-compatible server for the tests: rnacos 0.8.8 on 127.0.0.1 with auth on, as the
Rust fixture starts it (`providers/tests/support/rnacos.rs`): `RNACOS_SDK_HOST` and
`RNACOS_CONSOLE_HOST` are 127.0.0.1, an empty working directory (it reads `./.env`), a fresh data
directory, ready once an admin login returns a token.

rnacos 0.8.8 panics at start-up on about half of the starts with a fresh data directory on these
machines (then it answers every login with "Mailbox has closed"): a start that is not clean is
stopped and retried, at most `ATTEMPTS` times. nacos-sdk-python dials gRPC at the HTTP port + 1000,
so the two ports are chosen that far apart.

Install rnacos with `cargo install rnacos --version 0.8.8 --locked` (scripts/test.sh does) or set
`RNACOS_BIN`; a missing binary fails the test, saying so."""

import json
import os
import pathlib
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

ADMIN = ("admin", "admin")
ATTEMPTS = 20
START_BUDGET_S = 20
POLL_S = 0.1
GRPC_OFFSET = 1000


def binary() -> str:
    explicit = os.environ.get("RNACOS_BIN")
    if explicit:
        return explicit
    found = shutil.which("rnacos")
    if found:
        return found
    cargo = pathlib.Path(os.environ.get("CARGO_HOME", pathlib.Path.home() / ".cargo")) / "bin" / "rnacos"
    if cargo.is_file():
        return str(cargo)
    raise RuntimeError(
        "the rnacos server is not installed: run `cargo install rnacos --version 0.8.8 --locked` "
        "(scripts/test.sh does) or set RNACOS_BIN"
    )


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _ports() -> tuple:
    """(http, grpc = http + 1000, console), all free on 127.0.0.1."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            http = s.getsockname()[1]
        if http + GRPC_OFFSET > 65000:
            continue
        if _free(http) and _free(http + GRPC_OFFSET):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                console = s.getsockname()[1]
            if console not in (http, http + GRPC_OFFSET):
                return http, http + GRPC_OFFSET, console
    raise RuntimeError("no free pair of loopback ports 1000 apart")


def _http(method: str, url: str, body: dict | None = None, timeout: float = 5) -> tuple:
    data = urllib.parse.urlencode(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


class Rnacos:
    def __init__(self, root: pathlib.Path, token_ttl: int = 3600) -> None:
        bin_path = binary()
        failures = []
        for attempt in range(1, ATTEMPTS + 1):
            self.dir = root / f"rnacos-{attempt}"
            (self.dir / "work").mkdir(parents=True)
            self.http_port, self.grpc_port, console = _ports()
            log = open(self.dir / "rnacos.log", "w")
            env = {
                "PATH": os.environ.get("PATH", ""),
                "RNACOS_SDK_HOST": "127.0.0.1",
                "RNACOS_CONSOLE_HOST": "127.0.0.1",
                "RNACOS_HTTP_PORT": str(self.http_port),
                "RNACOS_GRPC_PORT": str(self.grpc_port),
                "RNACOS_HTTP_CONSOLE_PORT": str(console),
                "RNACOS_ENABLE_OPEN_API_AUTH": "true",
                "RNACOS_API_LOGIN_TIMEOUT": str(token_ttl),
                "RNACOS_DATA_DIR": str(self.dir / "data"),
            }
            self._process = subprocess.Popen(
                [bin_path], cwd=self.dir / "work", env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
            log.close()
            why = self._wait_ready()
            if why is None:
                return
            failures.append(f"start {attempt}: {why}")
            self.stop()
        raise RuntimeError("rnacos did not start cleanly: " + "; ".join(failures))

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.http_port}"

    def _log(self) -> str:
        try:
            return (self.dir / "rnacos.log").read_text(errors="replace")
        except OSError:
            return ""

    def _wait_ready(self) -> str | None:
        deadline = time.monotonic() + START_BUDGET_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return f"exited with {self._process.returncode}"
            if "panicked" in self._log():
                return "panicked at start-up"
            status, text = self._login()
            if "Mailbox has closed" in text:
                return "answers 'Mailbox has closed'"
            if status == 200 and "accessToken" in text:
                return None
            time.sleep(POLL_S)
        return f"no admin login within {START_BUDGET_S} s"

    def _login(self) -> tuple:
        try:
            return _http(
                "POST",
                f"http://{self.address}/nacos/v1/auth/users/login",
                {"username": ADMIN[0], "password": ADMIN[1]},
            )
        except OSError as e:
            return 0, str(e)

    def token(self) -> str:
        status, text = self._login()
        assert status == 200, f"admin login: HTTP {status}"
        return json.loads(text)["accessToken"]

    def read_raw(self, data_id: str, group: str = "DEFAULT_GROUP", tenant: str = "") -> tuple:
        """What the server stores, over the open API: (status, body)."""
        query = {"dataId": data_id, "group": group, "accessToken": self.token()}
        if tenant:
            query["tenant"] = tenant
        return _http("GET", f"http://{self.address}/nacos/v1/cs/configs?" + urllib.parse.urlencode(query))

    def publish_raw(self, data_id: str, content: str, group: str = "DEFAULT_GROUP") -> int:
        """Stores `content` as is, over the open API (bypassing any client filter)."""
        body = {"dataId": data_id, "group": group, "content": content, "accessToken": self.token()}
        status, _ = _http("POST", f"http://{self.address}/nacos/v1/cs/configs", body)
        return status

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
