#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)" >&2; exit 1; }

# rnacos 0.8.8: the real Nacos-compatible server of the Nacos end-to-end tests (bound to 127.0.0.1 by
# the test fixture). Installed from crates.io when missing; takes several minutes the first time.
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
if ! command -v rnacos >/dev/null 2>&1 && [ ! -x "$cargo_bin/rnacos" ]; then
  echo "== installing rnacos 0.8.8 (cargo install rnacos --version 0.8.8 --locked)"
  cargo install rnacos --version 0.8.8 --locked
fi
export PATH="$cargo_bin:$PATH"

cargo test --workspace --all-features --locked

# The official Python client (PyPI alibabacloud-credentials, in a venv under target/) against
# `mse-auth emulator`; needs python3 with venv and PyPI.
bash scripts/official_clients.sh

# ---- Python package (python/): wheel, fresh venv, pytest. Kept in its own script. ----
bash scripts/test_python.sh
# ---- end Python package ----
