#!/usr/bin/env bash
# Installs, on a Debian-based build image (Cloud Build's Rust step), what the tests start:
# PostgreSQL 15 server binaries, Java 17, the Google Cloud CLI with the Pub/Sub emulator, and
# python3-venv for the Cloud Storage emulator. The development machine already has these.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq apt-transport-https ca-certificates gnupg curl python3-venv \
    postgresql-15 openjdk-17-jre-headless >/dev/null
curl -fsSL https://packages.cloud.google.com/apt/doc/apt-key.gpg \
    | gpg --dearmor -o /usr/share/keyrings/cloud.google.gpg
echo "deb [signed-by=/usr/share/keyrings/cloud.google.gpg] https://packages.cloud.google.com/apt cloud-sdk main" \
    > /etc/apt/sources.list.d/google-cloud-sdk.list
apt-get update -qq
apt-get install -y -qq google-cloud-cli google-cloud-cli-pubsub-emulator >/dev/null
echo "export PATH=/usr/lib/postgresql/15/bin:\$PATH" > /etc/profile.d/postgres.sh
