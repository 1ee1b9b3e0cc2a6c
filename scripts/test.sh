#!/usr/bin/env bash
# The test command: the README's, CI's and Cloud Build's. Installs what the tests need that
# the machine may lack (the Cloud Storage emulator's venv, cargo-nextest), then runs every
# test of the workspace against real local components.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/groundskeeper/target}"

scripts/venv.sh
scripts/check-tools.sh
if ! cargo nextest --version >/dev/null 2>&1; then
    cargo install cargo-nextest --locked
fi
exec cargo nextest run --workspace --no-fail-fast "$@"
