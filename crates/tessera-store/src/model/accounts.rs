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

/// One security-relevant event (a read of a person's data by an API key,
/// a sign-in, a key made or revoked, ...), as the audit keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// `aud_...`.
    pub id: String,
    pub created_at: DateTime<Utc>,
    /// The acting API key; empty when a person or the service acted.
    pub key_id: String,
    /// The key's holder when it acted. Shown to operators, but outside the
    /// chain: it is a name, which a purge may blank.
    pub key_holder: String,
    /// The actor's role: an API key's, `user` or `service`.
    pub role: String,
    /// What was done: `support.users.search`, `session.signed_in`, ...
    pub action: String,
    /// The person concerned, when there is one.
    pub user_id: Option<UserId>,
    /// The other ids concerned (`card:crd_...`, `token:tok_...`).
    pub subject: Option<String>,
    pub trace_id: String,
    /// Its place in its writer's chain; None for entries older than the
    /// chain.
    pub link: Option<AuditLink>,
}

/// An audit entry's place in its chain (`tessera_core::audit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLink {
    pub chain_id: String,
    pub seq: i64,
    /// Hex, as are all the chain's hashes.
    pub prev_hash: String,
    pub entry_hash: String,
}

impl AuditEvent {
    /// What the chain's hash covers, or None for an entry older than the
    /// chain.
    pub fn chained(&self) -> Option<tessera_core::audit::StoredEntry<'_>> {
        let link = self.link.as_ref()?;
        Some(tessera_core::audit::StoredEntry {
            fields: self.fields(&link.chain_id, link.seq),
            prev_hash: &link.prev_hash,
            entry_hash: &link.entry_hash,
        })
    }

    /// The hashed fields, at place `seq` of chain `chain_id`.
    pub fn fields<'a>(
        &'a self,
        chain_id: &'a str,
        seq: i64,
    ) -> tessera_core::audit::AuditFields<'a> {
        tessera_core::audit::AuditFields {
            chain_id,
            seq,
            id: &self.id,
            created_at: self.created_at,
            key_id: &self.key_id,
            role: &self.role,
            action: &self.action,
            user_id: self.user_id.as_ref().map(UserId::as_str),
            subject: self.subject.as_deref(),
            trace_id: &self.trace_id,
        }
    }
}

/// A chain's head, signed (`tessera_core::audit::Checkpoint`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCheckpointRecord {
    pub chain_id: String,
    pub seq: i64,
    pub entry_hash: String,
    pub created_at: DateTime<Utc>,
    pub signature: String,
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
