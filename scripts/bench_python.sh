#!/usr/bin/env bash
# The Python benchmarks (python/benches/bench_credentials.py): mse_auth beside the official
# alibabacloud-credentials 1.0.12 provider on the same emulator. Builds the release wheel into the
# venv scripts/test_python.sh makes (made here when missing) and the release test emulator.
# About a minute; run it on an otherwise idle machine. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
mkdir -p "$target_dir"
target_dir="$(cd "$target_dir" && pwd)"
export CARGO_TARGET_DIR="$target_dir"
venv="$target_dir/python-venv"
if [ ! -x "$venv/bin/maturin" ]; then
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check \
    "maturin==1.16.*" "nacos-sdk-python==3.2.0" "alibabacloud-credentials==1.0.12" pytest
fi
wheels="$target_dir/python-wheels"
rm -rf "$wheels"
(cd python && "$venv/bin/maturin" build --release --locked -o "$wheels")
"$venv/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$wheels"/mse_auth-*.whl
cargo build --release -p mse-auth-python --example test_emulator --locked
MSE_AUTH_TEST_EMULATOR="$target_dir/release/examples/test_emulator" \
  "$venv/bin/python" python/benches/bench_credentials.py
