#!/usr/bin/env bash
# The service crates, one name a line: every folder under functions/ with a Cargo.toml (the
# folder's name is its package and its binary). make and scripts/test.sh build from this list
# instead of a hand-written one; tests/e2e/registry.rs checks the folders against the
# service registry (events::platform::SERVICES).
set -euo pipefail
cd "$(dirname "$0")/.."
for manifest in functions/*/Cargo.toml; do
    [ -e "$manifest" ] || continue
    basename "$(dirname "$manifest")"
done
