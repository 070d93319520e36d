//! The database itself, as `/metrics` shows it.

/// A store's connections at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolUse {
    /// Connections an operation holds now.
    pub in_use: u32,
    /// Open connections waiting for the next operation.
    pub idle: u32,
    /// How many the store may hold; None where it opens more as needed
    /// (SQLite's readers).
    pub max: Option<u32>,
}
