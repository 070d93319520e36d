-- The trace id is always the server's; a client's own request id, when it
-- sent a valid one, is kept beside it for support.
ALTER TABLE binding_attempts ADD COLUMN client_request_id TEXT;
-- Support looks an attempt up by the id an app developer reports.
CREATE INDEX binding_attempts_client_request ON binding_attempts(client_request_id)
    WHERE client_request_id IS NOT NULL;
