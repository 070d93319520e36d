-- A binding's completion updates its card in place.
--
-- The completion moves a card from 'binding' to 'active' (or
-- 'pending_verification') with an UPDATE that PostgreSQL could not make a
-- heap-only (HOT) update, because `status` appeared in the predicates of
-- cards_live_pan and cards_user_default: every completion wrote a new
-- entry into each of the card's five indexes. The predicates now read
-- `live`, a column generated from the status that stays true through a
-- binding, and `is_default` alone (queries still ask for active cards,
-- and only an active card is ever the default); and the table's pages
-- keep a fifth free, so that the completed card, which now holds its PAN's
-- ciphertext, fits on the page of the reservation it replaces.
ALTER TABLE cards ADD COLUMN live BOOLEAN NOT NULL
    GENERATED ALWAYS AS (status IN ('binding', 'pending_verification', 'active')) STORED;

DROP INDEX cards_live_pan;
CREATE UNIQUE INDEX cards_live_pan ON cards (user_id, pan_fingerprint) WHERE live;

DROP INDEX cards_user_default;
CREATE INDEX cards_user_default ON cards (user_id) WHERE is_default;

ALTER TABLE cards SET (fillfactor = 80);
