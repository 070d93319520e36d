//! Signing up and in as a wallet user: fresh phone and ID numbers, the
//! request bodies, and the sequence (sign up, then sign in) over any `Http`.

use std::fmt;

use serde_json::{Value, json};
use tessera_core::crypto::{CryptoError, random_digits};
use tessera_core::identity::PhoneNumber;
use tessera_core::identity::id_number::check_char;

use super::{Http, Reply};

/// Fresh phone numbers start so: `tessera seed`'s users live in 19x, and a
/// bench run against seeded data must not collide with them.
const PHONE_PREFIX: &str = "176";
/// Fresh phone numbers tried when the server answers that one is taken
/// (`AccountError::PhonesTaken` says "five").
const PHONE_TRIES: usize = 5;

/// A random mainland mobile number, `176` and eight random digits.
pub fn fresh_phone() -> Result<String, CryptoError> {
    let mut digits = [0u8; 8];
    random_digits(&mut digits)?;
    Ok(PHONE_PREFIX
        .chars()
        .chain(digits.iter().map(|d| char::from(*d)))
        .collect())
}

/// A random, valid 18-character resident ID number (Beijing, born
/// 1980-01-01, a random serial).
pub fn fresh_id_number() -> Result<String, CryptoError> {
    let mut digits = [0u8; 3];
    random_digits(&mut digits)?;
    let serial: String = digits.iter().map(|d| char::from(*d)).collect();
    let first17 = format!("11010519800101{serial}");
    // Seventeen digits always have a check character.
    let check = check_char(&first17).unwrap_or('X');
    Ok(format!("{first17}{check}"))
}

/// A user about to sign up.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub phone: String,
    pub real_name: String,
    pub id_number: String,
    pub password: String,
}

impl NewUser {
    /// `real_name` with a fresh phone and ID number.
    pub fn fresh(real_name: &str, password: &str) -> Result<NewUser, CryptoError> {
        Ok(NewUser {
            phone: fresh_phone()?,
            real_name: real_name.to_owned(),
            id_number: fresh_id_number()?,
            password: password.to_owned(),
        })
    }

    /// The body of `POST /v1/users`.
    pub fn body(&self) -> Value {
        json!({"phone": self.phone, "real_name": self.real_name,
            "id_number": self.id_number, "password": self.password})
    }
}

/// A signed-up, signed-in user.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    /// The session token (`tss_...`).
    pub token: String,
    pub phone: String,
    pub real_name: String,
    pub password: String,
    pub id_number: String,
}

/// Why signing up or in did not give a session.
#[derive(Debug)]
pub enum AccountError<E> {
    /// No random digits for a fresh phone or ID number.
    Random(CryptoError),
    /// A request got no HTTP answer.
    NoAnswer { path: &'static str, error: E },
    /// `POST /v1/users` answered something other than 201 with an id.
    SignUpRefused(Reply),
    /// `POST /v1/sessions` answered something other than 201 with a token.
    SignInRefused { phone: String, reply: Reply },
    /// Every fresh phone number tried was taken.
    PhonesTaken,
}

impl<E: fmt::Display> fmt::Display for AccountError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountError::Random(error) => write!(f, "random digits: {error}"),
            AccountError::NoAnswer { path, error } => {
                write!(f, "{path}: no answer from the server ({error})")
            }
            AccountError::SignUpRefused(reply) => {
                write!(
                    f,
                    "sign-up answered {}: {}",
                    reply.status,
                    reply.error_code()
                )
            }
            AccountError::SignInRefused { phone, reply } => write!(
                f,
                "sign-in as {} answered {}: {}",
                PhoneNumber::parse(phone)
                    .map(|p| p.masked())
                    .unwrap_or_default(),
                reply.status,
                reply.error_code()
            ),
            AccountError::PhonesTaken => {
                f.write_str("sign-up: five random phone numbers were all taken")
            }
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for AccountError<E> {}

/// Signs in: the session token.
pub async fn sign_in<H: Http>(
    http: &mut H,
    phone: &str,
    password: &str,
) -> Result<String, AccountError<H::Error>> {
    let path = "/v1/sessions";
    let reply = http
        .post(path, None, &json!({"phone": phone, "password": password}))
        .await
        .map_err(|error| AccountError::NoAnswer { path, error })?;
    match reply.body["token"].as_str() {
        Some(token) if reply.status == 201 => Ok(token.to_owned()),
        _ => Err(AccountError::SignInRefused {
            phone: phone.to_owned(),
            reply,
        }),
    }
}

/// Signs up `real_name` with a fresh phone and ID number (another phone
/// when one is taken), then signs in.
pub async fn sign_up<H: Http>(
    http: &mut H,
    real_name: &str,
    password: &str,
) -> Result<User, AccountError<H::Error>> {
    let path = "/v1/users";
    for _ in 0..PHONE_TRIES {
        let new = NewUser::fresh(real_name, password).map_err(AccountError::Random)?;
        let reply = http
            .post(path, None, &new.body())
            .await
            .map_err(|error| AccountError::NoAnswer { path, error })?;
        if reply.status == 409 {
            continue;
        }
        let id = match reply.body["id"].as_str() {
            Some(id) if reply.status == 201 => id.to_owned(),
            _ => return Err(AccountError::SignUpRefused(reply)),
        };
        let token = sign_in(http, &new.phone, &new.password).await?;
        return Ok(User {
            id,
            token,
            phone: new.phone,
            real_name: new.real_name,
            password: new.password,
            id_number: new.id_number,
        });
    }
    Err(AccountError::PhonesTaken)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use tessera_core::identity::IdNumber;

    #[test]
    fn fresh_numbers_are_ones_the_service_accepts() {
        for _ in 0..50 {
            let phone = fresh_phone().unwrap();
            assert!(phone.starts_with(PHONE_PREFIX), "{phone}");
            assert!(PhoneNumber::parse(&phone).is_ok(), "{phone}");
            let id_number = fresh_id_number().unwrap();
            assert!(IdNumber::parse(&id_number).is_ok(), "{id_number}");
        }
    }
}
