-- secret-rotator's state. Secrets are registered for rotation by their labels (see
-- functions/secret-rotator/README.md); these tables record what the rotator does with them.
CREATE SCHEMA IF NOT EXISTS control;

-- One row per secret under a rotation policy, written by every sweep from the secret's
-- labels: database credentials the rotator rotates itself, and secrets people rotate by hand
-- (API keys), for which it only reminds. A row is the record an operator queries: what the
-- policy is, when the secret was last rotated, when it is due, and what was last said.
CREATE TABLE IF NOT EXISTS control.rotation_policies (
    secret           text PRIMARY KEY CHECK (secret ~ '^[A-Za-z0-9_-]{1,255}$'),
    mode             text NOT NULL CHECK (mode IN ('alternating', 'single_user', 'manual')),
    policy_days      integer NOT NULL CHECK (policy_days > 0),
    -- When the version aliased `current` was added (NULL: never rotated, no version).
    last_rotated     timestamptz,
    due_at           timestamptz NOT NULL,
    -- The last `manual_required` / `overdue` notice, so a daily sweep says it once a day.
    last_notified_at timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- One row per secret that was ever rotated: the rotation in flight (or the last one). Each
-- step is recorded here before its side effect, so a redelivery resumes where the last
-- attempt stopped.
CREATE TABLE IF NOT EXISTS control.rotations (
    secret          text PRIMARY KEY CHECK (secret ~ '^[A-Za-z0-9_-]{1,255}$'),
    -- The delivery (event id, or sweep id / secret) that started the rotation.
    rotation_id     text NOT NULL,
    mode            text NOT NULL CHECK (mode IN ('alternating', 'single_user')),
    step            text NOT NULL
                    CHECK (step IN ('check', 'create', 'set', 'test', 'finish', 'done', 'failed')),
    -- The version aliased `current` when the rotation started.
    base_version    bigint,
    -- The version this rotation added (aliased `pending` until promoted). Only this version,
    -- once tested, can ever be promoted: an unrecorded one is an orphan and gets disabled.
    pending_version bigint,
    -- The login role the new password is set on.
    target_role     text,
    -- {"step": …, "reason": …} when step is failed.
    failure         jsonb,
    started_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    -- When `current` and `previous` were promoted: versions older than `previous` stopped
    -- being current no later than `previous_since`, the start of their grace period.
    current_since   timestamptz,
    previous_since  timestamptz
);

CREATE INDEX IF NOT EXISTS rotations_in_flight
    ON control.rotations (updated_at) WHERE step NOT IN ('done', 'failed');
