-- The local secret store: Secret Manager's model (versions, states, aliases, etag) in the
-- control database. The schema may already exist (0001 creates it too); order does not matter.
CREATE SCHEMA IF NOT EXISTS control;

CREATE TABLE control.secrets (
    name         TEXT PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_-]{1,255}$'),
    labels       JSONB NOT NULL DEFAULT '{}'::jsonb,
    -- Bumped on every alias update; the etag callers pass back is this number.
    etag         BIGINT NOT NULL DEFAULT 1,
    -- Version numbers are never reused within a secret, even after a destroy.
    last_version BIGINT NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX secrets_labels_idx ON control.secrets USING gin (labels jsonb_path_ops);

CREATE TABLE control.secret_versions (
    secret       TEXT NOT NULL REFERENCES control.secrets (name) ON DELETE CASCADE,
    version      BIGINT NOT NULL CHECK (version > 0),
    state        TEXT NOT NULL CHECK (state IN ('enabled', 'disabled', 'destroyed')),
    -- NULL exactly when destroyed: the payload is erased, not hidden.
    payload      BYTEA CHECK ((payload IS NULL) = (state = 'destroyed')),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    destroyed_at TIMESTAMPTZ,
    PRIMARY KEY (secret, version)
);

CREATE TABLE control.secret_aliases (
    secret  TEXT NOT NULL,
    alias   TEXT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (secret, alias),
    FOREIGN KEY (secret, version)
        REFERENCES control.secret_versions (secret, version) ON DELETE CASCADE
);
