-- A binding counts the user's live cards. Counted through the old
-- cards_user (user_id, created_at), that read every card row of the user,
-- so its cost grew with the wallet. With the status in the key, each
-- status is a range the count reads from the index alone, and the
-- wallet's list still finds the user's cards (and sorts them, a few).
DROP INDEX cards_user;
CREATE INDEX cards_user ON cards(user_id, status, created_at);
-- Reservations are no longer rows (the writer holds them in memory), but a
-- database an older Tessera left may hold a few: they are found here, and
-- an empty partial index costs a binding nothing.
CREATE INDEX cards_reserved ON cards(user_id, reserved_until) WHERE status = 'binding';
