-- Sessions get a public id, by which a person lists them (the token stays
-- a keyed hash no answer shows), and the User-Agent that signed in.
-- Sessions from before get an id made from their hash, which is unique.
ALTER TABLE sessions ADD COLUMN id TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
UPDATE sessions SET id = 'ses_' || substr(token_hash, 1, 20) WHERE id IS NULL;
CREATE UNIQUE INDEX sessions_id ON sessions(id);
