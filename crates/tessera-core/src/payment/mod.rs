//! Payments as the domain sees them: the checks a payment request's fields
//! pass before anything is looked up (`check`), and where a payment and
//! its refunds stand (`status`).

pub mod check;
pub mod report;
pub mod status;

pub use check::Channel;
pub use status::{PaymentStatus, RefundStatus, TransferStatus};
