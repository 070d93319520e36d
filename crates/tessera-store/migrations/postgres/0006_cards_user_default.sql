-- Each completed binding checks whether the user already has a default
-- card (tessera_complete_binding). Through cards_live_pan that fetched
-- every live card row of the user until it met the default, so its cost
-- grew with the wallet. This index holds one entry per user (the default).
-- The planner picks it for the functions' statement by itself: the
-- functions stay as they are.
CREATE INDEX cards_user_default ON cards(user_id) WHERE is_default AND status = 'active';
