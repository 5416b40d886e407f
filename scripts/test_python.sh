#!/usr/bin/env bash
# The Python package's tests: builds the wheel with maturin, installs it in a fresh venv with
# nacos-sdk-python 3.2.0 (and the official alibabacloud-credentials 1.0.12 the benchmarks compare
# with), builds the test emulator and runs the pytest suite in python/tests. Called by
# scripts/test.sh; needs python3 (>= 3.10) with venv, and rnacos (scripts/test.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
command -v "$python" >/dev/null || { echo "$python is required for the Python package's tests" >&2; exit 1; }
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
mkdir -p "$target_dir"
target_dir="$(cd "$target_dir" && pwd)"
export CARGO_TARGET_DIR="$target_dir"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

venv="$target_dir/python-venv"
echo "== python: a fresh venv at $venv"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  "maturin==1.16.*" "nacos-sdk-python==3.2.0" "alibabacloud-credentials==1.0.12" pytest

echo "== python: the wheel (maturin build --release)"
wheels="$target_dir/python-wheels"
rm -rf "$wheels"
(cd python && "$venv/bin/maturin" build --release --locked -o "$wheels")
"$venv/bin/python" -m pip install -q --disable-pip-version-check "$wheels"/mse_auth-*.whl

echo "== python: the test emulator and the mse-auth command (its \`emulator\`)"
cargo build -p mse-auth-python --example test_emulator --locked
cargo build -p mse-auth-cli --locked
export MSE_AUTH_TEST_EMULATOR="$target_dir/debug/examples/test_emulator"
export MSE_AUTH_BIN="$target_dir/debug/mse-auth"

echo "== python: pytest"
cd python/tests
"$venv/bin/python" -m pytest -q -p no:cacheprovider -o console_output_style=classic .
