//! Who the cardholder is: the China resident ID number and mobile numbers.

pub mod id_number;
pub mod phone;

pub use id_number::IdNumber;
pub use phone::PhoneNumber;
