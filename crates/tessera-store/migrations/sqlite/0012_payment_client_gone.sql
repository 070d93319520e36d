-- A payment whose terminal disconnected before the answer, which the server
-- finished all the same: support sees that the merchant never read the
-- outcome.
ALTER TABLE payments ADD COLUMN client_gone INTEGER NOT NULL DEFAULT 0;
