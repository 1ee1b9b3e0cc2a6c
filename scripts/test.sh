#!/usr/bin/env bash
# The test command: the README's, CI's and Cloud Build's. Installs what the tests need that
# the machine may lack (the Cloud Storage emulator's venv, cargo-nextest), then runs every
# test of the workspace against real local components.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/groundskeeper/target}"
# Incremental caches only help an edit-compile loop; here they only fill the disk.
export CARGO_INCREMENTAL=0

scripts/venv.sh
scripts/check-tools.sh
if ! cargo nextest --version >/dev/null 2>&1; then
    cargo install cargo-nextest --locked
fi
# Service binaries that end-to-end tests start as child processes, built with exactly the
# command those tests use to refresh them, so that inside a test it is a no-op instead of
# minutes of compiling under the test's timeout on a cold cache.
# The services are the crates under functions/ (scripts/services.sh), not a list kept here.
packages=()
while read -r service; do packages+=(-p "$service"); done < <(scripts/services.sh)
cargo build --quiet "${packages[@]}" --bins
exec cargo nextest run --workspace --no-fail-fast "$@"
