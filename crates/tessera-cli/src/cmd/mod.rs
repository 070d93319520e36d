//! One module per subcommand.

pub mod bins;
pub mod check_card;
pub mod emv;
pub mod keys;
pub mod licenses;
