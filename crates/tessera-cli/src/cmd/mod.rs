//! One module per subcommand.

pub mod admin;
pub mod bins;
pub mod check_card;
pub mod emv;
pub mod keys;
pub mod licenses;
pub mod sandbox;
pub mod serve;
