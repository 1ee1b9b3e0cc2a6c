#!/usr/bin/env bash
# Formatting and lints, exactly as CI runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/groundskeeper/target}"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
