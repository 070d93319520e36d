//! Payments as the domain sees them: the checks a payment request's fields
//! pass before anything is looked up (`check`).

pub mod check;
