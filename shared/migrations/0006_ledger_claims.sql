-- Each claim of a delivery gets a token; complete and release match it, so a worker that
-- overran its lease cannot settle the claim of the worker that took the event over.
-- Rows claimed before this migration have no token; the next claim gives them one.
ALTER TABLE control.deliveries ADD COLUMN IF NOT EXISTS claim_token uuid;

-- Pruning reads one service's settled rows oldest first.
CREATE INDEX IF NOT EXISTS deliveries_done_by_age
    ON control.deliveries (service, updated_at) WHERE status = 'done';
