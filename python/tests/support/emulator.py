"""The local cloud emulator for the tests: the `test_emulator` example of this crate
(`cargo build -p mse-auth-python --example test_emulator`), started as a subprocess on
127.0.0.1, driven one command per line (see `python/examples/test_emulator.rs`)."""

import json
import os
import pathlib
import subprocess
import threading

REPO = pathlib.Path(__file__).resolve().parents[3]

#: How long the emulator may take to print its endpoints, and to answer one command.
START_BUDGET_S = 30
COMMAND_BUDGET_S = 10


def binary() -> pathlib.Path:
    """The emulator binary: `MSE_AUTH_TEST_EMULATOR`, else the workspace's target dir. Fails,
    saying how to build it, when there is none (no silent skip)."""
    explicit = os.environ.get("MSE_AUTH_TEST_EMULATOR")
    if explicit:
        return pathlib.Path(explicit)
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    for profile in ("debug", "release"):
        candidate = target / profile / "examples" / "test_emulator"
        if candidate.is_file():
            return candidate
    raise RuntimeError(
        "the test emulator is not built: run `cargo build -p mse-auth-python --example test_emulator` "
        "(scripts/test.sh does) or set MSE_AUTH_TEST_EMULATOR"
    )


def _read_line(stream, budget_s: float, what: str) -> str:
    """One line from `stream`, or an error after `budget_s` seconds."""
    box: list = []
    reader = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(budget_s)
    if not box:
        raise RuntimeError(f"the test emulator did not answer {what} within {budget_s} s")
    if not box[0]:
        raise RuntimeError(f"the test emulator exited before answering {what}")
    return box[0]


class Emulator:
    """A running emulator: `info` holds its endpoints and demo values (parsed by key)."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [str(binary())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self._lock = threading.Lock()
        self.info = json.loads(_read_line(self._process.stdout, START_BUDGET_S, "at start-up"))
        for key in ("sts_endpoint", "kms_endpoint", "credentials_uri", "access_key_id"):
            if key not in self.info:
                raise RuntimeError(f"the test emulator did not report {key}")

    def command(self, line: str) -> dict:
        with self._lock:
            self._process.stdin.write(line + "\n")
            self._process.stdin.flush()
            reply = json.loads(_read_line(self._process.stdout, COMMAND_BUDGET_S, line))
        if "error" in reply:
            raise RuntimeError(f"emulator: {reply['error']}")
        return reply

    def calls(self, endpoint: str) -> int:
        return self.command(f"calls {endpoint}")["calls"]

    def issued(self) -> list:
        return self.command("issued")["issued"]

    def close(self) -> None:
        """Closes stdin (the emulator exits on EOF); kills it if it has not exited in 10 s."""
        try:
            self._process.stdin.close()
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)
        finally:
            self._process.stdout.close()

    def __getitem__(self, key: str):
        return self.info[key]
