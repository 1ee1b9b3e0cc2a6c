-- env-provisioner's tombstones: when each environment name was last torn down, so a request
-- published before that teardown (or the very request torn down) never provisions again.
-- Kept apart from control.environments so a teardown of a name never requested (push is
-- unordered: it may overtake its request) leaves no environment row behind, and so the rule
-- holds whatever becomes of the environment's row.
CREATE TABLE IF NOT EXISTS control.environment_tombstones (
    name        text PRIMARY KEY,
    -- The teardown's publish time, capped at the time it was recorded.
    deleted_at  timestamptz NOT NULL,
    -- The request whose environment was torn down last; NULL when the teardown found none.
    request_id  text,
    -- The teardown event that last moved the tombstone (NULL when moved here from a row).
    event_id    text
);

-- Environments deleted before this table existed keep their deletion time as a tombstone.
INSERT INTO control.environment_tombstones (name, deleted_at, request_id)
SELECT name, deleted_at, request_id
  FROM control.environments
 WHERE status = 'deleted' AND deleted_at IS NOT NULL
ON CONFLICT (name) DO NOTHING;
