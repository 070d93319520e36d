-- SMS code comparisons that hold under parallel requests.

-- Codes compared for this challenge so far. A verification claims one
-- (increment unless at the limit, one statement) before it compares, so
-- racing requests never compare more codes than the limit.
ALTER TABLE otp_challenges ADD COLUMN comparisons INTEGER NOT NULL DEFAULT 0;
