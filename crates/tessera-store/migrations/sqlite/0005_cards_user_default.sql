-- Each completed binding checks whether the user already has a default
-- card. Through cards_user that read every active card row of the user
-- until it met the default, so its cost grew with the wallet. This index
-- holds one entry per user (the default), and answers from the key alone.
CREATE INDEX cards_user_default ON cards(user_id) WHERE status = 'active' AND is_default = 1;
