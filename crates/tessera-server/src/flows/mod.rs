//! What the service does, one flow a module, each step failing with its own
//! code: binding a card, payments, the token lifecycle, idempotency,
//! maintenance, diagnosis and binding health. Handlers in `routes/` only
//! extract, delegate here and render.

pub mod attempts;
pub mod audit;
pub mod audit_chain;
pub mod binding;
pub mod binding_stats;
pub mod cards;
pub mod closure;
pub mod consent;
pub mod diagnose;
pub mod diagnose_payments;
pub mod fees;
pub mod housekeeping;
pub mod idempotency;
pub mod issuer_health;
pub mod key_rotation;
pub mod keys;
pub mod later;
pub mod lifecycle;
pub mod maintenance;
pub mod metrics;
pub mod otp;
pub mod passkeys;
pub mod password_reset;
pub mod payment_password;
pub mod payments;
pub mod refunds;
pub mod reports;
pub mod sandbox;
pub mod sessions;
pub mod sms_codes;
pub mod support_users;
pub mod ticket_replies;
pub mod tickets;
pub mod timeline;
pub mod token_renewal;
pub mod transactions;
pub mod transfers;
pub mod users;
pub mod verifications;
