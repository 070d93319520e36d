-- A binding's reservation counts the user's live cards. Walking
-- `cards_user` read every card row of the user, so its cost grew with the
-- wallet; this index answers the count from its own pages, status by
-- status (the covering index of `reserve_card`'s RESERVE_COUNTS).
CREATE INDEX cards_user_status ON cards(user_id, status, reserved_until);
