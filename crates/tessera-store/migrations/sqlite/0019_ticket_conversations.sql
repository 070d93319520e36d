-- Tickets are conversations: support replies (with notes only support
-- reads), the person answers. A ticket is open (support's turn),
-- waiting_for_person or resolved; `closed`, which nothing wrote but the
-- column allowed, reads as resolved. A ticket can point at a transfer.
-- last_activity_at and the counts are kept on the ticket, written with
-- each entry, so that support's queue is one indexed read.
ALTER TABLE support_tickets ADD COLUMN transfer_id TEXT;
ALTER TABLE support_tickets ADD COLUMN last_activity_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE support_tickets ADD COLUMN reply_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE support_tickets ADD COLUMN entry_count INTEGER NOT NULL DEFAULT 0;
UPDATE support_tickets SET last_activity_at = created_at;
UPDATE support_tickets SET status = 'resolved' WHERE status = 'closed';
CREATE INDEX support_tickets_queue ON support_tickets(status, last_activity_at);

-- What was written on a ticket after it was opened, in order (seq counts
-- from 1 per ticket): a reply the person reads (message), a note only
-- support reads (internal_note), a status set, or several at once. Free
-- text is stored with card numbers masked.
CREATE TABLE support_ticket_entries (
    ticket_id TEXT NOT NULL REFERENCES support_tickets(id),
    seq INTEGER NOT NULL,
    -- person or support
    author TEXT NOT NULL,
    -- The support key that wrote it; NULL for the person.
    key_id TEXT,
    message TEXT,
    internal_note TEXT,
    status TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, seq)
);
