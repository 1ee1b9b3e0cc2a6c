-- The SHA-256 (hex) of the password the create step is about to add, recorded before it adds
-- the version. A rotation resumed after a crash between the add and its record adopts only a
-- version holding that very password: never one that someone else added, since whoever may
-- add a version must not thereby choose the next database password.
ALTER TABLE control.rotations ADD COLUMN IF NOT EXISTS pending_digest text;
