-- A wallet's live cards counted in the user's row, as PostgreSQL's
-- migration 0013 does, so that a binding's reservation no longer counts
-- its owner's cards: the cost of a binding stays the same however many
-- cards the wallet holds.
--
-- users.live_cards is the number of the user's cards whose status is
-- 'pending_verification' or 'active' (a reservation is no row here: the
-- writer holds it in memory, `sqlite/reservations.rs`). The triggers
-- below move it in the statement that inserts, deletes or changes the
-- status of a card, so every path that makes a card live or ends it
-- (a binding's completion, an unbinding, a failed or expired SMS code,
-- an issuer's closure, a wallet's deletion of the token, an account's
-- closure, a purge, a seed) keeps it in the same transaction, and no new
-- path can forget to. A key rotation changes no status and leaves it be.
--
-- It is never below the truth: a pending card whose SMS code has run out
-- no longer holds a slot but is counted until something ends it. Never
-- below, because a count too low would let a wallet pass its limit, while
-- a count too high refuses nothing: a reservation that finds the wallet
-- full counts the cards themselves, as before, and ends those that ran
-- out. users.live_due is the earliest time at which one of the user's
-- pending cards' SMS code may run out (earlier is allowed, later never),
-- NULL when no code is waiting; once it has passed, a reservation counts
-- the cards too, so that what ran out leaves the wallet however roomy.
ALTER TABLE users ADD COLUMN live_cards INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN live_due INTEGER;

-- The counts of the cards stored before this migration.
UPDATE users SET
    live_cards = (SELECT COUNT(*) FROM cards c WHERE c.user_id = users.id
        AND c.status IN ('pending_verification', 'active')),
    live_due = (SELECT MIN(o.expires_at) FROM cards c
        JOIN otp_challenges o ON o.card_id = c.id
        WHERE c.user_id = users.id AND c.status = 'pending_verification');

CREATE TRIGGER cards_live_inserted AFTER INSERT ON cards
WHEN NEW.status IN ('pending_verification', 'active')
BEGIN
    UPDATE users SET live_cards = live_cards + 1 WHERE id = NEW.user_id;
END;

CREATE TRIGGER cards_live_deleted AFTER DELETE ON cards
WHEN OLD.status IN ('pending_verification', 'active')
BEGIN
    UPDATE users SET live_cards = live_cards - 1 WHERE id = OLD.user_id;
END;

-- Only a change between live and ended moves the count: a pending card
-- verified stays live, an update of other columns does not fire.
CREATE TRIGGER cards_live_changed AFTER UPDATE OF status, user_id ON cards
WHEN (OLD.status IN ('pending_verification', 'active'))
        <> (NEW.status IN ('pending_verification', 'active'))
    OR OLD.user_id <> NEW.user_id
BEGIN
    UPDATE users SET live_cards = live_cards - 1
        WHERE id = OLD.user_id AND OLD.status IN ('pending_verification', 'active');
    UPDATE users SET live_cards = live_cards + 1
        WHERE id = NEW.user_id AND NEW.status IN ('pending_verification', 'active');
END;

-- A code sent, or sent again to run out sooner, brings the due time
-- forward; one that runs out later leaves it (earlier is allowed).
CREATE TRIGGER otp_challenges_live_due AFTER INSERT ON otp_challenges
BEGIN
    UPDATE users SET live_due = min(coalesce(live_due, NEW.expires_at), NEW.expires_at)
        WHERE id = (SELECT user_id FROM cards WHERE id = NEW.card_id);
END;

CREATE TRIGGER otp_challenges_live_due_sooner AFTER UPDATE OF expires_at ON otp_challenges
WHEN NEW.expires_at < OLD.expires_at
BEGIN
    UPDATE users SET live_due = min(coalesce(live_due, NEW.expires_at), NEW.expires_at)
        WHERE id = (SELECT user_id FROM cards WHERE id = NEW.card_id);
END;
