-- Support diagnoses a payment by the trace id its terminal was answered
-- with: found by index, not by reading every payment.
CREATE INDEX payments_trace ON payments (trace_id);
