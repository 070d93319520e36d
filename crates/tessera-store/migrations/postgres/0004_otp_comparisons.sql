-- SMS code comparisons that hold under parallel requests on any number
-- of nodes.

-- Codes compared for this challenge so far. A verification claims one
-- (UPDATE ... WHERE comparisons < limit RETURNING, one statement) before it
-- compares, so racing requests never compare more codes than the limit.
ALTER TABLE otp_challenges ADD COLUMN comparisons BIGINT NOT NULL DEFAULT 0;
