//! The HTTP routes, one module per area. Every route is registered through
//! `OpenApiRouter`, so the router and `/openapi.json` cannot disagree.

pub mod admin;
pub mod cards;
pub mod health;
pub mod issuer;
pub mod payments;
pub mod sandbox;
pub mod support;
pub mod tokens;
pub mod users;
