//! `tessera seed`: fills a database with users and cards for load tests.

/// The sign-in password of every seeded user.
pub const PASSWORD: &str = "seeded-user-1";

/// The phone number of seeded user `index`: 190 followed by 8 digits.
pub fn phone(index: u64) -> String {
    format!("190{index:08}")
}
