-- budget-guard's state: how far each budget got in each period, and every resource it changed
-- with the settings to restore. Written through functions/budget-guard/src/journal.rs only.
CREATE SCHEMA IF NOT EXISTS control;

-- One row per budget and period (costIntervalStart). Levels are 1 notify, 2 cap, 3 stop, so
-- "higher" is a comparison. A delivery claims a level by setting working_level with a lease;
-- it completes it when every resource of the level is done. A crashed delivery's lease runs
-- out and a redelivery takes the level over; until then others are told to retry.
CREATE TABLE IF NOT EXISTS control.budget_levels (
    billing_account text NOT NULL,
    budget_id       text NOT NULL,
    period_start    timestamptz NOT NULL,
    -- The highest level whose resources are all handled (NULL: none yet).
    completed_level smallint CHECK (completed_level BETWEEN 1 AND 3),
    completed_at    timestamptz,
    -- The level being applied, by whom (a delivery's event id) and until when.
    working_level   smallint CHECK (working_level BETWEEN 1 AND 3),
    working_by      text,
    lease_until     timestamptz,
    -- The spend ratio of the latest notification of the period.
    spend_ratio     double precision,
    -- A person resumed the budget early (`groundskeeper budget resume`): nothing more is
    -- applied in this period.
    resumed_at      timestamptz,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (billing_account, budget_id, period_start),
    CHECK ((working_level IS NULL) = (lease_until IS NULL))
);

-- One row per resource changed in a period. `previous` is written before the resource is
-- changed and never overwritten: on escalation or redelivery the first record is the
-- original, which is what a new period restores.
CREATE TABLE IF NOT EXISTS control.budget_resources (
    billing_account text NOT NULL,
    budget_id       text NOT NULL,
    period_start    timestamptz NOT NULL,
    -- What the backend calls it (e.g. cloud-run-service) and its full name.
    kind            text NOT NULL CHECK (kind <> ''),
    name            text NOT NULL CHECK (name <> ''),
    previous        jsonb NOT NULL,
    -- The settings last applied, and at which level (NULL until applied).
    applied         jsonb,
    level           smallint CHECK (level BETWEEN 1 AND 3),
    state           text NOT NULL DEFAULT 'recorded'
                    CHECK (state IN ('recorded', 'applied', 'restored', 'conflict')),
    -- Why a restore did not overwrite it (changed by someone else meanwhile).
    conflict        text,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    applied_at      timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (billing_account, budget_id, period_start, kind, name),
    FOREIGN KEY (billing_account, budget_id, period_start)
        REFERENCES control.budget_levels ON DELETE CASCADE
);

-- What a new period restores: applied rows of a budget's earlier periods.
CREATE INDEX IF NOT EXISTS budget_resources_applied
    ON control.budget_resources (billing_account, budget_id, period_start) WHERE state = 'applied';
