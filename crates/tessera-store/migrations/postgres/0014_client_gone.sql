-- A binding attempt whose client disconnected before the answer, which the
-- server finished all the same: support sees that the person never read
-- the outcome.
ALTER TABLE binding_attempts ADD COLUMN client_gone BOOLEAN NOT NULL DEFAULT FALSE;
