#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo is required (rustup.rs)" >&2; exit 1; }
cargo test --workspace --all-features --locked
