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

-- Until now tombstones were `deleted` rows of control.environments: move them here. Rows a
-- teardown of an unknown name wrote (no request behind them: empty spec) go away.
INSERT INTO control.environment_tombstones (name, deleted_at, request_id, event_id)
SELECT name, deleted_at,
       CASE WHEN spec = '{}'::jsonb THEN NULL ELSE request_id END,
       CASE WHEN spec = '{}'::jsonb THEN request_id END
  FROM control.environments
 WHERE status = 'deleted' AND deleted_at IS NOT NULL
ON CONFLICT (name) DO NOTHING;

DELETE FROM control.environments WHERE status = 'deleted' AND spec = '{}'::jsonb AND owner = '';
