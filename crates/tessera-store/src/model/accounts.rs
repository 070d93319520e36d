//! Accounts: users, sign-in attempts, sessions, text-message codes,
//! password resets, sign-ups, API keys, support's searches for a person
//! and the audit of support's reads.

use super::*;

/// A new wallet user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub phone: String,
    pub real_name: String,
    pub real_name_normalized: String,
    pub id_number_hash: String,
    pub id_number_last4: String,
    pub password_hash: String,
    /// Keyed hashes of the birthday as six-digit PINs, space-separated
    /// (`users.birthday_pins`); None where the ID number was not checked.
    pub birthday_pins: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl NewUser {
    /// The user as stored once created: active from the start.
    pub fn stored(&self) -> UserRecord {
        UserRecord {
            id: self.id.clone(),
            phone: self.phone.clone(),
            real_name: self.real_name.clone(),
            real_name_normalized: self.real_name_normalized.clone(),
            id_number_hash: self.id_number_hash.clone(),
            id_number_last4: self.id_number_last4.clone(),
            password_hash: self.password_hash.clone(),
            status: "active".to_owned(),
            created_at: self.created_at,
        }
    }
}

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: UserId,
    pub phone: String,
    pub real_name: String,
    pub real_name_normalized: String,
    pub id_number_hash: String,
    pub id_number_last4: String,
    pub password_hash: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy)]
pub struct LoginFailures {
    pub failures: u32,
    pub window_started_at: DateTime<Utc>,
}

/// What claiming a sign-in attempt answered.
#[derive(Debug, Clone, Copy)]
pub enum AttemptClaim {
    /// Counted: the attempt may go ahead; the count now, with this one.
    Counted(LoginFailures),
    /// Refused: the limit was already reached in the window that started
    /// then (None when the row was gone by the time it was read again).
    Refused(Option<DateTime<Utc>>),
}

#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// The public id (`ses_...`), by which the person lists it.
    pub id: String,
    pub token_hash: String,
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// The User-Agent that signed in, when one was sent (cut to 200 characters).
    pub user_agent: Option<String>,
}

/// What a text-message code is for, stored as its name. Codes of one
/// purpose never serve another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsCodePurpose {
    ResetPassword,
    SignUp,
    /// A forgotten payment password, with the full ID number.
    ResetPaymentPassword,
    /// A confirmation (`POST /v1/me/verifications`) by a person who has
    /// no payment password.
    Verification,
}

impl SmsCodePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            SmsCodePurpose::ResetPassword => "reset_password",
            SmsCodePurpose::SignUp => "sign_up",
            SmsCodePurpose::ResetPaymentPassword => "reset_payment_password",
            SmsCodePurpose::Verification => "verification",
        }
    }

    pub fn parse(name: &str) -> Option<SmsCodePurpose> {
        match name {
            "reset_password" => Some(SmsCodePurpose::ResetPassword),
            "sign_up" => Some(SmsCodePurpose::SignUp),
            "reset_payment_password" => Some(SmsCodePurpose::ResetPaymentPassword),
            "verification" => Some(SmsCodePurpose::Verification),
            _ => None,
        }
    }
}

/// A text-message code as kept: keyed hashes of the phone and the code.
#[derive(Debug, Clone)]
pub struct SmsCodeRecord {
    pub purpose: SmsCodePurpose,
    pub phone_hash: String,
    pub code_hash: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// What claiming a comparison with a phone's code answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsCodeClaim {
    /// Counted: compare with this hash.
    Claimed { code_hash: String },
    /// No code, or it ran out.
    Expired,
    /// Its comparisons are used up.
    Spent,
}

/// A password reset, applied at once: the code is used up (only if it is
/// still `code_hash`), the password replaced, every session of the user
/// ended and the phone's sign-in lock (`sign_in_key`) lifted.
#[derive(Debug, Clone)]
pub struct PasswordReset {
    pub purpose: SmsCodePurpose,
    pub phone_hash: String,
    pub code_hash: String,
    pub user_id: UserId,
    pub password_hash: String,
    pub sign_in_key: String,
}

/// A sign-up, applied at once: the phone's `sign_up` code is used up
/// (only if it is still `code_hash`) and the user created, unless the ID
/// number (`user.id_number_hash`) holds `wallets_per_id_number` wallets
/// already.
#[derive(Debug, Clone)]
pub struct SignUp {
    pub user: NewUser,
    pub phone_hash: String,
    pub code_hash: String,
    pub wallets_per_id_number: u32,
}

/// What a sign-up did.
#[derive(Debug, Clone)]
pub enum SignUpOutcome {
    Created(Box<UserRecord>),
    /// The code was used or replaced meanwhile: nothing changed.
    CodeUsed,
    /// The ID number holds as many wallets as it may: nothing changed.
    IdNumberFull,
}

#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    pub id: String,
    pub key_hash: String,
    pub role: String,
    pub label: String,
    /// Who holds the key (a person or a team), as named when it was made;
    /// empty for keys made before holders were kept.
    pub holder: String,
    /// What the key may act for: an issuer key's issuer codes, a merchant
    /// key's merchant ids; empty for the other roles.
    pub scope: Vec<String>,
    /// An issuer key's event signing secret, sealed by the vault under the
    /// key's id: (key version, ciphertext).
    pub signing_secret: Option<(u32, Vec<u8>)>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// How support looks a person up, besides by phone and user id (which
/// `user_by_phone` and `user_by_id` answer): each by an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserSearch {
    /// The real name's canonical form and the ID number's last four.
    NameAndIdLast4 {
        name_normalized: String,
        id_last4: String,
    },
    /// A card's first six and last four digits: everyone who added such a
    /// card, whatever its state since.
    Card { first6: String, last4: String },
}

/// One read of a person's data by an API key, as the audit keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// `aud_...`.
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub key_id: String,
    /// The key's holder and role when it read.
    pub key_holder: String,
    pub role: String,
    /// What was done: `support.users.search`, `support.user.read`, ...
    pub action: String,
    /// The person whose data was read, when one was.
    pub user_id: Option<UserId>,
    pub trace_id: String,
}

/// A page of audit events, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only events after this one in the listing order: its (created_at,
    /// id), the cursor of the previous page.
    pub before: Option<(DateTime<Utc>, String)>,
    pub limit: u32,
}

/// A signed-in session of the support console: a cookie holds the random
/// id, the store only its keyed hash. It acts for one API key, whose hash
/// it keeps so that every request re-checks the key is still live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSessionRecord {
    pub id_hash: String,
    pub key_id: String,
    pub key_hash: String,
    /// The per-session secret every form carries back (CSRF).
    pub csrf_secret: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The absolute end, however busy the session is.
    pub expires_at: DateTime<Utc>,
}
