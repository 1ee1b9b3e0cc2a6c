#!/usr/bin/env bash
# Fails early, with the install command, when a component the tests start is missing.
set -euo pipefail
missing=0
need() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "missing: $1 — install with: $2" >&2
        missing=1
    fi
}
need gcloud "apt-get install google-cloud-cli google-cloud-cli-pubsub-emulator"
need java "apt-get install openjdk-17-jre-headless"
need initdb "apt-get install postgresql-15 (and put /usr/lib/postgresql/15/bin on PATH)"
need pg_ctl "apt-get install postgresql-15 (and put /usr/lib/postgresql/15/bin on PATH)"
if ! gcloud beta emulators pubsub env-init --help >/dev/null 2>&1; then
    echo "missing: the Pub/Sub emulator — install with: apt-get install google-cloud-cli-pubsub-emulator" >&2
    missing=1
fi
exit "$missing"
