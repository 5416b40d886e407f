#!/usr/bin/env bash
# The official Python credentials client (PyPI alibabacloud-credentials, pinned below) against
# `mse-auth emulator`: OIDC role ARN, credentials URI and RAM role ARN (scripts/official_clients.py).
# Checks that the client got what the emulator issued, that the emulator counted exactly the calls
# the client sent, and that on SIGTERM it exits cleanly and removes its OIDC token file.
#
# Needs python3 with venv and PyPI (the venv lives in $CARGO_TARGET_DIR/official-clients, default
# target/, and is reused while it holds the pinned version). Every wait is bounded; the emulator is
# stopped on every exit path. Run by scripts/test.sh; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

package=alibabacloud-credentials
version=1.0.12
python=${PYTHON:-python3}
target_dir=${CARGO_TARGET_DIR:-target}
case $target_dir in /*) ;; *) target_dir="$PWD/$target_dir" ;; esac
venv="$target_dir/official-clients/$package-$version"

fail() {
  echo "official_clients: $*" >&2
  exit 1
}

command -v "$python" >/dev/null || fail "$python is required (CPython 3 with the venv module)"

# --- the client, in a venv of its own ---------------------------------------------------------
has_pin() {
  "$venv/bin/python" -I -c 'import importlib.metadata as m, sys
sys.exit(m.version(sys.argv[1]) != sys.argv[2])' "$package" "$version" 2>/dev/null
}
if has_pin; then
  echo "== official clients: reusing $venv"
else
  echo "== official clients: $package==$version into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  timeout 900 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    "$package==$version"
  has_pin || fail "$venv does not hold $package $version after pip install"
fi
py="$venv/bin/python"

# --- the emulator ------------------------------------------------------------------------------
echo "== official clients: cargo build -p mse-auth-cli --locked"
cargo build -p mse-auth-cli --locked
bin="$target_dir/debug/mse-auth"
[ -x "$bin" ] || fail "no $bin after cargo build"

work=$(mktemp -d "${TMPDIR:-/tmp}/mse-auth-official-clients.XXXXXX")
emulator_pid=
# Stops the emulator (SIGTERM, then SIGKILL after 5 s) if it still runs; removes the scratch files.
cleanup() {
  if [ -n "$emulator_pid" ] && kill -0 "$emulator_pid" 2>/dev/null; then
    kill -TERM "$emulator_pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$emulator_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$bin" emulator --format json >"$work/emulator.json" 2>"$work/emulator.err" </dev/null &
emulator_pid=$!
for _ in $(seq 300); do # 30 s, until a whole line is there ($(...) drops its final newline)
  [ -s "$work/emulator.json" ] && [ -z "$(tail -c 1 "$work/emulator.json")" ] && break
  kill -0 "$emulator_pid" 2>/dev/null || fail "the emulator exited: $(cat "$work/emulator.err")"
  sleep 0.1
done
[ -s "$work/emulator.json" ] || fail "the emulator printed nothing within 30 s"

# Its variables as export lines (what a user pastes), and the token file to check after the stop.
"$py" -I - "$work/emulator.json" >"$work/exports.sh" <<'EOF'
import json, shlex, sys
printed = json.load(open(sys.argv[1]))
needed = ["ALIBABA_CLOUD_" + n for n in (
    "ACCESS_KEY_ID", "ACCESS_KEY_SECRET", "STS_ENDPOINT", "ROLE_ARN", "OIDC_PROVIDER_ARN",
    "OIDC_TOKEN_FILE", "CREDENTIALS_URI")]
missing = [n for n in needed if not printed.get(n)]
if missing:
    sys.exit(f"the emulator printed no {', '.join(missing)}")
for name, value in printed.items():
    if name.startswith("ALIBABA_CLOUD_"):
        print(f"export {name}={shlex.quote(value)}")
EOF
token_file=$("$py" -I -c 'import json, sys; print(json.load(open(sys.argv[1]))["ALIBABA_CLOUD_OIDC_TOKEN_FILE"])' \
  "$work/emulator.json")

# --- the checks --------------------------------------------------------------------------------
passed=0
failed=0
pass() {
  echo "ok     $1"
  passed=$((passed + 1))
}
flunk() {
  echo "FAILED $1"
  failed=$((failed + 1))
}

# The official client, with the printed variables and no proxy, within 2 minutes.
status=0
(
  # shellcheck disable=SC1091
  . "$work/exports.sh"
  export HOME="$work" NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
  unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy ALL_PROXY all_proxy
  exec timeout 120 "$py" -I scripts/official_clients.py "$work/results.json"
) || status=$?
if [ -s "$work/results.json" ]; then
  passed=$((passed + $("$py" -I -c 'import json, sys; print(json.load(open(sys.argv[1]))["passed"])' "$work/results.json")))
  failed=$((failed + $("$py" -I -c 'import json, sys; print(json.load(open(sys.argv[1]))["failed"])' "$work/results.json")))
  [ "$status" = 0 ] || [ "$failed" != 0 ] || flunk "the client's checks exited with $status"
else
  flunk "the client's checks wrote no results (exit $status)"
fi

# SIGTERM: a clean exit within 10 s, the token file gone, every call counted.
kill -TERM "$emulator_pid" 2>/dev/null || true
for _ in $(seq 100); do
  kill -0 "$emulator_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$emulator_pid" 2>/dev/null; then
  flunk "the emulator is still running 10 s after SIGTERM"
else
  status=0
  wait "$emulator_pid" || status=$?
  emulator_pid=
  if [ "$status" = 0 ]; then pass "the emulator exited 0 on SIGTERM"; else flunk "the emulator exited $status on SIGTERM"; fi
  if [ ! -e "$token_file" ] && [ ! -e "$(dirname "$token_file")" ]; then
    pass "the emulator removed its OIDC token file and directory"
  else
    flunk "the emulator left $token_file behind"
  fi
  if [ -s "$work/results.json" ] && counts=$("$py" -I scripts/official_clients.py compare-calls \
    "$work/results.json" "$work/emulator.err" 2>&1); then
    pass "the emulator counted every call the client sent: $counts"
  else
    flunk "call counts: ${counts:-no results}"
  fi
fi

echo "official_clients: $passed passed, $failed failed"
[ "$failed" = 0 ]
