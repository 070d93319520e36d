//! Tessera's storage: role traits (`roles.rs`) with explicit SQL per
//! backend, each role a pair of files side by side (`sqlite/cards.rs`,
//! `postgres/cards.rs`).
//! Rules that span requests (duplicate cards, the card limit, idempotency,
//! OTP attempt counters) are enforced here, in transactions and constraints,
//! so that they hold however many requests or nodes race.

mod console_rows;
mod data_migrations;
mod decisions;
mod listings;
pub mod model;
mod operator_rows;
pub mod postgres;
#[cfg(test)]
mod released_migrations;
mod retention_rows;
mod roles;
mod rows;
pub mod sqlite;
#[cfg(feature = "test-support")]
pub mod test_support;
mod ticket_rows;
mod timeline;
pub mod vault_keys;

pub use model::*;
#[cfg(feature = "test-support")]
pub use roles::Inspect;
pub use roles::{
    Accounts, BulkLoad, Cards, ConsoleSessions, Database, Lifecycle, Passkeys, Payments, Retention,
    Safety, Settings, Support, Transfers,
};
pub use timeline::timeline_cursor_is_valid;
pub use vault_keys::VaultKeys;

/// What can go wrong below the domain. The server maps these to
/// `database_unavailable` or `internal_error`; none carries card data.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("a uniqueness rule was broken: {0:?}")]
    Conflict(Constraint),
    #[error("a stored value is not what this version expects: {0}")]
    Corrupt(String),
    /// A sealed value written under a data key version that is no longer
    /// the active one: this node has yet to learn a rotation.
    #[error("a value was sealed under a data key version that is no longer the active one")]
    KeyVersionStale,
    #[error("database error: {0}")]
    Other(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed
            // A connection closed mid-handshake (a proxy or load balancer
            // whose database is down accepts, then hangs up) reads as a
            // protocol error: the database is away, not the request wrong.
            | sqlx::Error::Protocol(_) => StoreError::Unavailable(error.to_string()),
            sqlx::Error::Database(db) if db.code().is_some_and(|code| code == "TK001") => {
                StoreError::KeyVersionStale
            }
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(Constraint::from_postgres(db.constraint()))
            }
            // PostgreSQL's connection exceptions (08), a server shutting down
            // or starting (57P01-57P03), too many connections (53300) and a
            // write that reached a standby (25006, read-only transaction, in
            // the moment a failover moves the primary): the database is
            // away, not the request wrong.
            sqlx::Error::Database(db)
                if db.code().is_some_and(|code| {
                    code.starts_with("08")
                        || code.starts_with("57P")
                        || code == "53300"
                        || code == "25006"
                }) =>
            {
                StoreError::Unavailable(error.to_string())
            }
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
                StoreError::Corrupt(error.to_string())
            }
            _ => StoreError::Other(error.to_string()),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The uniqueness rules of the schema that a caller acts on, named where
/// the database reports them: by constraint or index name on PostgreSQL,
/// by the indexed columns on SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// `users.phone`: the phone has an account already.
    UserPhone,
    /// `tokens_pan_fingerprint`: a token PAN drawn before; draw another.
    TokenPan,
    /// `cards_live_pan`: the user holds this card live already.
    LiveCard,
    /// Any other rule (primary keys and the rest).
    Other,
}

impl Constraint {
    /// From PostgreSQL's constraint or index name.
    fn from_postgres(name: Option<&str>) -> Constraint {
        match name {
            Some("users_phone_key") => Constraint::UserPhone,
            Some("tokens_pan_fingerprint") => Constraint::TokenPan,
            Some("cards_live_pan") => Constraint::LiveCard,
            _ => Constraint::Other,
        }
    }

    /// From SQLite's message, "UNIQUE constraint failed: table.column, ...".
    fn from_sqlite(message: &str) -> Constraint {
        let columns = message
            .split_once("failed: ")
            .map_or("", |(_, columns)| columns);
        match columns {
            "users.phone" => Constraint::UserPhone,
            "tokens.token_pan_fingerprint" => Constraint::TokenPan,
            "cards.pan_fingerprint, cards.user_id" | "cards.user_id, cards.pan_fingerprint" => {
                Constraint::LiveCard
            }
            _ => Constraint::Other,
        }
    }
}

/// Everything the service keeps: every role, one implementation per
/// backend. Handlers hold an `Arc<dyn Store>` and call any role's methods
/// on it.
pub trait Store:
    Database
    + Accounts
    + Cards
    + Payments
    + Transfers
    + Safety
    + Passkeys
    + Lifecycle
    + Support
    + ConsoleSessions
    + Retention
    + Settings
    + BulkLoad
    + VaultKeys
    + TestView
    + std::fmt::Debug
{
}

impl<T> Store for T where
    T: Database
        + Accounts
        + Cards
        + Payments
        + Transfers
        + Safety
        + Passkeys
        + Lifecycle
        + Support
        + ConsoleSessions
        + Retention
        + Settings
        + BulkLoad
        + VaultKeys
        + TestView
        + std::fmt::Debug
{
}

/// `Inspect` with the `test-support` feature, nothing without it: the one
/// place where what a store offers depends on the build.
#[cfg(feature = "test-support")]
pub trait TestView: Inspect {}
#[cfg(feature = "test-support")]
impl<T: Inspect> TestView for T {}

#[cfg(not(feature = "test-support"))]
pub trait TestView {}
#[cfg(not(feature = "test-support"))]
impl<T> TestView for T {}
