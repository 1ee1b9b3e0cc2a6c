-- env-provisioner's state: one row per environment name, kept after teardown (status
-- `deleted`) as the record of what existed. A name can be requested again once deleted.
CREATE SCHEMA IF NOT EXISTS control;

CREATE TABLE IF NOT EXISTS control.environments (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z]([a-z0-9-]*[a-z0-9])?$' AND length(name) <= 30),
    -- The request as received (never a secret), and a hash of its canonical JSON, so a
    -- redelivery is recognised and a different request for a live name is refused.
    spec        jsonb NOT NULL,
    spec_hash   text NOT NULL,
    owner       text NOT NULL,
    tier        text NOT NULL CHECK (tier IN ('ephemeral', 'dev', 'staging', 'prod')),
    -- All labels applied, including managed-by=groundskeeper and expires-at.
    labels      jsonb NOT NULL DEFAULT '{}'::jsonb,
    status      text NOT NULL
                CHECK (status IN ('provisioning', 'ready', 'failed', 'deleting', 'deleted')),
    -- Step → `creating` (recorded before the side effect) or `created` / `skipped` (after).
    -- A step absent here was never started by this environment: whatever exists under its
    -- name belongs to someone else and is neither adopted nor removed.
    resources   jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- What a client needs (host, database, user, secret, object prefix, service URL).
    outputs     jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- {"step": …, "reason": …} when status is failed.
    failure     jsonb,
    expires_at  timestamptz,
    request_id  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);

-- The TTL sweep and the quota count look at live environments only.
CREATE INDEX IF NOT EXISTS environments_expiry
    ON control.environments (expires_at) WHERE status IN ('ready', 'failed', 'provisioning');
CREATE INDEX IF NOT EXISTS environments_owner
    ON control.environments (owner) WHERE status IN ('provisioning', 'ready', 'deleting');
