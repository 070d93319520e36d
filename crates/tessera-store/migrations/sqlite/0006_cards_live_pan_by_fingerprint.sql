-- Each binding wrote two index pages for its PAN fingerprint: one in
-- cards_live_pan (user_id, pan_fingerprint), one in cards_fingerprint
-- (pan_fingerprint), the second a random page of an index that reaches
-- 80 MB at a million cards. Keyed the other way round, the live-card index
-- serves both of its readers: the binding's duplicate check (the user and
-- the PAN, both given) and an issuer's event by PAN (its live cards, for
-- every user), so cards_fingerprint goes.
DROP INDEX cards_live_pan;
CREATE UNIQUE INDEX cards_live_pan ON cards(pan_fingerprint, user_id)
    WHERE status IN ('binding', 'pending_verification', 'active');
DROP INDEX cards_fingerprint;
