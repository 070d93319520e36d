//! The store's roles, one trait each, in the manner of a handler per
//! subject: a reader looking for how cards are kept reads `Cards` here and
//! its two implementations, `sqlite/cards.rs` and `postgres/cards.rs`.
//! `Store` (in `lib.rs`) is all of them together.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use crate::StoreResult;
use crate::model::*;

/// The database itself: which backend, whether it answers, whether it holds data.
#[async_trait]
pub trait Database: Send + Sync {
    /// Which backend this is, for logs and `/readyz`.
    fn backend(&self) -> &'static str;
    /// How the store's connections are used at this moment, for `/metrics`.
    fn pool_use(&self) -> PoolUse;
    /// A cheap round trip, for readiness.
    async fn ping(&self) -> StoreResult<()>;
    /// Whether any user or card is stored: a database holding data must not
    /// be paired with a freshly created key file.
    async fn has_data(&self) -> StoreResult<bool>;
    /// Closes the store's connections at shutdown: once this returns, the
    /// store has written what it acknowledged and holds nothing open (a
    /// later call finds the database unavailable, or opens afresh).
    async fn close(&self);
}

/// People and callers: users, sign-in failures, sessions, API keys.
#[async_trait]
pub trait Accounts: Send + Sync {
    async fn create_user(&self, user: &NewUser) -> StoreResult<UserRecord>;
    async fn user_by_id(&self, id: &UserId) -> StoreResult<Option<UserRecord>>;
    async fn user_by_phone(&self, phone: &str) -> StoreResult<Option<UserRecord>>;
    /// The people a support search finds (at most `limit`), oldest account
    /// first.
    async fn find_users(&self, search: &UserSearch, limit: u32) -> StoreResult<Vec<UserRecord>>;
    /// Claims one sign-in attempt for a phone (keyed hash) before its
    /// password is checked: one statement that adds it to the window's
    /// count, or starts a new window when the last has run out, unless the
    /// count already stands at `limit`. However many requests race, on
    /// however many nodes, at most `limit` are counted per window.
    async fn claim_login_attempt(
        &self,
        phone_hash: &str,
        limit: u32,
        now: DateTime<Utc>,
        window: TimeDelta,
    ) -> StoreResult<AttemptClaim>;
    /// Gives back an attempt claimed in the window that started at
    /// `window_started_at` (the password was right); nothing when that
    /// window is over.
    async fn give_back_login_attempt(
        &self,
        phone_hash: &str,
        window_started_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn login_failures(&self, phone_hash: &str) -> StoreResult<Option<LoginFailures>>;
    /// The keyed hashes of the user's birthday PINs kept at sign-up (none
    /// for people who signed up before they were kept).
    async fn birthday_pins(&self, user_id: &UserId) -> StoreResult<Vec<String>>;
    /// The user's payment password state; None when none is set.
    async fn payment_password_state(
        &self,
        user_id: &UserId,
    ) -> StoreResult<Option<PaymentPasswordState>>;
    /// Sets (or replaces) the payment password's hash; a new password
    /// starts with no wrong entries and no lock.
    async fn set_payment_password(
        &self,
        user_id: &UserId,
        hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Claims one check of the payment password before it is made: one
    /// statement that counts it as wrong and, when the count reaches
    /// `limit`, locks until `now + lock_for`; refused while locked. However
    /// many requests race, on however many nodes, at most `limit` are
    /// checked before the lock. A lock past its time starts the count over.
    async fn claim_payment_password_check(
        &self,
        user_id: &UserId,
        limit: u32,
        now: DateTime<Utc>,
        lock_for: TimeDelta,
    ) -> StoreResult<PaymentPasswordClaim>;
    /// The claimed check was right: no wrong entries, no lock.
    async fn payment_password_right(&self, user_id: &UserId) -> StoreResult<()>;
    /// Keeps a new single-use confirmation.
    async fn create_verification(&self, verification: &VerificationRecord) -> StoreResult<()>;
    /// Uses the confirmation with this token hash, if it is the user's,
    /// for this purpose and scope, unused and unexpired: one statement, so
    /// that of any number of requests presenting it, on any node, one
    /// gets it: how it was proven (its `method`).
    async fn use_verification(
        &self,
        token_hash: &str,
        user_id: &UserId,
        purpose: &str,
        scope: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<String>>;
    /// The claimed check, whose count was `failures`, was never made (the
    /// node shed it): given back, with any lock it set, unless another
    /// check was claimed since.
    async fn give_back_payment_password_check(
        &self,
        user_id: &UserId,
        failures: u32,
    ) -> StoreResult<()>;
    async fn clear_login_failures(&self, phone_hash: &str) -> StoreResult<()>;
    async fn create_session(&self, session: &SessionRecord) -> StoreResult<()>;
    /// The user's sessions still live at `now`, newest first.
    async fn user_sessions(
        &self,
        user_id: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SessionRecord>>;
    /// Ends one session; false when there was none.
    async fn end_session(&self, token_hash: &str) -> StoreResult<bool>;
    /// Ends every session of the user; how many there were.
    async fn end_user_sessions(&self, user_id: &UserId) -> StoreResult<u64>;
    /// The user of a live session, read in full: for requests that need
    /// the user's record, in one query where the backend gains by it (a
    /// round trip to PostgreSQL).
    async fn session_user_record(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>>;
    /// Keeps a new code for its purpose and phone, replacing the one
    /// before (and its count of comparisons).
    async fn put_sms_code(&self, code: &SmsCodeRecord) -> StoreResult<()>;
    /// Claims one comparison with the live code of a purpose and phone
    /// before it is made: one statement that counts it unless `limit`
    /// comparisons were made already, so racing requests on any node
    /// never make more than `limit`.
    async fn claim_sms_code_attempt(
        &self,
        purpose: SmsCodePurpose,
        phone_hash: &str,
        limit: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<SmsCodeClaim>;
    /// Uses a code up (the one whose hash was claimed): false when it was
    /// used or replaced meanwhile.
    async fn use_sms_code(
        &self,
        purpose: SmsCodePurpose,
        phone_hash: &str,
        code_hash: &str,
    ) -> StoreResult<bool>;
    /// Applies a reset in one transaction; None (and nothing changed) when
    /// the code was used or replaced meanwhile, else the sessions ended.
    async fn reset_password(&self, reset: &PasswordReset) -> StoreResult<Option<u64>>;
    /// Signs a person up in one transaction: the code used up, the ID
    /// number's wallets counted and the user created, or nothing changed.
    /// Racing sign-ups with one ID number, on any node, never create more
    /// than `wallets_per_id_number` wallets. A taken phone is
    /// `Conflict(UserPhone)`, as for `create_user`.
    async fn sign_up(&self, sign_up: &SignUp) -> StoreResult<SignUpOutcome>;
    /// Replaces a user's password hash by `new_hash` while it is still
    /// `old_hash` (a reset meanwhile wins); true when it was replaced.
    async fn rehash_password(
        &self,
        user_id: &UserId,
        old_hash: &str,
        new_hash: &str,
    ) -> StoreResult<bool>;
    async fn create_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()>;
    async fn api_key(&self, key_hash: &str) -> StoreResult<Option<ApiKeyRecord>>;
    /// Every API key, revoked ones too, oldest first.
    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>>;
    /// Revokes the key `id` at `now` unless it is already revoked; answers
    /// when it was revoked (the first time counts), None for no such key.
    async fn revoke_api_key(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>>;
}

/// Cards and binding: the reservation that keeps duplicate cards and the card
/// limit, the completion, the OTP step-up and its sandbox phone, and what a
/// binding reads first.
#[async_trait]
pub trait Cards: Send + Sync {
    /// The settings `names` (None where unset) and the newest open incident of `issuer_code`
    /// whose breaker is open: what each binding reads before it reserves,
    /// in one round trip where the backend gains by it (PostgreSQL).
    async fn binding_context(
        &self,
        names: &[&str],
        issuer_code: Option<&str>,
    ) -> StoreResult<BindingContext>;
    /// Reserves the card (state `binding`) after checking, atomically with
    /// every other reservation and completion, that the user has no live
    /// card with this fingerprint and is under the card limit. Stale
    /// reservations and expired OTP challenges of the user are cleared
    /// first (and are visible to reads once this returns).
    ///
    /// The reservation itself is a lock, never anyone's answer: a store may
    /// return before it is durable, or not write it at all (SQLite's one
    /// writer holds it in memory), provided that a reservation lost to a
    /// crash or a failed commit makes the completion find nothing,
    /// and that a completion is durable only with its reservation. On
    /// PostgreSQL it is a row, which every node sees.
    ///
    /// A reservation also claims `limits.attempts` as
    /// [`Cards::claim_limits`] would, in the same write and only when
    /// everything else lets it reserve: a refused claim reserves nothing.
    async fn reserve_card(
        &self,
        card: &NewCard,
        limits: &ReserveLimits,
        now: DateTime<Utc>,
    ) -> StoreResult<Reserve>;
    /// Drops a reservation whose binding failed. Like the reservation, it
    /// may return before it is durable: a lost release runs out by itself.
    async fn release_card(&self, card_id: &CardId) -> StoreResult<()>;
    /// Makes a reserved card real (PAN ciphertext, token and the new
    /// status: `active`, or `pending_verification` with its OTP challenge)
    /// and records the binding's attempt, and answers the card as it now
    /// reads, in one write where the backend can (SQLite: one job of
    /// the group commit, so a binding waits for one commit, not two). None
    /// when the reservation is gone: nothing is written then, the attempt
    /// neither. A failed attempt record is logged, never undoes the binding.
    async fn complete_binding_recorded(
        &self,
        completion: &BindingCompletion,
        attempt: &AttemptRecord,
    ) -> StoreResult<Option<CardRecord>>;
    async fn list_cards(&self, user_id: &UserId) -> StoreResult<Vec<CardRecord>>;
    async fn card(&self, user_id: &UserId, card_id: &CardId) -> StoreResult<Option<CardRecord>>;
    /// Makes one active card the user's default. False when it is not theirs
    /// or not active.
    async fn set_default_card(
        &self,
        user_id: &UserId,
        card_id: &CardId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Unbinds: card `unbound`, PAN ciphertext deleted, token `deleted`.
    async fn unbind_card(
        &self,
        user_id: &UserId,
        card_id: &CardId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    async fn otp_challenge(&self, card_id: &CardId) -> StoreResult<Option<OtpChallenge>>;
    /// Claims one comparison of a code for the card's challenge, in one
    /// statement that increments its count unless `max` were claimed
    /// already: however many requests race, at most `max` compare.
    async fn claim_otp_comparison(&self, card_id: &CardId, max: u32) -> StoreResult<OtpClaim>;
    /// Counts a wrong code and returns the failures so far.
    async fn record_otp_failure(&self, card_id: &CardId) -> StoreResult<u32>;
    /// Sets a pending card's code (its hash and expiry) and the time it was
    /// sent to `now`, when the current one was sent at `sent_before` or
    /// earlier; its failures and comparisons are kept. False when there is
    /// no such challenge or a newer code was sent since (one statement:
    /// of resends racing, one renews). Given the current hash and expiry,
    /// it only restarts the clock: how a resend takes its turn.
    async fn renew_otp(
        &self,
        card_id: &CardId,
        code_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
        sent_before: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Counts one hit at `now` in every bucket, all or none: refused when
    /// any bucket already holds its limit of hits newer than `now - window`.
    /// Atomic with every other claim of the same buckets, on every node.
    async fn claim_limits(
        &self,
        buckets: &[LimitBucket],
        window: TimeDelta,
        now: DateTime<Utc>,
    ) -> StoreResult<LimitClaim>;
    /// Forgets the buckets whose newest hit is at or before `before` (a
    /// caller passes `now - window`, so that only buckets nothing counts
    /// any more go); the number of buckets forgotten. A claim racing it
    /// is counted as if it came after.
    async fn purge_limits(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// Ends a challenge: `active` (token active), `verification_failed` or
    /// `verification_expired` (token deleted). False when already ended.
    async fn finish_otp(
        &self,
        card_id: &CardId,
        outcome: OtpOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    async fn push_sandbox_sms(
        &self,
        phone: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn sandbox_sms(&self, phone: &str, limit: u32) -> StoreResult<Vec<SandboxSms>>;
}

/// Tokens and payments: token lookup, ATC ranges and claims, cryptograms,
/// payment records.
#[async_trait]
pub trait Payments: Send + Sync {
    async fn payment_token(&self, lookup: TokenLookup<'_>) -> StoreResult<Option<PaymentToken>>;
    /// Everything a payment reads before its claim, in one read: the token
    /// (None when no token has this PAN), the cryptogram made for the ATC,
    /// the owner's history. On SQLite one read transaction, so that a
    /// commit landing between the parts does not send the reader back to
    /// cold pages for each of them.
    async fn payment_context(
        &self,
        query: &PaymentContextQuery,
    ) -> StoreResult<Option<PaymentContext>>;
    /// Hands out `count` ATCs of an active token still at `psn`: returns
    /// the first of the range, None when the token is not active, was
    /// renewed (another PSN: the caller's keys would be the old ones), or
    /// its counter would pass 65535. Ranges never overlap, however many
    /// nodes ask at once.
    async fn reserve_atcs(
        &self,
        token_ref: &str,
        psn: u8,
        count: u16,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<u16>>;
    async fn create_cryptogram(&self, cryptogram: &CryptogramRecord) -> StoreResult<()>;
    async fn cryptogram(&self, token_ref: &str, atc: u16) -> StoreResult<Option<CryptogramRecord>>;
    /// Claims an ATC for one payment, in one transaction with the token row
    /// locked: the rule holds across nodes (a primary key on token and ATC).
    /// When claimed, the payment is recorded in the same transaction (status
    /// `pending`), so an approval is never lost to a crash after it.
    async fn claim_atc(&self, claim: &AtcClaim) -> StoreResult<AtcClaimOutcome>;
    /// Writes a claimed payment's outcome (status, codes, authorisation).
    async fn finish_payment(&self, payment: &PaymentRecord) -> StoreResult<()>;
    /// Gives an ATC back when the issuer never answered, so that the same
    /// cryptogram may be retried.
    async fn release_atc(
        &self,
        token_ref: &str,
        atc: u16,
        payment_id: &PaymentId,
    ) -> StoreResult<()>;
    /// Records a payment declined before its ATC was claimed.
    async fn record_payment(&self, payment: &PaymentRecord) -> StoreResult<()>;
    /// Marks the card its bank said was replaced (`reissued_at`), keeping
    /// the first time: its token no longer pays, and the card says why.
    async fn mark_card_reissued(&self, card_id: &CardId, now: DateTime<Utc>) -> StoreResult<()>;
    /// A user's payments, newest first.
    async fn payments(&self, filter: &PaymentFilter) -> StoreResult<Vec<PaymentRecord>>;
    /// One payment, by id.
    async fn payment(&self, id: &PaymentId) -> StoreResult<Option<PaymentRecord>>;
    /// The payment answered with this trace id, for support.
    async fn payment_by_trace(&self, trace_id: &str) -> StoreResult<Option<PaymentRecord>>;
    /// Records a refund `pending` when its payment was approved and the
    /// amount fits in what the payment's pending and accepted refunds leave
    /// of it. The check and the insert are one transaction with the
    /// payment's row locked (SQLite: one writer job), so refunds sent at
    /// once, on any number of nodes, never give back more than was paid.
    async fn begin_refund(&self, refund: &RefundRecord) -> StoreResult<RefundClaim>;
    /// Settles a pending refund (accepted, declined or failed); a refund
    /// already settled is left as it is.
    async fn finish_refund(&self, outcome: &RefundOutcome) -> StoreResult<()>;
    /// The refunds of these payments, oldest first.
    async fn refunds(&self, payment_ids: &[PaymentId]) -> StoreResult<Vec<RefundRecord>>;
}

/// Transfers from a bound card to a bank card, and the person's records:
/// payments, refunds and transfers, each kind listed newest first.
#[async_trait]
pub trait Transfers: Send + Sync {
    /// Records a transfer `pending`, its destination sealed.
    async fn record_transfer(&self, transfer: &TransferRecord) -> StoreResult<()>;
    /// Settles a pending transfer and erases its sealed destination in the
    /// same statement; a transfer already settled is left as it is.
    async fn finish_transfer(&self, outcome: &TransferOutcome) -> StoreResult<()>;
    /// One of the person's transfers.
    async fn transfer(
        &self,
        user_id: &UserId,
        id: &TransferId,
    ) -> StoreResult<Option<TransferRecord>>;
    /// The person's transfers, newest first.
    async fn transfers(&self, filter: &RecordFilter) -> StoreResult<Vec<TransferRecord>>;
    /// The person's payments, newest first.
    async fn payment_records(&self, filter: &RecordFilter) -> StoreResult<Vec<PaymentRecord>>;
    /// The refunds of the person's payments, newest first.
    async fn refund_records(&self, filter: &RecordFilter) -> StoreResult<Vec<RefundEntry>>;
}

/// What protects a person's money: no-confirmation limits, the facts the
/// risk rules read, a frozen wallet, reported payments.
#[async_trait]
pub trait Safety: Send + Sync {
    /// The person's own no-confirmation limits; None: the wallet's defaults.
    async fn consent_limits(&self, user_id: &UserId) -> StoreResult<Option<ConsentLimits>>;
    async fn set_consent_limits(
        &self,
        user_id: &UserId,
        limits: ConsentLimits,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// What a payment's risk rules and consent limits read, in one round
    /// trip. An unknown person has an empty history.
    async fn payment_history(&self, query: &HistoryQuery) -> StoreResult<PaymentHistory>;
    /// Freezes (`Some(at)`) or unfreezes (`None`) the wallet; false when it
    /// already was. A freeze's ticket is opened with it, in one write.
    async fn set_frozen(
        &self,
        user_id: &UserId,
        frozen_at: Option<DateTime<Utc>>,
        ticket: Option<&TicketRecord>,
    ) -> StoreResult<bool>;
    /// Notes that a password (sign-in or payment) was just reset.
    async fn note_credentials_reset(&self, user_id: &UserId, at: DateTime<Utc>) -> StoreResult<()>;
    /// Records a report and opens its ticket, in one write; a payment is
    /// reported once.
    async fn report_payment(
        &self,
        report: &PaymentReport,
        ticket: &TicketRecord,
    ) -> StoreResult<ReportOutcome>;
    /// The person's reports, newest first.
    async fn payment_reports(&self, user_id: &UserId) -> StoreResult<Vec<PaymentReport>>;
}

/// The token lifecycle and issuer events: suspend, resume and delete, with
/// their event history; issuer notifications applied once each.
#[async_trait]
pub trait Lifecycle: Send + Sync {
    /// Applies a suspend or resume if the token is still as read. False when
    /// it changed meanwhile (read again and retry).
    async fn change_token_state(&self, change: &TokenStateChange) -> StoreResult<bool>;
    /// Deletes a token for good and unbinds its card (PAN erased), with its
    /// event. False when already deleted.
    async fn delete_token(&self, event: &TokenEvent) -> StoreResult<bool>;
    /// The tokens of each EMV key generation any token was issued under,
    /// by generation.
    async fn tokens_by_generation(&self) -> StoreResult<Vec<GenerationTokens>>;
    /// Renews a token in place (see `TokenRenewal`). False when it is
    /// deleted or was renewed meanwhile.
    async fn renew_token(&self, renewal: &TokenRenewal) -> StoreResult<bool>;
    /// Up to `limit` live (not deleted) tokens of one EMV key generation,
    /// by reference after `after`: what a move to another generation walks.
    async fn live_tokens_of_generation(
        &self,
        generation: u8,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<String>>;
    /// The token's events, newest first.
    async fn token_events(&self, token_ref: &str, limit: u32) -> StoreResult<Vec<TokenEvent>>;
    async fn issuer_event_begin(&self, event: &IssuerEventRecord) -> StoreResult<IssuerEventBegin>;
    /// Stores the event's outcome; None forgets the event (it failed midway,
    /// so the issuer's retry applies it again).
    async fn issuer_event_finish(
        &self,
        key_id: &str,
        event_id: &str,
        outcome: Option<&str>,
    ) -> StoreResult<()>;
    /// Live cards (active or pending) an issuer event names.
    async fn cards_for_issuer(&self, selector: CardSelector<'_>) -> StoreResult<Vec<CardRecord>>;
    async fn apply_issuer_change(&self, change: &IssuerChange) -> StoreResult<IssuerApply>;
}

/// What support and issuer health read: binding attempts and their statistics,
/// issuer incidents with their circuit breakers, tickets.
#[async_trait]
pub trait Support: Send + Sync {
    async fn record_attempt(&self, attempt: &AttemptRecord) -> StoreResult<()>;
    /// Notes that the client of the binding attempt or payment with this
    /// trace id left before its answer. False when there is neither.
    async fn mark_client_gone(&self, trace_id: &str) -> StoreResult<bool>;
    async fn attempts(&self, filter: &AttemptFilter) -> StoreResult<Vec<AttemptRecord>>;
    /// Binding attempts in a window, added up by issuer, brand, card type,
    /// outcome, code and issuer answer: what health, metrics and the
    /// anomaly rule read, computed where every node's attempts are.
    async fn attempt_stats(&self, query: &AttemptStatsQuery) -> StoreResult<Vec<AttemptStatsRow>>;
    /// Opens an incident for (issuer, kind), or refreshes the numbers and
    /// message of the one already open. A breaker once open stays open (with
    /// its retry time) until the incident is resolved. Nothing happens (None)
    /// when an incident of this issuer and kind was resolved at or after
    /// `evidence_since`: the evidence predates that resolution, and a node
    /// that evaluated while another resolved must not raise it again.
    async fn raise_incident(
        &self,
        incident: &IncidentRecord,
        evidence_since: DateTime<Utc>,
    ) -> StoreResult<Option<Raised>>;
    async fn incidents(&self, filter: &IncidentFilter) -> StoreResult<Vec<IncidentRecord>>;
    /// Resolves an open incident (closing its breaker). False when it was
    /// not open.
    async fn resolve_incident(&self, id: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Takes the breaker's probe: true for exactly one caller once
    /// `retry_at` has passed, until `lease_until` (a crashed probe frees it).
    async fn claim_probe(
        &self,
        id: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// The probe failed: the breaker stays open until `retry_at`.
    async fn reopen_breaker(
        &self,
        id: &str,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    async fn create_ticket(&self, ticket: &TicketRecord) -> StoreResult<()>;
    /// Newest first, or the longest waiting first (`TicketFilter::oldest_first`).
    async fn tickets(&self, filter: &TicketFilter) -> StoreResult<Vec<TicketRecord>>;
    async fn ticket(&self, id: &str) -> StoreResult<Option<TicketRecord>>;
    /// What was written on a ticket after it was opened, in order.
    async fn ticket_entries(&self, ticket_id: &str) -> StoreResult<Vec<TicketEntry>>;
    /// Writes an entry on its ticket, in one write with the ticket's status
    /// (when the entry sets one), last activity and counts; the store gives
    /// it its place. The ticket as it is after, or None when there is no
    /// such ticket (nothing is written).
    async fn add_ticket_entry(&self, entry: &TicketEntry) -> StoreResult<Option<TicketRecord>>;
    /// Records a sign-in, failed sign-in, lockout, freeze or unfreeze.
    async fn record_account_event(&self, event: &AccountEvent) -> StoreResult<()>;
    /// One page of a person's timeline, newest first: one query per source
    /// (`timeline.rs`), each reading at most `limit` rows.
    async fn timeline(&self, query: &TimelineQuery) -> StoreResult<Vec<TimelineRow>>;
    /// Appends one entry to the audit. A chained entry whose predecessor
    /// another entry follows already (a writer racing on the same chain)
    /// is refused with `Conflict`, and nothing is written.
    async fn record_audit_event(&self, event: &AuditEvent) -> StoreResult<()>;
    /// The audit, newest first, a page at a time.
    async fn audit_events(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEvent>>;
    /// The place of a chain's last entry, if it has one.
    async fn audit_chain_head(&self, chain_id: &str) -> StoreResult<Option<AuditLink>>;
    /// Every audit entry written at or after `since`, oldest first.
    async fn audit_entries_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<AuditEvent>>;
    /// Keeps a chain's signed head; one already kept for that place stays.
    async fn record_audit_checkpoint(&self, checkpoint: &AuditCheckpointRecord) -> StoreResult<()>;
    /// Every checkpoint of every chain.
    async fn audit_checkpoints(&self) -> StoreResult<Vec<AuditCheckpointRecord>>;
}

/// Settings (maintenance window, sandbox issuer behaviour) and idempotency records.
/// The support console's signed-in sessions, found by the keyed hash of
/// their cookie's id.
#[async_trait]
pub trait ConsoleSessions: Send + Sync {
    async fn create_console_session(&self, session: &ConsoleSessionRecord) -> StoreResult<()>;
    async fn console_session(&self, id_hash: &str) -> StoreResult<Option<ConsoleSessionRecord>>;
    /// Marks the session used at `now` (its idle time starts again).
    async fn touch_console_session(&self, id_hash: &str, now: DateTime<Utc>) -> StoreResult<()>;
    /// Whether there was such a session to end.
    async fn end_console_session(&self, id_hash: &str) -> StoreResult<bool>;
    /// Drops the sessions past their absolute end, or idle since before
    /// `idle_before`; answers how many.
    async fn purge_console_sessions(
        &self,
        now: DateTime<Utc>,
        idle_before: DateTime<Utc>,
    ) -> StoreResult<u64>;
}

#[async_trait]
pub trait Settings: Send + Sync {
    async fn setting(&self, name: &str) -> StoreResult<Option<String>>;
    async fn put_setting(&self, name: &str, value: &str, now: DateTime<Utc>) -> StoreResult<()>;
    /// Stores `value` unless the setting exists, and returns what is stored:
    /// the first writer wins, however many nodes race.
    async fn claim_setting(
        &self,
        name: &str,
        value: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<String>;
    async fn delete_setting(&self, name: &str) -> StoreResult<bool>;
    async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        stale_after: TimeDelta,
    ) -> StoreResult<IdempotencyBegin>;
    async fn idempotency_finish(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> StoreResult<()>;
    async fn idempotency_abandon(&self, scope: &str, key: &str) -> StoreResult<()>;
    /// Deletes records older than `before`; returns how many.
    async fn idempotency_purge(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// `tessera seed`: many users and cards written in large batches.
#[async_trait]
pub trait BulkLoad: Send + Sync {
    /// Which of these token PAN fingerprints a stored token already has.
    /// Token PANs are drawn at random, so `tessera seed` asks before writing
    /// a batch and draws again for those (a bind does it on conflict).
    async fn stored_token_fingerprints(
        &self,
        fingerprints: &[String],
    ) -> StoreResult<HashSet<String>>;
    /// Writes a batch of users and their active cards, with their tokens
    /// and attempts, in one transaction: whole or not at all.
    async fn seed_batch(&self, batch: &SeedBatch) -> StoreResult<()>;
}

/// What only the test suites ask of a store: looking inside it, or
/// taking a step of a flow on its own.
#[cfg(feature = "test-support")]
#[async_trait]
pub trait Inspect: Send + Sync {
    /// The durability setting of every pooled connection, as `name=value`
    /// (`synchronous=2` is SQLite's FULL): tests hold every one to it.
    async fn durability(&self) -> StoreResult<Vec<String>>;
    /// The user of a live session.
    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<String>>;
    /// Makes a reserved card real: PAN ciphertext, token and the new status
    /// (`active`, or `pending_verification` with its OTP challenge), in one
    /// transaction. False when the reservation is gone.
    async fn complete_binding(&self, completion: &BindingCompletion) -> StoreResult<bool>;
    /// Several settings, in the order asked (None where unset): in one
    /// query where the backend gains by it (a round trip to PostgreSQL).
    async fn settings(&self, names: &[&str]) -> StoreResult<Vec<Option<String>>>;
}

/// Passkeys (WebAuthn) and their ceremonies.
#[async_trait]
pub trait Passkeys: Send + Sync {
    async fn create_webauthn_challenge(&self, challenge: &WebauthnChallenge) -> StoreResult<()>;
    /// Takes a ceremony's state, if it is the person's, of this kind,
    /// untaken and unexpired: one statement, so it is taken once however
    /// many requests race.
    async fn take_webauthn_challenge(
        &self,
        id: &str,
        user_id: &UserId,
        kind: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<String>>;
    /// False when the credential is registered already.
    async fn add_passkey(&self, passkey: &PasskeyRecord) -> StoreResult<bool>;
    /// The person's passkeys, oldest first.
    async fn passkeys(&self, user_id: &UserId) -> StoreResult<Vec<PasskeyRecord>>;
    /// The credential after a use (its counter), and when.
    async fn passkey_used(&self, id: &str, credential: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// False when the person has no passkey with this id.
    async fn remove_passkey(&self, user_id: &UserId, id: &str) -> StoreResult<bool>;
    /// Deletes confirmations and ceremony challenges that expired before
    /// `before`, used or not; how many.
    async fn purge_confirmations(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// A person's right to leave, and the retention of what is left behind.
#[async_trait]
pub trait Retention: Send + Sync {
    /// Closes an account at once: every live card ended as unbinding ends
    /// it (token deleted, PAN ciphertext erased), its sessions, payment
    /// password, passkeys and confirmations deleted, the user `closed` and
    /// the closure recorded. Payments, transfers and binding attempts stay,
    /// masked as they always are. False when it was closed already (or is
    /// no user).
    async fn close_account(&self, closure: &AccountClosure) -> StoreResult<bool>;
    /// How the account was closed, if it was.
    async fn account_closure(&self, user_id: &UserId) -> StoreResult<Option<AccountClosure>>;
    /// Deletes what outlived its retention (`RetentionCutoffs`); how many.
    async fn purge_retained(&self, cutoffs: &RetentionCutoffs) -> StoreResult<PurgedRecords>;
}
