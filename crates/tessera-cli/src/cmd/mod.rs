//! One module per subcommand.

pub mod admin;
pub mod audit;
pub mod bench;
pub mod bins;
pub mod cards;
pub mod check_card;
pub mod client;
pub mod db;
pub mod diagnose;
pub mod emv;
pub mod emv_generations;
pub mod issuer_sim;
pub mod keys;
pub mod keys_hsm;
pub mod keys_rotation;
pub mod licenses;
pub mod login;
pub mod pay;
pub mod sandbox;
pub mod seed;
pub mod serve;
pub mod transfers;
