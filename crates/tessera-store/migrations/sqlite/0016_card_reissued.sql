-- When the bank answered a payment that the card was replaced (换卡): the
-- old number no longer pays, and later payments with its token are refused
-- without asking the bank.
ALTER TABLE cards ADD COLUMN reissued_at INTEGER;
