-- The idempotency ledger: one row per (service, event key).
-- A row is `running` while a delivery holds its lease, `done` once handled (or rejected).
CREATE SCHEMA IF NOT EXISTS control;

CREATE TABLE IF NOT EXISTS control.deliveries (
    service     text        NOT NULL,
    event_key   text        NOT NULL,
    status      text        NOT NULL CHECK (status IN ('running', 'done')),
    lease_until timestamptz NOT NULL,
    attempts    integer     NOT NULL DEFAULT 1,
    decision    text,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service, event_key)
);

-- Old finished rows can be pruned by age.
CREATE INDEX IF NOT EXISTS deliveries_updated_at ON control.deliveries (updated_at);
