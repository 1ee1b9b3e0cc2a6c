-- env-provisioner's decision on each environment request, so `groundskeeper env wait` can
-- tell what became of a request: accepted (follow the environment's row) or refused outright
-- (invalid payload with a readable name, tier prod, TTL above the maximum, quota, a
-- different spec under a live name) — a refusal writes no environment row at all.
CREATE SCHEMA IF NOT EXISTS control;

CREATE TABLE IF NOT EXISTS control.environment_requests (
    -- The request's CloudEvents id (`ce-id`; the CLI's request id), its idempotency key.
    request_id  text PRIMARY KEY,
    -- The environment it asked for (unchecked: a refused request may name anything).
    name        text NOT NULL,
    decision    text NOT NULL CHECK (decision IN ('accepted', 'refused')),
    -- Why it was refused, in words a person can act on; NULL when accepted.
    reason      text,
    decided_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((decision = 'refused') = (reason IS NOT NULL))
);

-- `env wait NAME` without a request id looks for the newest decision on a name; the
-- provisioner prunes old decisions by age.
CREATE INDEX IF NOT EXISTS environment_requests_name
    ON control.environment_requests (name, decided_at DESC);
CREATE INDEX IF NOT EXISTS environment_requests_age
    ON control.environment_requests (decided_at);
