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

/// A random, valid 18-character resident ID number: Beijing, born on a
/// random day of 1960 to 1999, a random sequence outside 990-992 (the
/// sandbox identity provider's refusals), so that the numbers drawn for
/// one server rarely meet (one wallet per ID number).
pub fn fresh_id_number() -> Result<String, CryptoError> {
    let mut digits = [0u8; 9];
    random_digits(&mut digits)?;
    let n = |range: std::ops::Range<usize>| {
        digits[range]
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    let year = 1960 + n(0..2) % 40;
    let month = 1 + n(2..4) % 12;
    // Every month has 28 days.
    let day = 1 + n(4..6) % 28;
    let sequence = match n(6..9) {
        s @ 990..=992 => s - 10,
        s => s,
    };
    let first17 = format!("110105{year}{month:02}{day:02}{sequence:03}");
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

    /// The body of `POST /v1/users`, with the phone's sign-up code (none
    /// for older servers, which have no sign-up codes).
    pub fn body(&self, sms_code: Option<&str>) -> Value {
        let mut body = json!({"phone": self.phone, "real_name": self.real_name,
            "id_number": self.id_number, "password": self.password});
        if let Some(code) = sms_code {
            body["sms_code"] = json!(code);
        }
        body
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
    /// `POST /v1/sms-codes` refused to send a sign-up code.
    CodeRefused(Reply),
    /// The server wants sign-up codes and no operator key was given to
    /// read them from the sandbox phone.
    NoCodeReader,
    /// The sandbox phone had no sign-up code for the phone.
    NoCode(Reply),
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
            AccountError::CodeRefused(reply) => write!(
                f,
                "asking for a sign-up code answered {}: {}",
                reply.status,
                reply.error_code()
            ),
            AccountError::NoCodeReader => f.write_str(
                "sign-up needs the code texted to the phone: give an operator key to read it \
                 from the sandbox phone (--operator-key or TESSERA_OPERATOR_KEY)",
            ),
            AccountError::NoCode(reply) => write!(
                f,
                "the sandbox phone showed no sign-up code (GET /v1/sandbox/sms answered {}: {})",
                reply.status,
                reply.error_code()
            ),
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

/// Signs up `real_name` with a fresh phone and ID number (others when one
/// is taken), proving the phone with the code the server texts it, read
/// from the sandbox phone with `operator_key`; then signs in.
pub async fn sign_up<H: Http>(
    http: &mut H,
    real_name: &str,
    password: &str,
    operator_key: Option<&str>,
) -> Result<User, AccountError<H::Error>> {
    let path = "/v1/users";
    for _ in 0..PHONE_TRIES {
        let new = NewUser::fresh(real_name, password).map_err(AccountError::Random)?;
        let code = sign_up_code(http, &new.phone, operator_key).await?;
        let reply = http
            .post(path, None, &new.body(code.as_deref()))
            .await
            .map_err(|error| AccountError::NoAnswer { path, error })?;
        // The phone or the ID number is taken: draw both again.
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

/// Asks the server to text `phone` a sign-up code and reads it from the
/// sandbox phone. None from older servers, which sign up without a code
/// (`tessera bench` runs against them too): they answer 400 for the
/// purpose they do not know, or 404 when they send no codes at all.
pub async fn sign_up_code<H: Http>(
    http: &mut H,
    phone: &str,
    operator_key: Option<&str>,
) -> Result<Option<String>, AccountError<H::Error>> {
    let path = "/v1/sms-codes";
    let reply = http
        .post(path, None, &json!({"phone": phone, "purpose": "sign_up"}))
        .await
        .map_err(|error| AccountError::NoAnswer { path, error })?;
    match reply.status {
        202 => {}
        400 | 404 => return Ok(None),
        _ => return Err(AccountError::CodeRefused(reply)),
    }
    let operator_key = operator_key.ok_or(AccountError::NoCodeReader)?;
    let path = "/v1/sandbox/sms";
    let reply = http
        .get(&format!("{path}?phone={phone}"), Some(operator_key))
        .await
        .map_err(|error| AccountError::NoAnswer { path, error })?;
    // Newest first: the code just sent.
    let code = reply.body["data"][0]["body"]
        .as_str()
        .and_then(code_in)
        .filter(|_| reply.status == 200);
    code.map(Some).ok_or(AccountError::NoCode(reply))
}

/// The 6-digit code in a text message.
pub fn code_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|part| part.len() == 6)
        .map(str::to_owned)
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
            let parsed = IdNumber::parse(&id_number).unwrap();
            assert!(!["990", "991", "992"].contains(&parsed.sequence()));
        }
    }
}
