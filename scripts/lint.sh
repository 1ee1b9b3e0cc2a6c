#!/usr/bin/env bash
# Formatting and lints, exactly as CI runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/groundskeeper/target}"
# Incremental caches only help an edit-compile loop; here they only fill the disk.
export CARGO_INCREMENTAL=0
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
