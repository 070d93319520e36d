//! The HTTP routes, one module per area. Every API route is registered
//! through `OpenApiRouter`, so the router and `/openapi.json` cannot
//! disagree; the help center's HTML pages (`help`) are the one exception.

pub mod admin;
pub mod admin_vault;
pub mod bins;
pub mod cards;
pub mod fees;
pub mod health;
pub mod help;
pub mod issuer;
pub mod passkeys;
pub mod payments;
pub mod safety;
pub mod sandbox;
pub mod support;
pub mod support_tickets;
pub mod tickets;
pub mod tokens;
pub mod transfers;
pub mod users;
