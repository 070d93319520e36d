-- Binding anomalies explained (issue 6): issuer incidents with their circuit
-- breaker, and support tickets. Times are Unix milliseconds (UTC) in BIGINT,
-- as in 0001. Nothing here holds a clear PAN: tickets keep the attempt's
-- masked details only.

-- Health and the anomaly rule read one issuer's attempts over a window.
CREATE INDEX binding_attempts_issuer ON binding_attempts(issuer_code, created_at);

CREATE TABLE issuer_incidents (
    id TEXT PRIMARY KEY,
    issuer_code TEXT NOT NULL,
    issuer_name_zh TEXT NOT NULL,
    issuer_name_en TEXT NOT NULL,
    -- failure_rate or latency
    kind TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    resolved_at BIGINT,
    -- The numbers behind the flag, as last evaluated.
    samples BIGINT NOT NULL,
    failure_rate DOUBLE PRECISION NOT NULL,
    baseline_failure_rate DOUBLE PRECISION,
    mean_latency_ms BIGINT NOT NULL,
    baseline_latency_ms BIGINT,
    top_code TEXT,
    message_zh TEXT NOT NULL,
    message_en TEXT NOT NULL,
    -- The circuit breaker of an issuer flagged as unavailable: while open,
    -- bindings for its cards are answered at once without asking it; from
    -- retry_at one request at a time (leased until probe_until) may ask it
    -- again, and an answer closes the breaker and resolves the incident.
    breaker_open BOOLEAN NOT NULL DEFAULT FALSE,
    retry_at BIGINT,
    probe_until BIGINT
);
-- One open incident per issuer and kind, whichever node raises it first.
CREATE UNIQUE INDEX issuer_incidents_open ON issuer_incidents(issuer_code, kind)
    WHERE resolved_at IS NULL;
CREATE INDEX issuer_incidents_time ON issuer_incidents(opened_at);

CREATE TABLE support_tickets (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    trace_id TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    -- The attempt and its diagnosis when the ticket was opened, as JSON
    -- (masked card data, device details, codes): support never has to ask.
    details TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX support_tickets_time ON support_tickets(created_at);
CREATE INDEX support_tickets_user ON support_tickets(user_id, created_at);
