-- A payment is inserted `pending` at its claim and updated once with its
-- outcome (status, consent, risk). PostgreSQL writes that update beside
-- the row, without touching any index (a heap-only update), only when no
-- indexed column changes and the row's page has room. Two indexes of
-- 0018 changed with it: the covering `payments_user` holds the status,
-- and the unconfirmed index's predicate reads the consent. So every
-- outcome wrote a new entry in each of the table's indexes.
--
-- The latest payments and the day's unconfirmed sum read the person's
-- rows through the listing's index instead: a person's latest payments
-- are few, and the table's pages they sit on are the recently written
-- ones. Pages are filled to 90% so that the outcome fits beside the row.
DROP INDEX payments_user_unconfirmed;
DROP INDEX payments_user;
CREATE INDEX payments_user ON payments (user_id, created_at, id);
ALTER TABLE payments SET (fillfactor = 90);
